"""``python -m bench [--quick] [--only map_page,session,filter,scale,member_list,geocoding,memory]``: run
the benchmarks, write bench/results.json and bench/RESULTS.md, and print the table."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench._server import CHROMIUM, chromium, streamlit_server
from bench.report import markdown

HERE = Path(__file__).resolve().parent
FIGURES = ("map_page", "session", "filter", "scale", "member_list", "geocoding", "memory")


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    import psutil

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        chromium_version = subprocess.run(
            [CHROMIUM, "--version"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        chromium_version = None
    return {
        "machine": {
            "cpu": cpu,
            "cores": os.cpu_count(),
            "nproc": len(os.sched_getaffinity(0)),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "os": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "note": "Shared with other work (other developers' test runs) during the run",
        },
        "versions": {
            "python": platform.python_version(),
            **{
                d: _version(d)
                for d in (
                    "streamlit",
                    "folium",
                    "streamlit-folium",
                    "plotly",
                    "pandas",
                    "playwright",
                    "branca",
                )
            },
            "chromium": chromium_version,
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer repeats (a few minutes instead of ~15)")
    p.add_argument("--only", default=",".join(FIGURES), help=f"comma-separated subset of {','.join(FIGURES)}")
    p.add_argument("--out", default=str(HERE), help="folder for results.json and RESULTS.md")
    args = p.parse_args(argv)
    only = [f.strip() for f in args.only.split(",") if f.strip()]
    unknown = [f for f in only if f not in FIGURES]
    if unknown:
        p.error(f"unknown figure(s): {', '.join(unknown)}")
    os.environ.pop("ATLAS_DATA_DIR", None)  # the shipped data

    def log(msg: str) -> None:
        print(msg, flush=True)

    ctx = {"quick": args.quick, "log": log, "server": streamlit_server, "chromium": chromium,
           "browser": Path(CHROMIUM).exists()}  # fmt: skip
    results: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mode": "quick" if args.quick else "full",
        "command": "python -m bench"
        + (" --quick" if args.quick else "")
        + (f" --only {','.join(only)}" if tuple(only) != FIGURES else ""),
        **machine(),
        "figures": {},
    }
    t_all = time.perf_counter()
    for name in only:
        log(f"[{name}] load average {os.getloadavg()[0]:.2f}")
        t0 = time.perf_counter()
        load0 = round(os.getloadavg()[0], 2)
        try:
            mod = importlib.import_module(f"bench.fig_{name}")
            results["figures"][name] = mod.run(ctx)
        except Exception as exc:
            traceback.print_exc()
            results["figures"][name] = {"error": f"{type(exc).__name__}: {exc}"}
        results["figures"][name]["wall_s"] = round(time.perf_counter() - t0, 1)
        results["figures"][name]["load_average"] = [load0, round(os.getloadavg()[0], 2)]
    results["total_s"] = round(time.perf_counter() - t_all, 1)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    text = markdown(results)
    (out / "RESULTS.md").write_text(text, encoding="utf-8")
    print()
    print(text)
    return 1 if any("error" in f for f in results["figures"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
