"""The timeline and membership figures: what a user sees in the traces, hover text and lines."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dashboard.core.data import Atlas, load_atlas
from dashboard.core.figures import (
    format_partial_date,
    latest_membership,
    membership_figure,
    timeline_figure,
    undated_counts,
)
from dashboard.core.filters import Filters, select
from dashboard.core.safety import escape_html

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"

EXTRA_EVENTS = f"""\
net-renamed,2003,year,,net,rename,改称,Network renamed,confirmed,src-a,
net-moved-a,2009,year,,net,office,事務局移転(2009説),Secretariat moved (2009 per A),conflicting,src-a,
net-moved-b,2010,year,,net,office,事務局移転(2010説),Secretariat moved (2010 per B),conflicting,src-b,
node-evil,2012-04-05,day,,node,office,{SCRIPT},{SCRIPT},seed,src-evil,
kyoto-1997,1997-12,month,,,milestone,京都議定書採択,Kyoto Protocol adopted,confirmed,src-b,
paris-2015,2015-12-12,day,,,milestone,パリ協定採択,Paris Agreement adopted,confirmed,src-b,
stockholm-1982,1982,year,,,milestone,ナイロビ会議,Nairobi session,confirmed,src-b,
"""
EXTRA_MEMBERSHIP = f"""\
net-2008-sec,net,2008,815,at-least,,,,,815+ in 68 countries,secondary,src-b,
net-2008-conf,net,2008,900,about,,,,,about 900 ({IMG}),confirmed,src-a,
node-2015,node,2015,40,nearly,,,,,nearly 40,seed,src-evil,
node-2020,node,2020-06,55,exact,,,,,55,confirmed,src-b,
"""
EXTRA_ORGS = f"""\
- id: evil
  name: {{en: "{IMG}", ja: "{IMG}", short_en: "{SCRIPT}", short_ja: "{SCRIPT}"}}
  kind: ngo-network
  founded: {{date: "1995", source: src-evil}}
  regions: [europe]
  status: {{value: active, as_of: "2025", source: src-evil}}
  themes: [climate]
  sources: [src-evil]
"""
EXTRA_SOURCES = f"""\
- id: src-evil
  title: "{IMG}"
  publisher: Tester
  language: en
"""


def write_rich_data(folder: Path) -> Path:
    """The minimal fixture plus renames, conflicting events, milestones, disagreeing counts, an
    undated count and hostile strings."""
    shutil.copytree(MINIMAL, folder)
    for name, extra in (("events.csv", EXTRA_EVENTS), ("membership.csv", EXTRA_MEMBERSHIP)):
        with (folder / name).open("a", encoding="utf-8") as f:
            f.write(extra)
    with (folder / "sources.yaml").open("a", encoding="utf-8") as f:
        f.write(EXTRA_SOURCES)
    with (folder / "organisations.yaml").open("a", encoding="utf-8") as f:
        f.write(EXTRA_ORGS)
    vocab = (folder / "vocabulary.yaml").read_text(encoding="utf-8")
    vocab = vocab.replace(
        "  milestone: {en: World milestone, ja: 国際的な節目}",
        "  milestone: {en: World milestone, ja: 国際的な節目}\n"
        "  rename: {en: Renaming, ja: 名称変更}\n  office: {en: Office opened or moved, ja: 事務所}",
    )
    vocab = vocab.replace(
        "  at-least: {en: at least, ja: 以上}",
        "  at-least: {en: at least, ja: 以上}\n"
        "  about: {en: about, ja: 約}\n  nearly: {en: nearly, ja: 近く}",
    )
    (folder / "vocabulary.yaml").write_text(vocab, encoding="utf-8")
    return folder


def with_undated_row(atlas: Atlas) -> Atlas:
    """Add an undated count (as the loader would give it: as_of missing, as_of_date NaT).

    Written into the frame rather than membership.csv: the loader in dashboard/data.py currently
    fails on an empty as_of (NaN is truthy in its `if d`), reported to its owner.
    """
    row = dict.fromkeys(atlas.membership.columns)
    row.update(id="net-undated", organisation="net", members=3000, qualifier="about",
               value_as_written="about 3000", status="seed", source="src-a",
               note="page is undated; read in 2025", as_of_date=pd.NaT)  # fmt: skip
    frame = pd.concat([atlas.membership, pd.DataFrame([row])], ignore_index=True)
    return dataclasses.replace(atlas, membership=frame)


@pytest.fixture(scope="module")
def atlas(tmp_path_factory: pytest.TempPathFactory) -> Atlas:
    return with_undated_row(load_atlas(write_rich_data(tmp_path_factory.mktemp("rich") / "data")))


@pytest.fixture(scope="module")
def minimal() -> Atlas:
    return load_atlas(MINIMAL)


def data_traces(fig) -> list[dict]:
    """Traces that hold data points (not legend-only entries, not the row keeper)."""
    return [
        tr
        for tr in fig.to_dict()["data"]
        if not (tr.get("meta") or {}).get("legend_only") and not (tr.get("meta") or {}).get("rows")
    ]


def points(fig) -> list[tuple]:
    """(x, y, hovertext) of every drawn point."""
    return [p for tr in data_traces(fig) for p in zip(tr["x"], tr["y"], tr["hovertext"], strict=True)]


# ---------------------------------------------------------------------------------- helpers
def test_esc_escapes_markup_and_blanks_missing():
    assert escape_html(SCRIPT) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escape_html("a & b") == "a &amp; b"
    assert escape_html(None) == ""
    assert escape_html(float("nan")) == ""


@pytest.mark.parametrize(
    ("value", "shown"), [("1990", "1990"), ("1990-09", "1990-09"), ("1990-09-12", "1990-09-12")]
)
def test_dates_are_shown_at_their_real_precision(value, shown):
    assert format_partial_date(value) == shown


# ---------------------------------------------------------------------------------- timeline
def test_timeline_has_one_row_per_organisation_and_a_fixed_range(minimal):
    fig = timeline_figure(minimal, minimal, "en")
    d = fig.to_dict()
    assert d["layout"]["yaxis"]["categoryarray"] == ["TN", "TN-J"]  # founded 1990, then 2010
    assert d["layout"]["xaxis"]["range"] == ["1986-07-01", "2026-06-30"]  # 1987–2025 and a margin
    assert d["layout"]["xaxis"]["type"] == "date"
    ja = timeline_figure(minimal, minimal, "ja").to_dict()
    assert ja["layout"]["yaxis"]["categoryarray"] == ["テスト", "ノード"]


def test_timeline_points_and_precision_true_hover(minimal):
    pts = points(timeline_figure(minimal, minimal, "en"))
    founded = {y: (x, hover) for x, y, hover in pts}
    # events.csv: founding 1990-09 (month precision) -> drawn at the month's first day, shown as 1990-09
    x, hover = founded["TN"]
    assert x == "1990-09-01"
    assert "1990-09<" in hover
    assert "1990-09-01" not in hover
    assert "Test Network founded" in hover
    assert "Test source A" in hover
    assert "Founding" in hover
    # organisations.yaml: node founded "2010" (year precision), no event in events.csv -> still drawn
    x, hover = founded["TN-J"]
    assert x == "2010-01-01"
    assert "<br>2010<br>" in hover
    assert "2010-01" not in hover
    assert "Test source B" in hover


def test_timeline_japanese_titles(minimal):
    hovers = [h for _, _, h in points(timeline_figure(minimal, minimal, "ja"))]
    assert any("テストネットワーク設立" in h and "出典：Test source A" in h for h in hovers)


def test_world_milestones_are_lines_with_labels(atlas):
    d = timeline_figure(atlas, atlas, "en").to_dict()
    shapes = {s["name"]: s for s in d["layout"]["shapes"]}
    notes = {a["name"]: a for a in d["layout"]["annotations"]}
    assert set(shapes) == {"rio-1992", "kyoto-1997", "paris-2015"}  # 1982 lies outside 1987-2025
    assert shapes["paris-2015"]["x0"] == shapes["paris-2015"]["x1"] == "2015-12-12"
    assert shapes["kyoto-1997"]["x0"] == "1997-12-01"
    assert shapes["rio-1992"]["yref"] == "paper"
    assert notes["paris-2015"]["text"] == "Paris Agreement adopted 2015"
    assert "1997-12<" in notes["kyoto-1997"]["hovertext"]
    assert "1997-12-01" not in notes["kyoto-1997"]["hovertext"]
    assert "1992-06-03 – 1992-06-14" in notes["rio-1992"]["hovertext"]
    # milestones are lines, not markers on an organisation's row
    assert all("Paris" not in h for _, _, h in points(timeline_figure(atlas, atlas, "en")))


def test_timeline_symbols_per_kind_with_a_legend(atlas):
    d = timeline_figure(atlas, atlas, "en").to_dict()
    legend = {
        tr["name"]: tr["marker"]["symbol"] for tr in d["data"] if (tr.get("meta") or {}).get("legend_only")
    }
    assert legend["Founding"] == "star"
    assert legend["Renaming"] == "diamond"
    assert legend["Office opened or moved"] == "square"
    assert len(set(legend.values())) == len(legend)  # a distinct symbol per kind


def test_conflicting_events_are_both_drawn_hollow(atlas):
    traces = data_traces(timeline_figure(atlas, atlas, "en"))
    conflicting = [tr for tr in traces if tr["meta"]["conflicting"]]
    assert len(conflicting) == 1
    tr = conflicting[0]
    assert tr["marker"]["symbol"].endswith("-open")
    assert sorted(tr["x"]) == ["2009-01-01", "2010-01-01"]
    assert all("conflicting" in h for h in tr["hovertext"])
    solid = [tr for tr in traces if not tr["meta"]["conflicting"]]
    assert all(not tr["marker"]["symbol"].endswith("-open") for tr in solid)
    assert not any("conflicting" in h for tr in solid for h in tr["hovertext"])


def test_timeline_follows_the_selection(atlas):
    sel = select(atlas, Filters(organisations=("node",)))
    fig = timeline_figure(sel, atlas, "en")
    assert fig.to_dict()["layout"]["yaxis"]["categoryarray"] == [escape_html("TN-J")]
    assert {y for _, y, _ in points(fig)} == {"TN-J"}
    # world milestones stay
    assert {s["name"] for s in fig.to_dict()["layout"]["shapes"]} >= {"paris-2015"}


def test_timeline_empty_selection_says_so(atlas):
    sel = select(atlas, Filters(years=(1987, 1988)))
    d = timeline_figure(sel, atlas, "en").to_dict()
    assert not data_traces_from(d)
    assert "No organisation matches" in d["layout"]["annotations"][0]["text"]


def data_traces_from(d: dict) -> list:
    return [tr for tr in d["data"] if tr.get("x")]


def test_timeline_hover_escapes_hostile_text(atlas):
    fig = timeline_figure(atlas, atlas, "en")
    hover = next(h for x, _, h in points(fig) if x == "2012-04-05")
    assert "<script>" not in hover
    assert "<img" not in hover
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hover
    assert "&lt;img src=x onerror=alert(1)&gt;" in hover  # the source title
    assert "2012-04-05" in hover
    everything = str(fig.to_dict())
    assert SCRIPT not in everything
    assert IMG not in everything
    # an organisation's hostile short name is an escaped row label (tick text) and hover line
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fig.to_dict()["layout"]["yaxis"]["categoryarray"]
    evil = next(h for _, y, h in points(fig) if y.startswith("&lt;script"))
    assert "1995" in evil
    assert "&lt;img src=x onerror=alert(1)&gt; founded" in evil


# ---------------------------------------------------------------------------------- membership
def membership_traces(fig) -> dict[tuple[str, str], dict]:
    return {(tr["meta"]["organisation"], tr["meta"]["status"]): tr for tr in data_traces(fig)}


def test_membership_points_are_the_dated_counts_joined_by_steps(atlas):
    traces = membership_traces(membership_figure(atlas.membership, atlas, "en"))
    main = traces[("net", "main")]
    assert main["x"] == ["1990-09-01", "2008-01-01", "2025-01-01"]
    assert main["y"] == [200, 900, 2500]
    assert main["line"]["shape"] == "hv"
    assert main["mode"].startswith("lines+markers")
    node = traces[("node", "main")]
    assert node["x"] == ["2015-01-01", "2020-06-01"]
    assert node["y"] == [40, 55]


def test_disagreeing_sources_at_the_same_date_are_both_drawn(atlas):
    traces = membership_traces(membership_figure(atlas.membership, atlas, "en"))
    secondary = traces[("net", "secondary")]
    assert secondary["x"] == ["2008-01-01"]
    assert secondary["y"] == [815]
    assert secondary["mode"].startswith("markers")  # not joined into the main line
    assert "Test source B" in secondary["hovertext"][0]
    assert "secondary source" in secondary["hovertext"][0]
    assert 900 in traces[("net", "main")]["y"]


def test_undated_counts_are_not_drawn_but_returned(atlas):
    fig = membership_figure(atlas.membership, atlas, "en")
    assert 3000 not in [y for tr in data_traces(fig) for y in tr["y"]]
    undated = undated_counts(atlas.membership)
    assert list(undated["id"]) == ["net-undated"]
    assert "net-undated" not in [c[0] for tr in data_traces(fig) for c in tr["customdata"]]


def test_membership_qualifiers_symbols_text_and_hover(atlas):
    traces = membership_traces(membership_figure(atlas.membership, atlas, "en"))
    main = traces[("net", "main")]
    assert main["marker"]["symbol"] == ["triangle-up", "diamond", "triangle-up"]
    assert main["text"] == ["≥200", "~900", "≥2,500"]
    assert "at least 2,500" in main["hovertext"][2]
    assert "as written: “2,500+ in 125+ countries”" in main["hovertext"][2]
    assert "as of: 2025<" in main["hovertext"][2]
    assert "2025-01" not in main["hovertext"][2]
    assert "Test source B" in main["hovertext"][2]
    assert "confirmed" in main["hovertext"][2]
    node = traces[("node", "main")]
    assert node["text"] == ["<40", "55"]
    assert "nearly 40" in node["hovertext"][0]
    assert "as of: 2020-06<" in node["hovertext"][1]
    ja = membership_traces(membership_figure(atlas.membership, atlas, "ja"))
    assert "2,500以上" in ja[("net", "main")]["hovertext"][2]
    assert "出典の表記：「2,500+ in 125+ countries」" in ja[("net", "main")]["hovertext"][2]
    assert "時点：2025年<" in ja[("net", "main")]["hovertext"][2]
    assert "時点：2020年6月<" in ja[("node", "main")]["hovertext"][1]
    assert ja[("net", "secondary")]["name"] == "テスト（二次資料）"  # the legend's brackets too
    assert traces[("net", "secondary")]["name"] == "TN (secondary source)"


def test_membership_hover_escapes_hostile_text(atlas):
    fig = membership_figure(atlas.membership, atlas, "en")
    hovers = [h for tr in data_traces(fig) for h in tr["hovertext"]]
    assert any("about 900 (&lt;img src=x onerror=alert(1)&gt;)" in h for h in hovers)
    assert any("Source: &lt;img src=x onerror=alert(1)&gt;" in h for h in hovers)
    assert IMG not in str(fig.to_dict())


def test_log_scale_switch_in_the_one_chart_view(atlas):
    one = membership_figure(atlas.membership, atlas, "en", log=True, view="overlay").to_dict()["layout"]
    assert one["yaxis"]["type"] == "log"
    linear = membership_figure(atlas.membership, atlas, "en", view="overlay").to_dict()["layout"]
    assert linear["yaxis"]["type"] == "linear"


def test_membership_with_nothing_dated_says_so(atlas):
    fig = membership_figure(undated_counts(atlas.membership), atlas, "en")
    assert not data_traces_from(fig.to_dict())
    assert "No dated membership" in fig.to_dict()["layout"]["annotations"][0]["text"]


def test_latest_membership_prefers_the_latest_date(atlas, minimal):
    latest = latest_membership(atlas, "net")
    assert latest["members"] == 2500
    assert latest["as_of"] == "2025"
    assert latest["qualifier"] == "at-least"
    assert latest["source_title"] == "Test source B"
    assert latest_membership(atlas, "node")["as_of"] == "2020-06"
    assert latest_membership(minimal, "node") is None


def test_a_long_milestone_title_is_wrapped_never_cut(atlas):
    """(It used to be cut at 28 characters: 'UN Conference on Environmen… 1992'.)"""
    long = "United Nations Conference on Environment and Development"
    frame = atlas.events.copy()
    frame.loc[frame["id"] == "rio-1992", ["title_en", "label_en"]] = [long, None]
    fig = timeline_figure({"organisations": atlas.organisations, "events": frame}, atlas, "en")
    note = next(a for a in fig.to_dict()["layout"]["annotations"] if a["name"] == "rio-1992")
    assert "…" not in note["text"]
    assert note["text"].replace("<br>", " ") == f"{long} 1992"
    assert "<br>" in note["text"]  # too wide for one line: wrapped


def test_a_figure_two_sources_agree_on_is_labelled_once(atlas):
    """Two sources giving the same count on the same date: one label, not the same text twice on
    top of itself."""
    frame = atlas.membership.copy()
    twin = frame[frame["id"] == "net-2008-conf"].assign(id="net-2008-twin", source="src-b")
    frame = pd.concat([frame, twin], ignore_index=True)
    fig = membership_figure(frame, atlas, "en")
    labels = [x for tr in data_traces(fig) for x in (tr.get("text") or []) if x]
    assert labels.count("~900") == 1


@pytest.mark.parametrize("width", [769, 790, 811, 832, 1040, 1232])
def test_the_membership_panels_draw_at_every_measured_width(width):
    """At some widths the panels' fractions summed to 1.0000000000000002, which plotly refused as a
    domain: the membership page failed for a browser of that width (found by the load test)."""
    from dashboard.core.figures import Space, membership_figure
    from dashboard.core.filters import Filters, select

    atlas = load_atlas()
    fig = membership_figure(
        select(atlas, Filters()).membership, atlas, "en", space=Space(width=width, height=None, font=13)
    )
    domains = [v for k, v in fig.layout.to_plotly_json().items() if k.startswith(("xaxis", "yaxis"))]
    assert domains
    assert all(0.0 <= d <= 1.0 for axis in domains for d in axis["domain"])
