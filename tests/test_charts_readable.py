"""Charts that read on a projector without hovering: the timeline's key events and milestones carry
whole, visible labels; the year axis stays readable; membership has one panel and scale per
organisation; chart text is dark enough; every chart and the map has a text alternative.

Expected values come from the shipped data (never from the figure itself). Whether labels
overlap on the page is measured in the browser (tests/browser/test_presenting.py)."""

from __future__ import annotations

import re

import pytest

from dashboard.core import paths
from dashboard.core.colours import contrast_ratio
from dashboard.core.data import load_atlas, nn
from dashboard.core.describe import map_summary, membership_summary, timeline_summary
from dashboard.core.figures import (
    INK,
    QUALIFIER_SYMBOLS,
    Space,
    dated_counts,
    event_label,
    latest_counts,
    membership_figure,
    qualifier_text,
    short_name,
    timeline_figure,
    world_milestones,
    year_ticks,
)
from dashboard.core.filters import Filters, select
from dashboard.core.labels import text_width

PROJECTOR = {"1280x720": Space(1240, 560, 16), "1920x1080": Space(1860, 880, 18)}
SPACES = {**PROJECTOR, "screen": Space(1100)}


@pytest.fixture(scope="module")
def atlas():
    return load_atlas(paths.SHIPPED_DATA_DIR)


def key_events(atlas) -> set[str]:
    """The events a reader should see named on the timeline: every labelled event of an
    organisation, and every founding (events.csv's, or organisations.yaml's when it has none)."""
    own = atlas.events[atlas.events["organisation"].notna()]
    ids = {r["id"] for _, r in own.iterrows() if nn(r["label_en"]) or r["kind"] == "founding"}
    founded = set(own.loc[own["kind"] == "founding", "organisation"])
    ids |= {
        f"{o}-founded" for o, rec in atlas.organisation_records.items() if rec.founded and o not in founded
    }
    return ids


def annotations(fig) -> list[dict]:
    return fig.to_dict()["layout"].get("annotations", [])


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("where", list(SPACES))
def test_every_key_event_carries_a_visible_label(atlas, lang, where):
    fig = timeline_figure(select(atlas, Filters(lang=lang)), atlas, lang, SPACES[where])
    labelled = {
        a["name"].removeprefix("event:"): a["text"]
        for a in annotations(fig)
        if a["name"].startswith("event:")
    }
    assert set(labelled) == key_events(atlas)
    events = {r["id"]: {k: nn(v) for k, v in r.items()} for _, r in atlas.events.iterrows()}
    for event_id, text in labelled.items():
        if event_id in events:  # the short label as events.csv writes it (or "Founded" where crowded)
            assert text in {event_label(events[event_id], lang), event_label({"kind": "founding"}, lang)}


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("where", list(SPACES))
def test_milestone_labels_are_whole(atlas, lang, where):
    fig = timeline_figure(select(atlas, Filters(lang=lang)), atlas, lang, SPACES[where])
    notes = {a["name"]: a["text"] for a in annotations(fig)}
    world = world_milestones(atlas.events)
    assert len(world) >= 5
    for _, r in world.iterrows():
        label = (nn(r[f"label_{lang}"]) or r[f"title_{lang}"]) + f" {r['date'][:4]}"
        shown = notes[r["id"]].replace("<br>", "" if lang == "ja" else " ")
        assert shown.replace("&amp;", "&") == label  # the whole label, never cut with '…'
        assert "…" not in shown


@pytest.mark.parametrize("where", list(PROJECTOR))
def test_the_year_axis_is_readable_at_projector_size(atlas, where):
    space = PROJECTOR[where]
    layout = timeline_figure(atlas, atlas, "en", space).to_dict()["layout"]
    axis = layout["xaxis"]
    assert axis["tickfont"]["size"] >= 15
    years = int(axis["dtick"].removeprefix("M")) // 12
    plot_w = space.width - layout["margin"]["l"] - layout["margin"]["r"]
    per_year = plot_w / 40
    assert years * per_year >= text_width("2000", axis["tickfont"]["size"]) + 10  # labels never touch
    assert years == year_ticks(plot_w, axis["tickfont"]["size"]) <= 10


def test_the_figure_fits_the_height_it_is_given(atlas):
    for space in PROJECTOR.values():
        assert timeline_figure(atlas, atlas, "ja", space).layout.height <= space.height
        assert membership_figure(atlas.membership, atlas, "ja", space=space).layout.height <= space.height


# ---------------------------------------------------------------------------------- membership
def panels(fig) -> dict[str, dict]:
    """{organisation id: {"x": x axis, "y": y axis layout, "traces": [...]}} of a panels figure."""
    layout = fig.to_dict()["layout"]
    out: dict[str, dict] = {}
    for tr in fig.to_dict()["data"]:
        meta = tr.get("meta") or {}
        if meta.get("legend_only"):
            continue
        y = tr.get("yaxis", "y")
        axis = layout["yaxis" + y.removeprefix("y")]
        entry = out.setdefault(meta["organisation"], {"y": axis, "yref": y, "traces": []})
        assert entry["yref"] == y  # an organisation's traces all in its own panel
        entry["traces"].append(tr)
    return out


@pytest.mark.parametrize("where", list(SPACES))
def test_membership_gives_each_organisation_its_own_panel_and_scale(atlas, where):
    rows = dated_counts(atlas.membership)
    fig = membership_figure(atlas.membership, atlas, "en", space=SPACES[where])
    got = panels(fig)
    assert set(got) == set(rows["organisation"])
    assert len({p["yref"] for p in got.values()}) == len(got)  # one panel each
    for org_id, panel in got.items():
        top = rows.loc[rows["organisation"] == org_id, "members"].max()
        low, high = panel["y"]["range"]
        assert low == 0
        assert top <= high <= 2 * top + 10, (org_id, top, high)  # its own scale: 13 reads as 13
    anmc21, iclei = got["anmc21"]["y"]["range"][1], got["iclei"]["y"]["range"][1]
    assert anmc21 < 50 < 2500 < iclei  # 13 cities and 2,500 governments, both legible


def test_membership_panels_keep_qualifiers_and_disagreeing_sources(atlas):
    rows = dated_counts(atlas.membership)
    fig = membership_figure(atlas.membership, atlas, "en", space=PROJECTOR["1280x720"])
    got = panels(fig)
    by_id = {r["id"]: r for _, r in rows.iterrows()}
    hollow_seen = 0
    for panel in got.values():
        for tr in panel["traces"]:
            for symbol, data in zip(tr["marker"]["symbol"], tr["customdata"], strict=True):
                r = by_id[data[0]]
                qualifier = nn(r["qualifier"]) or "exact"
                assert symbol.removesuffix("-open") == QUALIFIER_SYMBOLS[qualifier]
                other = r["status"] in ("secondary", "conflicting")
                assert symbol.endswith("-open") == other  # another source's count: hollow, same panel
                hollow_seen += other
    assert hollow_seen == int(rows["status"].isin(("secondary", "conflicting")).sum()) > 0
    legend = [tr["name"] for tr in fig.to_dict()["data"] if (tr.get("meta") or {}).get("legend_only")]
    assert any("hollow" in n for n in legend)
    assert any("at least" in n for n in legend)
    titles = {a["name"]: a["text"] for a in annotations(fig) if a["name"].startswith("panel:")}
    latest = latest_counts(atlas.membership, "iclei")[0]
    assert f"{int(latest['members']):,}" in titles["panel:iclei"]  # each panel names its latest count


# ---------------------------------------------------------------------------------- colour of text
def _text_colours(node, key=""):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "color" and key in ("font", "tickfont", "textfont", "title"):
                if isinstance(v, str):
                    yield v
            else:
                yield from _text_colours(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _text_colours(v, key)


@pytest.mark.parametrize("chart", ["timeline", "membership", "overlay"])
def test_chart_text_meets_wcag_aa_contrast_on_white(atlas, chart):
    if chart == "timeline":
        fig = timeline_figure(atlas, atlas, "en", PROJECTOR["1280x720"])
    else:
        fig = membership_figure(
            atlas.membership, atlas, "en", view="panels" if chart == "membership" else "overlay"
        )
    spec = fig.to_dict()
    # layout.template is the plotting library's default styling (Streamlit's, once Streamlit is imported,
    # which styles chart kinds the atlas never draws, e.g. white text on icicles): the figure's own text
    # colours are what is drawn
    spec["layout"].pop("template", None)
    assert spec["layout"]["font"]["color"] == INK  # every text not coloured on its own is the ink
    colours = set(_text_colours(spec))
    assert colours  # the walk finds them
    for colour in colours:
        assert re.fullmatch(r"#[0-9a-fA-F]{6}", colour), colour
        assert contrast_ratio(colour, "#ffffff") >= 4.5, colour


# ---------------------------------------------------------------------------------- text alternatives
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_timeline_is_described_in_words(atlas, lang):
    sel = select(atlas, Filters(lang=lang))
    text = timeline_summary(sel, atlas, lang)
    for org_id, founded in zip(sel.organisations["id"], sel.organisations["founded"], strict=True):
        if nn(founded):
            assert short_name(atlas, org_id, lang) in text
            assert founded[:4] in text
    for _, r in world_milestones(sel.events).iterrows():
        assert nn(r[f"label_{lang}"]) in text
    bonn = atlas.events.loc[atlas.events["id"] == "iclei-bonn-2010"].iloc[0]
    assert bonn[f"label_{lang}"] in text  # a secretariat move


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_membership_is_described_in_words(atlas, lang):
    text = membership_summary(atlas.membership, atlas, lang)
    for org_id in dict.fromkeys(dated_counts(atlas.membership)["organisation"]):
        latest = latest_counts(atlas.membership, org_id)[0]
        assert short_name(atlas, org_id, lang) in text
        assert qualifier_text(latest["qualifier"], latest["members"], atlas, lang) in text
    n_other = int(dated_counts(atlas.membership)["status"].isin(("secondary", "conflicting")).sum())
    assert str(n_other) in text


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_map_is_described_in_words(atlas, lang):
    sel = select(atlas, Filters(regions=("europe",), lang=lang))
    text = map_summary(sel, atlas, lang)
    assert str(len(sel.points)) in text
    assert str(int((sel.points["point_type"] != "member").sum())) in text
    assert str(sel.points["country"].nunique()) in text
