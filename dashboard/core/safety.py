"""Every value from the data is made safe here: once, at the edge, by one rule per context. Streamlit-free.

The atlas shows text written by others (names, addresses, missions, sources). Each place that puts such
text into an output calls the one function for that context:

==========================  ===========================================================================
context                     function
==========================  ===========================================================================
HTML text or attribute      :func:`escape_html` (markupsafe's rule, the same one Jinja2's autoescape
                            applies in the briefing pack's template); :func:`html_lines` keeps line breaks
a link's address            :func:`safe_url`: only a plain http(s) address, else None
JSON in a ``<script>``      :func:`script_json` (data handed to the map's and the pack's scripts)
trusted code inlined        :func:`script_code` / :func:`style_code` (Leaflet, plotly.js, the atlas's own
                            .js/.css files: no early ``</script>`` or ``</style>``)
Streamlit Markdown          :func:`escape_markdown`, :func:`markdown_lines`
a Markdown table cell       :func:`markdown_cell` (the comparison's Markdown download)
a CSV cell                  :func:`csv_cell` (formula injection neutralised); :func:`csv_text` /
                            :func:`csv_bytes` for a whole table
==========================  ===========================================================================

Plotly renders a subset of HTML in hover text, names and annotations, so figure text is
:func:`escape_html` too.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

__all__ = [
    "FORMULA_STARTS",
    "Markup",
    "clean",
    "csv_bytes",
    "csv_cell",
    "csv_frame",
    "csv_text",
    "escape_html",
    "escape_markdown",
    "html_lines",
    "markdown_cell",
    "markdown_lines",
    "safe_url",
    "script_code",
    "script_json",
    "style_code",
]

_URL = re.compile(r"^https?://[^\s<>\"'`\\]+$", re.IGNORECASE)
_JINJA_OPEN = re.compile(r"\{(?=[{%#])")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:])")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or another container: not missing
        return False


def clean(value: Any) -> str | None:
    """The text of a cell, or None when it is missing (None, NaN, pd.NA) or blank; 1990.0 → '1990'."""
    if _missing(value):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


# ------------------------------------------------------------------ HTML
def escape_html(value: Any) -> str:
    """Data as literal HTML text or attribute value (``& < > " '`` escaped); missing values → ''."""
    text = clean(value)
    return "" if text is None else str(escape(text))


def html_lines(value: Any) -> str:
    """:func:`escape_html`, with line breaks kept as ``<br>``."""
    return escape_html(value).replace("\r\n", "\n").replace("\n", "<br>")


def safe_url(value: Any) -> str | None:
    """The address if it is a plain http(s) URL, else None (``javascript:``, ``data:`` ... dropped)."""
    text = clean(value)
    return text if text is not None and _URL.match(text) else None


def script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``</script>``, no ``<!--``, no template-literal
    or Jinja syntax (``{{``, ``{%``): such characters only ever occur inside strings, where the
    ``\\u`` escape means the same character."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = _JINJA_OPEN.sub("\\\\u007b", text)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("`", "\\u0060")
        .replace("$", "\\u0024")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def script_json_text(value: Any) -> str:
    """:func:`script_json` as a JavaScript template literal without substitutions, for ``JSON.parse(...)``.

    Browsers parse a large JSON text with ``JSON.parse`` much faster than the same data written as a
    JavaScript object literal (V8's and SpiderMonkey's advice; at 100,000 map points, about 9 MB,
    Chromium reached the map's code hundreds of milliseconds sooner, bench/). script_json never leaves a
    backquote or a ``$`` unescaped, so only its backslashes need doubling inside the backquotes; quotes
    stay as they are. Safe in a ``<script>`` element as script_json is."""
    return "`" + script_json(value).replace("\\", "\\\\") + "`"


def script_code(code: str) -> str:
    """Trusted code, safe to place between ``<script>`` tags (no early ``</script``, no ``<!--``)."""
    code = re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)
    return code.replace("<!--", "<\\!--")


def style_code(css: str) -> str:
    """A trusted stylesheet, safe to place between ``<style>`` tags."""
    return re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)


# ------------------------------------------------------------------ Markdown
def escape_markdown(value: Any) -> str:
    """Text for a Streamlit element that renders Markdown, shown literally (every special character
    backslash-escaped: no emphasis, link, HTML or LaTeX can form)."""
    text = clean(value)
    return "" if text is None else _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def markdown_lines(value: Any) -> str:
    """:func:`escape_markdown` with its line breaks kept (Markdown's hard break: two spaces)."""
    text = clean(value)
    return "" if text is None else "  \n".join(escape_markdown(line) or "" for line in text.split("\n"))


def markdown_cell(value: Any) -> str:
    """A GitHub-flavoured Markdown table cell: backslash and pipe escaped, ``< > &`` as entities,
    newlines as ``<br>``, and ``](`` as ``]\\(`` so that text never forms a link or an image
    (``[x](javascript:...)`` shows literally)."""
    text = "" if _missing(value) else str(value)
    text = text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("|", "\\|").replace("](", "]\\(")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")
    return text.strip() or " "


# ------------------------------------------------------------------ CSV
def csv_cell(value: Any) -> Any:
    """One cell made safe for a spreadsheet: text starting like a formula (``= + - @``, a tab or a
    carriage return) gets a leading apostrophe, which spreadsheets show as literal text; lists are
    joined with '; '; missing values become ''; numbers and booleans are kept."""
    if isinstance(value, (list, tuple, set)):
        value = "; ".join(str(v) for v in value)
    if _missing(value):
        return ""
    if isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every cell and column name neutralised (a named index kept as a column)."""
    out = df.reset_index() if df.index.name is not None else df.copy()
    out = out.map(csv_cell) if not out.empty else out
    out.columns = [str(csv_cell(c)) for c in out.columns]
    return out


def csv_text(df: pd.DataFrame) -> str:
    """``df`` as CSV text (no index column unless the index is named), formula-safe."""
    return csv_frame(df).to_csv(index=False, lineterminator="\n")


def csv_bytes(df: pd.DataFrame) -> bytes:
    """:func:`csv_text` as UTF-8 with a byte-order mark, so Excel opens Japanese text correctly."""
    return csv_text(df).encode("utf-8-sig")
