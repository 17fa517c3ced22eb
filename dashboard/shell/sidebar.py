"""The sidebar's shared filters, and "map first": a shared link to the map draws the map before them."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import streamlit as st

from dashboard.core.data import Atlas
from dashboard.core.figures import short_name
from dashboard.core.filters import YEAR_MAX, YEAR_MIN
from dashboard.core.text import DEFAULT_LANG, LANGS, language_name, t
from dashboard.shell.state import Context, reset_filters, shows_map
from dashboard.shell.widgets import option_labels

# If the map never reports that it is drawn (a script error in its frame), the filters come anyway
# after this many seconds (ATLAS_FILTERS_FALLBACK_S; the browser tests lengthen it to tell the two
# apart).
FILTERS_FALLBACK_S = float(os.environ.get("ATLAS_FILTERS_FALLBACK_S", "3"))
# The sidebar container that stands in for the filters until the map is drawn (its CSS class,
# .st-key-atlas-filters-wait, is what the map's frame looks for: atlas-map.js's config.waitSelector).
FILTERS_WAIT_KEY = "atlas-filters-wait"


def map_first(page_path: str, ctx: Context) -> bool:
    """Whether this run holds the filters back for the map: the session's first run (a link was
    opened), on the map page, with points to draw."""
    return bool(st.session_state.get("_first_run")) and page_path == "map" and shows_map(ctx)


def asked_page() -> str:
    """The page this run's address names (its last part: ``map`` in ``/map`` or ``/atlas/map``), known
    before the navigation is drawn (``map_first`` decides how it is drawn)."""
    return urlsplit(st.context.url or "").path.rstrip("/").rsplit("/", 1)[-1]


def draw_filters(atlas: Atlas, *, map_first: bool = False) -> None:
    """The sidebar's filters (call from app.py before ``pg.run()``).

    Map first (``map_first``): when a session opens on the map page (a shared link), the widgets'
    code would load in the browser together with the map's and hold the markers back (by about a
    third on this machine, see bench/). The sidebar then says the filters follow, and the map's
    frame reruns the app once its markers are drawn (``window.atlasMap.announce``, which looks for
    this placeholder), which draws them with the link's values. If the map never reports, a
    fragment reruns the app after FILTERS_FALLBACK_S.
    """
    lang = st.session_state.get("lang", DEFAULT_LANG)
    if map_first:
        with st.sidebar, st.container(key=FILTERS_WAIT_KEY):
            st.subheader(t("filters", lang))
            st.caption(t("filters_after_map", lang))
            _filters_fallback()
        return
    vocab = atlas.vocabulary
    orgs = atlas.organisations
    with st.sidebar:
        st.radio(
            t("language", lang),
            list(LANGS),
            key="lang",
            horizontal=True,
            format_func=language_name,
        )
        lang = st.session_state["lang"]
        st.subheader(t("filters", lang))
        st.slider(
            t("founding_years", lang), YEAR_MIN, YEAR_MAX, key="years", help=t("year_filter_note", lang)
        )

        # Each option's label, as a dict: the widget keeps its format_func for the session, and a
        # closure over the atlas would keep an atlas that a data change has replaced.
        choices = (  # (widget key, label, {option: how it is shown})
            ("region", "regions", {v: atlas.label("regions", v, lang) for v in vocab.regions}),
            (
                "kind",
                "kinds",
                {v: atlas.label("organisation_kinds", v, lang) for v in vocab.organisation_kinds},
            ),
            ("org", "organisations", {o: short_name(atlas, o, lang) for o in orgs["id"]}),
        )
        for key, label, shown in choices:
            st.multiselect(
                t(label, lang),
                list(shown),
                key=key,
                format_func=option_labels(shown),
                placeholder=t("all", lang),
            )
        st.button(t("reset_filters", lang), on_click=reset_filters)
        st.toggle(t("presentation_mode", lang), key="present", help=t("presentation_help", lang))
        st.caption(t("share_link_hint", lang))


@st.fragment(run_every=FILTERS_FALLBACK_S)
def _filters_fallback() -> None:
    waited = st.session_state.get("_filters_waited", False)
    st.session_state["_filters_waited"] = True
    if waited:  # the map did not rerun the app in time: draw the filters now
        st.rerun()


# The selector the map's frame looks for on the page (window.atlasMap's config.waitSelector).
FILTERS_WAIT_SELECTOR = f".st-key-{FILTERS_WAIT_KEY}"
