"""The stage: presentation mode's scenes (data/scenes.yaml), the presenter's keys, the screen's size.

* The keys and the size come from a small custom component with no data in it: a local folder
  (``stage_frontend/``: ``index.html`` and ``stage.js``) declared with ``declare_component(path=...)``.
  Its hidden frame listens for the presenter's keys on the app's page (arrows, Page Up/Down, a
  clicker, Home/End, N for the notes) and measures the page's main visual (``main_visual``), and
  sends both back; :func:`_on_stage` acts on them before the app runs again.
* A scene is applied (:func:`go_to_scene`) by putting its filters into the sidebar's widgets (the
  shared filters, ``dashboard.shell.state``), remembering its page (``app.py`` switches to it) and
  its id (written into the URL as ``scene=<id>``, so a link opens the scene).
* The charts and the map are sized from the measured screen (:func:`chart_space`, :func:`map_height`):
  in presentation mode the main visual fills the screen below the one-line title.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from dashboard.core.figures import Space
from dashboard.core.filters import scene_filters
from dashboard.core.safety import escape_markdown, markdown_lines
from dashboard.core.schema import Scene
from dashboard.core.text import DEFAULT_LANG, pick, t
from dashboard.shell import state

FRONTEND = Path(__file__).parent / "stage_frontend"  # index.html + stage.js: no data, no template
STAGE_KEY = "atlas_stage"
MAIN_VISUAL = "main-visual"  # the key of each page's main visual (its CSS class: .st-key-main-visual)
BOTTOM_GAP = 12  # pixels left under the main visual in presentation mode
# Until the browser has said how large it is: a 1280 x 720 projector, or a laptop with the sidebar.
DEFAULT_PRESENT = {"width": 1232, "height": 720, "top": 132}
DEFAULT_SCREEN_WIDTH = 1040

_component = components.declare_component("atlas_stage", path=str(FRONTEND))


# ---------------------------------------------------------------------------------- scenes
def scenes() -> list[Scene]:
    atlas = state.load()[0]
    return list(atlas.scenes) if atlas is not None else []


def current_scene(scene_id: str | None) -> Scene | None:
    atlas = state.load()[0]
    return atlas.scene(scene_id) if atlas is not None else None


def scene_index(scene_id: str | None) -> int:
    """The scene's place in the list (0-based), -1 when no scene is shown."""
    return next((i for i, s in enumerate(scenes()) if s.id == scene_id), -1)


def go_to_scene(index: int) -> None:
    """Show scene ``index`` (clamped to the list): its filters into the widgets, its page next.
    Call from a callback (before the app runs), as the keys and the buttons do."""
    all_scenes = scenes()
    if not all_scenes:
        return
    scene = all_scenes[max(0, min(index, len(all_scenes) - 1))]
    lang = st.session_state.get("lang", DEFAULT_LANG)
    state.apply_filters(scene_filters(scene, lang=lang, present=True))
    st.session_state.pop(f"compare_widget_{lang}", None)  # the Compare page takes the scene's choice
    st.session_state["_goto_page"] = scene.page


def step(delta: int) -> None:
    """The next (1) or previous (-1) scene; from no scene, the first."""
    i = scene_index(st.session_state.get("scene"))
    go_to_scene(0 if i < 0 else i + delta)


def toggle_notes() -> None:
    st.session_state["notes_open"] = not st.session_state.get("notes_open", False)


def _on_stage() -> None:
    value = st.session_state.get(STAGE_KEY) or {}
    event = value.get("event")
    if not event or event == st.session_state.get("_stage_event"):
        return
    st.session_state["_stage_event"] = event
    size = value.get("viewport")
    if isinstance(size, dict):
        st.session_state["_viewport"] = {
            k: (int(v) if isinstance(v, (int, float)) else None)
            for k, v in size.items()
            if k in DEFAULT_PRESENT
        }
    if isinstance(value.get("go"), int):
        go_to_scene(value["go"])
    if value.get("notes") == "toggle":
        toggle_notes()


MAP_HEIGHT = 640  # the map's height off a projector, when the screen has room for it
CHART_PAGES = ("timeline", "membership")  # laid out for the measured width


def _measure(present: bool, page: str) -> str | int:
    """What the page needs measured: "all" (presentation mode; a chart laid out for the width), "none",
    or the room the map needs under its top (the screen is reported only when it has less: a phone).
    A report costs the session a script run, which a shared link's every attendee would pay."""
    if present or page in CHART_PAGES:
        return "all"
    return MAP_HEIGHT + BOTTOM_GAP if page == "map" else "none"


def stage(present: bool, scene_id: str | None, slot, page: str = "") -> None:
    """Draw the stage's hidden frame into ``slot`` (an ``st.empty()`` made first thing, so the frame
    keeps its place on every page and run); ``page``: the page shown (what it needs measured)."""
    with slot, st.container(key="atlas-stage"):
        _component(
            measure=_measure(present, page),
            keys=bool(present and scenes()),
            index=scene_index(scene_id),
            total=len(scenes()),
            notes=bool(st.session_state.get("notes_open")),
            known=st.session_state.get("_viewport"),
            key=STAGE_KEY,
            default=None,
            on_change=_on_stage,
            tab_index=-1,  # hidden: never a stop for the keyboard
        )


# ---------------------------------------------------------------------------------- sizes
def _viewport(present: bool) -> dict:
    seen = st.session_state.get("_viewport") or {}
    if present:
        return {**DEFAULT_PRESENT, **{k: v for k, v in seen.items() if v}}
    return {
        "width": seen.get("width") or DEFAULT_SCREEN_WIDTH,
        "height": seen.get("height"),
        "top": seen.get("top"),
    }


def visual_height(present: bool) -> int | None:
    """The height the main visual may take: in presentation mode the screen below the title, else None."""
    if not present:
        return None
    v = _viewport(True)
    return max(160, v["height"] - (v["top"] or DEFAULT_PRESENT["top"]) - BOTTOM_GAP)


def chart_space(ctx: state.Context) -> Space:
    """Where a chart is drawn: the main visual's width; in presentation mode the screen's height
    below the title, in type a room can read (16 px at 720 lines, 22 px at 1080 and up)."""
    present = ctx.filters.present
    v = _viewport(present)
    if not present:
        return Space(width=int(v["width"]), height=None, font=13)
    font = max(16, min(22, round(v["height"] / 44)))
    return Space(width=int(v["width"]), height=visual_height(True), font=font)


def map_height(ctx: state.Context) -> int:
    """The map's height: in presentation mode the screen below the title; else 640 px, or less on a
    short screen (a phone: the whole map, its legend and buttons, on the screen at once)."""
    if ctx.filters.present:
        return visual_height(True)
    seen = st.session_state.get("_viewport") or {}
    if seen.get("height") and seen.get("top"):
        return int(max(320, min(MAP_HEIGHT, seen["height"] - seen["top"] - BOTTOM_GAP)))
    return MAP_HEIGHT


def main_visual():
    """The container every page puts its main visual in (measured by the stage, fitted by the tests)."""
    return st.container(key=MAIN_VISUAL)


def filler():
    """Inside the main visual, the part that takes the rest of the screen (its height:
    :func:`visual_height`), when something stands above it (the overview's numbers)."""
    return st.container(key="fill")


# ---------------------------------------------------------------------------------- the title bar
def title_bar(ctx: state.Context, title: str) -> None:
    """The page's title. In presentation mode one line: the scene's title (or the page's), the scene
    controls with the counter "3 / 7", the notes button and the way out; the notes below when open."""
    lang = ctx.lang
    if not ctx.filters.present:
        st.title(title, anchor=False)
        return
    scene = current_scene(ctx.filters.scene)
    shown = pick(scene.title_ja, scene.title_en, lang) if scene else title
    total = len(scenes())
    with st.container(key="scene-bar", horizontal=True, vertical_alignment="center", gap="small"):
        st.title(escape_markdown(shown), anchor=False, width="stretch")
        if total:
            i = scene_index(ctx.filters.scene)
            st.button(
                t("scene_previous", lang),
                icon=":material/chevron_left:",
                key="scene_prev",
                on_click=step,
                args=(-1,),
                disabled=i == 0,
                help=t("scene_keys_help", lang),
            )
            counter = (
                t("scene_counter", lang, n=i + 1, total=total)
                if i >= 0
                else t("scene_counter_none", lang, total=total)
            )
            with st.container(key="scene-counter", width="content"):
                st.markdown(escape_markdown(counter))
            st.button(
                t("scene_next", lang),
                icon=":material/chevron_right:",
                key="scene_next",
                on_click=step,
                args=(1,),
                disabled=i == total - 1,
                help=t("scene_keys_help", lang),
            )
            st.button(
                t("scene_notes", lang),
                icon=":material/sticky_note_2:",
                key="scene_notes",
                on_click=toggle_notes,
            )
        st.button(
            t("exit_presentation_short", lang),
            icon=":material/close_fullscreen:",
            key="leave_present",
            on_click=state.leave_presentation,
            help=t("exit_presentation", lang),
        )
    if st.session_state.get("notes_open"):
        with st.container(key="presenter-notes"):
            notes = pick(scene.notes_ja, scene.notes_en, lang) if scene else ""
            st.markdown(markdown_lines(notes) if notes else escape_markdown(t("scene_notes_none", lang)))
            st.caption(escape_markdown(t("scene_keys_help", lang)))
