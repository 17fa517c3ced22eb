"""Sessions opening and closing for a long time: does the servers' memory stay flat?

``clients`` protocol-level clients (:mod:`bench.wsclient`) open sessions one after another through nginx
and ``make serve``'s replicas, each on the next view of a fixed list (every page, both languages, some
filters: the atlas's caches, bounded, fill in the first minutes and then hold), run the page to its end
and close the websocket; every tenth closes it before the run has finished, as a person closing a tab
while the page loads. Each replica's resident memory is sampled every ``sample_every`` seconds.

The figure is the slope of a straight line fitted (least squares) to the replicas' total memory
against the number of sessions opened, after ``warmup`` seconds and ``warmup_sessions`` sessions: MB
per 100 sessions. The warm-up leaves out what is bounded by design: the atlas's caches filling, and
Streamlit keeping each closed session (about 1 MB) for two minutes, up to 128 per replica, in case its
browser comes back (so a replica grows by about 120 MB over its first 130 or so sessions, then holds).
A leak of even a tenth of a session per session would show as several MB per 100.

Bounded: it stops after ``duration`` seconds or ``max_sessions`` sessions, whichever comes first.
``python -m bench.load`` runs 15 minutes (``make loadtest``); ``tests/test_room.py`` a short one.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._serve import serving
from bench.wsclient import SessionError, close, open_session

# (page, query): every page, both languages, a few filters
VIEWS: list[tuple[str, str]] = [
    ("map", "lang=ja"),
    ("", "lang=ja"),
    ("map", "lang=en&region=europe"),
    ("timeline", "lang=en"),
    ("map", "lang=ja&region=east-asia&years=1990,2010"),
    ("membership", "lang=ja"),
    ("compare", "lang=en&compare=iclei,c40"),
    ("sources", "lang=ja"),
    ("map", "lang=en"),
    ("", "lang=en&kind=city-network"),
    ("timeline", "lang=ja&region=asia-pacific"),
    ("compare", "lang=ja&compare=citynet,anmc21,c40"),
]


@dataclass
class Soak:
    duration: float = 900.0  # seconds
    max_sessions: int = 20_000
    clients: int = 4
    pause: float = 0.3  # seconds a client waits between two sessions
    replicas: int = 2
    warmup: float = 180.0  # seconds left out of the fit ...
    warmup_sessions: int = 0  # ... and at least this many sessions
    fit: bool = True  # False: a short run, still inside the warm-up: no slope
    sample_every: float = 5.0
    abandon_every: int = 10  # every n-th session closes before its run finished
    views: list[tuple[str, str]] = field(default_factory=lambda: list(VIEWS))


def fit(xs: list[float], ys: list[float]) -> tuple[float, float] | None:
    """Least-squares (slope, intercept) of ys against xs; None with fewer than 3 points or no spread."""
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return slope, my - slope * mx


def run_soak(soak: Soak, tmp: Path, log=print) -> dict[str, Any]:
    """Returns the figures and ``failures`` (errors in sessions, replicas lost)."""
    counter = itertools.count()
    lock = threading.Lock()
    done = {"opened": 0, "finished": 0, "abandoned": 0}
    errors: list[str] = []
    samples: list[dict[str, Any]] = []
    stop = threading.Event()

    with serving(tmp, soak.replicas, fast_checks=False) as served:
        pids = served.pids()
        t0 = time.monotonic()
        end = t0 + soak.duration

        def client() -> None:
            while not stop.is_set() and time.monotonic() < end:
                n = next(counter)
                if n >= soak.max_sessions:
                    return
                page, query = soak.views[n % len(soak.views)]
                abandon = soak.abandon_every and n % soak.abandon_every == soak.abandon_every - 1
                try:
                    if abandon:
                        s = open_session(served.url, page, query, timeout=60, keep_open=True)
                        close(s)
                    else:
                        s = open_session(served.url, page, query, timeout=60)
                        if s.status != "finished" or s.exceptions():
                            raise SessionError(f"{s.url}: {s.status} {s.exceptions()}")
                except SessionError as exc:
                    with lock:
                        errors.append(f"session {n}: {exc}")
                with lock:
                    done["opened"] += 1
                    done["abandoned" if abandon else "finished"] += 1
                stop.wait(soak.pause)

        threads = [threading.Thread(target=client, daemon=True) for _ in range(soak.clients)]
        for t in threads:
            t.start()
        next_log = t0 + 60
        while any(t.is_alive() for t in threads):
            now = time.monotonic()
            with lock:
                opened = done["opened"]
            samples.append({"t": round(now - t0, 1), "sessions": opened, "mb": served.rss_mb()})
            if now >= next_log:
                log(f"  soak: {now - t0:.0f} s, {opened} sessions, memory {samples[-1]['mb']}")
                next_log += 60
            for t in threads:
                t.join(timeout=max(0.0, soak.sample_every - (time.monotonic() - now)) / len(threads))
            if now > end + 90:  # a client stuck past its session timeout
                stop.set()
                errors.append("a client did not stop in time")
                break
        stop.set()
        time.sleep(2)
        samples.append(
            {"t": round(time.monotonic() - t0, 1), "sessions": done["opened"], "mb": served.rss_mb()}
        )
        same = served.pids() == pids
        out_of_rotation = [r["index"] for r in served.status()["replicas"] if not r["in_rotation"]]

    failures = [f"soak: {e}" for e in errors[:20]]
    if not same:
        failures.append(f"soak: a replica was restarted (pids {pids} -> {served.pids()})")
    if out_of_rotation:
        failures.append(f"soak: replicas {out_of_rotation} out of rotation at the end")

    measured = [s for s in samples if s["t"] >= soak.warmup and s["sessions"] >= soak.warmup_sessions]
    if not soak.fit:
        measured = []
    elif len(measured) < 3:
        failures.append(
            f"soak: too few samples after the warm-up ({soak.warmup:.0f} s, {soak.warmup_sessions} sessions) "
            f"to fit a line: {done['opened']} sessions in all"
        )
    xs = [s["sessions"] for s in measured]
    per_replica = {}
    for idx in sorted(pids):
        line = fit(xs, [s["mb"].get(idx, 0.0) for s in measured])
        per_replica[str(idx)] = {
            "start_mb": samples[0]["mb"].get(idx),
            "after_warmup_mb": measured[0]["mb"].get(idx) if measured else None,
            "end_mb": samples[-1]["mb"].get(idx),
            "peak_mb": max(s["mb"].get(idx, 0.0) for s in samples),
            "mb_per_100_sessions": None if line is None else round(line[0] * 100, 3),
        }
    total = fit(xs, [sum(s["mb"].values()) for s in measured])
    elapsed = samples[-1]["t"]
    result = {
        "parameters": {k: v for k, v in vars(soak).items() if k != "views"},
        "views": [f"/{p}?{q}" for p, q in soak.views],
        "duration_s": elapsed,
        "sessions": done["opened"],
        "finished": done["finished"],
        "abandoned": done["abandoned"],
        "sessions_per_s": round(done["opened"] / elapsed, 2) if elapsed else None,
        "errors": len(errors),
        "fitted_sessions": [xs[0], xs[-1]] if xs else None,
        "mb_per_100_sessions": None if total is None else round(total[0] * 100, 3),
        "replicas": per_replica,
        "samples": samples,
        "failures": failures,
    }
    slope = (f"memory slope after {soak.warmup:.0f} s: {result['mb_per_100_sessions']} MB per 100 sessions "
             f"(replicas: { {k: v['mb_per_100_sessions'] for k, v in per_replica.items()} })"
             if soak.fit else "no memory slope (a short run, inside the warm-up)")  # fmt: skip
    log(f"  soak: {result['sessions']} sessions in {elapsed:.0f} s ({result['abandoned']} closed early), "
        f"{len(errors)} errors; {slope}; memory start/end "
        f"{ {k: (v['start_mb'], v['end_mb']) for k, v in per_replica.items()} } MB")  # fmt: skip
    return result
