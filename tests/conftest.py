"""Shared test configuration: opt-in live tests, the browser's availability policy, and the explainer
notebook's headless runs (one per language for the whole session)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from bench._server import CHROMIUM, CHROMIUM_ARGS  # the one list, shared with the benchmarks


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-live", action="store_true", help="also run tests that call real online services")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    live = config.getoption("--run-live") or os.environ.get("ATLAS_LIVE_TESTS") == "1"
    why = "talks to a real online service: use --run-live or ATLAS_LIVE_TESTS=1"
    skip_live = pytest.mark.skip(reason=why)
    in_ci = os.environ.get("CI") == "true"
    has_browser = shutil.which(CHROMIUM) is not None
    skip_browser = pytest.mark.skip(reason=f"{CHROMIUM} is missing: `make browser` installs it")
    for item in items:
        if "live" in item.keywords and not live:
            item.add_marker(skip_live)
        # Under CI a missing browser is a failure (the test runs and cannot launch it), never a skip.
        if "browser" in item.keywords and not has_browser and not in_ci:
            item.add_marker(skip_browser)


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole session (Playwright's sync API allows one driver
    per thread, so every browser test shares it)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _data_fingerprint(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


@pytest.fixture(scope="session")
def notebook_runs():
    """``get(lang)``: notebooks/explainer.ipynb run headless in ``lang`` (a
    ``dashboard.outputs.notebook_export.Run``), once per language for the whole session, so that
    tests/test_notebook.py and the browser test of the exported page share the runs. Each run also
    carries ``data_before`` / ``data_after``: the data folder's file hashes around it."""
    from dashboard.core import paths
    from dashboard.outputs.notebook_export import run

    runs = {}

    def get(lang: str):
        if lang not in runs:
            before = _data_fingerprint(paths.data_dir())
            r = run(lang, timeout=120)
            r.data_before, r.data_after = before, _data_fingerprint(paths.data_dir())
            runs[lang] = r
        return runs[lang]

    return get
