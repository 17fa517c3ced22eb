"""Shared test configuration: opt-in live tests, and the browser's availability policy."""

from __future__ import annotations

import os
import shutil

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
