"""The static site (``make site``) in Chromium: opened from file:// with the network switched off, and
served by nginx with no Python behind it. A reader follows the links from the front page: the map in
Japanese with every marker, the same page in English, the whole atlas (map and both charts drawn), a
scene and the next one; nothing is fetched from outside and nothing fails.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import pytest

from bench.static_site import NGINX, serve_static
from dashboard.core import paths
from dashboard.core.data import load_atlas_partial
from dashboard.core.filters import from_query_params, select
from dashboard.core.text import t
from dashboard.outputs.site import build_site
from tests.browser.pageutil import check_pack, settled_map_state
from tests.test_site import SCENES_YAML

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site():
    """The site of the shipped data with issue 14's scenes file beside it, in a folder nginx's workers
    (another user, when the tests run as root) may enter."""
    work = Path(tempfile.mkdtemp(prefix="atlas-site-browser-"))
    work.chmod(0o755)
    data = work / "data"
    shutil.copytree(paths.SHIPPED_DATA_DIR, data)
    (data / "scenes.yaml").write_text(SCENES_YAML, encoding="utf-8")
    atlas = load_atlas_partial(data)[0]  # its scenes file names bad scenes on purpose: they are left out
    build_site(work / "site", atlas, scenes=atlas.scenes)
    yield work / "site", atlas
    shutil.rmtree(work, ignore_errors=True)


def points(atlas, lang: str, **params: str):
    return select(atlas, from_query_params({"lang": lang, **params}, atlas).filters).points


def map_markers(page) -> dict:
    page.frame_locator("iframe#atlas-map").locator(".leaflet-container").wait_for()
    return page.locator("iframe#atlas-map").element_handle().content_frame()


@contextlib.contextmanager
def where(how: str, root: Path):
    if how == "file":
        yield root.resolve().as_uri()
        return
    if shutil.which(NGINX) is None:
        pytest.skip(f"{NGINX} is missing: `make nginx` installs it")
    with serve_static(root) as static:
        yield static.url


@pytest.mark.parametrize("how", ["file", "nginx"])
def test_a_reader_follows_the_site_from_its_front_page(site, new_browsed, how):
    root, atlas = site
    with where(how, root) as base:
        b = new_browsed(offline=how == "file")
        page = b.page
        page.goto(f"{base}/index.html")
        # the front page: both languages; the Japanese block's map
        page.locator('#lang-ja a[href="ja/map.html"]').click()
        page.wait_for_url("**/ja/map.html")
        assert page.locator("h1").inner_text().startswith(t("page_map", "ja"))
        expected = points(atlas, "ja")
        state = settled_map_state(map_markers(page), expected=len(expected))
        assert state["drawn"] == len(expected) > 0
        box = page.locator("iframe#atlas-map").bounding_box()
        assert box["height"] > 0.6 * page.viewport_size["height"]  # as large as the window allows
        # the same page in English, then the whole atlas
        page.locator('nav.site a[hreflang="en"]').click()
        page.wait_for_url("**/en/map.html")
        assert page.locator("html").get_attribute("lang") == "en"
        page.get_by_role("link", name=t("site_atlas", "en")).click()
        page.wait_for_url("**/en/index.html")
        check_pack(b, points(atlas, "en"))
        # a scene, and the next one
        page.get_by_role("link", name=t("site_scenes", "en"), exact=True).click()
        page.get_by_role("link", name="The networks Japanese cities join").click()
        page.wait_for_url("**/en/scenes/japan.html")
        east_asia = points(atlas, "en", region="east-asia")
        state = settled_map_state(map_markers(page))  # the scene's own view: Japan, so not every marker
        assert len(state["points"]) == len(east_asia)  # but every point of the scene is on the map
        assert 0 < state["drawn"] <= len(east_asia)
        page.locator('nav.site a[rel="next"]').click()
        page.wait_for_url("**/en/scenes/growth.html")
        page.locator("#atlas-membership .scatterlayer .trace .points path").first.wait_for(state="attached")
        assert b.watch.problems() == []
        assert b.watch.basemap == []
