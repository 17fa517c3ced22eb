"""Settings the command line needs without importing geopy (see ``geocoding.online``)."""

USER_AGENT_ENV = "ATLAS_GEOCODER_USER_AGENT"
DEFAULT_TIMEOUT = 10.0  # seconds per Nominatim request
