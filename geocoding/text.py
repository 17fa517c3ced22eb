"""Text handling: normalising names and queries, cleaning addresses, building the query chain.

Addresses in the seeds are copied from web pages: several lines, ``c/o`` hosts, postal boxes,
floor numbers and a few typos. Nominatim finds a cleaned street address far more often than the
text as written, so the chain goes from the text as written to a cleaned and a structured form,
then to the city alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from .records import PRECISIONS  # best first

_RANK = {p: len(PRECISIONS) - i for i, p in enumerate(PRECISIONS)}  # address 5 ... country 1


def precision_rank(precision: str | None) -> int:
    """Higher is better: address 5, street 4, postcode 3, city 2, country 1, nothing 0."""
    return _RANK.get(precision or "", 0)


def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form for matching names ("São Paulo" -> "sao paulo")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().replace("&", " and ")
    text = re.sub(r"[^\w]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def normalise_query(text: str) -> str:
    """The cache's form of a query: NFC, case-folded, single spaces, no stray separators."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*,\s*", ", ", text)
    text = re.sub(r"(, )+", ", ", text)
    return text.strip(" ,;")


# Typos found in the seed pages, corrected to the spelling the place itself uses. Each entry is
# (pattern, replacement); keep them narrow so they cannot touch a correct address.
TYPOS: tuple[tuple[str, str], ...] = (
    # "14/, Seoul Global Center Building, 38Jongo, Jongo GU, Seoul" (seed 002): Jong-ro, Jongno-gu.
    (r"\b(\d+)\s*Jongo\b(?!\s*-?gu)", r"\1 Jong-ro"),
    (r"\bJongo[\s-]*GU\b", "Jongno-gu"),
)

_CARE_OF = re.compile(r"^\s*c/o\b[^,]*,?", re.IGNORECASE)
_POSTAL_BOX = re.compile(
    r"\b(?:P\.?\s*O\.?\s*Box|Post(?:al)?\s+Box|Postfach|Private\s+Bag|Casilla|Caixa\s+Postal|私書箱)"
    r"\s*[\w-]*",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^\s*(?:physical|postal|street|office)?\s*address\s*:\s*", re.IGNORECASE)
_POSTCODE_LABEL = re.compile(r"^\s*(?:CEP|C\.\s?P\.|PLZ|ZIP|〒)\s*", re.IGNORECASE)
_CONTACT = re.compile(r"^\s*(?:t|f|tel|fax|phone|e-?mail|email|www|https?)\b\s*[:.]", re.IGNORECASE)
_UNIT = re.compile(
    r"^\s*(?:level|floor|suite|unit|room|ste\.?|piso|of\.|ground\s+floor|\d+\s*/?\s*F\.?|\d+(?:st|nd|rd|th)"
    r"\s+floor|\d+\s*/)(?:\s*[\w.-]*)?\s*$",
    re.IGNORECASE,
)
_UNIT_PREFIX = re.compile(r"^\s*(?:level\s+\d+|\d+\s*F\.?|ground\s+floor)\s*,?\s*", re.IGNORECASE)
_UNIT_INLINE = re.compile(
    r"\s*\b(?:piso|suite|ste\.|level|floor|of\.|oficina|apt\.?|room)\s*[\w-]+\b", re.IGNORECASE
)
_HOUSE_NO = re.compile(r"^(?:No\.?\s*)?(\d{1,5}(?:-\d{1,5})*)$", re.IGNORECASE)
STREETISH = re.compile(
    r"(?:-ro|-gil|-daero|-dong|\bstreet|\bst\.?$|\broad|\brd\.?|\bavenue|\bave?\.|\brua\b|\bcalle\b|"
    r"\bpaseo\b|\bjl\.|\bjalan\b|stra(?:ss|ß)e|str\.|\bweg\b|\bplatz\b|ring\b|\bboulevard|\bblvd|\blane\b|"
    r"\bdrive\b|\bpark\b)",
    re.IGNORECASE,
)


def address_parts(address: str) -> list[str]:
    """Split an address as written (lines or commas) into its parts, in order."""
    parts = re.split(r"\s*(?:\n|\r|,|;|–|—)\s*|\s+[/-]\s+", address)
    return [p.strip() for p in parts if p and p.strip()]


def clean_address(address: str) -> list[str]:
    """The parts of an address that help a geocoder: no c/o host, postal box, floor, phone or label.

    ``"c/o The Manila Observatory ..., Quezon City 1101 Manila, Philippines"`` keeps
    ``["Quezon City 1101 Manila", "Philippines"]``; obvious typos (``TYPOS``) are corrected, and a
    house number written apart from its street (``"126, Suin-ro"``) is joined to it.
    """
    text = address
    for pattern, replacement in TYPOS:
        text = re.sub(pattern, replacement, text, flags=re.IGNORECASE)
    text = re.sub(r"\((\d{3,6})\)", r"\1,", text)  # "(16429) 3F" -> "16429, 3F"
    lines = re.split(r"\s*[\n\r]+\s*", text)
    kept: list[str] = []
    skipping_postal = False
    for line in lines:
        if re.match(r"^\s*postal\s+address\s*:", line, re.IGNORECASE):
            skipping_postal = True  # the lines after "Postal address:" describe a post box
            continue
        if re.match(r"^\s*(?:physical|street)\s+address\s*:", line, re.IGNORECASE):
            skipping_postal = False
        if skipping_postal:
            continue
        line = _LABEL.sub("", _CARE_OF.sub("", line))
        for part in address_parts(line):
            part = _POSTAL_BOX.sub("", part).strip(" .,")
            part = _UNIT_PREFIX.sub("", part).strip(" .,")
            part = _POSTCODE_LABEL.sub("", part).strip(" .,")
            if not part or _CONTACT.match(part) or _UNIT.match(part):
                continue
            part = _UNIT_INLINE.sub("", part).strip(" .,")
            part = re.sub(r"(\d)([A-Za-z]{3,})", r"\1 \2", part)  # "38Jong-ro" -> "38 Jong-ro"
            if part:
                kept.append(part)
    return _join_house_numbers(kept)


def _join_house_numbers(parts: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(parts):
        m = _HOUSE_NO.match(parts[i])
        if m and i + 1 < len(parts) and STREETISH.search(parts[i + 1]):
            out.append(f"{m.group(1)} {parts[i + 1]}")
            i += 2
            continue
        if m and out and STREETISH.search(out[-1]) and not re.search(r"\d", out[-1]):
            out[-1] = f"{out[-1]} {m.group(1)}"
            i += 1
            continue
        out.append(parts[i])
        i += 1
    return out


def find_postcode(text: str, postcode_regex: str | None) -> str | None:
    """The first postcode in ``text`` matching the country's pattern (geonames' ``postalcoderegex``)."""
    if not postcode_regex:
        return None
    core = postcode_regex.strip("^$")
    try:
        m = re.search(rf"(?<![\w-])(?:{core})(?![\w-])", text)
    except re.error:
        return None
    return m.group(0) if m else None


@dataclass(frozen=True)
class Query:
    """One step of the chain: free text or a structured query (geopy accepts both)."""

    kind: str  # as-written, cleaned, structured, postcode, city
    precision: str  # the best precision this query can give
    text: str | None = None
    fields: tuple[tuple[str, str], ...] = field(default=())

    @property
    def value(self) -> str | dict[str, str]:
        """What geopy's ``geocode`` receives."""
        return self.text if self.text is not None else dict(self.fields)

    @property
    def display(self) -> str:
        """Human form, written to ``geocoded.csv`` as the query that matched."""
        if self.text is not None:
            return self.text
        return ", ".join(v for _, v in self.fields)

    @property
    def key(self) -> str:
        """Normalised form, the cache key (with the provider)."""
        if self.text is not None:
            return normalise_query(self.text)
        return ";".join(f"{k}={normalise_query(v)}" for k, v in sorted(self.fields))


def _mentions(text: str, names: Sequence[str]) -> bool:
    folded = f" {fold(text)} "
    return any(f" {fold(n)} " in folded for n in names if n and len(fold(n)) >= 3)


def build_queries(
    *,
    address: str | None,
    city: str,
    country_name: str,
    postcode_regex: str | None = None,
    city_aliases: Sequence[str] = (),
    country_aliases: Sequence[str] = (),
) -> list[Query]:
    """The chain from precise to coarse, without duplicates.

    1. the address as written (one line, the country added when missing);
    2. the cleaned address (``clean_address``), city and country added when missing;
    3. structured: street, postcode, city, country (when a street with a house number is found);
    4. structured: postcode, city, country (when a postcode of the country's pattern is found);
    5. structured: city and country.
    ``city_aliases`` and ``country_aliases`` are other names that count as mentioning them
    ("Ciudad de Mexico" for Mexico City, "Republic of Korea" for South Korea).
    """
    cities = [city, *city_aliases]
    countries = [country_name, *country_aliases]
    queries: list[Query] = []
    if address and address.strip():
        written = ", ".join(address_parts(address))
        if not _mentions(written, countries):
            written = f"{written}, {country_name}"
        queries.append(Query("as-written", "address", text=written))

        parts = clean_address(address)
        postcode = find_postcode(", ".join(parts), postcode_regex)
        street = _street(parts, cities, countries, postcode)
        full = list(parts)
        if not _mentions(", ".join(full), countries):
            full.append(country_name)
        if not _mentions(", ".join(full), cities):
            at = len(full) - 1 if _mentions(full[-1], countries) else len(full)
            full.insert(at, city)
        queries.append(Query("cleaned", "address", text=", ".join(full)))
        if street:
            fields = [("street", street), ("city", city), ("country", country_name)]
            if postcode:
                fields.insert(1, ("postalcode", postcode))
            queries.append(Query("structured", "address", fields=tuple(fields)))
        if postcode:
            fields = (("postalcode", postcode), ("city", city), ("country", country_name))
            queries.append(Query("postcode", "postcode", fields=fields))
    queries.append(Query("city", "city", fields=(("city", city), ("country", country_name))))
    unique: dict[str, Query] = {}
    for q in queries:
        unique.setdefault(q.key, q)
    return list(unique.values())


def _street(
    parts: list[str], cities: Sequence[str], countries: Sequence[str], postcode: str | None
) -> str | None:
    """The first part that looks like a street with a house number (city and postcode removed)."""
    for part in parts:
        bare = part.replace(postcode, " ") if postcode else part
        for name in cities:
            if name and len(name) >= 3:
                bare = re.sub(rf"\b{re.escape(name)}\b", " ", bare, flags=re.IGNORECASE)
        bare = re.sub(r"\s+", " ", bare).strip(" ,.")
        if not bare or (_mentions(bare, countries) and len(fold(bare).split()) <= 3):
            continue
        has_number = re.search(r"\d", bare)
        if has_number and (STREETISH.search(bare) or re.match(r"^\d[\d-]*\s+\S", bare)):
            return bare
    return None
