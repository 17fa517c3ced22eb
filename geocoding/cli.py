"""``python -m geocoding``: rebuild data/geocoded.csv from data/offices.csv and data/members.csv.

Exit status: 0 every row has coordinates; 1 some row has none (the summary says why);
2 the run could not start (missing user agent, unreadable input, corrupt cache or overrides).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from . import paths
from .cache import Cache, CacheError
from .gazetteer import Gazetteer
from .overrides import OverrideError, load_overrides
from .pipeline import (
    DEFAULT_MAX_KM,
    InputError,
    Pipeline,
    format_summary,
    read_previous,
    read_targets,
    write_geocoded,
)
from .settings import DEFAULT_TIMEOUT, USER_AGENT_ENV

if TYPE_CHECKING:
    from .online import Geocode, OnlineGeocoder

USER_AGENT_HELP = (
    "Nominatim's usage policy requires a user agent that identifies the application and a contact, "
    'for example "climate-networks-atlas/0.1 (you@example.org)". Pass --user-agent or set '
    f"{USER_AGENT_ENV}, or run with --offline to use the gazetteer only."
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m geocoding",
        description=(
            f"Geocode {paths.OFFICES} and {paths.MEMBERS} into {paths.GEOCODED}: manual overrides, then "
            "Nominatim (online), then the offline GeoNames gazetteer (city precision)."
        ),
    )
    p.add_argument("--offline", action="store_true", help="no network: cached answers and the gazetteer only")
    p.add_argument("--refresh", action="store_true", help="query again even when the cache has an answer")
    p.add_argument(
        "--user-agent",
        default=None,
        help=f"identifies you to Nominatim (required online; default: ${USER_AGENT_ENV})",
    )
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per Nominatim request")
    p.add_argument(
        "--max-km",
        type=float,
        default=DEFAULT_MAX_KM,
        help="reject an online result farther than this from the gazetteer's city (default %(default)s)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(
    argv: Sequence[str] | None = None,
    *,
    geocode: Geocode | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Any] = time.sleep,
    gazetteer: Gazetteer | None = None,
) -> int:
    """Run the command line. Tests hand in ``geocode`` (a fake), ``clock`` and ``sleep``."""
    args = build_parser().parse_args(argv)
    data = paths.data_dir()
    err = sys.stderr

    online: OnlineGeocoder | None = None
    if not args.offline:  # geopy is imported only here: an offline run does not need it
        from .online import OnlineGeocoder, RetryPolicy, nominatim_geocode

        if geocode is None:
            agent = (args.user_agent or os.environ.get(USER_AGENT_ENV, "")).strip()
            if not agent:
                print(f"error: no user agent. {USER_AGENT_HELP}", file=err)
                return 2
            geocode = nominatim_geocode(agent, timeout=args.timeout)
        online = OnlineGeocoder(
            geocode,
            clock=clock,
            sleep=sleep,
            retry=RetryPolicy(),
            log=lambda msg: print(f"  {msg}", file=err),
        )

    try:
        cache = Cache.load(data / paths.GEOCODING_CACHE)
        overrides = load_overrides(data / paths.GEOCODING_OVERRIDES)
        if gazetteer is None:
            gazetteer = Gazetteer(index_path=data / paths.GAZETTEER_INDEX, rebuild_index=args.refresh)
            if gazetteer.index_note:
                print(f"note: {gazetteer.index_note}", file=err)
        targets = read_targets(data, gazetteer)
        previous = read_previous(data / paths.GEOCODED)
    except (CacheError, OverrideError, InputError) as exc:
        print(f"error: {exc}", file=err)
        return 2

    pipeline = Pipeline(
        cache=cache,
        gazetteer=gazetteer,
        overrides=overrides,
        online=online,
        refresh=args.refresh,
        max_km=args.max_km,
        timeout=args.timeout,
    )
    out = data / paths.GEOCODED
    try:
        report = pipeline.run(targets, progress=not args.no_progress and err.isatty(), previous=previous)
    except OSError as exc:  # the cache could not be written (disk full, read-only folder...)
        print(
            f"error: could not write the geocoding cache {cache.path} ({exc.strerror or exc}). It still "
            f"holds the answers saved before this ({cache.writes} written in this run) and {out} was left "
            "as it was. Free some space and run again: cached answers are not asked again.",
            file=err,
        )
        return 2
    try:
        written = write_geocoded(out, (o.row for o in report.outcomes if o.row is not None))
    except OSError as exc:
        print(format_summary(report))
        print(
            f"error: could not write {out} ({exc.strerror or exc}); the previous file was left as it was. "
            f"Every answer is in the cache {cache.path}: run again once there is space.",
            file=err,
        )
        return 2
    print(format_summary(report))
    print(f"wrote {written} rows to {out}; cache {cache.path} holds {len(cache.entries)} answers")
    try:
        if gazetteer.save_index():
            print(f"updated the gazetteer index {gazetteer.index_path}")
    except OSError as exc:  # derived data: the next run reads the full gazetteer instead
        print(
            f"note: could not write the gazetteer index {gazetteer.index_path} ({exc.strerror or exc}); "
            "the results above are complete, the next run reads the full gazetteer again",
            file=err,
        )
    return 1 if report.missing else 0
