"""The explainer notebook: stored without outputs, runs top to bottom headless with no error and shows
the map, the figures and the widgets with nothing loaded from a CDN; and its helper module
(dashboard.outputs.notebook) tested directly, without a kernel."""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

import markupsafe
import nbformat
import pytest

from dashboard.atlasmap.builder import shown_points as marker_count
from dashboard.core import paths
from dashboard.core.compare import compare_table
from dashboard.core.data import load_atlas
from dashboard.core.figures import membership_figure, timeline_figure
from dashboard.core.filters import YEAR_MAX, YEAR_MIN, Filters, select

NOTEBOOK = paths.ROOT / "notebooks" / "explainer.ipynb"
CDN_HOSTS = ("cdn.jsdelivr", "cdnjs", "unpkg", "code.jquery", "cdn.plot.ly", "bootstrapcdn")
PLOTLY = "application/vnd.plotly.v1+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def _cdn(text: str) -> list[str]:
    return [h for h in CDN_HOSTS if h in text.lower()]


# ---------------------------------------------------------------------------------- the stored file
def test_committed_notebook_holds_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code cell"
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"cells {dirty} hold outputs or an execution count: run nbstripout"
    assert "widgets" not in nb.metadata, "saved widget state: run nbstripout"
    timed = [i for i, c in enumerate(nb.cells) if "execution" in c.metadata]
    assert not timed, f"cells {timed} hold execution timings: run nbstripout"


def test_notebook_imports_the_dashboard_modules_not_streamlit():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    code = "\n".join(sources)
    assert not re.search(r"^\s*(import|from)\s+streamlit", code, re.MULTILINE)
    assert re.match(r'^LANG = "ja"', sources[0]), "the first code cell must set LANG (default ja)"
    for module in ("dashboard.atlasmap.builder", "dashboard.core.figures", "dashboard.core.tables",
                   "dashboard.core.compare", "dashboard.core.filters", "dashboard.outputs.notebook",
                   "geocoding"):  # fmt: skip
        assert f"from {module} import" in code, f"the notebook does not use {module}"
    defined = [s for s in sources if re.search(r"^\s*(def|class)\s", s, re.MULTILINE)]
    assert not defined, "logic belongs in the modules, not in cells"
    assert 'assets="inline"' in code
    assert "notebook_connected" not in code


def test_gitattributes_strips_notebook_outputs():
    text = (paths.ROOT / ".gitattributes").read_text(encoding="utf-8")
    assert re.search(r"^\*\.ipynb\s+filter=nbstripout\s*$", text, re.MULTILINE)


# ---------------------------------------------------------------------------------- executed
def _data_fingerprint(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


@pytest.fixture(scope="module", params=["ja", "en"])
def executed(request):
    from nbclient import NotebookClient

    lang = request.param
    nb = nbformat.read(NOTEBOOK, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    first.source = f'LANG = "{lang}"'
    before = _data_fingerprint(paths.data_dir())
    client = NotebookClient(
        nb,
        timeout=180,
        kernel_name="python3",
        allow_errors=True,  # collect every error cell rather than stopping at the first
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    after = _data_fingerprint(paths.data_dir())
    return lang, nb, before, after


def _outputs(nb):
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for out in cell.outputs:
                yield i, cell, out


def _widget_state(nb) -> dict:
    return nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def _map_pages(outputs) -> list[str]:
    pages = []
    for out in outputs:
        page = out.get("data", {}).get("text/html", "")
        if isinstance(page, list):
            page = "".join(page)
        if "leaflet" in page.lower() and "<iframe" in page:
            pages.append(html.unescape(page))
    return pages


@pytest.mark.notebook
def test_every_cell_runs_without_error(executed):
    _lang, nb, _, _ = executed
    errors = [
        f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
        for i, _c, out in _outputs(nb)
        if out.output_type == "error"
    ]
    assert not errors, "\n".join(errors)
    stderr = [f"cell {i}: {out.text[:300]}" for i, _c, out in _outputs(nb) if out.get("name") == "stderr"]
    assert not stderr, "\n".join(stderr)
    unrun = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.execution_count is None]
    assert not unrun, f"cells {unrun} did not run"


@pytest.mark.notebook
def test_map_shows_every_place_with_leaflet_inlined(executed, atlas):
    _lang, nb, _, _ = executed
    pages = _map_pages(out for _i, _c, out in _outputs(nb))
    assert len(pages) == 1, f"expected one map output, found {len(pages)}"
    page = pages[0]
    assert "L.map(" in page
    assert marker_count(page) == len(atlas.points)
    assert "/app/static/" not in page, "the notebook map must inline its assets, not link the dashboard's"
    assert "window.atlasMap" in page


@pytest.mark.notebook
def test_figures_are_the_dashboards(executed, atlas):
    lang, nb, _, _ = executed
    figures = [out["data"][PLOTLY] for _i, _c, out in _outputs(nb) if PLOTLY in out.get("data", {})]
    assert len(figures) == 2, f"expected the timeline and the membership figure, found {len(figures)}"
    everything = select(atlas, Filters(lang=lang))
    expected = [
        timeline_figure(everything, atlas, lang).to_plotly_json(),
        membership_figure(everything.membership, atlas, lang).to_plotly_json(),
    ]
    for shown, built in zip(figures, expected, strict=True):
        assert shown["data"], "a figure without traces"
        assert [t.get("name") for t in shown["data"]] == [t.get("name") for t in built["data"]]
    timeline = figures[0]
    lo, hi = (str(x)[:10] for x in timeline["layout"]["xaxis"]["range"])
    assert lo <= f"{YEAR_MIN}-01-01"
    assert hi >= f"{YEAR_MAX}-12-31"
    html_only = [i for i, _c, out in _outputs(nb) if "Plotly.newPlot" in json.dumps(out.get("data", {}))]
    assert not html_only, f"cells {html_only} draw plotly from HTML (needs plotly.js loaded)"


@pytest.mark.notebook
def test_sections_show_sources_geocoding_and_comparison(executed, atlas):
    lang, nb, before, after = executed
    text = dict.fromkeys(range(len(nb.cells)), "")
    for i, _c, out in _outputs(nb):
        text[i] += out.get("text", "") + json.dumps(out.get("data", {}), ensure_ascii=False)
    everything = "\n".join(text.values())
    for title in atlas.sources["title"]:
        # as written, or HTML-escaped (pandas' Styler writes ' as &#39;, html.escape as &#x27;)
        shown = {title, html.escape(title), str(markupsafe.escape(title))}
        assert any(s in everything for s in shown), f"source {title!r} not shown"
    assert "geocoded 4 of 4 rows" in everything
    assert "by precision: city 4" in everything
    assert "Quezon City" in everything
    assert "Quezon City 1101 Manila" in everything  # the cleaned address
    for column in compare_table(atlas, ["iclei", "lgma", "can", "can-japan"], lang).columns:
        assert column in everything
    assert before == after, "running the notebook changed files in the data folder"


@pytest.mark.notebook
def test_widgets_exist_and_drew_into_their_outputs(executed, atlas):
    _lang, nb, _, _ = executed
    views = [out["data"][WIDGET_VIEW] for _i, _c, out in _outputs(nb) if WIDGET_VIEW in out.get("data", {})]
    assert views, "no widget was displayed"
    state = _widget_state(nb)
    assert state, "no widget state was stored"
    assert views[0]["model_id"] in state
    models = list(state.values())
    sliders = [m["state"] for m in models if m["model_name"] == "IntRangeSliderModel"]
    assert len(sliders) == 1
    assert (sliders[0]["min"], sliders[0]["max"]) == (YEAR_MIN, YEAR_MAX)
    assert list(sliders[0]["value"]) == [YEAR_MIN, YEAR_MAX]
    pickers = sorted(
        len(m["state"]["_options_labels"]) for m in models if m["model_name"] == "SelectMultipleModel"
    )
    assert pickers == sorted([len(atlas.vocabulary.regions), len(atlas.organisation_records)])
    outputs = [o for m in models if m["model_name"] == "OutputModel" for o in m["state"].get("outputs", [])]
    pages = _map_pages(outputs)
    assert len(pages) == 1, "the explorer did not draw its map"
    assert marker_count(pages[0]) == len(atlas.points)
    assert sum(PLOTLY in o.get("data", {}) for o in outputs) == 2, "the explorer did not draw both charts"


@pytest.mark.notebook
def test_no_output_loads_from_a_cdn(executed):
    _lang, nb, _, _ = executed
    for i, _c, out in _outputs(nb):
        found = _cdn(json.dumps(out))
        assert not found, f"cell {i} references {found}"
    assert not _cdn(json.dumps(nb.metadata.get("widgets", {}))), "a widget output references a CDN"


# ---------------------------------------------------------------------------------- the helper module
@pytest.fixture
def explorer(atlas):
    from dashboard.outputs.notebook import Explorer

    return Explorer(atlas, "ja", show=False)


def _markers(explorer) -> int:
    return marker_count(html.unescape(explorer.map_page))


def test_explorer_starts_with_everything(explorer, atlas):
    assert explorer.years.value == (YEAR_MIN, YEAR_MAX)
    assert explorer.regions.value == ()
    assert explorer.organisations.value == ()
    assert len(explorer.selection.organisations) == len(atlas.organisations)
    assert _markers(explorer) == len(atlas.points)
    assert f"{len(atlas.organisations)}組織・{len(atlas.points)}地点" in explorer.summary.value
    assert set(explorer.figures) == {"timeline", "membership"}


def test_moving_the_year_slider_redraws_with_the_dashboards_selection(explorer, atlas):
    n = explorer.updates
    explorer.years.value = (2005, YEAR_MAX)  # as a user releasing the slider
    assert explorer.updates == n + 1
    expected = select(atlas, Filters(years=(2005, YEAR_MAX), lang="ja"))
    assert explorer.selection.org_ids == expected.org_ids
    assert "iclei" not in explorer.selection.org_ids  # founded 1990
    assert _markers(explorer) == len(expected.points) < len(atlas.points)
    assert "Kaiser-Friedrich" not in explorer.map_page  # an ICLEI office address is gone from the map
    shown = [t.name for t in explorer.figures["timeline"].data]
    assert shown == [t.name for t in timeline_figure(expected, atlas, "ja").data]


def test_region_and_organisation_pickers_filter_the_map(explorer, atlas):
    explorer.regions.value = ("europe",)
    assert set(explorer.selection.points["region"]) == {"europe"}
    assert _markers(explorer) == len(explorer.selection.points) > 0
    explorer.set(regions=(), organisations=("can", "can-japan"))
    assert explorer.selection.org_ids == ["can", "can-japan"]
    # every place of CAN or CAN-Japan (a place in several networks counts once)
    chosen = atlas.points["organisations"].map(lambda orgs: bool({"can", "can-japan"} & set(orgs)))
    assert _markers(explorer) == int(chosen.sum())


def test_set_redraws_once(explorer):
    n = explorer.updates
    explorer.set(years=(1990, 2010), regions=("east-asia",), organisations=("iclei", "citynet"))
    assert explorer.updates == n + 1
    assert explorer.filters() == Filters(
        years=(1990, 2010), regions=("east-asia",), organisations=("iclei", "citynet"), lang="ja"
    )


def test_an_empty_selection_says_so_and_still_draws(explorer):
    from dashboard.core.text import t

    explorer.set(years=(2020, YEAR_MAX), organisations=("iclei",))  # ICLEI was founded in 1990
    assert explorer.selection.empty
    assert html.escape(t("nothing_selected", "ja")) in explorer.summary.value
    assert _markers(explorer) == 0


def test_english_labels_and_unknown_language(atlas):
    from dashboard.outputs.notebook import Explorer

    ex = Explorer(atlas, "en", show=False)
    assert ex.years.description == "Founding year"
    labels = [label for label, _id in ex.organisations.options]
    assert any(label.startswith("CAN-Japan") for label in labels)
    assert "organisations" in ex.summary.value
    with pytest.raises(ValueError, match="lang must be"):
        Explorer(atlas, "fr", show=False)


def test_relations_table_reads_parent_and_relations(atlas):
    from dashboard.outputs.notebook import relations_table

    table = relations_table(atlas, "en")
    expected = sum(bool(o.parent) + len(o.relations) for o in atlas.organisation_records.values())
    assert len(table) == expected
    rows = {tuple(r) for r in table[["Organisation", "Related organisation"]].itertuples(index=False)}
    assert ("CAN-Japan", "CAN") in rows
    assert ("LGMA", "ICLEI") in rows
    can_japan = table[table["Organisation"] == "CAN-Japan"].iloc[0]
    assert can_japan["Relation"] == atlas.label("relations", "national-node-of", "en")
    assert can_japan["Source"] == atlas.source_title(atlas.org("can-japan").parent.source)


def test_query_chain_runs_from_the_address_as_written_to_the_city(atlas, tmp_path):
    from dashboard.outputs.notebook import outcomes_table, query_chain_table
    from geocoding import Cache, Gazetteer, Pipeline, read_targets

    gazetteer = Gazetteer()
    pipeline = Pipeline(cache=Cache.load(tmp_path / "cache.json"), gazetteer=gazetteer, online=None)
    target = next(t for t in read_targets(atlas.data_dir, gazetteer) if t.id == "iclei-manila")
    chain = query_chain_table(pipeline, target, "en")
    assert chain["Kind of query"].iloc[0] == "as-written"
    assert list(chain["Kind of query"])[-1] == "city"
    assert chain["Query"].iloc[0].startswith("c/o")
    assert "c/o" not in chain["Query"].iloc[1]
    assert chain["Query"].iloc[-1] == "Quezon City, Philippines"
    table = outcomes_table(pipeline.run([target]), "en")
    assert table.loc[0, "Precision"] == "city"
    assert table.loc[0, "Provider"] == "gazetteer"
    assert (tmp_path / "cache.json").exists()


def test_precision_table_lists_the_levels_best_first():
    from dashboard.outputs.notebook import precision_table

    assert list(precision_table("en")["Precision"]) == ["address", "street", "postcode", "city", "country"]


def test_offline_plotly_emits_only_the_plotly_mime_type(atlas):
    import plotly.io as pio

    from dashboard.outputs.notebook import use_offline_plotly

    old = pio.renderers.default
    try:
        use_offline_plotly()
        bundle = pio.renderers._build_mime_bundle(timeline_figure(atlas, atlas, "ja").to_dict())
    finally:
        pio.renderers.default = old
    assert set(bundle) == {PLOTLY}
    assert not _cdn(json.dumps(bundle))


def test_notebook_map_refuses_a_cdn_link(monkeypatch, atlas):
    from dashboard.outputs import notebook as notebook_widgets

    page = notebook_widgets.notebook_map(atlas.points, "en")
    assert not _cdn(page.data)
    assert marker_count(html.unescape(page.data)) == len(atlas.points)

    class Linked:
        def _repr_html_(self):
            return '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>'

    monkeypatch.setattr(notebook_widgets, "build_map", lambda *_a, **_k: Linked())
    with pytest.raises(RuntimeError, match=r"https://cdn\.jsdelivr\.net/npm/leaflet"):
        notebook_widgets.notebook_map(atlas.points, "en")


def test_table_view_keeps_line_breaks_and_escapes_cells():
    import pandas as pd

    from dashboard.outputs.notebook import table_view

    df = pd.DataFrame({"<b>col</b>": ["mission [src]\nvision [src]", "<script>alert(1)</script>", None]})
    page = table_view(df).to_html()
    assert "mission [src]\nvision [src]" in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;col&lt;/b&gt;" in page
    assert "white-space: pre-wrap" in page
    assert "None" not in page
    assert "nan" not in page
