"""A link Streamlit will not read gets a notice, as any malformed link does.

Streamlit hands the script an empty query string when a link has more than 1,000 parameters
(``streamlit.runtime.state.query_params.sanitize_query_string``, logged on the server only); the page
would open with no filters and no word why. dashboard/shell/streamlit_private.py turns the dropped
link into one marker parameter the app reports. This runs a real server started the way every
launcher starts it (``python -m dashboard.shell.server``, bench/_server.py) and opens sessions over
the websocket as a browser does (bench/wsclient.py), the first one with the long link: that first
run is the one a guard installed by the app's own code would miss.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench._server import streamlit_server
from bench.wsclient import open_session
from dashboard.core.text import t
from dashboard.shell.streamlit_private import install_link_guard


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with streamlit_server(log_dir=tmp_path_factory.mktemp("url-limits")) as srv:
        yield srv.url


def warnings(query: str, url: str) -> list[str]:
    session = open_session(url, "", query, timeout=120)
    assert session.status == "finished"
    assert session.exceptions() == []
    return [el.body for kind, el in session.elements() if kind == "alert" and el.format == el.WARNING]


def link(n: int) -> str:
    """``lang=en`` and ``n - 1`` unknown settings: ``n`` parameters."""
    return "&".join(["lang=en", *(f"p{i}=v" for i in range(n - 1))])


def test_a_link_of_1001_parameters_in_the_first_session_gets_the_notice(server):
    shown = warnings(link(1001), server)
    # the link was not read at all (its lang=en neither): the notice is in the default language
    expected = t("notice_link_fields", "ja", n="1,001", limit="1,000")
    assert [s.replace("\\", "") for s in shown] == [expected]


def test_a_link_of_1000_parameters_is_read_as_usual(server):
    shown = "\n".join(warnings(link(1000), server)).replace("\\", "")
    assert "Ignored unknown setting(s) in the link: p0, p1" in shown  # read, in English, as the link asked
    assert "1,000" not in shown


def test_the_guard_changes_only_what_streamlit_drops():
    from streamlit.runtime import app_session

    assert install_link_guard()
    assert install_link_guard()  # once only
    sanitize = app_session.sanitize_query_string
    assert sanitize("") == ""
    assert sanitize("a=1&b=2") == "a=1&b=2"
    assert sanitize("&".join(["x=1"] * 1000)) == "&".join(["x=1"] * 1000)
    assert sanitize("&".join(["x=1"] * 1001)) == "_atlas_link_dropped=fields.1001.1000"
    assert sanitize("x=" + "y" * 600_000) == "_atlas_link_dropped=length.600002.524288"
