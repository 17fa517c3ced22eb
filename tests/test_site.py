"""``make site``: the static site (dashboard/outputs/site.py), checked as files and served by nginx.

tests/browser/test_browser_site.py opens it in Chromium, from file:// and through nginx.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dashboard.atlasmap import builder as mapping
from dashboard.core import paths
from dashboard.core.data import load_atlas, load_atlas_partial
from dashboard.core.filters import from_query_params, select
from dashboard.core.safety import escape_html
from dashboard.core.text import LANGS, t
from dashboard.outputs import site as site_module
from dashboard.outputs.site import build_site

DAY = date(2025, 3, 14)
SCENES_YAML = """\
# issue 14's format: a temporary scenes file, as the scenes engineer's data/scenes.yaml will be
- id: networks
  title_ja: ネットワークの全体像
  title_en: The networks at a glance
  page: overview
  notes_en: Who the networks are.
  notes_ja: 自治体とNGOの国際ネットワークを紹介します。
- id: iclei-offices
  title_ja: イクレイの世界の事務所
  title_en: ICLEI's offices worldwide
  page: map
  org: iclei
- id: japan
  title_ja: 日本の都市が参加するネットワーク
  title_en: The networks Japanese cities join
  page: map
  region: east-asia
  center: [36.5, 137.0]
  zoom: 5
- id: growth
  title_en: How membership grew since 1990
  title_ja: 1990年以降の会員数の推移
  page: membership
  years: [1990, 2025]
- id: missions
  title_en: Missions side by side
  title_ja: ミッションの比較
  page: compare
  compare: [iclei, c40, citynet]
- id: broken-page
  title_en: A page that does not exist
  page: nowhere
- id: Not An Id
  page: map
- id: timeline
  title_en: Timeline
  title_ja: 年表
  page: timeline
  region: [east-asia, atlantis]
"""
# the scenes the atlas keeps (dashboard.core.data, as for the app): the last three have errors
GOOD_SCENES = ["networks", "iclei-offices", "japan", "growth", "missions"]


@pytest.fixture(scope="module")
def atlas():
    return load_atlas(paths.SHIPPED_DATA_DIR)


@pytest.fixture(scope="module")
def built(tmp_path_factory, atlas) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    build_site(out, atlas, today=DAY)
    return out


@pytest.fixture(scope="module")
def scenes_data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scenes-data") / "data"
    shutil.copytree(paths.SHIPPED_DATA_DIR, folder)
    (folder / "scenes.yaml").write_text(SCENES_YAML, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def with_scenes(tmp_path_factory, scenes_data) -> Path:
    atlas = load_atlas_partial(scenes_data)[0]
    scenes = atlas.scenes
    out = tmp_path_factory.mktemp("site-scenes") / "site"
    build_site(out, atlas, scenes=scenes, today=DAY)
    return out


class _Refs(HTMLParser):
    """Every address a page refers to (href, src) and its script and frame addresses."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.loads: list[str] = []  # fetched by the browser by itself: scripts, frames, styles, images

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        for key in ("src", "href"):
            if a.get(key) and (tag in ("script", "iframe", "img", "link") and key in a):
                self.loads.append(a[key])


def refs(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def expected(atlas, lang: str, **params: str) -> int:
    return len(select(atlas, from_query_params({"lang": lang, **params}, atlas).filters).points)


# ---------------------------------------------------------------------------------- the files
def test_every_language_has_the_atlas_the_map_and_its_frame(built):
    for lang in LANGS:
        for name in ("index.html", "map.html", "map-view.html"):
            assert (built / lang / name).is_file(), f"{lang}/{name}"
    front = (built / "index.html").read_text(encoding="utf-8")
    for lang in LANGS:
        assert f'href="{lang}/index.html"' in front
        assert f'href="{lang}/map.html"' in front
        assert escape_html(t("app_title", lang)) in front
        assert escape_html(t("site_intro", lang)) in front
    assert "scenes/" not in front  # no scenes.yaml in the shipped data yet: no scene links
    assets = list((built / "assets").iterdir())
    assert [a.name for a in assets if a.suffix == ".js"] == [site_module.plotly_file()[0]]


def test_the_map_pages_hold_every_marker_of_the_default_view(built, atlas):
    for lang in LANGS:
        view = (built / lang / "map-view.html").read_text(encoding="utf-8")
        assert mapping.shown_points(view) == expected(atlas, lang) > 0
        for page in ("index.html", "map.html"):
            text = (built / lang / page).read_text(encoding="utf-8")
            assert '<iframe class="map" id="atlas-map"' in text
            assert 'src="map-view.html"' in text
            assert "srcdoc=" not in text  # the map is one file, framed: a browser keeps it once


def test_the_atlas_page_is_the_whole_atlas_in_its_language(built, atlas):
    ja = (built / "ja" / "index.html").read_text(encoding="utf-8")
    en = (built / "en" / "index.html").read_text(encoding="utf-8")
    for section in (
        "filters",
        "numbers",
        "organisations",
        "map",
        "timeline",
        "membership",
        "compare",
        "sources",
    ):
        assert f'<section id="{section}">' in ja, section
    assert '<html lang="ja">' in ja
    assert '<html lang="en">' in en
    assert f"<h2>{t('page_timeline', 'ja')}</h2>" in ja
    assert f"<h2>{t('page_timeline', 'en')}</h2>" in en
    assert 'id="atlas-timeline"' in ja
    assert 'id="atlas-membership"' in ja
    # plotly.js is the site's shared file, linked once, never inlined
    plotly = site_module.plotly_file()[0]
    assert ja.count(f'src="../assets/{plotly}"') == 1
    assert len(ja) < 1_000_000  # plotly.js alone is 4.8 MB
    # the navigation: the other language's same page, the map, the front page
    assert 'href="../en/index.html" rel="alternate" hreflang="en"' in ja
    assert 'href="map.html"' in ja
    assert '<a href="index.html" aria-current="page">' in ja


def test_no_page_loads_anything_from_outside_the_site(built):
    for page in built.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for ref in refs(page).loads:
            assert not urlsplit(ref).scheme, f"{page.name} loads {ref}"
        assert urlsplit(mapping.BASEMAP_URL).hostname.split(".", 1)[1] not in text  # no online basemap
        if page.name != "map-view.html" and not page.name.endswith("-map.html"):  # not a map's own page
            csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)
            assert csp, page
            assert "default-src 'none'" in csp.group(1)
            assert "http" not in csp.group(1)


def test_every_link_and_file_a_page_refers_to_exists(with_scenes):
    checked = 0
    for page in with_scenes.rglob("*.html"):
        r = refs(page)
        for ref in r.links + r.loads:
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith("#"):
                continue  # a source's web address in a table
            target = (page.parent / parts.path).resolve()
            assert target.is_file(), f"{page.relative_to(with_scenes)} refers to {ref}, which is missing"
            checked += 1
    assert checked > 100


def test_pages_and_scripts_are_also_written_gzipped(built):
    for path in [*built.rglob("*.html"), *built.rglob("*.js")]:
        packed = path.with_name(path.name + ".gz")
        if path.stat().st_size >= 1024:
            assert gzip.decompress(packed.read_bytes()) == path.read_bytes(), path
            assert packed.stat().st_size < path.stat().st_size


def test_a_failed_build_leaves_the_old_site_as_it_was(tmp_path, atlas, monkeypatch):
    out = tmp_path / "site"
    build_site(out, atlas, today=DAY)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    calls = {"n": 0}
    real = site_module.briefing_html

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # halfway: the second language
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(site_module, "briefing_html", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        build_site(out, atlas, today=date(2030, 1, 1))
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no half-written folder beside it


# ---------------------------------------------------------------------------------- scenes
def test_scenes_get_a_page_each_in_every_language_with_their_view(with_scenes, scenes_data):
    atlas = load_atlas_partial(scenes_data)[0]
    for lang in LANGS:
        listing = (with_scenes / lang / "scenes" / "index.html").read_text(encoding="utf-8")
        assert re.findall(r'<li><a href="([\w-]+)\.html">', listing) == GOOD_SCENES
        for sid in GOOD_SCENES:
            assert (with_scenes / lang / "scenes" / f"{sid}.html").is_file()
    ja = (with_scenes / "ja" / "scenes" / "japan.html").read_text(encoding="utf-8")
    assert "<h1>日本の都市が参加するネットワーク</h1>" in ja
    assert t("site_scene_number", "ja", n=3, total=len(GOOD_SCENES)) in ja
    assert '<a href="iclei-offices.html" rel="prev">' in ja
    assert '<a href="growth.html" rel="next">' in ja
    assert 'src="japan-map.html"' in ja
    view = (with_scenes / "ja" / "scenes" / "japan-map.html").read_text(encoding="utf-8")
    assert mapping.shown_points(view) == expected(atlas, "ja", region="east-asia") > 0
    (data,) = mapping.shown_data(view)
    assert (data["fit"], data["center"], data["zoom"]) == (None, [36.5, 137.0], 5.0)  # the scene's view
    iclei = (with_scenes / "en" / "scenes" / "iclei-offices-map.html").read_text(encoding="utf-8")
    assert mapping.shown_points(iclei) == expected(atlas, "en", org="iclei")
    assert mapping.shown_points(iclei) < mapping.shown_points(view) + expected(atlas, "en")
    missions = (with_scenes / "en" / "scenes" / "missions.html").read_text(encoding="utf-8")
    assert '<section id="compare">' in missions
    assert '<section id="map">' not in missions
    assert re.findall(r'data-org="([\w-]+)"', missions) == ["iclei", "c40", "citynet"]
    assert f"<footer>{escape_html(t('site_footer', 'en'))}</footer>" in missions  # the sources: elsewhere
    growth = (with_scenes / "en" / "scenes" / "growth.html").read_text(encoding="utf-8")
    assert 'id="atlas-membership"' in growth
    assert 'id="atlas-timeline"' not in growth
    assert "Founding year: 1990–2025" in growth
    front = (with_scenes / "index.html").read_text(encoding="utf-8")
    assert 'href="ja/scenes/index.html"' in front
    assert t("site_scenes_count", "en", n=len(GOOD_SCENES)) in front


def test_a_bad_scene_is_named_and_left_out_and_the_rest_are_built(scenes_data):
    """The site's scenes are the atlas's: read and checked once (dashboard.core.data), as for the app."""
    atlas, problems = load_atlas_partial(scenes_data)
    assert [s.id for s in atlas.scenes] == GOOD_SCENES
    said = [str(p) for p in problems if p.file == "scenes.yaml"]
    assert "scenes.yaml, entry 6 (id: broken-page), field 'title_ja': is required" in said
    assert any(
        p.startswith("scenes.yaml, entry 6 (id: broken-page), field 'page':") and "'nowhere'" in p
        for p in said
    )
    assert any(p.startswith("scenes.yaml, entry 7 (id: Not An Id), field 'id':") for p in said)
    assert "scenes.yaml, entry 8 (id: timeline), field 'region': unknown region (value: 'atlantis')" in said
    out = build_site(scenes_data.parent / "site-bad-scenes", atlas, scenes=atlas.scenes, today=DAY)
    assert out.scenes == GOOD_SCENES


def test_without_a_scenes_file_there_are_no_scenes_and_a_broken_one_costs_only_the_scenes(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(paths.SHIPPED_DATA_DIR, data)
    (data / "scenes.yaml").unlink()
    atlas, problems = load_atlas_partial(data)
    assert atlas.scenes == []
    assert problems == []
    (data / "scenes.yaml").write_text("- id: [unclosed", encoding="utf-8")
    atlas, problems = load_atlas_partial(data)
    assert atlas.scenes == []
    assert [p.file for p in problems] == ["scenes.yaml"]
    report = build_site(tmp_path / "site", atlas, scenes=atlas.scenes, today=DAY)
    assert report.scenes == []
    assert (tmp_path / "site" / "ja" / "index.html").is_file()


def test_the_command_writes_the_site_and_says_where(tmp_path, scenes_data):
    out = tmp_path / "out" / "site"
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "site", "--out", str(out), "--data-dir", str(scenes_data)],
        cwd=paths.ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Wrote {out}" in done.stdout
    assert f"{len(GOOD_SCENES)} scenes" in done.stdout
    assert "warning: scenes.yaml, entry 6 (id: broken-page), field 'title_ja': is required" in done.stderr
    assert "(the scene is left out)" in done.stderr
    assert (out / "index.html").is_file()
    assert (out / "en" / "scenes" / "missions.html").is_file()


# ---------------------------------------------------------------------------------- served
@pytest.mark.serve
def test_nginx_serves_every_file_and_the_map_page_under_load(tmp_path, atlas):
    from bench.static_site import NGINX, every_file_served, measure, serve_static

    if shutil.which(NGINX) is None:
        pytest.skip(f"{NGINX} is missing: `make nginx` installs it")
    root = Path(tempfile.mkdtemp(prefix="atlas-site-test-")) / "site"  # nginx's workers may enter it
    root.parent.chmod(0o755)
    try:
        build_site(root, atlas, today=DAY)
        with serve_static(root) as static:
            assert every_file_served(static) == []
            figure = measure(f"{static.url}/ja/map.html", seconds=1.0, connections=8, tool="python")
            assert figure["errors"] == 0
            assert figure["requests"] > 100
            print(f"\n/ja/map.html from nginx: {figure['rps']} requests/s ({figure['tool']})")
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)


def test_a_hostile_scenes_file_is_read_with_the_data_files_limits(tmp_path):
    """An alias bomb in scenes.yaml is one message, not a stall (the limits of every data file)."""
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    for i in range(1, 9):
        refs = ",".join([f"*{chr(96 + i)}"] * 9)
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [{refs}]\n"
    data = tmp_path / "data"
    shutil.copytree(paths.SHIPPED_DATA_DIR, data)
    (data / "scenes.yaml").write_text(bomb, encoding="utf-8")
    atlas, problems = load_atlas_partial(data)
    assert atlas.scenes == []
    (problem,) = problems
    assert problem.file == "scenes.yaml"
    assert "alias" in str(problem)
