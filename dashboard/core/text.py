"""Text in the chosen language: the one place where the atlas decides what a reader sees. Streamlit-free.

* Interface text comes from one catalogue per language, ``dashboard/core/locales/<lang>.yaml``
  (``t("page_map", "ja")`` → "地図"; ``t("map_caption", "en", n=3, ...)`` fills ``{n}``). Every key
  exists in every catalogue (tests/test_text.py); a missing one falls back along
  :func:`fallback_chain`, then to the key itself, so a gap never breaks a page.
* Data text (a name written in several languages, a vocabulary term's labels) is chosen by the same
  fallback: :func:`choose` for a mapping of language → text, :func:`localized` for a row or record
  with ``<base>_<lang>`` fields, :func:`label` for a vocabulary entry.

``LANGS`` lists the languages, Japanese first (the default), then English, then any other catalogue
found, in name order: adding a language is adding ``<lang>.yaml`` here (or in the folder named by
``$ATLAS_LOCALES_DIR``) plus the vocabulary's labels in that language (see TRANSLATION_GUIDE.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from dashboard.core import paths
from geocoding.records import PRECISIONS, parse_partial_date

DEFAULT_LANG = "ja"
BASE_LANGS = ("ja", "en")  # every catalogue and every vocabulary term has these two
LOCALES_ENV = "ATLAS_LOCALES_DIR"


def _catalogue_files() -> dict[str, Path]:
    files = {p.stem: p for p in sorted(paths.LOCALES_DIR.glob("*.yaml"))}
    extra = os.environ.get(LOCALES_ENV)
    if extra:
        files.update({p.stem: p for p in sorted(Path(extra).glob("*.yaml"))})
    return files


def _load() -> tuple[tuple[str, ...], dict[str, dict[str, str]]]:
    catalogues: dict[str, dict[str, str]] = {}
    for lang, path in _catalogue_files().items():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a catalogue is a mapping of key: text")
        catalogues[lang] = {str(k): str(v) for k, v in data.items()}
    missing = [lang for lang in BASE_LANGS if lang not in catalogues]
    if missing:
        raise FileNotFoundError(f"no interface catalogue for {', '.join(missing)} in {paths.LOCALES_DIR}")
    others = sorted(lang for lang in catalogues if lang not in BASE_LANGS)
    return (*BASE_LANGS, *others), catalogues


LANGS, CATALOGUES = _load()


def reload() -> None:
    """Read the catalogues again (after ``$ATLAS_LOCALES_DIR`` changed: the tests add a language)."""
    global LANGS, CATALOGUES
    LANGS, CATALOGUES = _load()


def language_from_link(value: Any) -> str:
    """The language a link asks for (``lang=`` in the URL), or the default one."""
    return value if value in LANGS else DEFAULT_LANG


def fallback_chain(lang: str) -> tuple[str, ...]:
    """The languages to try, in order, for text wanted in ``lang``: itself, then English, then
    Japanese ("ja" → ja, en; "en" → en, ja; a third language → it, en, ja)."""
    return tuple(dict.fromkeys((lang, "en", "ja")))


def second_language(lang: str) -> str:
    """The language a name is also shown in, beside ``lang`` (Japanese beside English and beside
    any third language; English beside Japanese)."""
    return "en" if lang == "ja" else "ja"


def language_name(lang: str) -> str:
    """A language's name as its own speakers write it ("日本語", "English")."""
    return CATALOGUES.get(lang, {}).get("language_name", lang)


def t(key: str, lang: str = DEFAULT_LANG, **values: Any) -> str:
    """Interface text ``key`` in ``lang``, with ``{name}`` placeholders filled from ``values``."""
    for candidate in fallback_chain(lang):
        text = CATALOGUES.get(candidate, {}).get(key)
        if text:
            return text.format(**values) if values else text
    return key


def has(key: str) -> bool:
    """Whether the catalogues define ``key`` (in English, which every catalogue mirrors)."""
    return key in CATALOGUES["en"]


def count(key: str, n: int, lang: str) -> str:
    """A number of things in ``lang``: catalogue keys ``count_<key>_one`` and ``count_<key>_other``
    ("1 place", "3 places"; Japanese writes both the same)."""
    return t(f"count_{key}_{'one' if n == 1 else 'other'}", lang, n=f"{n:,}")


def choose(texts: Mapping[str, Any], lang: str) -> str:
    """The first non-empty text along :func:`fallback_chain` (``{"ja": ..., "en": ...}``), else ''."""
    for candidate in fallback_chain(lang):
        value = texts.get(candidate)
        if value is not None and value == value and str(value).strip():  # NaN != NaN
            return str(value)
    return ""


def pick(ja: Any, en: Any, lang: str) -> str:
    """A text written in Japanese and English, in ``lang`` (falling back to the other)."""
    return choose({"ja": ja, "en": en}, lang)


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    try:
        return obj[name]  # a pandas row
    except (KeyError, TypeError, IndexError):
        return getattr(obj, name, None)


def localized(obj: Any, base: str, lang: str) -> str:
    """``<base>_<lang>`` of a row, mapping or record, falling back along :func:`fallback_chain`
    (``localized(row, "name", "en")`` reads name_en, then name_ja)."""
    return choose({candidate: _field(obj, f"{base}_{candidate}") for candidate in fallback_chain(lang)}, lang)


def label(entry: Any, lang: str) -> str:
    """A vocabulary entry's label in ``lang`` (its ``ja``, ``en`` or any other language field)."""
    if entry is None:
        return ""
    texts = (
        entry if isinstance(entry, Mapping) else {c: getattr(entry, c, None) for c in fallback_chain(lang)}
    )
    return choose(texts, lang)


def precision_label(precision: str | None, lang: str) -> str:
    """How precise a coordinate is, in words ("city centre (approximate)"); catalogue ``precision_<p>``."""
    return t(f"precision_{precision}", lang) if precision in PRECISIONS else str(precision or "")


def join(items: Any, lang: str) -> str:
    """Items as a list in running text ("Bonn, Germany" / "ボン、ドイツ"); empty items left out."""
    return t("list_sep", lang).join(str(i) for i in items if i)


def _partial_date(value: Any) -> tuple[Any, str] | None:
    """(first day, precision) of a partial date, or None when there is none (None, NaN, ''). Any year:
    the data's dates are checked when read; this also writes the day a file was made (next year too)."""
    if value is None or value != value or not str(value).strip():  # None or NaN
        return None
    return parse_partial_date(str(value), bounded=False)


def date_text(value: Any, lang: str) -> str:
    """A partial date as a reader of ``lang`` writes it, at its real precision ("2010年2月", "2010-02")."""
    parsed = _partial_date(value)
    if parsed is None:
        return ""
    start, precision = parsed
    return t(f"date_{precision}", lang, y=start.year, m=start.month, d=start.day, mm=f"{start.month:02d}",
             dd=f"{start.day:02d}")  # fmt: skip


def date_span(since: Any, until: Any, lang: str) -> str:
    """A period ("1991〜2010年", "2010年2月から", "since 2010-02"); '' when neither end is known."""
    a, b = _partial_date(since), _partial_date(until)
    if a and b and a[1] == b[1] == "year":  # two years: the unit once ("1991〜2010年")
        return t("span_years", lang, lo=a[0].year, hi=b[0].year)
    start, end = date_text(since, lang), date_text(until, lang)
    if start and end:
        return t("span_both", lang, start=start, end=end)
    if start:
        return t("span_from", lang, start=start)
    if end:
        return t("span_to", lang, end=end)
    return ""


def as_of(value: Any, lang: str) -> str:
    """When a figure was true ("as of 2025-09" / "2025年9月時点"); '' when there is no date."""
    date = date_text(value, lang)
    return t("as_of_date", lang, date=date) if date else ""


def aside(text: str, note: str, lang: str) -> str:
    """``text`` with ``note`` beside it in brackets ("Active (as of 2025)" / "活動中（2025年時点）");
    ``text`` alone when ``note`` is empty. Escape both first if the result goes into HTML."""
    return t("aside", lang, text=text, note=note) if note else text


def labelled(label: str, value: str, lang: str) -> str:
    """A label and its value ("Source: …" / "出典：…")."""
    return t("label_value", lang, label=label, value=value)


def quoted(text: str, lang: str) -> str:
    """Text quoted as written ("“…”" / "「…」")."""
    return t("quoted", lang, text=text)


def clauses(parts: Any, lang: str) -> str:
    """The non-empty clauses of one note ("as of 2025; as written: …" / "2025年時点、出典の表記：…")."""
    return t("detail_sep", lang).join(str(p) for p in parts if p)
