"""The briefing pack opened from file:// with the network switched off shows the markers and charts.

Two ways in, as people get the file: ``python -m dashboard export`` (the real command, in a
subprocess) and the Overview page's download button. Both files are opened in a context that is
offline, with every request other than file:, data:, blob: and about: aborted and recorded.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dashboard.core import paths
from dashboard.core.data import load_atlas
from dashboard.core.filters import Filters, select
from dashboard.core.text import t
from tests.browser.pageutil import check_pack, goto

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def atlas():
    return load_atlas(paths.SHIPPED_DATA_DIR)


def open_offline(new_browsed, path):
    b = new_browsed(offline=True)
    b.page.goto(path.resolve().as_uri())
    return b


def test_exported_pack_works_from_file_with_no_network(tmp_path, new_browsed, atlas):
    out = tmp_path / "briefing.html"
    env = {k: v for k, v in os.environ.items() if k != "ATLAS_DATA_DIR"}
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "export", "--out", str(out), "--lang", "ja"],
        cwd=paths.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    b = open_offline(new_browsed, out)
    assert b.page.locator("h1").inner_text().startswith(t("app_title", "ja"))
    check_pack(b, select(atlas, Filters()).points)


def test_downloaded_pack_follows_the_filters_and_works_offline(tmp_path, server, browsed, new_browsed, atlas):
    page = browsed.page
    goto(page, server, "/?region=europe&lang=en")
    button = page.get_by_role("button", name=t("download_briefing", "en"))
    with page.expect_download(timeout=60_000) as download:
        button.click()
    out = tmp_path / download.value.suggested_filename
    download.value.save_as(out)
    assert out.name.startswith("climate-networks-briefing-")
    assert out.suffix == ".html"
    assert browsed.watch.problems() == []

    b = open_offline(new_browsed, out)
    assert "<dt>Regions</dt><dd>Europe</dd>" in out.read_text(encoding="utf-8")
    assert b.page.locator("dl.filters dd").nth(1).inner_text() == "Europe"  # what the reader sees
    check_pack(b, select(atlas, Filters(regions=("europe",))).points)
