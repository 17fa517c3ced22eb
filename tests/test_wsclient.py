"""bench/wsclient.py opens a Streamlit session as a browser does, against one local ``streamlit run``."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl

import pytest

from bench._server import streamlit_server
from bench.wsclient import SessionError, close, open_session, rerun, rerun_message, widget_rerun
from dashboard.atlasmap import builder as mapping
from dashboard.core import paths
from dashboard.core.data import load_atlas
from dashboard.core.filters import from_query_params, select


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with streamlit_server(log_dir=tmp_path_factory.mktemp("wsclient")) as srv:
        yield srv.url


def expected_points(query: dict[str, str]) -> int:
    atlas = load_atlas(paths.SHIPPED_DATA_DIR)
    return len(select(atlas, from_query_params(query, atlas).filters).points)


def test_the_rerun_message_carries_the_page_and_its_query_string():
    msg = rerun_message("lang=en&region=europe", "map", "http://127.0.0.1:1/map?lang=en&region=europe")
    assert msg.WhichOneof("type") == "rerun_script"
    assert msg.rerun_script.query_string == "lang=en&region=europe"
    assert msg.rerun_script.page_name == "map"


def test_a_session_on_the_map_page_runs_to_the_end_and_holds_the_map(server):
    query = {"lang": "en", "region": "europe"}
    s = open_session(server, "map", query, timeout=120)
    assert s.status == "finished"
    assert s.session_id
    assert 0 < s.page_s <= s.connected_s < s.finished_s
    assert s.first_delta_s is not None
    assert s.connected_s < s.first_delta_s <= s.finished_s
    assert s.script_s > 0
    assert s.exceptions() == []
    assert "_streamlit_xsrf" in s.cookies
    maps = s.components("st_folium")
    assert len(maps) == 1
    points = mapping.shown_points(maps[0]["feature_group"])
    assert points == expected_points(query) > 0
    summary = s.summary()
    assert summary["status"] == "finished"
    assert summary["deltas"] == len(s.deltas) > 0
    print(f"\nmap page over the websocket: {summary}")


def test_another_query_string_gives_another_selection(server):
    everything = open_session(server, "map", "lang=en", timeout=120)
    europe = open_session(server, "map", "lang=en&region=europe", timeout=120)
    maps = [s.components("st_folium")[0] for s in (everything, europe)]
    counts = [mapping.shown_points(m["feature_group"]) for m in maps]
    assert counts == [expected_points({"lang": "en"}), expected_points({"lang": "en", "region": "europe"})]
    assert counts[0] > counts[1]


def test_the_map_s_drawn_report_reruns_the_session_with_the_filters(server):
    """The map-first start as a browser's session goes through it: the first run draws the map and holds
    the filters back; the map's "drawn" report (a component value, as its frame sends it) reruns the
    same session's page, which draws the filters and keeps the map (sent by reference, unchanged)."""
    s = open_session(server, "map", "lang=en&region=europe", timeout=120, keep_open=True)
    try:
        first = [k for k, _ in s.elements()]
        assert "component_instance" in first
        assert "slider" not in first  # the filters wait for the map
        assert s.page_script_hash
        assert dict(parse_qsl(s.current_query)) == {"region": "europe", "lang": "en"}  # as the app wrote it
        (map_el,) = [
            el
            for k, el in s.elements()
            if k == "component_instance" and el.component_name.endswith("st_folium")  # not the stage's
        ]
        n = len(s.messages)
        seconds = widget_rerun(
            s, {map_el.id: {"last_object_clicked": None, "last_object_clicked_count": 0, "drawn": True}}
        )
        later = s.messages[n:]
        kinds = [m.delta.new_element.WhichOneof("type") for m in later if m.WhichOneof("type") == "delta"
                 and m.delta.WhichOneof("type") == "new_element"]  # fmt: skip
        assert 0 < seconds < 120
        assert "slider" in kinds
        assert kinds.count("multiselect") == 3
        resent = [
            m.delta.new_element.component_instance.component_name
            for m in later
            if m.WhichOneof("type") == "delta"
            and m.delta.WhichOneof("type") == "new_element"
            and m.delta.new_element.WhichOneof("type") == "component_instance"
        ]
        # the map's element is the same: the browser has it (the stage's small frame may come again)
        assert not [n for n in resent if n.endswith("st_folium")]
        assert any(m.WhichOneof("type") == "ref_hash" for m in later)
        assert later[-1].WhichOneof("type") == "script_finished"
        assert s.exceptions() == []
    finally:
        s.connection.close()


def test_the_default_page_draws_the_filters_and_no_map(server):
    s = open_session(server, "", "lang=ja", timeout=120)
    kinds = [k for k, _ in s.elements()]
    assert s.status == "finished"
    assert "multiselect" in kinds
    assert "slider" in kinds
    assert s.components("st_folium") == []


def test_an_unknown_page_is_an_error(server):
    with pytest.raises(SessionError, match="does not exist"):
        open_session(server, "no-such-page", "", timeout=60)


def test_nothing_listening_is_an_error():
    from bench._server import free_port

    with pytest.raises(SessionError):
        open_session(f"http://127.0.0.1:{free_port()}", "map", "", timeout=5)


def test_a_session_fetches_the_files_a_browser_fetches_and_replays_what_its_page_sent(server):
    """The load tests' attendee: the page's files, the map frame's, then what the page sent once the
    map was drawn (here a plain rerun of the page), followed to the end of the run it causes."""
    assets = ["/favicon.png", "/_stcore/health"]
    frame = ["/app/static/leaflet.js", "/app/static/atlas-map.js"]
    again = rerun_message("lang=en", "map", f"{server}/map?lang=en").SerializeToString()
    s = open_session(server, "map", "lang=en", timeout=120, assets=assets, frame_assets=frame,
                     follow_ups=[again], keep_open=True)  # fmt: skip
    try:
        assert s.asset_requests == 4
        assert s.asset_bytes > 30_000  # leaflet.js alone is 40 kB gzipped (gzip is asked for, as browsers do)
        assert s.page_s <= s.assets_s <= s.connected_s < s.finished_s <= s.ready_s <= s.settled_s
        later = s.later_components("st_folium")
        assert later  # the run the replayed message caused drew the map again, every point
        assert mapping.shown_points(later[-1]["feature_group"]) == expected_points({"lang": "en"})
        # and the session carries on: another run on the same websocket
        third = rerun(s, timeout=60)
        assert third.status == "finished"
        assert mapping.shown_points(third.components("st_folium")[-1]["feature_group"]) > 0
    finally:
        close(s)
    with pytest.raises(SessionError, match="HTTP 404"):
        open_session(server, "map", "lang=en", timeout=60, assets=["/app/static/no-such-file.js"])
