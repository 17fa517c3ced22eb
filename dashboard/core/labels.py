"""Laying out chart labels so that none covers another. Streamlit-free (the charts in
``dashboard.core.figures`` use it; so does the notebook through them).

Plotly draws annotations and point labels where it is told and never moves them apart, so the
figures place them here, before plotly sees them: each label is a box in pixels (its text's width
estimated from the characters, see :func:`text_width`), and :func:`place` keeps a label only where
its box overlaps no box already kept, trying its candidate positions in order.

The estimates lean wide (a Japanese character is a full em, a Latin letter more than half of one),
so a label that fits here fits on the page; the browser tests measure the real boxes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Width of a character as a fraction of the font size, by kind (sans-serif faces; rounded up).
_NARROW = set("ijlI.,:;'|!()[]·")
_WIDE_LATIN = set("MWmw@%")
LINE_HEIGHT = 1.3  # a line of text is this many font sizes high (with plotly's annotation padding)


def char_width(c: str) -> float:
    """How wide ``c`` is drawn, in font sizes."""
    if unicodedata.east_asian_width(c) in ("W", "F"):
        return 1.0
    if c == " ":
        return 0.3
    if c in _NARROW:
        return 0.32
    if c in _WIDE_LATIN:
        return 0.9
    if c.isupper():
        return 0.68
    if c.isdigit():
        return 0.58
    if c.isalpha():
        return 0.56
    return 0.62


def text_width(text: str, font_size: float) -> float:
    """The width in pixels of the widest line of ``text`` (lines split at ``<br>``) at ``font_size``."""
    lines = text.split("<br>")
    return max(sum(char_width(c) for c in _unescape(line)) for line in lines) * font_size * 1.04


def text_height(text: str, font_size: float) -> float:
    """The height in pixels of ``text`` (lines split at ``<br>``) at ``font_size``."""
    return (text.count("<br>") + 1) * font_size * LINE_HEIGHT


_TAG = re.compile(r"</?(?:b|i|em|strong|sup|sub|span)\b[^>]*>", re.IGNORECASE)


def _unescape(text: str) -> str:
    """What the reader sees of escaped text with plotly's markup (``&amp;`` is one character, ``<b>``
    none)."""
    text = _TAG.sub("", text)
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#34;", '"'), ("&#39;", "'")):
        text = text.replace(entity, char)
    return text.replace("&amp;", "&")


def wrap(text: str, max_width: float, font_size: float) -> str:
    """``text`` broken into lines (``<br>``) no wider than ``max_width`` pixels where it can be: at
    spaces, or anywhere in Japanese text (which has no spaces). Nothing is cut off."""
    if text_width(text, font_size) <= max_width:
        return text
    words = text.split(" ") if " " in text else list(text)
    sep = " " if " " in text else ""
    lines: list[str] = []
    line = ""
    for w in words:
        candidate = f"{line}{sep}{w}" if line else w
        if line and text_width(candidate, font_size) > max_width:
            lines.append(line)
            line = w
        else:
            line = candidate
    lines.append(line)
    return "<br>".join(lines)


@dataclass(frozen=True)
class Box:
    """A rectangle in pixels: ``x0 < x1`` left to right, ``y0 < y1`` bottom to top."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box, gap: float = 0.0) -> bool:
        return not (
            self.x1 + gap <= other.x0
            or other.x1 + gap <= self.x0
            or self.y1 + gap <= other.y0
            or other.y1 + gap <= self.y0
        )

    def inside(self, other: Box) -> bool:
        return self.x0 >= other.x0 and self.x1 <= other.x1 and self.y0 >= other.y0 and self.y1 <= other.y1


def place(
    candidates: Iterable[Sequence[Box]],
    *,
    taken: Iterable[Box] = (),
    bounds: Box | None = None,
    gap: float = 3,
) -> list[int | None]:
    """For each label (a sequence of candidate boxes, best first), the index of the first candidate
    that lies within ``bounds`` and overlaps neither a ``taken`` box nor a label placed before it;
    None when no candidate fits (that label is left out). Labels are placed in the order given, so
    pass the most important first."""
    kept = list(taken)
    out: list[int | None] = []
    for options in candidates:
        chosen = None
        for i, box in enumerate(options):
            if bounds is not None and not box.inside(bounds):
                continue
            if any(box.overlaps(k, gap) for k in kept):
                continue
            chosen = i
            kept.append(box)
            break
        out.append(chosen)
    return out


def lanes(options: Sequence[Sequence[tuple[float, float]]], gap: float = 10) -> list[tuple[int, int]]:
    """Stack labels in horizontal lanes: each label has one or more candidate spans ``(x0, x1)``
    (say, left or right of its line) and goes to the lowest lane where one of them overlaps no span
    already there (greedy, in the order given). Returns each label's (lane, candidate)."""
    taken: list[list[tuple[float, float]]] = []
    out = []
    for spans in options:
        for lane in range(len(taken) + 1):
            if lane == len(taken):
                taken.append([])
            free = [k for k, (x0, x1) in enumerate(spans)
                    if all(x1 + gap <= a or b + gap <= x0 for a, b in taken[lane])]  # fmt: skip
            if free:
                taken[lane].append(spans[free[0]])
                out.append((lane, free[0]))
                break
    return out
