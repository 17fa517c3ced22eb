"""Every page through Streamlit's AppTest: filters change what is shown, the URL round-trips,
bad parameters give a notice, an empty selection and a data error give a message, not a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.core import paths

APP = str(paths.DASHBOARD_DIR / "app.py")
MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
TIMEOUT = 60


@pytest.fixture
def fixture_data(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ATLAS_DATA_DIR", str(MINIMAL))
    return MINIMAL


def run(params: dict[str, str] | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(at: AppTest) -> str:
    parts = []
    for kind in ("title", "caption", "markdown", "info", "warning", "error", "success", "text", "subheader"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    return "\n".join(parts)


def plain(at: AppTest) -> str:
    """texts() as the reader sees them (Markdown's backslash escapes removed)."""
    return texts(at).replace("\\", "")


def plotly_specs(at: AppTest) -> list[dict]:
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


# ------------------------------------------------------------------ overview and filters
def test_overview_headlines_follow_the_filters(fixture_data):
    at = run({"lang": "en"})
    assert at.title[0].value == "Climate Networks Atlas"
    m = metrics(at)
    assert m["Organisations"] == "2"
    assert m["Offices"] == "2"
    assert m["Member cities named in sources"] == "1"
    table = at.dataframe[0].value
    assert sorted(table["Name"]) == ["Test Network", "Test Node"]

    # the year range hides organisations founded outside it (net: 1990, node: 2010)
    at.sidebar.slider[0].set_value((2000, 2025)).run()
    assert metrics(at)["Organisations"] == "1"
    assert list(at.dataframe[0].value["Name"]) == ["Test Node"]
    assert at.query_params["years"] == "2000,2025"


def test_region_filter_keeps_global_networks_and_drops_points_elsewhere(fixture_data):
    at = run({"lang": "en", "region": "east-asia"})
    m = metrics(at)
    assert m["Organisations"] == "2"  # net works globally, node in East Asia
    assert m["Offices"] == "1"  # the Bonn office is in Europe
    at.sidebar.multiselect[0].set_value(["europe"]).run()
    assert metrics(at)["Organisations"] == "1"
    assert at.query_params["region"] == "europe"


def test_url_parameters_round_trip(fixture_data):
    params = {"years": "1989,2015", "region": "europe", "kind": "local-government-network", "lang": "en"}
    at = run(params)
    assert at.sidebar.slider[0].value == (1989, 2015)
    assert at.sidebar.multiselect[0].value == ["europe"]
    assert at.sidebar.multiselect[1].value == ["local-government-network"]
    assert {k: at.query_params[k] for k in params} == params
    assert not at.warning


def test_bad_parameters_give_a_notice_not_an_exception(fixture_data):
    at = run({"years": "abc", "region": "atlantis", "org": "nope,net", "lang": "xx", "zzz": "1"})
    notices = "\n".join(w.value for w in at.warning)  # in Japanese, the default language
    assert "リンクで指定された設立年の範囲を読み取れないため、無視しました" in notices
    assert "リンクで指定された地域のうち、該当しないものを無視しました：atlantis" in notices
    assert "nope" in notices
    assert "zzz" in notices
    assert at.sidebar.multiselect[2].value == ["net"]  # the valid organisation is kept
    assert at.sidebar.slider[0].value == (1987, 2025)
    at.sidebar.radio[0].set_value("en").run()  # the notices follow the language
    notices = "\n".join(w.value for w in at.warning)
    assert "Ignored a malformed year range in the link" in notices
    at.sidebar.multiselect[0].set_value(["europe"]).run()  # a filter changed: the link's notices go
    assert not at.warning


def test_years_out_of_range_are_clamped(fixture_data):
    at = run({"years": "1700,2999", "lang": "en"})
    assert at.sidebar.slider[0].value == (1987, 2025)
    assert "adjusted to 1987–2025" in "\n".join(w.value for w in at.warning)


def test_empty_selection_is_a_friendly_message(fixture_data):
    at = run({"years": "2015,2020", "lang": "en"})
    assert "No organisation matches these filters" in "\n".join(i.value for i in at.info)
    assert not at.dataframe


def test_language_switch_changes_the_interface(fixture_data):
    at = run()
    assert at.title[0].value == "気候変動の国際ネットワーク・アトラス"  # not the NGO 気候ネットワーク's name
    assert "組織" in metrics(at)
    at.sidebar.radio[0].set_value("en").run()
    assert at.title[0].value == "Climate Networks Atlas"
    assert at.query_params["lang"] == "en"


def test_presentation_mode_from_the_url(fixture_data):
    at = run({"present": "1", "lang": "en"})
    assert at.sidebar.toggle[0].value is True
    leave = at.button(key="leave_present")
    assert leave.help == "Leave presentation mode"
    leave.click().run()
    assert at.sidebar.toggle[0].value is False
    assert "present" not in at.query_params


# ------------------------------------------------------------------ the other pages
def open_expander(at: AppTest, key: str) -> AppTest:
    """What a click on a closed lazy expander does: its state turns open and the page reruns."""
    at.session_state[f"{key}_open"] = True
    return at.run()


def test_map_page_counts_and_table(fixture_data):
    at = run({"lang": "en"}, page="map")
    assert "3 places (2 offices, 1 member)" in texts(at)
    assert [e.label for e in at.expander] == ["All places shown", "Cities in several networks"]
    assert not at.dataframe  # the closed table is not built (nor its code loaded in the browser)
    places = open_expander(at, "places").dataframe[0].value
    assert sorted(places["Name"]) == ["Japan Office", "Kyoto", "World Secretariat"]
    at.sidebar.multiselect[0].set_value(["europe"]).run()
    assert "1 place (1 office)" in texts(at)
    assert list(at.dataframe[0].value["Name"]) == ["World Secretariat"]  # still open, filtered
    at.sidebar.radio[0].set_value("ja").run()  # a new label, still the same table, still open
    assert [e.label for e in at.expander] == ["地点一覧", "複数のネットワークに加盟する都市"]
    assert list(at.dataframe[0].value["名称"]) == ["本部"]  # the World Secretariat, in Japanese


MAP_COMPONENT = "streamlit_folium.st_folium"


def _map_element(at: AppTest):
    (element,) = [c for c in at.get("component_instance") if c.proto.component_name == MAP_COMPONENT]
    return element


def test_a_session_that_opens_on_the_map_gets_its_filters_once_the_map_is_drawn(fixture_data):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["region"] = "east-asia"
    at.query_params["lang"] = "en"
    at.switch_page("app_pages/map.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "2 places" in texts(at)  # the link's selection is on the map at once
    assert not at.sidebar.slider  # the filters' widgets wait for the map ...
    assert [c.value for c in at.sidebar.caption] == [
        "Drawing the map first; the filters appear here in a moment."
    ]
    # the first run holds only the map: the stage's frame (another component) follows with the filters
    assert [c.proto.component_name for c in at.get("component_instance")] == [MAP_COMPONENT]
    assert "Details" not in texts(at)  # the map's details column follows too
    map_args = _map_element(at).proto.json_args
    at.run()  # what the map's frame does once it is drawn: a component value, so a rerun
    assert at.sidebar.multiselect[0].value == ["east-asia"]  # the link's values, kept
    assert at.sidebar.slider[0].value == (1987, 2025)
    assert not [c for c in at.sidebar.caption if "map first" in c.value]
    assert at.query_params["region"] == "east-asia"
    assert _map_element(at).proto.json_args == map_args  # the frame keeps its layers
    assert len(at.get("component_instance")) == 2  # the stage's frame is there now
    assert "Details" in texts(at)


def test_a_member_list_dropped_into_the_data_folder_shows_without_a_restart(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    shutil.copytree(MINIMAL, folder)
    monkeypatch.setenv("ATLAS_DATA_DIR", str(folder))
    at = run({"lang": "en"}, page="map")
    assert "3 places (2 offices, 1 member)" in texts(at)
    lists = folder / paths.MEMBER_LISTS
    lists.mkdir()
    header = "organisation,city,country,latitude,longitude,precision,since,until,as_of,source,note"
    (lists / "net-2026.csv").write_text(
        header + "\nnet,Sapporo,JP,43.0621,141.3544,city,2020,,2026-01,src-b,\n", encoding="utf-8"
    )
    at.run()  # the next run of any session (no file of the fixed set changed, no restart)
    assert not at.exception, [e.value for e in at.exception]
    assert "4 places (2 offices, 2 members)" in texts(at)
    (lists / "net-2026.csv").unlink()
    at.run()
    assert "3 places (2 offices, 1 member)" in texts(at)


def test_a_link_to_an_empty_map_shows_the_filters_at_once(fixture_data):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["years"] = "2015,2020"  # nothing founded then: no map to wait for
    at.query_params["lang"] = "en"
    at.switch_page("app_pages/map.py")
    at.run()
    assert "No organisation matches these filters" in "\n".join(i.value for i in at.info)
    assert at.sidebar.slider[0].value == (2015, 2020)  # the way out is there straight away


@pytest.mark.parametrize(("page", "key", "column", "expected"), [
    ("timeline", "events", "Event", "Test Network founded"),
    ("membership", "membership", "Organisation", "TN"),
])  # fmt: skip
def test_tables_under_the_charts_are_built_when_opened(fixture_data, page, key, column, expected):
    at = run({"lang": "en"}, page=page)
    assert not at.dataframe
    table = open_expander(at, key).dataframe[-1].value
    assert expected in " ".join(map(str, table[column]))
    assert any(b.proto.label == "Download the filtered data as CSV" for b in at.get("download_button"))


def test_timeline_page_draws_events_and_milestones(fixture_data):
    at = run({"lang": "en"}, page="timeline")
    spec = plotly_specs(at)[0]
    hover = json.dumps(spec["data"], ensure_ascii=False)
    assert "Test Network founded" in hover
    assert "Test source A" in hover
    layout = json.dumps(spec["layout"], ensure_ascii=False)
    assert "Rio Earth Summit" in layout


def test_membership_page_draws_dated_counts(fixture_data):
    at = run({"lang": "en"}, page="membership")
    spec = plotly_specs(at)[0]
    ys = [y for tr in spec["data"] for y in (tr.get("y") or [])]
    assert 200 in ys
    assert 2500 in ys
    assert at.radio(key="membership_view").value == "panels"  # each organisation its own panel and scale
    at.radio(key="membership_view").set_value("overlay").run()  # all in one chart, where log scale helps
    at.toggle(key="membership_log").set_value(True).run()
    assert plotly_specs(at)[0]["layout"]["yaxis"]["type"] == "log"


def test_compare_page_puts_organisations_in_columns(fixture_data):
    at = run({"lang": "en", "compare": "net,node"}, page="compare")
    shown = [m.value for m in at.markdown]
    assert "#### TN" in shown
    assert "#### TN\\-J" in shown  # the short names head the columns (escaped Markdown)
    mission = next(i for i, v in enumerate(shown) if v == "**Mission**")
    assert "To build sustainable cities" in shown[mission + 1]  # net's mission, in its column
    assert "Climate" in "\n".join(s.value for s in at.success)  # the shared theme is highlighted
    assert at.query_params["compare"] == "net,node"


def test_sources_page_lists_every_source(fixture_data):
    at = run({"lang": "en"}, page="sources")
    table = at.dataframe[0].value
    assert sorted(table["Source"]) == ["Test source A", "Test source B"]


def test_every_page_renders_on_the_shipped_data(monkeypatch):
    monkeypatch.delenv("ATLAS_DATA_DIR", raising=False)
    for lang in ("ja", "en"):
        for page in ("overview", "map", "timeline", "membership", "compare", "sources"):
            at = run({"lang": lang}, page=page if page != "overview" else None)
            assert at.title, f"{page} ({lang}) shows no title"
            assert not at.error, f"{page} ({lang}): {[e.value for e in at.error]}"


# ------------------------------------------------------------------ broken data
def _broken_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    broken = tmp_path / "data"
    shutil.copytree(MINIMAL, broken)
    monkeypatch.setenv("ATLAS_DATA_DIR", str(broken))
    return broken


def test_a_bad_row_is_named_and_left_out_while_every_page_works(tmp_path, monkeypatch):
    broken = _broken_copy(tmp_path, monkeypatch)
    offices = broken / "offices.csv"
    text = offices.read_text(encoding="utf-8")
    offices.write_text(text.replace(",src-b\n", ",src-zzz\n"), encoding="utf-8")
    at = run({"lang": "en"})
    assert "The data has 1 problem;" in at.error[0].value
    assert "offices.csv, line 3, field 'source': unknown source id" in at.code[0].value
    assert metrics(at)["Offices"] == "1"  # the Tokyo office with the bad source is left out
    for page in ("map", "timeline", "membership", "compare", "sources"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, page
        assert "The data has 1 problem;" in at.error[0].value, page


def test_unusable_data_is_shown_as_a_message(tmp_path, monkeypatch):
    broken = _broken_copy(tmp_path, monkeypatch)
    (broken / "organisations.yaml").write_text("- id: [unclosed\n", encoding="utf-8")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lang"] = "en"
    at.run()
    assert not at.exception
    assert "cannot be shown because the data has problems" in at.error[0].value
    assert "organisations.yaml, line 2: is not valid YAML" in at.code[0].value


# ------------------------------------------------------------------ scenes (data/scenes.yaml)
SCENES = """\
- id: start
  title_ja: はじまり
  title_en: Where it starts
  page: overview
  notes_en: Say hello.
- id: europe-map
  title_ja: ヨーロッパの地図
  title_en: Europe on the map
  page: map
  region: [europe]
  center: [50, 8]
  zoom: 4
- id: broken
  title_ja: 壊れたシーン
  title_en: A broken scene
  page: timeline
  region: [atlantis]
- id: two
  title_ja: 比べる
  title_en: Side by side
  page: compare
  compare: net,node
"""


@pytest.fixture
def scene_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(MINIMAL, folder)
    (folder / "scenes.yaml").write_text(SCENES, encoding="utf-8")
    monkeypatch.setenv("ATLAS_DATA_DIR", str(folder))
    return folder


def test_a_link_to_a_scene_opens_its_page_with_its_filters(scene_data):
    at = run({"scene": "europe-map", "present": "1", "lang": "en"})
    assert at.title[0].value == "Europe on the map"  # the scene's title, on the scene's page
    assert at.sidebar.multiselect[0].value == ["europe"]
    assert at.query_params["scene"] == "europe-map"
    assert at.query_params["region"] == "europe"
    assert any(m.value == "2 / 3" for m in at.markdown)  # the counter: the broken scene is left out


def test_next_and_previous_step_through_the_scenes(scene_data):
    at = run({"present": "1", "lang": "en"})
    assert any(m.value == "– / 3" for m in at.markdown)
    at.button(key="scene_next").click().run()
    assert at.title[0].value == "Where it starts"
    assert at.query_params["scene"] == "start"
    at.button(key="scene_next").click().run()
    assert at.title[0].value == "Europe on the map"
    assert at.query_params["region"] == "europe"
    at.button(key="scene_next").click().run()
    assert at.title[0].value == "Side by side"
    assert at.query_params["compare"] == "net,node"
    assert at.button(key="scene_next").disabled  # the last scene
    at.button(key="scene_prev").click().run()
    assert at.title[0].value == "Europe on the map"


def test_presenter_notes_open_and_close(scene_data):
    at = run({"scene": "start", "present": "1", "lang": "en"})
    assert "Say hello." not in plain(at)
    at.button(key="scene_notes").click().run()
    assert "Say hello." in plain(at)
    at.button(key="scene_notes").click().run()
    assert "Say hello." not in plain(at)


def test_a_bad_scene_is_named_and_the_others_still_work(scene_data):
    at = run({"lang": "en"})
    assert "The data has 1 problem;" in texts(at)
    problems = "\n".join(c.value for c in at.code)
    assert "scenes.yaml, entry 3 (id: broken), field 'region': unknown region (value: 'atlantis')" in problems
    at = run({"scene": "broken", "present": "1", "lang": "en"})
    assert "Ignored an unknown scene in the link: broken" in plain(at)
    assert at.title[0].value == "Climate Networks Atlas"


def test_changing_a_filter_leaves_the_scene(scene_data):
    at = run({"scene": "europe-map", "present": "1", "lang": "en"})
    at.sidebar.multiselect[0].set_value(["europe", "east-asia"]).run()
    assert at.title[0].value == "Map"  # no longer the scene's view: the page's own title
    assert "scene" not in at.query_params
