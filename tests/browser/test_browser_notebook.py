"""The exported explainer notebook (``make notebook-html``) opened from file:// with the network off: in
each language the page shows its own text, the map with every place, both charts drawn, the relationship
diagram and the explorer's static first view (its map and both charts), and switching language redraws
nothing wrong. Every request other than file:, data:, blob: and about: is aborted and recorded.

The notebook runs are the session's (tests/conftest.py ``notebook_runs``), shared with test_notebook.py.
"""

from __future__ import annotations

import pytest

from dashboard.core.data import load_atlas
from dashboard.core.text import t
from dashboard.outputs.notebook_export import export_html
from tests.browser.pageutil import map_state, poll, settled_map_state

pytestmark = [pytest.mark.browser, pytest.mark.notebook]

CHARTS_JS = """(scope) => [...document.querySelectorAll(scope + ' .js-plotly-plot')].map(g => ({
  chart: g.classList.contains('atlas-chart'),
  explorer: !!g.closest('.atlas-explorer'),
  width: g.getBoundingClientRect().width,
  traces: [...g.querySelectorAll('.scatterlayer .trace')]
    .filter(tr => tr.querySelector('.points path')).length,
}))"""


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


@pytest.fixture(scope="module")
def exported(notebook_runs, tmp_path_factory):
    path = tmp_path_factory.mktemp("notebook") / "explainer.html"
    path.write_text(export_html([notebook_runs("ja"), notebook_runs("en")]), encoding="utf-8")
    return path


def heading(key: str, lang: str) -> str:
    return t(key, lang).splitlines()[0].lstrip("#").strip()


def check_language(page, lang: str, atlas) -> None:
    other = "en" if lang == "ja" else "ja"
    section = page.locator(f"#lang-{lang}")
    section.locator("h1").wait_for()
    assert page.locator(f"#lang-{other}").is_hidden()
    assert page.evaluate("() => [document.documentElement.lang, document.title]") == [
        lang,
        t("nb_export_title", lang),
    ]
    assert section.locator("h1").inner_text().strip() == heading("nb_title", lang)
    assert section.locator("h2", has_text=heading("nb_glossary", lang)).is_visible()
    # the map: every place drawn, over the inlined country outlines
    maps = section.locator("iframe")
    assert maps.count() == 2  # the map, and the explorer's
    for i in range(2):
        maps.nth(i).scroll_into_view_if_needed()
        frame = maps.nth(i).element_handle().content_frame()
        frame.locator(".leaflet-container").wait_for()
        state = settled_map_state(frame, expected=len(atlas.points))
        assert state["drawn"] == len(atlas.points), state
        assert poll(lambda f=frame: map_state(f)["outlines"], lambda n: n > 100) > 100
    # both charts, drawn at full width with their traces; the explorer's two as well
    section.locator(".atlas-chart.js-plotly-plot").first.wait_for()
    charts = poll(
        lambda: page.evaluate(CHARTS_JS, f"#lang-{lang}"),
        lambda cs: len(cs) == 4 and all(c["traces"] > 0 and c["width"] > 600 for c in cs),
    )
    assert [(c["chart"], c["explorer"]) for c in charts] == [(True, False)] * 2 + [(False, True)] * 2, charts
    assert all(c["traces"] > 0 for c in charts), charts
    assert all(c["width"] > 600 for c in charts), charts
    # the relationship diagram and the explorer's first view, in this language
    assert section.locator("svg.atlas-relations g.atlas-org").count() == len(atlas.organisation_records)
    explorer = section.locator(".atlas-explorer")
    assert t("nb_explorer_static", lang) in explorer.inner_text()


def test_exported_notebook_shows_map_charts_and_explorer_in_each_language(exported, new_browsed, atlas):
    b = new_browsed(offline=True)
    b.page.goto(exported.resolve().as_uri())
    check_language(b.page, "ja", atlas)  # the first language when the address names none
    b.page.locator('nav.atlas-languages a[data-lang="en"]').click()
    assert b.page.evaluate("() => location.hash") == "#en"
    check_language(b.page, "en", atlas)
    assert b.watch.outside == []
    assert b.watch.basemap == []
    assert b.watch.problems() == []


def test_a_link_to_the_english_section_opens_in_english(exported, new_browsed, atlas):
    b = new_browsed(offline=True)
    b.page.goto(exported.resolve().as_uri() + "#en")
    check_language(b.page, "en", atlas)
    b.page.locator('nav.atlas-languages a[data-lang="ja"]').click()
    check_language(b.page, "ja", atlas)
    assert b.watch.problems() == []
