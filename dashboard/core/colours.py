"""One colour per organisation, shared by the map and the charts. Streamlit-free.

The palette is Paul Tol's "muted" qualitative scheme (distinguishable with the common colour-vision
deficiencies; https://personal.sron.nl/~pault/), extended to 12 colours. Known organisations have a fixed
colour, so ICLEI is the same colour on every page, in every filter and in every export. An
organisation not in the table gets a colour derived from a hash of its id: stable from run to
run, but it may repeat a colour already in use (the legend and the labels still tell them apart).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# Paul Tol, "muted" qualitative palette, in his recommended order, then three from his "vibrant"
# scheme and a dark grey: the atlas has 12 organisations, more than any colour-blind-safe
# scheme separates well, so the legend and the layer names always name them too.
PALETTE: tuple[str, ...] = (
    "#332288",  # indigo
    "#88CCEE",  # cyan
    "#44AA99",  # teal
    "#117733",  # green
    "#999933",  # olive
    "#DDCC77",  # sand
    "#CC6677",  # rose
    "#882255",  # wine
    "#AA4499",  # purple
    "#EE7733",  # orange (vibrant)
    "#0077BB",  # blue (vibrant)
    "#555555",  # dark grey
)
UNKNOWN = "#BBBBBB"  # a point without an organisation (should not happen)

# Fixed assignments for the organisations in data/organisations.yaml: every one its own colour,
# and a network and its national or regional node (ICLEI / ICLEI Japan, CAN / CAN-Japan,
# Kitakyushu Initiative / its city network / AECCO) clearly different.
ORG_COLOURS: dict[str, str] = {
    "iclei": "#332288",
    "iclei-japan": "#88CCEE",
    "lgma": "#44AA99",
    "can": "#CC6677",
    "can-japan": "#882255",
    "c40": "#117733",
    "citynet": "#999933",
    "anmc21": "#DDCC77",
    "kitakyushu-initiative": "#AA4499",
    "asian-environmental-city-network": "#EE7733",
    "aecco": "#0077BB",
    "oeaed-environment": "#555555",
}


def org_colour(org_id: str | None) -> str:
    """The hex colour (``#RRGGBB``) of one organisation: fixed if known, else hashed from its id."""
    if not org_id:
        return UNKNOWN
    key = str(org_id).strip().lower()
    if key in ORG_COLOURS:
        return ORG_COLOURS[key]
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def org_colours(org_ids: Iterable[str]) -> dict[str, str]:
    """``{org id: hex colour}`` for the given ids (order kept, duplicates dropped).

    Suitable for plotly's ``color_discrete_map`` and for the map legend.
    """
    return {org_id: org_colour(org_id) for org_id in dict.fromkeys(org_ids)}


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (for cluster counts, badges)."""
    r, g, b = (int(background.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    luminance = (0.299 * r + 0.587 * g + 0.114 * b) / 255
    return "#000000" if luminance > 0.55 else "#FFFFFF"


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2's relative luminance of ``#RRGGBB`` (0 black … 1 white)."""
    r, g, b = (_channel(int(colour.lstrip("#")[i : i + 2], 16)) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2's contrast ratio of two colours (1 … 21); text needs 4.5 for AA (3 when large)."""
    a, b = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)
