"""The map component (dashboard.atlasmap.builder): the base map, the selection's data, the rendered page,
and the browser code drawing it offline (Chromium)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from dashboard.atlasmap import assets
from dashboard.atlasmap import builder as mapping
from dashboard.core.colours import org_colour
from dashboard.core.places import POINT_COLUMNS, Membership
from dashboard.core.schema import Office, popup_fields

CDN_HOSTS = ("cdn.jsdelivr", "cdnjs", "unpkg", "code.jquery", "bootstrapcdn", "netdna", "fontawesome")

HOSTILE_NAME = "<script>alert('name')</script>"
HOSTILE_ADDRESS = '<img src=x onerror="alert(1)">'
HOSTILE_JA = "`${alert(2)}` \\ 東京"
HOSTILE_TEMPLATE = "{{ 7 * 191 }} {% if true %}jinja{% endif %}"


def place(**values) -> dict:
    """A row of the places table: every column, with a Bonn office's values unless given."""
    row = dict.fromkeys(POINT_COLUMNS)
    row.update(
        id="iclei-bonn", point_type="office", organisation="iclei", organisations=("iclei",), n_networks=1,
        name_en="ICLEI World Secretariat", name_ja="イクレイ世界事務局", names_by="source",
        kind="headquarters", address="Kaiser-Friedrich-Str. 7, 53113 Bonn", city="Bonn", city_ja="ボン",
        country="DE", region="europe", website="https://iclei.org", lat=50.73, lon=7.09,
        precision="address", provider="manual", source="src-a", as_of="2025", memberships=(),
    )  # fmt: skip
    row.update(values)
    return row


def member(pid: str, orgs: tuple[str, ...], **values) -> dict:
    ms = tuple(
        Membership(organisation=o, sources=("src-a",), since="2006" if o == "c40" else None) for o in orgs
    )
    defaults = {"address": None, "website": None, "precision": "city", "source": "src-a", "kind": "member"}
    return place(
        **{**defaults, **values},
        id=pid, point_type="member", organisation=orgs[0], organisations=orgs, n_networks=len(orgs),
        memberships=ms,
    )  # fmt: skip


@pytest.fixture
def points() -> pd.DataFrame:
    """An office, a former office, a city in two networks and a point with hostile text everywhere."""
    rows = [
        place(),
        place(
            id="iclei-toronto",
            name_en="ICLEI World Secretariat (Toronto)",
            name_ja=None,
            since="1991",
            until="2010",
            city="Toronto",
            city_ja=None,
            country="CA",
            lat=43.65,
            lon=-79.38,
            point_type="former-office",
            address_corrected="Toronto City Hall",
        ),
        member(
            "city-jp-tokyo",
            ("c40", "anmc21"),
            name_en="Tokyo",
            name_ja="東京",
            city="Tokyo",
            city_ja="東京",
            country="JP",
            lat=35.69,
            lon=139.69,
        ),
        member(
            "evil-1",
            ("can",),
            name_en=HOSTILE_NAME,
            name_ja=HOSTILE_JA,
            city=HOSTILE_TEMPLATE,
            country="AU",
            lat=-33.87,
            lon=151.21,
            website="javascript:alert(4)",
            address=HOSTILE_ADDRESS,
        ),
    ]
    return pd.DataFrame(rows, columns=list(POINT_COLUMNS))


def _page(points: pd.DataFrame, **kwargs) -> str:
    return mapping.map_html(mapping.build_map(points, **kwargs))


def _data(page: str) -> dict:
    shown = mapping.shown_data(page)
    assert len(shown) == 1, "not one selection in the page"
    return shown[0]


def _decoded(data: dict, field: str) -> list:
    col = data["columns"][field]
    return [col["dict"][c] for c in col["codes"]] if isinstance(col, dict) else col


# ---------------------------------------------------------------- the selection's data
def test_every_point_once_with_its_organisations_in_legend_order(points):
    data = mapping.selection_data(points, "en")
    assert data["columns"]["id"] == list(points["id"])
    assert [o["id"] for o in data["orgs"]] == ["anmc21", "c40", "can", "iclei"]  # by short name
    orgs = [[data["orgs"][i]["id"] for i in idx] for idx in _decoded(data, "orgs")]
    assert orgs == [["iclei"], ["iclei"], ["c40", "anmc21"], ["can"]]
    assert all(o["colour"] == org_colour(o["id"]) for o in data["orgs"])
    assert _decoded(data, "type") == ["office", "former-office", "member", "member"]


def test_fields_are_read_by_name_and_the_popup_names_its_rows(points):
    data = mapping.selection_data(points, "en")
    assert data["fields"] == list(mapping.FIELDS)
    assert set(data["columns"]) == set(mapping.FIELDS)
    rows = {r["field"]: r for r in data["popup"]}
    assert set(rows) <= set(mapping.FIELDS)
    assert rows["website"]["type"] == "url"
    assert rows["memberships"]["type"] == "memberships"
    for field in popup_fields(Office):  # a column marked for the popup needs no code of its own
        assert rows[field]["label"]
    assert _decoded(data, "address_corrected")[1] == "Toronto City Hall"


def test_text_is_in_the_chosen_language_with_the_other_name_beside_it(points):
    ja = mapping.selection_data(points, "ja")
    en = mapping.selection_data(points, "en")
    assert ja["columns"]["name"][2] == "東京"
    assert ja["columns"]["name2"][2] == "Tokyo"
    assert en["columns"]["name"][2] == "Tokyo"
    assert en["columns"]["name"][1] == "ICLEI World Secretariat (Toronto)"
    assert ja["columns"]["name2"][1] is None  # no Japanese name: shown once
    assert _decoded(ja, "period")[1] == "1991〜2010年" or _decoded(ja, "period")[1].startswith("1991")
    assert _decoded(en, "period")[1] == "1991–2010"
    assert _decoded(ja, "place")[2] == "東京、JP"  # no atlas: the country code; with one, its name
    # a source's as-of date in each language's order and brackets (the browser fills the template)
    assert {r["field"]: r for r in ja["popup"]}["source"]["as_of_template"] == "{text}（{date}時点）"
    assert {r["field"]: r for r in en["popup"]}["source"]["as_of_template"] == "{text} (as of {date})"
    assert _decoded(ja, "as_of")[0] == "2025年"
    assert _decoded(en, "as_of")[0] == "2025"


def test_a_city_in_two_networks_lists_both_with_dates(points):
    data = mapping.selection_data(points, "en")
    tokyo = _decoded(data, "memberships")[2]
    names = [data["orgs"][m["org"]]["id"] for m in tokyo]
    assert names == ["c40", "anmc21"]
    assert tokyo[0]["span"] == "since 2006"
    assert "span" not in tokyo[1]


def test_links_only_for_http_addresses(points):
    data = mapping.selection_data(points, "en")
    assert _decoded(data, "website")[0] == "https://iclei.org"
    assert _decoded(data, "website")[3] is None  # javascript: dropped


def test_view_fits_the_points_and_an_empty_map_shows_the_world(points):
    data = mapping.selection_data(points, "en")
    assert data["fit"] == [[-33.87, -79.38], [50.73, 151.21]]
    empty = mapping.selection_data(points.iloc[0:0], "en")
    assert empty["fit"] is None
    assert empty["zoom"] == mapping.DEFAULT_ZOOM
    one = mapping.selection_data(points.iloc[[0]], "en")
    assert (one["fit"], one["zoom"]) == (None, mapping.SINGLE_POINT_ZOOM)


def test_rows_without_coordinates_are_left_out(points):
    broken = points.copy()
    broken.loc[0, "lat"] = None
    broken.loc[1, "lon"] = 500
    assert mapping.selection_data(broken, "en")["columns"]["id"] == ["city-jp-tokyo", "evil-1"]


def test_missing_columns_and_unknown_languages_are_clear_errors(points):
    with pytest.raises(ValueError, match="lacks column"):
        mapping.selection_data(points.drop(columns=["memberships"]), "en")
    with pytest.raises(ValueError, match="lang must be one of"):
        mapping.base_map("fr")


# ---------------------------------------------------------------- the page
@pytest.mark.parametrize("mode", ["served", "inline"])
def test_no_cdn_anywhere(points, mode):
    page = _page(points, assets=mode, basemap=False)
    assert not [h for h in CDN_HOSTS if h in page]


def test_served_assets_are_absolute_local_links(points):
    page = _page(points, assets="served")
    for name in assets.BUNDLES:  # Leaflet, supercluster and the map's code and styles, one file each
        assert f'"{assets.STATIC_URL}/{name}"' in page or f"'{assets.STATIC_URL}/{name}'" in page, name
    assert "jquery" not in page.lower()  # nothing the map does not use


def test_standalone_page_inlines_every_asset_and_the_outline(points):
    page = mapping.standalone_html(points, lang="ja")
    assert "/app/static" not in page
    assert assets.asset_text("atlas-map.js")[:200] in page
    assert "Supercluster" in page
    assert '"outline":{"type":"FeatureCollection"' in page
    assert mapping.shown_points(page) == len(points)


@pytest.mark.parametrize("fragment", [HOSTILE_NAME, HOSTILE_ADDRESS, "</script", "{{ 7", "${alert"])
def test_hostile_text_is_data_in_json_never_markup(points, fragment):
    page = _page(points, lang="en", basemap=False)
    raw = page[page.index(mapping.SHOW_MARK) :]
    raw = raw[: raw.index("));\n")]  # the selection's data as the page carries it
    assert fragment not in raw
    data = _data(page)
    assert HOSTILE_NAME in data["columns"]["name"]  # kept as text, decoded back exactly
    assert HOSTILE_TEMPLATE in _decoded(data, "place")[3]


def test_base_map_is_the_same_for_every_selection(points):
    def script(m) -> str:
        return re.sub(r"_[0-9a-f]{32}", "", mapping.map_html(m))

    a = mapping.base_map("ja", report=True, wait_selector=".x")
    b = mapping.base_map("ja", report=True, wait_selector=".x")
    assert script(a) == script(b)
    assert mapping.SHOW_MARK not in script(a)  # no data in the base map
    assert '"waitSelector":".x"' in script(a)
    assert '"report":true' in script(a)


# ---------------------------------------------------------------- clicks
def test_point_at_finds_clicked_rows(points):
    row = mapping.point_at(points, 35.69, 139.69)
    assert row["id"] == "city-jp-tokyo"
    assert mapping.point_at(points, 0, 0) is None
    assert mapping.point_at(points, None, 5) is None
    assert mapping.point_at(points, "x", 5) is None


# ---------------------------------------------------------------- in a real browser
def _open(browser, tmp_path, html: str, viewport=(1200, 800)):
    path = tmp_path / "map.html"
    path.write_text(html, encoding="utf-8")
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.route(re.compile(r"^https?://"), lambda route: route.abort())  # no network at all
    page.goto(path.as_uri())
    page.wait_for_function("window.atlasMap && window.atlasMap.state().drawn > 0", timeout=15_000)
    return context, page, dialogs


@pytest.mark.browser
def test_browser_draws_every_point_offline_and_popups_stay_text(tmp_path, points, browser):
    context, page, dialogs = _open(browser, tmp_path, mapping.standalone_html(points, lang="en"))
    try:
        state = page.evaluate("window.atlasMap.state()")
        assert state["drawn"] == len(points)
        assert page.evaluate("document.querySelectorAll('.leaflet-atlas-land-pane path').length") > 100
        legend = page.locator(".atlas-legend").inner_text()
        for org in ("c40", "anmc21", "can", "iclei"):  # (no atlas given: organisations by id)
            assert org in legend
        assert page.evaluate("window.atlasMap.openPoint('evil-1')") is True
        popup = page.wait_for_selector(".leaflet-popup-content", timeout=10_000)
        text = popup.inner_text()
        assert HOSTILE_NAME in text
        assert HOSTILE_ADDRESS in text
        assert HOSTILE_TEMPLATE in text
        assert page.locator(".leaflet-popup-content a").count() == 0  # javascript: link dropped
        assert page.locator(".leaflet-popup-content img, .leaflet-popup-content script").count() == 0
        assert page.evaluate("window.atlasMap.openPoint('city-jp-tokyo')") is True
        # (the previous popup fades out for a moment: read the newest one)
        page.wait_for_function(
            "[...document.querySelectorAll('.leaflet-popup-content')].pop()?.innerText.includes('anmc21')"
        )
        tokyo = page.locator(".leaflet-popup-content").last.inner_text()
        assert "c40" in tokyo
        assert "since 2006" in tokyo
        assert dialogs == []
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"))
        raise
    finally:
        context.close()


@pytest.mark.browser
def test_browser_legend_hides_an_organisation_and_former_offices(tmp_path, points, browser):
    context, page, _ = _open(browser, tmp_path, mapping.standalone_html(points, lang="en"))
    try:
        before = page.evaluate("window.atlasMap.state().shown")
        page.locator(".atlas-legend input[data-kind='former']").uncheck()
        assert page.evaluate("window.atlasMap.state().shown") == before - 1
        orgs = mapping.selection_data(points, "en")["orgs"]
        can = next(i for i, o in enumerate(orgs) if o["id"] == "can")
        page.locator(f".atlas-legend input[data-org='{can}']").uncheck()
        assert page.evaluate("window.atlasMap.state().shown") == before - 2
    finally:
        context.close()


@pytest.mark.browser
def test_browser_legend_starts_collapsed_on_a_phone(tmp_path, points, browser):
    context, page, _ = _open(
        browser, tmp_path, mapping.standalone_html(points, lang="ja"), viewport=(390, 844)
    )
    try:
        assert "atlas-legend-collapsed" in page.locator(".atlas-legend").get_attribute("class")
    finally:
        context.close()
