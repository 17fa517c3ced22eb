"""A large data file does not hold the server's memory after it is gone (issue 18).

The audit saw a 50 MB offices.csv raise a server from 231 MB to 1.08 GB, and stay there after the
file was put back: several old copies of the data were cached, sessions kept the atlas alive through
their widgets and downloads, and the allocators kept what had been freed. A 50 MB file is now refused
(geocoding.files.MAX_CSV_BYTES); this serves a file just under the limit through a real ``streamlit
run`` and measures the server's resident memory with psutil (bench/fig_large_file.py, also a figure
of ``python -m bench``). One server, bounded in time: about a minute.
"""

from __future__ import annotations

import shutil

from bench._server import streamlit_server
from bench.fig_large_file import LIMIT_RATIO, measure
from dashboard.core import paths


def test_server_memory_returns_after_a_large_file_is_loaded_and_removed(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(paths.SHIPPED_DATA_DIR, data)
    m = measure(lambda **kw: streamlit_server(log_dir=tmp_path / "logs", **kw), data)
    print(f"\nserver memory: {m}")
    assert m["server_errors"] == []
    # the large file was read and shown (else nothing was measured): the shipped data has ~50 offices
    assert m["offices_with_file"] > 10_000, m
    assert m["after_mb"] <= m["before_mb"] * LIMIT_RATIO, (
        f"{m['after_mb']} MB after the file was removed, {m['before_mb']} MB before"
    )
