"""CSV for downloads, safe to open in a spreadsheet. Streamlit-free.

A spreadsheet treats a cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return
before one of them) as a formula, so text from the data could run a command in the user's
spreadsheet ("formula injection", OWASP). ``safe_csv`` prefixes such text cells with an apostrophe,
which spreadsheets show as literal text. Numbers stay numbers. Every CSV download uses it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.core.data import nn

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """One cell made safe: text starting like a formula gets a leading apostrophe; lists are joined
    with '; '; missing values become ''; numbers and booleans are kept."""
    if isinstance(value, (list, tuple, set)):
        value = "; ".join(str(v) for v in value)
    value = nn(value)
    if value is None:
        return ""
    if isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every cell and column name neutralised (index kept as a column if named)."""
    out = df.reset_index() if df.index.name is not None else df.copy()
    out = out.map(neutralise) if not out.empty else out
    out.columns = [str(neutralise(c)) for c in out.columns]
    return out


def safe_csv(df: pd.DataFrame) -> str:
    """``df`` as CSV text (no index column unless the index is named), formula-safe."""
    return safe_frame(df).to_csv(index=False, lineterminator="\n")


def safe_csv_bytes(df: pd.DataFrame) -> bytes:
    """``safe_csv`` as UTF-8 with a byte-order mark, so Excel opens Japanese text correctly."""
    return safe_csv(df).encode("utf-8-sig")
