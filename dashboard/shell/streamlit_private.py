"""The one place that reaches into Streamlit's private internals (as ``folium_private`` does for
streamlit-folium): the guard on links Streamlit drops, and the expiry of closed sessions
(``expire_closed_sessions``, at the end).

Streamlit reads a link's query string only when it has at most 1,000 parameters and 512 Ki
characters (``streamlit.runtime.state.query_params.sanitize_query_string``, called by
``AppSession.request_rerun`` on every run the browser asks for). Past either limit it logs a warning
on the server and hands the script an empty query string: the page opens with no filters, and nothing
tells the user their link was not read. The guard wraps that function as ``app_session`` calls it: a
dropped query string becomes one parameter, ``dashboard.core.filters.LINK_DROPPED``, saying which limit
it passed and by how much, and ``from_query_params`` turns it into the same visible notice as any
other malformed link. Streamlit's own limits and behaviour are unchanged.

The guard has to be in place before the first session's first run (that run's query string is read
before any of the app's code runs), so every launcher of the atlas starts Streamlit through
``python -m dashboard.shell.server`` (see that module); app.py installs it too, so a plain
``streamlit run dashboard/app.py`` is guarded from its second session on. Streamlit is pinned
(locks/), and tests/test_url_limits.py opens a real server with a link of 1,001 parameters, so an
upgrade that moves this function fails there first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from dashboard.core.filters import LINK_DROPPED

_lock = threading.Lock()


def install_link_guard() -> bool:
    """Wrap Streamlit's query-string sanitiser (once per process); True when the guard is in place."""
    try:
        from streamlit.runtime import app_session
        from streamlit.runtime.state import query_params
    except ImportError:  # pragma: no cover (a Streamlit without these modules: tests fail first)
        return False
    with _lock:
        original = getattr(app_session, "sanitize_query_string", None)
        if original is None:  # pragma: no cover
            return False
        if getattr(original, "atlas_link_guard", False):
            return True
        max_fields = getattr(query_params, "CLIENT_STATE_QUERY_STRING_MAX_FIELDS", 1000)
        max_length = getattr(query_params, "CLIENT_STATE_QUERY_STRING_MAX_LENGTH", 512 * 1024)
        app_session.sanitize_query_string = _guarded(original, max_fields, max_length)
        return True


def _guarded(original: Callable[[str], str], max_fields: int, max_length: int) -> Callable[[str], str]:
    def sanitize_query_string(query_string: str) -> str:
        kept = original(query_string)
        if not query_string or kept:
            return kept
        if len(query_string) > max_length:
            return f"{LINK_DROPPED}=length.{len(query_string)}.{max_length}"
        return f"{LINK_DROPPED}=fields.{query_string.count('&') + 1}.{max_fields}"

    sanitize_query_string.atlas_link_guard = True  # type: ignore[attr-defined]
    return sanitize_query_string


def expire_closed_sessions() -> bool:
    """Have Streamlit drop now the sessions closed longer than ``server.disconnectedSessionTTL`` ago.

    Its session storage (a TTL cache) drops an expired session only when it is next written to, that
    is when some later session closes: until then the closed session keeps its last messages (a large
    map among them) in memory. ``state.load`` calls this before handing memory back after a data
    change (tests/test_memory.py). True when it could."""
    try:
        from streamlit.runtime import Runtime

        storage = Runtime.instance()._session_mgr._session_storage
        storage._cache.expire()
    except Exception:  # no runtime (e.g. under AppTest) or another Streamlit: nothing to do
        return False
    return True
