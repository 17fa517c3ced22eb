"""Climate Networks Atlas — the Streamlit app. Run: ``make run`` (or ``streamlit run dashboard/app.py``).

The shared filters are drawn here, before ``pg.run()``, so they keep their state on every page and
are written back to the URL on each run.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard.atlasmap import assets  # noqa: E402
from dashboard.core.i18n import t  # noqa: E402
from dashboard.shell import ui  # noqa: E402

st.set_page_config(
    page_title="Climate Networks Atlas / 気候ネットワーク・アトラス",
    layout="wide",
)
st.cache_resource(assets.ensure_static_assets)()  # once per server process, not every rerun

PAGES = [
    ("overview", "page_overview", "🏠"),
    ("map", "page_map", "🗺️"),
    ("timeline", "page_timeline", "📅"),
    ("membership", "page_membership", "📈"),
    ("compare", "page_compare", "⚖️"),
    ("sources", "page_sources", "📚"),
]

atlas, problems = ui.load()
lang = st.session_state.get("lang") or ("en" if st.query_params.get("lang") == "en" else "ja")
if atlas is None:
    ui.show_data_errors(problems, lang, fatal=True)
    st.stop()

filters = ui.current_filters(atlas)
ui.show_data_errors(problems, filters.lang, fatal=False)
ui.build_context(atlas, filters)
lang = filters.lang
pg = st.navigation(
    [
        st.Page(
            f"app_pages/{name}.py", title=t(key, lang), icon=icon, url_path=name, default=(name == "overview")
        )
        for name, key, icon in PAGES
    ],
    # presentation mode hides the sidebar: the pages then sit in the top bar
    position="top" if filters.present else "sidebar",
)
ui.draw_filters(atlas, map_first=ui.map_first(pg.url_path, ui.context()))
pg.run()
