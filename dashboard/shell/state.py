"""The app's state: the atlas (cached, shared by every session), the shared filters and the link.

Streamlit glue for app.py and the pages. The filters are drawn in app.py before ``pg.run()`` so they
keep their state on every page; the URL is written back on every run.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, replace
from pathlib import Path

import streamlit as st

from dashboard.atlasmap.builder import standalone_html
from dashboard.core import paths, tables
from dashboard.core.data import Atlas, Problem, load_atlas_partial
from dashboard.core.filters import (
    YEAR_MAX,
    YEAR_MIN,
    Filters,
    Selection,
    from_query_params,
    scene_filters,
    select,
    to_query_params,
)
from dashboard.core.safety import escape_markdown
from dashboard.core.text import DEFAULT_LANG

_DATA_FILES = (
    paths.VOCABULARY,
    paths.SOURCES,
    paths.ORGANISATIONS,
    paths.OFFICES,
    paths.MEMBERS,
    paths.MEMBERSHIP,
    paths.EVENTS,
    paths.GEOCODED,
    paths.SCENES,
)


def _stamp(folder: Path) -> tuple:
    """Changes whenever a data file changes, so an edited file is picked up without a restart: a member
    list dropped into (or removed from) ``member-lists/`` too."""
    out = []
    for p in [*(folder / name for name in _DATA_FILES), *paths.member_list_files(folder)]:
        try:
            info = p.stat()
        except FileNotFoundError:
            out.append((p.name, None, None))
        else:
            out.append((str(p.relative_to(folder)), info.st_mtime_ns, info.st_size))
    return tuple(out)


# The atlas is read-only and shared by every session: st.cache_resource keeps one copy in memory
# instead of unpickling a copy per rerun (what st.cache_data would do).
@st.cache_resource(show_spinner=False, max_entries=4)
def _load(folder: str, stamp_key: tuple) -> tuple[Atlas | None, list[Problem]]:  # noqa: ARG001 (cache key)
    return load_atlas_partial(Path(folder))


def load() -> tuple[Atlas | None, list[Problem]]:
    """The atlas (what is valid of it) and every problem found; reloaded when a data file changes."""
    folder = paths.data_dir()
    return _load(str(folder), _stamp(folder))


@st.cache_resource(show_spinner=False)
def freeze_startup_heap() -> int:
    """Once per server process, after the first run has imported the app's modules and loaded the atlas:
    move every object alive now into the garbage collector's permanent generation (``gc.freeze``).

    Streamlit collects garbage after every script run (``runner.postScriptGC``), and that full
    collection walked the ~150,000 objects of the imported libraries and the atlas each time: about
    70 of the 110 ms of CPU a run of the map page cost (bench/, "A new session's first run"). Frozen
    objects are still freed when their last reference goes; only a reference cycle alive at this moment
    is never collected (once, so the cost is bounded). Returns how many objects were frozen.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def _stylesheet(name: str) -> str:
    return "<style>\n" + (Path(__file__).parent / name).read_text(encoding="utf-8") + "</style>"


# Constant stylesheets (no data): the only things st.html ever receives (tests/test_security.py).
BASE_CSS = _stylesheet("base.css")  # every page: contrast, focus, the stage's hidden frame
PRESENTATION_CSS = _stylesheet("presentation.css")  # presentation mode: a projector's screen


@dataclass(frozen=True)
class Context:
    atlas: Atlas
    filters: Filters
    selection: Selection
    data_key: tuple = ()  # (data folder, _stamp of its files) when the context was built

    @property
    def lang(self) -> str:
        return self.filters.lang

    @property
    def cache_key(self) -> str:
        """What the selection depends on (data files and filters, not presentation mode): the key of
        every per-selection cache (map, tables, downloads). A string: Streamlit hashes it quickly."""
        return _cache_key(self.data_key, self.filters)


def _cache_key(data_key: tuple, f: Filters) -> str:
    return repr((data_key, replace(f, present=False, scene=None)))


def apply_filters(f: Filters) -> None:
    """Put filters into the sidebar's widgets (a link's, a scene's, or the defaults)."""
    st.session_state["lang"] = f.lang
    st.session_state["years"] = f.years
    st.session_state["region"] = list(f.regions)
    st.session_state["kind"] = list(f.kinds)
    st.session_state["org"] = list(f.organisations)
    st.session_state["present"] = f.present
    st.session_state["compare_sel"] = list(f.compare)
    st.session_state["scene"] = f.scene


def _from_widgets(atlas: Atlas) -> Filters:
    s = st.session_state
    years = tuple(s.get("years", (YEAR_MIN, YEAR_MAX)))
    f = Filters(
        years=(int(years[0]), int(years[1])),
        regions=tuple(s.get("region", ())),
        kinds=tuple(s.get("kind", ())),
        organisations=tuple(s.get("org", ())),
        lang=s.get("lang", DEFAULT_LANG),
        present=bool(s.get("present", False)),
        compare=tuple(s.get("compare_sel", ())),
    )
    # the scene shown: the last one stepped to, while the filters are still the scene's
    scene = next((sc for sc in atlas.scenes if sc.id == s.get("scene")), None)
    if scene is not None and _same_view(scene_filters(scene, f.lang, f.present), f):
        f = replace(f, scene=scene.id)
    return f


def _same_view(a: Filters, b: Filters) -> bool:
    return replace(a, lang=b.lang, present=b.present, scene=None) == replace(b, scene=None)


def reset_filters() -> None:
    apply_filters(Filters(lang=st.session_state.get("lang", DEFAULT_LANG)))
    st.session_state["url_notices"] = []


def leave_presentation() -> None:
    st.session_state["present"] = False
    st.session_state["notes_open"] = False


def current_filters(atlas: Atlas) -> Filters:
    """The shared filters of this run: from the link on a session's first run, then from the
    sidebar's widgets. Draws the link's notices and presentation mode and keeps the URL in step.

    Call from app.py before ``pg.run()``, then ``draw_filters``: the widgets keep their state on
    every page because they are drawn on every page.
    """
    first = "filters_initialised" not in st.session_state
    st.session_state["_first_run"] = first
    if first:
        parsed = from_query_params(st.query_params.to_dict(), atlas)
        apply_filters(parsed.filters)
        st.session_state["url_notices"] = parsed.notices
        st.session_state["url_filters"] = parsed.filters
        st.session_state["filters_initialised"] = True
        if parsed.filters.scene:  # a link to a scene opens the scene's page
            st.session_state["_goto_page"] = scene_page(atlas, parsed.filters.scene)

    f = _from_widgets(atlas)
    # The link's notices stay until the user changes a filter (the language aside).
    read = st.session_state.get("url_filters")
    if read is not None and replace(read, lang=f.lang, present=f.present) != f:
        st.session_state["url_notices"] = []
    for n in st.session_state.get("url_notices") or []:
        st.warning(escape_markdown(n.text(f.lang) if hasattr(n, "text") else n), icon=":material/warning:")
    st.html(BASE_CSS)
    if f.present:
        st.html(PRESENTATION_CSS)
    return f


def scene_page(atlas: Atlas, scene_id: str | None) -> str | None:
    """The page of a scene (None for no scene or an unknown one)."""
    return next((sc.page for sc in atlas.scenes if sc.id == scene_id), None)


def sync_url(atlas: Atlas, f: Filters, page: str) -> None:
    """Write the filters into the address bar (every run: a page change clears it otherwise). The
    scene is written only on its own page, so that a copied link opens what is on the screen."""
    on_its_page = f.scene is not None and scene_page(atlas, f.scene) == page
    wanted = to_query_params(f if on_its_page else replace(f, scene=None))
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def shows_map(ctx: Context) -> bool:
    """Whether the map page has points to draw for this selection (else it says why, and stops)."""
    return not (ctx.selection.empty or ctx.selection.points.empty)


def set_compare(org_ids: list[str]) -> None:
    """Remember the Compare page's choice for the session and in the URL."""
    st.session_state["compare_sel"] = list(org_ids)
    if org_ids:
        st.query_params["compare"] = ",".join(org_ids)
    elif "compare" in st.query_params:
        del st.query_params["compare"]


# Shared by every session (st.cache_resource, not a copy per run as st.cache_data would unpickle):
# a selection is read-only, like the atlas it is cut from, and every attendee of a shared link asks
# for the same one.
@st.cache_resource(show_spinner=False, max_entries=256)
def _select_cached(_atlas: Atlas, key: str, _f: Filters) -> Selection:  # noqa: ARG001 (cache key)
    return select(_atlas, _f)


def context() -> Context | None:
    """The atlas, the filters and what they select, for the page being drawn (None on a data error)."""
    return st.session_state.get("_context")


def build_context(atlas: Atlas, f: Filters) -> Context:
    folder = paths.data_dir()
    data_key = (str(folder), _stamp(folder))
    ctx = Context(
        atlas,
        f,
        _select_cached(atlas, _cache_key(data_key, f), replace(f, present=False, scene=None)),
        data_key,
    )
    st.session_state["_context"] = ctx
    return ctx


@st.cache_data(show_spinner=False, max_entries=32)
def _standalone_map(_ctx: Context, key: str, lang: str) -> str:  # noqa: ARG001 (cache key)
    # a file for offline use: outlines, no basemap
    return standalone_html(_ctx.selection.points, lang=lang, atlas=_ctx.atlas, basemap=False)


def standalone_map_html(ctx: Context) -> str:
    """The filtered map as one HTML file with Leaflet inlined (works offline); cached per selection."""
    return _standalone_map(ctx, ctx.cache_key, ctx.lang)


@st.cache_data(show_spinner=False, max_entries=64)
def _places_table(_atlas: Atlas, _sel: Selection, key: str, lang: str):  # noqa: ARG001 (cache key)
    return tables.places_table(_atlas, _sel, lang)


def places_table(ctx: Context):
    """tables.places_table of the context's selection, cached per selection and language."""
    return _places_table(ctx.atlas, ctx.selection, ctx.cache_key, ctx.lang)


@st.cache_data(show_spinner=False, max_entries=64)
def _several_networks(_atlas: Atlas, _sel: Selection, key: str, lang: str):  # noqa: ARG001 (cache key)
    return tables.several_networks_table(_atlas, _sel, lang)


def several_networks_table(ctx: Context):
    """tables.several_networks_table of the context's selection, cached per selection and language."""
    return _several_networks(ctx.atlas, ctx.selection, ctx.cache_key, ctx.lang)


@st.cache_data(show_spinner=False, max_entries=64)
def _organisations_table(_atlas: Atlas, _sel: Selection, key: str, lang: str):  # noqa: ARG001 (cache key)

    return tables.organisations_table(_atlas, _sel, lang)


def organisations_table(ctx: Context):
    """tables.organisations_table of the context's selection, cached per selection and language."""
    return _organisations_table(ctx.atlas, ctx.selection, ctx.cache_key, ctx.lang)
