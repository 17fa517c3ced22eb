"""The app's state: the atlas (cached, shared by every session), the shared filters and the link.

Streamlit glue for app.py and the pages. The filters are drawn in app.py before ``pg.run()`` so they
keep their state on every page; the URL is written back on every run.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TypeVar

import pandas as pd
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
from dashboard.shell.streamlit_private import expire_closed_sessions, page_head_installed

T = TypeVar("T")
_LOG = logging.getLogger(__name__)

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
    list dropped into (or removed from) ``member-lists/`` too. Never raises: a file that cannot be
    stat'ed (gone, a folder without permission) is stamped as absent."""
    out = []
    for p in [*(folder / name for name in _DATA_FILES), *paths.member_list_files(folder)]:
        name = str(p.relative_to(folder))
        try:
            info = os.stat(p)
        except OSError:
            out.append((name, None, None, None))
        else:
            out.append((name, info.st_mtime_ns, info.st_size, info.st_ino))
    return tuple(out)


# The atlas is read-only and shared by every session: st.cache_resource keeps one copy in memory
# instead of unpickling a copy per rerun (what st.cache_data would do).
@st.cache_resource(show_spinner=False, max_entries=2)
def _load(folder: str, stamp_key: tuple) -> tuple[Atlas | None, list[Problem]]:
    if sum(entry[2] or 0 for entry in stamp_key) > LOAD_APART_BYTES:
        loaded = _load_apart(Path(folder))
        if loaded is not None:
            return loaded
    return load_atlas_partial(Path(folder))


# Data this large is read in a child process, and only the atlas comes back (pickled): reading makes
# many short-lived objects (a row, a record, a frame per file), and made here, among the sessions'
# own, they would leave the server's memory fragmented, and high, after the data is gone
# (tests/test_memory.py). Below it (the shipped data is ~0.6 MB) the child's start is not worth it.
LOAD_APART_BYTES = 4 * 1024 * 1024
_CHILD = (
    "import pickle, sys\n"
    "from pathlib import Path\n"
    "from dashboard.core.data import load_atlas_partial\n"
    "sys.stdout.buffer.write(pickle.dumps(load_atlas_partial(Path(sys.argv[1])), protocol=5))\n"
)


def _load_apart(folder: Path) -> tuple[Atlas | None, list[Problem]] | None:
    """``load_atlas_partial(folder)`` in a child process; None when that fails (then read here)."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(folder)],
            cwd=paths.ROOT, capture_output=True, timeout=600, check=True,
        )  # fmt: skip
        return pickle.loads(done.stdout)  # our own code's output, not the data's
    except (OSError, subprocess.SubprocessError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
        _LOG.warning("reading the data in a child process failed (%s); reading it here", exc)
        return None


_loaded: dict[str, tuple] = {}  # data folder -> the stamp of the atlas cached for it
_loaded_lock = threading.Lock()


def load() -> tuple[Atlas | None, list[Problem]]:
    """The atlas (what is valid of it) and every problem found; reloaded when a data file changes.

    When the files change, everything cached from the old data goes at once (the atlas, and every
    selection, table, map and briefing, all of them keyed by the data): at most the atlas a session
    is drawing at that moment stays until its run ends, never a cache of old copies. The new atlas is
    built before the old one is dropped, so the memory the old one held is freed whole and can go
    back to the system (tests/test_memory.py)."""
    folder = paths.data_dir()
    key, stamp = str(folder), _stamp(folder)
    out = _load(key, stamp)
    with _loaded_lock:
        before = _loaded.get(key)
        _loaded[key] = stamp
    if before is not None and before != stamp:
        forget_data(key, before)
        _release_memory()
        # Sessions closed while showing the old data keep their last messages (a large map among them)
        # until Streamlit drops them (server.disconnectedSessionTTL): release again once they are gone.
        ttl = float(st.get_option("server.disconnectedSessionTTL") or 0)
        later = threading.Timer(ttl + 5, _release_after_closed_sessions)
        later.daemon = True
        later.start()
    return out


def forget_data(folder: str | None = None, stamp: tuple | None = None) -> None:
    """Drop what was cached from old data: the atlas of ``folder`` at ``stamp`` (every atlas when not
    given), every shared selection (``_select_cached``) and all st.cache_data entries (in this app each
    of them is a table, map or briefing of the data, keyed by its stamp). The base map's arguments and
    the static assets do not depend on the data and stay."""
    if folder is None:
        _load.clear()
    else:
        _load.clear(folder, stamp)
    _select_cached.clear()
    st.cache_data.clear()


def _memory_policy() -> None:
    """Allocators that give memory back: Arrow's system pool instead of mimalloc (which kept ~40 MB
    of a large file's strings after it was gone), and at most two glibc arenas for the script
    threads (one per thread otherwise, each keeping what it once held). Once per process, before the
    first atlas is loaded; measured by tests/test_memory.py."""
    try:
        import pyarrow

        pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, 2)  # M_ARENA_MAX
        # M_MMAP_THRESHOLD fixed at 128 KiB: a block that large always gets its own mapping, given back
        # when freed. glibc otherwise raises the threshold to the largest block freed (up to 32 MB),
        # and a large file's columns then land in the heap, where a few survivors pin them.
        libc.mallopt(-3, 128 * 1024)
    except (OSError, AttributeError):  # not glibc
        pass


_memory_policy()


def _release_after_closed_sessions() -> None:
    """Drop the sessions closed while they showed the old data (Streamlit would only when another
    session closes), then hand the memory back."""
    expire_closed_sessions()
    _release_memory()


def _release_memory() -> None:
    """Collect the old atlas now and hand the memory it used back to the system: Arrow's pool (pandas'
    strings) and glibc's heap keep freed memory for reuse otherwise, and a large file once loaded
    would hold the server's memory high after it is gone (bench: `python -m bench --only memory`)."""
    gc.collect()
    try:
        import pyarrow

        pyarrow.default_memory_pool().release_unused()
    except (ImportError, AttributeError):  # pragma: no cover (pandas without Arrow)
        pass
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


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
    return repr((data_key, f.view()))


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
    scene = atlas.scene(s.get("scene"))
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
    if not page_head_installed():  # the atlas's launcher puts it in the page's HTML (server.py)
        st.html(BASE_CSS)
    if f.present:
        st.html(PRESENTATION_CSS)
    return f


def scene_page(atlas: Atlas, scene_id: str | None) -> str | None:
    """The page of a scene (None for no scene or an unknown one)."""
    scene = atlas.scene(scene_id)
    return scene.page if scene else None


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


def end_run() -> None:
    """Forget this run's context (app.py calls it when the page is drawn): an idle session then holds
    no reference to an atlas that a data change has replaced."""
    st.session_state.pop("_context", None)


def make_context(atlas: Atlas, f: Filters) -> Context:
    """The context of ``f`` on ``atlas``: the selection from the cache (per filters and data stamp)."""
    folder = paths.data_dir()
    data_key = (str(folder), _stamp(folder))
    selection = _select_cached(atlas, _cache_key(data_key, f), f.view())
    return Context(atlas, f, selection, data_key)


def build_context(atlas: Atlas, f: Filters) -> Context:
    """This run's context, for the page to read with ``context()`` (forgotten by ``end_run``)."""
    ctx = make_context(atlas, f)
    st.session_state["_context"] = ctx
    return ctx


def later(build: Callable[[Context], T], ctx: Context) -> Callable[[], T]:
    """``build(ctx)``, run when a download is clicked rather than on every run.

    Between the run and the click, Streamlit keeps the callable for the session (idle tabs included):
    it holds only the filters, and the context is made again from the atlas in the cache when it is
    called, so no session keeps an old atlas alive. ``build`` must be a module-level function (or a
    ``functools.partial`` of one): a lambda in a page script would keep the page's globals, the atlas
    among them."""
    return functools.partial(_build_now, build, ctx.filters)


def _build_now(build: Callable[[Context], T], f: Filters) -> T:
    atlas, _ = load()
    if atlas is None:  # the data broke since the page was drawn: the page now says why
        raise RuntimeError("the data cannot be read")
    return build(make_context(atlas, f))


@st.cache_data(show_spinner=False, max_entries=32)
def _standalone_map(_ctx: Context, key: str, lang: str) -> str:  # noqa: ARG001 (cache key)
    # a file for offline use: outlines, no basemap
    return standalone_html(_ctx.selection.points, lang=lang, atlas=_ctx.atlas, basemap=False)


def standalone_map_html(ctx: Context) -> str:
    """The filtered map as one HTML file with Leaflet inlined (works offline); cached per selection."""
    return _standalone_map(ctx, ctx.cache_key, ctx.lang)


@st.cache_data(show_spinner=False, max_entries=16)
def _briefing(_ctx: Context, key: str, today: date) -> bytes:  # noqa: ARG001 (cache key)
    from dashboard.outputs.briefing import briefing_html

    return briefing_html(_ctx.atlas, _ctx.filters.view(), today=today).encode("utf-8")


def briefing_bytes(ctx: Context) -> bytes:
    """The briefing pack of the context's filters, made today; cached per selection and day."""
    return _briefing(ctx, ctx.cache_key, date.today())


@st.cache_data(show_spinner=False, max_entries=8)
def _scenes(_atlas: Atlas, lang: str, key: tuple, today: date) -> bytes:  # noqa: ARG001 (cache key)
    from dashboard.outputs.briefing import scenes_html

    return scenes_html(_atlas, lang=lang, today=today).encode("utf-8")


def scenes_bytes(ctx: Context) -> bytes:
    """The scenes pack (every scene of data/scenes.yaml, stepped with the keys) in the context's
    language, made today; cached per language, data stamp and day."""
    return _scenes(ctx.atlas, ctx.lang, ctx.data_key, date.today())


# The tables the pages show and download, each cached per selection and language.
_TABLES: dict[str, Callable[[Atlas, Selection, str], pd.DataFrame]] = {
    "places": tables.places_table,
    "several_networks": tables.several_networks_table,
    "organisations": tables.organisations_table,
    "sources": lambda atlas, _sel, lang: tables.sources_table(atlas, lang),
    "events": tables.events_table,
    "membership": tables.membership_table,
}


@st.cache_data(show_spinner=False, max_entries=128)
def _table(_atlas: Atlas, _sel: Selection, name: str, key: str, lang: str) -> pd.DataFrame:  # noqa: ARG001
    return _TABLES[name](_atlas, _sel, lang)


def table(name: str) -> Callable[[Context], pd.DataFrame]:
    """The builder of table ``name`` (a key of ``_TABLES``) for a context, fit for ``later``."""
    return functools.partial(_named_table, name)


def _named_table(name: str, ctx: Context) -> pd.DataFrame:
    return _table(ctx.atlas, ctx.selection, name, ctx.cache_key, ctx.lang)


places_table = table("places")
several_networks_table = table("several_networks")
organisations_table = table("organisations")
sources_table = table("sources")
events_table = table("events")
membership_table = table("membership")
