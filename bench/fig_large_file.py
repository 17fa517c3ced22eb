"""Figure 6: server memory before, with and after a large data file (issue 18).

A copy of the shipped data is served; every page is opened twice over the websocket
(bench/wsclient.py) and the server's memory (RSS of the Streamlit process) read; then offices.csv is
replaced by a valid file just under the size limit for CSV files (geocoding.files.MAX_CSV_BYTES),
every page opened (the atlas reloads it: the peak), the original put back and every page opened
twice again: the memory must come back to within 20% of where it was. tests/test_memory.py runs the
same measurement against that bound.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.wsclient import open_session
from dashboard.core import paths
from dashboard.core.text import t
from geocoding.files import MAX_CSV_BYTES, MiB

PAGES = ("", "map", "timeline", "membership", "compare", "sources")
BIG_BYTES = MAX_CSV_BYTES - MiB  # a file the atlas accepts: just under the limit
LIMIT_RATIO = 1.2
SESSION_TTL_S = 5


def large_offices(original: str, size: int = BIG_BYTES) -> bytes:
    """offices.csv grown to at most ``size`` bytes: its rows repeated with new ids (every row valid)."""
    rows = list(csv.DictReader(io.StringIO(original)))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    ends = []
    while buf.tell() <= size:  # characters; the rows are mostly ASCII, the cut below is in bytes
        row = rows[len(ends) % len(rows)]
        writer.writerow(dict(row, id=f"{row['id']}-copy-{len(ends)}"))
        ends.append(buf.tell())
    data = buf.getvalue().encode("utf-8")
    while len(data) > size:  # drop whole rows until it fits
        ends.pop()
        data = buf.getvalue()[: ends[-1]].encode("utf-8")
    return data


def visit(url: str, times: int = 1) -> None:
    for _ in range(times):
        for page in PAGES:
            session = open_session(url, page, "lang=en", timeout=300)
            if session.status != "finished" or session.exceptions():
                raise RuntimeError(f"/{page}: {session.status} {session.exceptions()[:1]}")


def offices_shown(url: str) -> int:
    """The overview's count of offices, as a reader sees it (proof that the file in place was read)."""
    session = open_session(url, "", "lang=en", timeout=300)
    label = t("headline_offices", "en")
    shown = [el.body for kind, el in session.elements() if kind == "metric" and el.label == label]
    digits = re.sub(r"\D", "", shown[0]) if shown else ""
    return int(digits) if digits else -1


def measure(server, data_dir: Path, size: int = BIG_BYTES) -> dict[str, Any]:
    """Serve ``data_dir`` (``server`` is bench._server.streamlit_server) and measure the memory before,
    with and after a large offices.csv. ``data_dir`` is changed while it runs and restored."""
    offices = data_dir / paths.OFFICES
    original = offices.read_bytes()
    big = large_offices(original.decode("utf-8"), size)
    # Streamlit keeps a closed session (its messages, the large map among them) for a while in case
    # the browser reconnects: two minutes by default, a few seconds here.
    env = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(SESSION_TTL_S)}
    with server(data_dir=data_dir, env=env) as srv:
        mb = lambda: srv.rss_bytes() / MiB  # noqa: E731
        visit(srv.url, 2)
        time.sleep(1)
        before = mb()
        offices.write_bytes(big)
        t0 = time.perf_counter()
        visit(srv.url)
        loaded_s = time.perf_counter() - t0
        peak = mb()
        offices_with_file = offices_shown(srv.url)
        offices.write_bytes(original)
        visit(srv.url)
        time.sleep(SESSION_TTL_S + 10)  # the sessions that showed the large file are gone
        visit(srv.url)
        time.sleep(1)
        after = mb()
        errors = srv.errors()
    return {
        "file_mb": round(len(big) / MiB, 1),
        "rows": big.count(b"\n") - 1,
        "before_mb": round(before, 1),
        "with_file_mb": round(peak, 1),
        "offices_with_file": offices_with_file,
        "after_mb": round(after, 1),
        "ratio_after": round(after / before, 3),
        "pages_with_file_s": round(loaded_s, 1),
        "server_errors": errors[:5],
    }


def run(ctx: dict[str, Any]) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="atlas-bench-large-"))
    try:
        shutil.copytree(paths.SHIPPED_DATA_DIR, tmp / "data")
        out = measure(ctx["server"], tmp / "data")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["about"] = (
        "a copy of the shipped data served by one `streamlit run`; every page opened twice over the "
        f"websocket (bench/wsclient.py), RSS read; offices.csv replaced by a valid {out['file_mb']} MB file "
        f"({out['rows']:,} rows, just under the {MAX_CSV_BYTES / MiB:.0f} MB limit for CSV files), every "
        "page opened; the original put back, every page opened twice, RSS read again. Target: back within "
        f"{LIMIT_RATIO}x of before."
    )
    ctx["log"](
        f"  large file: {out['before_mb']} MB before, {out['with_file_mb']} MB with the file, "
        f"{out['after_mb']} MB after ({out['ratio_after']}x)"
    )
    return out
