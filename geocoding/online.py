"""Nominatim through geopy: a rate limit, retries with exponential backoff, and reading results.

The geocoder is a function handed in (``geolocator.geocode`` or a fake in tests), and so are the
clock and the sleep, so tests never wait. geopy's ``RateLimiter`` spaces the calls (at least one
second apart: Nominatim's usage policy) with ``swallow_exceptions=False``: an error must not look
like "not found". Retries are ours, because they must honour a server's Retry-After.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from geopy.exc import (
    GeocoderQueryError,
    GeocoderRateLimited,
    GeocoderServiceError,
    GeocoderTimedOut,
    GeocoderUnavailable,
)
from geopy.extra.rate_limiter import RateLimiter
from geopy.location import Location

from .settings import DEFAULT_TIMEOUT, USER_AGENT_ENV

MIN_DELAY_SECONDS = 1.0  # Nominatim usage policy: an absolute maximum of one request per second
RETRYABLE = (GeocoderTimedOut, GeocoderUnavailable, GeocoderRateLimited)

Geocode = Callable[..., Location | None]


class NetworkUnavailableError(Exception):
    """The service kept failing after every retry: the caller should go on offline."""


@dataclass(frozen=True)
class RetryPolicy:
    max_tries: int = 4
    base_delay: float = 2.0  # seconds before the 2nd try; doubled each time
    max_delay: float = 60.0
    max_retry_after: float = 900.0  # a server asking for a longer pause ends the online part

    def delay(self, attempt: int, exc: Exception) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        backoff = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(exc, GeocoderRateLimited) and retry_after:
            return max(float(retry_after), backoff)
        return backoff


class _RateLimiter(RateLimiter):
    """geopy's RateLimiter with the clock and the sleep handed in (as geopy's own tests do)."""

    def __init__(
        self, func: Geocode, *, clock: Callable[[], float], sleep: Callable[[float], Any], **kw
    ) -> None:
        super().__init__(func, **kw)
        self._clock_fn = clock
        self._sleep_fn = sleep

    def _clock(self) -> float:
        return self._clock_fn()

    def _sleep(self, seconds: float) -> None:
        self._sleep_fn(seconds)


class OnlineGeocoder:
    """Calls ``geocode`` at most once per ``min_delay`` seconds, retrying transient errors.

    ``__call__(query, **kwargs)`` returns a Location or None; raises GeocoderQueryError at once
    (a bad query is not retried) and NetworkUnavailableError when retries are exhausted.
    """

    def __init__(
        self,
        geocode: Geocode,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
        min_delay: float = MIN_DELAY_SECONDS,
        retry: RetryPolicy | None = None,
        log: Callable[[str], Any] = lambda _msg: None,
    ) -> None:
        self.sleep = sleep
        self.retry = retry or RetryPolicy()
        self.log = log
        self.calls = 0
        self._limited = _RateLimiter(
            geocode,
            clock=clock,
            sleep=sleep,
            min_delay_seconds=min_delay,
            max_retries=0,
            error_wait_seconds=max(min_delay, 5.0),
            swallow_exceptions=False,
        )

    def __call__(self, query: str | dict[str, str], **kwargs: Any) -> Location | None:
        for attempt in range(1, self.retry.max_tries + 1):
            self.calls += 1
            try:
                return self._limited(query, **kwargs)
            except GeocoderQueryError:
                raise
            except RETRYABLE as exc:
                wait = self.retry.delay(attempt, exc)
                if attempt == self.retry.max_tries or wait > self.retry.max_retry_after:
                    raise NetworkUnavailableError(
                        f"{type(exc).__name__}: {exc} (after {attempt} tries)"
                    ) from exc
                self.log(f"{type(exc).__name__} ({exc}); retry {attempt + 1} in {wait:g} s")
                self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


def _adapter_without_retries(*, proxies: Any = None, ssl_context: Any = None) -> Any:
    """geopy's requests adapter with no transport-level retries.

    By default it mounts urllib3 retries that repeat a request (twice) and, on HTTP 429 or 503,
    sleep for the server's Retry-After with the real clock: hidden from our RetryPolicy, its cap on
    Retry-After and the rate limiter. Every retry goes through OnlineGeocoder instead.
    """
    from geopy.adapters import RequestsAdapter

    return RequestsAdapter(proxies=proxies, ssl_context=ssl_context, max_retries=0)


def nominatim_geocode(
    user_agent: str,
    timeout: float = DEFAULT_TIMEOUT,
    domain: str | None = None,
    scheme: str | None = None,
) -> Geocode:
    """``Nominatim(...).geocode`` for a user agent that identifies the application and a contact.

    ``domain`` and ``scheme`` point it at another server (a local Nominatim, or a test server).
    """
    from geopy.geocoders import Nominatim

    kwargs: dict[str, Any] = {
        "user_agent": user_agent,
        "timeout": timeout,
        "adapter_factory": _adapter_without_retries,
    }
    if domain:
        kwargs["domain"] = domain
    if scheme:
        kwargs["scheme"] = scheme
    return Nominatim(**kwargs).geocode


def nominatim_kwargs(country_code: str, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """Arguments for Nominatim's geocode: one answer, its address, results only in that country."""
    return {
        "exactly_one": True,
        "addressdetails": True,
        "language": "en",
        "country_codes": country_code.lower(),
        "timeout": timeout,
    }


def location_precision(location: Location) -> str:
    """address, street, postcode, city or country from Nominatim's ``place_rank``/``addresstype``.

    Nominatim ranks: 4 country, 5-12 state and county, 13-25 city, town, suburb, neighbourhood,
    26-27 street, 28-30 house and building. Anything coarser than a city is "country" here (the
    enum has nothing between), which the pipeline treats as a last resort.
    """
    raw = location.raw or {}
    kind = raw.get("addresstype") or raw.get("type")
    if kind == "postcode" or (raw.get("class") == "place" and raw.get("type") == "postcode"):
        return "postcode"
    try:
        rank = int(raw.get("place_rank"))
    except (TypeError, ValueError):
        return "city"
    if rank >= 28:
        return "address"
    if rank >= 26:
        return "street"
    if rank >= 13:
        return "city"
    return "country"


def location_country(location: Location) -> str | None:
    address = (location.raw or {}).get("address") or {}
    code = address.get("country_code")
    return code.upper() if isinstance(code, str) else None


def location_detail(location: Location) -> str | None:
    raw = location.raw or {}
    if raw.get("osm_type") and raw.get("osm_id"):
        return f"osm {raw['osm_type']} {raw['osm_id']}"
    return None


__all__ = [
    "DEFAULT_TIMEOUT",
    "MIN_DELAY_SECONDS",
    "RETRYABLE",
    "USER_AGENT_ENV",
    "GeocoderQueryError",
    "GeocoderServiceError",
    "NetworkUnavailableError",
    "OnlineGeocoder",
    "RetryPolicy",
    "location_country",
    "location_precision",
    "nominatim_geocode",
    "nominatim_kwargs",
]
