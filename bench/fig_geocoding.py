"""Figure 4: a full ``python -m geocoding --offline`` run on a warm cache over the real data (in
process, through ``geocoding.cli.main``, on a temporary copy of data/ so data/ is not rewritten),
and gazetteer look-ups per second."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._stats import summary
from dashboard.core import paths


def _full_run() -> tuple[float, int]:
    from geocoding.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        t0 = time.perf_counter()
        code = main(["--offline", "--no-progress"])
        dt = time.perf_counter() - t0
    if code != 0:
        raise RuntimeError(f"geocoding exited {code}:\n{out.getvalue()}\n{err.getvalue()}")
    return dt, code


def _cities(data: Path) -> list[tuple[str, str]]:
    rows = []
    for name in (paths.OFFICES, paths.MEMBERS):
        with (data / name).open(encoding="utf-8-sig", newline="") as fh:
            rows.extend((r["city"], r["country"]) for r in csv.DictReader(fh))
    return rows


def run(ctx: dict[str, Any]) -> dict[str, Any]:
    from geocoding import Gazetteer

    runs = 3 if ctx["quick"] else 7
    tmp = Path(tempfile.mkdtemp(prefix="atlas-bench-geo-"))
    data = tmp / "data"
    shutil.copytree(paths.SHIPPED_DATA_DIR, data)
    old = os.environ.get("ATLAS_DATA_DIR")
    os.environ["ATLAS_DATA_DIR"] = str(data)
    try:
        cache_before = (data / paths.GEOCODING_CACHE).read_bytes()
        times = [_full_run()[0] for _ in range(runs)]
        cache_unchanged = (data / paths.GEOCODING_CACHE).read_bytes() == cache_before
        n_rows = len(_cities(data))
        # look-ups: a fresh gazetteer, load timed apart, then every city of the data many times
        t0 = time.perf_counter()
        gaz = Gazetteer()
        gaz.city("Tokyo", "JP")
        load_s = time.perf_counter() - t0
        cities = [(c, gaz.country_code(k) or k) for c, k in _cities(data)]
        for c, iso in cities:  # index every country the data uses before timing
            gaz.city(c, iso)
        rates = []
        for _ in range(5):
            k = 0
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < 0.5:
                for c, iso in cities:
                    gaz.city(c, iso)
                k += len(cities)
            rates.append(k / (time.perf_counter() - t0))
    finally:
        if old is None:
            os.environ.pop("ATLAS_DATA_DIR", None)
        else:
            os.environ["ATLAS_DATA_DIR"] = old
        shutil.rmtree(tmp, ignore_errors=True)
    out = {
        "about": (
            "geocoding.cli.main(['--offline']) in process on a temporary copy of data/ (ATLAS_DATA_DIR), the "
            "committed cache warm; each run is a fresh Gazetteer as in the command. Look-ups: Gazetteer.city "
            "over the data's cities after the gazetteer is loaded and indexed (load timed apart)."
        ),
        "rows": n_rows,
        "warm_run": summary(times, "s"),
        "cache_unchanged": cache_unchanged,
        "gazetteer_load_s": round(load_s, 3),
        "lookups_per_s": summary(rates, "/s", 0),
    }
    ctx["log"](
        f"  geocoding: warm run {out['warm_run']['median']} s, gazetteer load {load_s:.2f} s, "
        f"{out['lookups_per_s']['median']:.0f} look-ups/s"
    )
    return out
