"""Summaries of repeated measurements: median and spread, and ratios taken from them."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def summary(values: list[float], unit: str, digits: int = 3) -> dict[str, Any]:
    """Median, min, max, quartiles and the raw values of several runs."""
    vals = sorted(float(v) for v in values)
    if not vals:
        return {"unit": unit, "n": 0, "median": None, "min": None, "max": None, "values": []}
    q1, q3 = (statistics.quantiles(vals, n=4, method="inclusive")[::2]) if len(vals) >= 2 else (vals[0],) * 2
    r = lambda x: round(x, digits)  # noqa: E731
    return {
        "unit": unit,
        "n": len(vals),
        "median": r(statistics.median(vals)),
        "min": r(vals[0]),
        "max": r(vals[-1]),
        "q1": r(q1),
        "q3": r(q3),
        "values": [r(v) for v in values],
    }


def ratio(numerator: dict[str, Any], denominator: dict[str, Any], digits: int = 2) -> float | None:
    """median / median (None when either is missing or the denominator is zero)."""
    a, b = numerator.get("median"), denominator.get("median")
    if a is None or not b:
        return None
    return round(a / b, digits)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def repeat(fn: Callable[[], Any], n: int, warmup: int = 0) -> list[float]:
    """Seconds of ``n`` calls after ``warmup`` unmeasured ones."""
    for _ in range(warmup):
        fn()
    return [timed(fn)[0] for _ in range(n)]


def fmt(s: dict[str, Any] | None) -> str:
    """'1.23 s (1.10–1.40, n=5)' for a summary."""
    if not s or s.get("median") is None:
        return "—"
    unit = s["unit"]
    return f"{s['median']:g} {unit} ({s['min']:g}–{s['max']:g}, n={s['n']})"
