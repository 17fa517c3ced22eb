"""Climate Networks Atlas — the Streamlit app. Run: ``make run`` (or ``streamlit run dashboard/app.py``).

The shared filters are drawn here, before ``pg.run()``, so they keep their state on every page and
are written back to the URL on each run; so is the stage (presentation mode's scenes and keys), and a
scene's page is switched to here.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard.atlasmap import assets  # noqa: E402
from dashboard.core.text import language_from_link, t  # noqa: E402
from dashboard.shell import sidebar, stage, state, widgets  # noqa: E402
from dashboard.shell.streamlit_private import install_link_guard  # noqa: E402

install_link_guard()  # already done by `python -m dashboard.shell.server`; here for a plain `streamlit run`

st.set_page_config(
    page_title=f"{t('app_title', 'en')} / {t('app_title', 'ja')}",
    # a local icon: with none, Streamlit would fetch the page's Material icon from Google as the favicon
    page_icon=str(ROOT / "dashboard" / "shell" / "favicon.png"),
    layout="wide",
)
st.cache_resource(assets.ensure_static_assets)()  # once per server process, not every rerun

# Material icons: they need no emoji font (a projector's browser may have none).
PAGES = [
    ("overview", "page_overview", ":material/home:"),
    ("map", "page_map", ":material/map:"),
    ("timeline", "page_timeline", ":material/timeline:"),
    ("membership", "page_membership", ":material/groups:"),
    ("compare", "page_compare", ":material/compare_arrows:"),
    ("sources", "page_sources", ":material/menu_book:"),
]

# the stage's hidden frame (presenter's keys, screen size): made first, so it keeps its place
stage_slot = st.empty()
atlas, problems = state.load()
state.freeze_startup_heap()  # once per process: later runs' garbage collection skips what is loaded now
lang = st.session_state.get("lang") or language_from_link(st.query_params.get("lang"))
if atlas is None:
    widgets.show_data_errors(problems, lang, fatal=True)
    st.stop()

filters = state.current_filters(atlas)
widgets.show_data_errors(problems, filters.lang, fatal=False, compact=filters.present)
state.build_context(atlas, filters)
lang = filters.lang
pages = {
    name: st.Page(
        f"app_pages/{name}.py", title=t(key, lang), icon=icon, url_path=name, default=(name == "overview")
    )
    for name, key, icon in PAGES
}
# A shared link's first run on the map page draws the map before anything else can load in the browser
# (sidebar.map_first): the page links, the stage's frame (it only measures a phone's screen there) and
# the filters follow together, in the run the map's "drawn" report starts. Presenting, the links (in
# the top bar) and the stage (the presenter's keys) are wanted at once. The links are drawn before the
# page is known: whether to hold them back is read from the address.
links_later = not filters.present and sidebar.map_first(sidebar.asked_page(), state.context())
pg = st.navigation(
    list(pages.values()),
    # presentation mode hides the sidebar: the pages then sit in the top bar
    position="hidden" if links_later else "top" if filters.present else "sidebar",
)
here = next((name for name, page in pages.items() if page.url_path == pg.url_path), "overview")
map_first = sidebar.map_first(here, state.context())
if links_later and not map_first:  # the address named the map page: never leave the links out elsewhere
    st.rerun()
wanted = st.session_state.pop("_goto_page", None)  # a scene's page (a key, a button or a link asked)
if wanted in pages and wanted != here:
    st.switch_page(pages[wanted])
state.sync_url(atlas, filters, here)
if filters.present or not map_first:
    stage.stage(filters.present, filters.scene, stage_slot, page=here)
sidebar.draw_filters(atlas, map_first=map_first)
try:
    pg.run()
finally:  # also after st.stop() in a page
    state.end_run()
