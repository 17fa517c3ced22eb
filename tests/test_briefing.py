"""The briefing pack (dashboard.outputs.briefing) and ``python -m dashboard export``, checked as text.

The browser test in tests/browser/test_briefing_offline.py opens the same file from file:// with
the network blocked and counts what is drawn; here we check what the file holds.
"""

from __future__ import annotations

import html
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from dashboard.__main__ import main
from dashboard.atlasmap import builder as mapping
from dashboard.core import paths
from dashboard.core.data import load_atlas
from dashboard.core.filters import Filters, select
from dashboard.outputs.briefing import (
    briefing_html,
    compare_groups,
    compared_organisations,
    filters_in_words,
    headline_numbers,
    html_table,
)

DAY = date(2025, 3, 14)
SRCDOC = re.compile(r'<iframe class="map"[^>]*srcdoc="([^"]*)"')


@pytest.fixture(scope="module")
def atlas():
    return load_atlas(paths.SHIPPED_DATA_DIR)


@pytest.fixture(scope="module")
def europe_en(atlas):
    return briefing_html(atlas, Filters(regions=("europe",), lang="en"), today=DAY)


def _map_page(page: str) -> str:
    found = SRCDOC.search(page)
    assert found, "the briefing holds no map iframe"
    return html.unescape(found.group(1))


class _Fetches(HTMLParser):
    """What a browser would fetch by itself: src/href/poster/data of elements, url() and @import in
    <style> and style attributes. Script bodies are not markup (HTMLParser keeps them as text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[str] = []
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in ("src", "poster", "data", "background"):
            if a.get(name):
                self.refs.append(a[name])
        if tag == "link" and a.get("href"):
            self.refs.append(a["href"])
        if a.get("style"):
            self._css(a["style"])
        self._style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._style = False

    def handle_data(self, data: str) -> None:
        if self._style:
            self._css(data)

    def _css(self, text: str) -> None:
        self.refs += re.findall(r"url\(\s*[\"']?([^\"')]+)", text)
        self.refs += re.findall(r"@import\s+[\"']?([^\"';\s]+)", text)


def _external_refs(page: str) -> list[str]:
    parser = _Fetches()
    parser.feed(page)
    parser.close()
    return [r for r in parser.refs if not r.strip().startswith(("data:", "#"))]


def test_the_map_holds_one_marker_per_selected_point(atlas, europe_en):
    expected = select(atlas, Filters(regions=("europe",))).points
    assert len(expected) > 0
    page = _map_page(europe_en)
    assert mapping.shown_points(page) == len(expected)
    assert "Supercluster" in page  # the clustering index is there ...
    assert "window.atlasMap" in page  # ... inlined, with the atlas's map code and Leaflet itself
    assert "basemaps.cartocdn.com" not in page  # no online basemap in a file meant for offline use


def test_nothing_is_fetched_from_anywhere(europe_en):
    assert _external_refs(europe_en) == []
    assert _external_refs(_map_page(europe_en)) == []
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', europe_en)
    assert csp
    assert "default-src 'none'" in csp.group(1)
    assert "connect-src 'none'" in csp.group(1)
    assert "MathJaxConfig: 'local'" in europe_en  # plotly is told not to load MathJax from a CDN
    assert "MathJax.js" not in europe_en


def test_plotly_is_inlined_once_and_draws_both_charts(europe_en):
    assert len(re.findall(r"plotly\.js v\d", europe_en)) == 1
    assert europe_en.count("Plotly.newPlot(") == 2
    assert 'id="atlas-timeline"' in europe_en
    assert 'id="atlas-membership"' in europe_en


def test_title_date_filters_and_numbers_are_written_out(atlas, europe_en):
    assert "<title>Climate Networks Atlas — Briefing pack</title>" in europe_en
    assert '<time datetime="2025-03-14">2025-03-14</time>' in europe_en
    assert "<dt>Regions</dt><dd>Europe</dd>" in europe_en
    assert "<dt>Founding year</dt><dd>every year (1987–2025)</dd>" in europe_en
    sel = select(atlas, Filters(regions=("europe",), lang="en"))
    for label, n in headline_numbers(atlas, sel, "en"):
        assert f'<span class="value">{n}</span><span class="label">{html.escape(label)}</span>' in europe_en


def test_japanese_pack_speaks_japanese(atlas):
    f = Filters(years=(1990, 2010), regions=("east-asia", "europe"), lang="ja")
    page = briefing_html(atlas, f, today=DAY)
    assert '<html lang="ja">' in page
    assert "ブリーフィング資料" in page
    assert f'作成日：<time datetime="{DAY.isoformat()}">{DAY.year}年{DAY.month}月{DAY.day}日</time>' in page
    assert "<h2>地図</h2>" in page
    words = dict(filters_in_words(atlas, f, "ja"))
    assert words["設立年"] == "1990〜2010年"
    assert words["地域"] == "東アジア、ヨーロッパ" or words["地域"].count("、") == 1
    assert words["組織"] == "すべて"


def test_year_range_leaves_out_organisations_founded_outside_it(atlas):
    page = briefing_html(atlas, Filters(years=(2004, 2010), lang="en"), today=DAY)
    orgs = select(atlas, Filters(years=(2004, 2010))).organisations
    founded = set(orgs["founded_year"].dropna().astype(int))
    assert founded
    assert founded <= set(range(2004, 2011))
    c40 = atlas.org("c40").name.short_en
    assert f'data-org="c40">{html.escape(c40)}</th>' in page  # C40 (2005) is compared
    assert 'data-org="iclei"' not in page  # ICLEI (1990) is not


def test_comparison_uses_the_compare_choice_with_missions(atlas):
    page = briefing_html(atlas, Filters(compare=("iclei", "c40"), lang="en"), today=DAY)
    heads = re.findall(r'<th scope="col" data-org="([^"]+)">', page)
    assert heads == ["iclei", "c40"]
    mission = re.search(r'<tr data-key="mission">(.*?)</tr>', page)
    assert mission, "no mission row in the comparison"
    iclei_mission = atlas.org("iclei").mission
    assert iclei_mission, "the shipped data gives ICLEI a mission"
    assert "To build, and work within" in html.unescape(mission.group(1))


def test_without_a_choice_every_selected_organisation_is_compared_in_tables_of_at_most_four(atlas):
    sel = select(atlas, Filters())
    assert compared_organisations(sel) == sel.org_ids
    page = briefing_html(atlas, sel, today=DAY)
    heads = re.findall(r'<th scope="col" data-org="([^"]+)">', page)
    assert heads == sel.org_ids
    tables = re.findall(r'<table class="data compare">(.*?)</table>', page)
    assert [t.count("data-org=") for t in tables] == [len(g) for g in compare_groups(sel.org_ids)]


@pytest.mark.parametrize(
    ("n", "sizes"), [(0, []), (1, [1]), (2, [2]), (4, [4]), (5, [3, 2]), (9, [3, 3, 3]), (12, [4, 4, 4])]
)
def test_compare_groups_are_even_and_never_wider_than_four(n, sizes):
    ids = [f"o{i}" for i in range(n)]
    groups = compare_groups(ids)
    assert [len(g) for g in groups] == sizes
    assert [o for g in groups for o in g] == ids


def test_an_empty_selection_says_so_and_draws_nothing(atlas):
    page = briefing_html(atlas, Filters(years=(1987, 1987), kinds=("ngo-network",), lang="en"), today=DAY)
    assert 'id="nothing"' in page
    assert "No organisation matches these filters" in page
    assert "<iframe" not in page
    assert "Plotly.newPlot(" not in page
    assert '<section id="sources">' in page  # the sources are still listed


def test_every_source_is_listed_and_only_http_links_are_links(atlas, europe_en):
    for source_id in atlas.sources["id"]:
        assert f"<td>{html.escape(source_id)}</td>" in europe_en
    hrefs = re.findall(r'<a href="([^"]+)"', europe_en.split('<section id="sources">')[1])
    assert hrefs
    assert all(h.startswith(("http://", "https://")) for h in hrefs)


def test_html_table_escapes_every_header_and_cell():
    df = pd.DataFrame(
        {
            "<b>col</b>": ["<script>alert(1)</script>", "a\nb"],
            "URL": ["javascript:alert(2)", "https://x.org/?a=1&b=2"],
        }
    )
    out = html_table(df, links=["URL"])
    assert "<script>" not in out
    assert "<b>col" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;b&gt;col&lt;/b&gt;" in out
    assert "a<br>b" in out
    assert 'href="javascript' not in out
    assert "<td>javascript:alert(2)</td>" in out
    assert '<a href="https://x.org/?a=1&amp;b=2"' in out


def test_a_selection_and_a_lang_override_are_accepted(atlas):
    sel = select(atlas, Filters(regions=("europe",), lang="ja"))
    page = briefing_html(atlas, sel, lang="en", today=DAY)
    assert '<html lang="en">' in page
    assert "<dt>Regions</dt><dd>Europe</dd>" in page


# ---------------------------------------------------------------------------------- the command
def test_export_writes_the_pack_for_the_options(tmp_path: Path, atlas, capsys):
    out = tmp_path / "sub" / "briefing.html"
    code = main(["export", "--out", str(out), "--lang", "en", "--region", "europe", "--compare", "iclei,c40",
                 "--data-dir", str(paths.SHIPPED_DATA_DIR)])  # fmt: skip
    assert code == 0
    page = out.read_text(encoding="utf-8")
    assert "<dt>Regions</dt><dd>Europe</dd>" in page
    assert re.findall(r'<th scope="col" data-org="([^"]+)">', page) == ["iclei", "c40"]
    assert mapping.shown_points(_map_page(page)) == len(select(atlas, Filters(regions=("europe",))).points)
    assert str(out) in capsys.readouterr().out
    assert not list(tmp_path.glob("sub/.*.tmp"))


def test_export_refuses_unknown_values_and_writes_nothing(tmp_path: Path, capsys):
    out = tmp_path / "briefing.html"
    code = main(["export", "--out", str(out), "--region", "mars", "--org", "iclei,nope",
                 "--data-dir", str(paths.SHIPPED_DATA_DIR)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert not out.exists()
    assert "Unknown region: mars" in err
    assert "Unknown organisation: nope" in err
    assert "Known regions:" in err
    assert "europe" in err


def test_export_clamps_years_with_a_warning(tmp_path: Path, capsys):
    out = tmp_path / "b.html"
    code = main(["export", "--out", str(out), "--years", "1980,2000", "--lang", "en",
                 "--data-dir", str(paths.SHIPPED_DATA_DIR)])  # fmt: skip
    assert code == 0
    assert "warning: Years were adjusted to 1987–2000" in capsys.readouterr().err
    assert "<dt>Founding year</dt><dd>1987–2000</dd>" in out.read_text(encoding="utf-8")


def test_export_names_the_data_problem(tmp_path: Path, capsys):
    broken = tmp_path / "data"
    broken.mkdir()
    code = main(["export", "--out", str(tmp_path / "b.html"), "--data-dir", str(broken)])
    assert code == 1
    err = capsys.readouterr().err
    assert "sources.yaml" in err
    assert "file is missing" in err
    assert not (tmp_path / "b.html").exists()


# ---------------------------------------------------------------------------------- text alternatives
def test_each_chart_and_the_map_has_its_words_and_its_table(atlas, europe_en):
    from dashboard.core.describe import map_summary, membership_summary, timeline_summary

    sel = select(atlas, Filters(regions=("europe",), lang="en"))
    for summary in (
        map_summary(sel, atlas, "en"),
        timeline_summary(sel, atlas, "en"),
        membership_summary(sel.membership, atlas, "en"),
    ):
        assert f'<p class="summary">{html.escape(summary, quote=False)}</p>' in europe_en.replace(
            "&#39;", "'"
        )
    for label in ("All places shown", "All events shown", "All counts"):
        assert f'<details class="data"><summary>{label}</summary><table class="data">' in europe_en
    places = europe_en.split("<summary>All places shown</summary>")[1].split("</table>")[0]
    assert places.count("<tr>") == len(sel.points) + 1  # the header and one row per place on the map


# ---------------------------------------------------------------------------------- the scenes pack
HOSTILE_SCENE = """\
- id: evil
  title_ja: "<script>alert(1)</script>"
  title_en: "<img src=x onerror=alert(2)>"
  page: overview
  notes_en: "</aside><script>alert(3)</script>"
"""


@pytest.fixture(scope="module")
def deck_en(atlas):
    from dashboard.outputs.briefing import scenes_html

    return scenes_html(atlas, lang="en", today=DAY)


def test_the_scenes_pack_holds_every_scene_in_order(atlas, deck_en):
    ids = re.findall(r'<section class="scene[^"]*" id="scene-([a-z0-9-]+)"', deck_en)
    assert ids == [s.id for s in atlas.scenes]
    n = len(atlas.scenes)
    for i, scene in enumerate(atlas.scenes, start=1):
        assert (
            f'<h1 id="title-{scene.id}">{html.escape(scene.title_en, quote=False)}</h1>'
            in deck_en.replace("&#39;", "'")
        )
        assert f'<span class="counter">{i} / {n}</span>' in deck_en
    maps = [s for s in atlas.scenes if s.page == "map"]
    assert deck_en.count('<iframe class="map"') == len(maps)
    assert deck_en.count('class="chart-box"') == sum(
        s.page in ("timeline", "membership") for s in atlas.scenes
    )
    assert deck_en.count("Plotly.newPlot") == 2


def test_the_scenes_pack_fetches_nothing_and_carries_its_own_script(deck_en):
    assert "default-src 'none'" in deck_en
    assert _external_refs(deck_en) == []
    for page in SRCDOC.findall(deck_en):
        assert _external_refs(html.unescape(page)) == []
    script = (paths.TEMPLATES_DIR / "scenes.js").read_text(encoding="utf-8")
    assert script.strip().splitlines()[-1] in deck_en  # scenes.js, inlined
    assert 'id="scene-next"' in deck_en


def test_a_map_scene_opens_at_its_view(atlas, deck_en):
    japan = next(s for s in atlas.scenes if s.id == "japan")
    page = html.unescape(re.search(r'id="scene-japan".*?srcdoc="([^"]*)"', deck_en, re.S).group(1))
    (shown,) = mapping.shown_data(page)
    assert shown["fit"] is None
    assert shown["center"] == [float(c) for c in japan.center]
    assert shown["zoom"] == japan.zoom


def test_scene_text_is_escaped(tmp_path):
    import shutil

    from dashboard.outputs.briefing import scenes_html

    folder = tmp_path / "data"
    shutil.copytree(Path(__file__).parent / "fixtures" / "minimal", folder)
    (folder / paths.SCENES).write_text(HOSTILE_SCENE, encoding="utf-8")
    for lang in ("ja", "en"):
        page = scenes_html(load_atlas(folder), lang=lang, today=DAY)
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "</aside><script>" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in scenes_html(load_atlas(folder), lang="en", today=DAY)


def test_export_scenes_writes_the_pack(tmp_path: Path, capsys):
    out = tmp_path / "deck.html"
    assert main(["export", "--scenes", "--lang", "ja", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert '<html lang="ja">' in page
    assert "scene-missions" in page
    assert "7 scenes" in capsys.readouterr().out


def test_export_scenes_refuses_filters_and_a_folder_without_scenes(tmp_path: Path, capsys):
    out = tmp_path / "deck.html"
    assert main(["export", "--scenes", "--region", "europe", "--out", str(out)]) == 2
    assert (
        "--scenes takes each scene's filters from scenes.yaml; leave out --region" in capsys.readouterr().err
    )
    assert main(["export", "--scenes", "--data-dir", str(Path(__file__).parent / "fixtures" / "minimal"),
                 "--out", str(out)]) == 1  # fmt: skip
    assert "no scenes in" in capsys.readouterr().err
    assert not out.exists()
