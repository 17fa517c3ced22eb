"""Many users at once: concurrent browser sessions against one ``streamlit run`` server on loopback.

N Playwright contexts (one headless Chromium, async API) each open views for D seconds: a page
(overview, map, timeline, membership, compare, sources) with random filters in the URL, waiting
until the page is drawn (its title visible and the script run finished). Every view must render
with no Streamlit exception element; the server's log must hold no traceback or error. The test
prints p50/p95 time to a rendered view and the server's memory (RSS, psutil) and writes them to
``test-artifacts/loadtest.json``.

Short form by default (4 contexts, 15 s) so it runs in ``make test``; ``ATLAS_LOADTEST=full``
(``make loadtest``) runs 20 contexts for 60 s. Bounded in count and time; loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bench._server import CHROMIUM, CHROMIUM_ARGS, Server, streamlit_server
from dashboard.core import paths
from dashboard.core.data import load_atlas
from tests.browser.conftest import ARTIFACTS
from tests.browser.pageutil import APP_IDLE

FULL = os.environ.get("ATLAS_LOADTEST") == "full"
CONTEXTS = 20 if FULL else 4
DURATION = 60.0 if FULL else 15.0
VIEW_TIMEOUT_MS = 90_000  # a view slower than this is a failure, not a slow view
PAGES = ("", "map", "timeline", "membership", "compare", "sources")  # "" is the overview


# ---------------------------------------------------------------------------------- the server
@contextlib.contextmanager
def serve(log_dir: Path, data_dir: Path | None = None) -> Iterator[Server]:
    """``streamlit run dashboard/app.py`` on loopback (bench/_server.py, the one launcher)."""
    with streamlit_server(data_dir=data_dir, log_dir=log_dir) as srv:
        yield srv


# ---------------------------------------------------------------------------------- the users
def random_view(rng: random.Random, atlas) -> str:
    page = rng.choice(PAGES)
    params: dict[str, str] = {"lang": rng.choice(["ja", "en"])}
    if rng.random() < 0.5:
        lo = rng.randint(1987, 2025)
        params["years"] = f"{lo},{rng.randint(lo, 2025)}"
    if rng.random() < 0.4:
        params["region"] = rng.choice(list(atlas.vocabulary.regions))
    if rng.random() < 0.3:
        params["kind"] = rng.choice(list(atlas.vocabulary.organisation_kinds))
    orgs = list(atlas.organisation_records)
    if page == "compare" or rng.random() < 0.2:
        params["compare"] = ",".join(rng.sample(orgs, k=min(len(orgs), rng.randint(2, 4))))
    return f"/{page}?{urlencode(params)}"


async def user(browser, base: str, atlas, seed: int, deadline: float, results: list, failures: list) -> None:
    rng = random.Random(seed)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})

    async def only_loopback(route) -> None:
        if route.request.url.startswith((base, "data:", "blob:", "about:")):
            await route.continue_()
        else:
            await route.abort()  # the optional online basemap, or anything else leaving the machine

    await context.route("**/*", only_loopback)
    page = await context.new_page()
    try:
        while time.monotonic() < deadline:
            view = random_view(rng, atlas)
            start = time.monotonic()
            try:
                await page.goto(base + view, timeout=VIEW_TIMEOUT_MS)
                await page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=VIEW_TIMEOUT_MS)
                await page.locator(APP_IDLE).wait_for(state="attached", timeout=VIEW_TIMEOUT_MS)
            except Exception as exc:  # a view that never renders is a failure, recorded with its URL
                failures.append(f"{view}: did not render ({type(exc).__name__}: {str(exc)[:200]})")
                continue
            elapsed = time.monotonic() - start
            if await page.locator('[data-testid="stException"]').count():
                text = await page.locator('[data-testid="stException"]').first.inner_text()
                failures.append(f"{view}: Streamlit exception: {text[:300]}")
            results.append((view, elapsed))
    finally:
        await context.close()


async def run_load(base: str, atlas) -> tuple[list, list]:
    from playwright.async_api import async_playwright

    results: list[tuple[str, float]] = []
    failures: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            # one untimed view per page first: the server's first run of each page script imports
            # plotly, folium... (seconds), which is start-up, not what a user waits for afterwards
            warm = await browser.new_context()
            page = await warm.new_page()
            for name in PAGES:
                await page.goto(f"{base}/{name}?lang=en", timeout=VIEW_TIMEOUT_MS)
                await page.locator(APP_IDLE).wait_for(state="attached", timeout=VIEW_TIMEOUT_MS)
            await warm.close()
            deadline = time.monotonic() + DURATION
            await asyncio.gather(
                *(user(browser, base, atlas, seed, deadline, results, failures) for seed in range(CONTEXTS))
            )
        finally:
            await browser.close()
    return results, failures


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@pytest.mark.load
@pytest.mark.browser
def test_concurrent_sessions_all_render_without_server_errors(tmp_path):
    pytest.importorskip("playwright.async_api")
    if shutil.which(CHROMIUM) is None and os.environ.get("CI") != "true":
        pytest.skip(f"{CHROMIUM} is missing: `make browser` installs it")
    # a copy of the shipped data: the run must leave it exactly as it was
    data = tmp_path / "data"
    shutil.copytree(paths.SHIPPED_DATA_DIR, data)
    before = {str(p.relative_to(data)): p.read_bytes() for p in data.rglob("*") if p.is_file()}
    atlas = load_atlas(data)
    with serve(tmp_path / "logs", data) as server:
        rss_start = server.rss_bytes()
        # In its own thread: Playwright's sync API (the other browser tests' shared Chromium) may
        # be running in this one, and asyncio.run() refuses to start inside its loop.
        with ThreadPoolExecutor(max_workers=1) as pool:
            results, failures = pool.submit(asyncio.run, run_load(server.url, atlas)).result()
        rss_end = server.rss_bytes()
        errors = server.errors()
        alive = server.proc.poll() is None
    times = [t for _, t in results]
    report = {
        "contexts": CONTEXTS,
        "duration_s": DURATION,
        "views": len(results),
        "failures": failures[:50],
        "p50_s": round(percentile(times, 50), 3) if times else None,
        "p95_s": round(percentile(times, 95), 3) if times else None,
        "max_s": round(max(times), 3) if times else None,
        "server_rss_mb_start": round(rss_start / 2**20, 1),
        "server_rss_mb_end": round(rss_end / 2**20, 1),
        "server_error_lines": errors[:50],
        "slowest": sorted(results, key=lambda r: -r[1])[:5],
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "loadtest.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    print(
        f"\nload test: {CONTEXTS} sessions for {DURATION:.0f} s: {len(results)} views, "
        f"p50 {report['p50_s']} s, p95 {report['p95_s']} s, max {report['max_s']} s; "
        f"server RSS {report['server_rss_mb_start']} -> {report['server_rss_mb_end']} MB"
    )
    assert alive, "the server died under load"
    assert failures == [], "\n".join(failures[:20])
    assert errors == [], "\n".join(errors[:20])
    assert len(results) >= CONTEXTS  # every session rendered at least one view
    assert len({v.split("?")[0] for v, _ in results}) >= min(len(PAGES), 3)  # several pages were seen
    after = {str(p.relative_to(data)): p.read_bytes() for p in data.rglob("*") if p.is_file()}
    assert after == before  # the server wrote no data
