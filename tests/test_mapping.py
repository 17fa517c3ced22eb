"""The map builder (dashboard.atlasmap.builder), tested on the rendered page as a browser would get it."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from dashboard.atlasmap import builder as mapping
from dashboard.core.colours import org_colour

CDN_HOSTS = ("cdn.jsdelivr", "cdnjs", "unpkg", "code.jquery", "bootstrapcdn", "netdna", "fontawesome")

HOSTILE_NAME = "<script>alert('name')</script>"
HOSTILE_ADDRESS = '<img src=x onerror="alert(1)">'
HOSTILE_JA = "`${alert(2)}` \\ 東京"
HOSTILE_SOURCE = "'\"><svg onload=alert(3)>"
HOSTILE_TEMPLATE = "{{ 7 * 191 }} {% if true %}jinja{% endif %}"


def _point(**overrides):
    row = {
        "id": "iclei-bonn",
        "point_type": "office",
        "organisation": "iclei",
        "org_name_en": "ICLEI – Local Governments for Sustainability",
        "org_name_ja": "イクレイ-持続可能性をめざす自治体協議会",
        "org_short_en": "ICLEI",
        "org_short_ja": "イクレイ",
        "founded_year": 1990,
        "name_en": "ICLEI World Secretariat",
        "name_ja": "イクレイ世界事務局",
        "kind_en": "World secretariat",
        "kind_ja": "世界事務局",
        "address": "Kaiser-Friedrich-Strasse 7, 53113 Bonn",
        "city": "Bonn",
        "city_ja": "ボン",
        "country": "DE",
        "country_en": "Germany",
        "country_ja": "ドイツ",
        "region": "europe",
        "website": "https://iclei.org",
        "lat": 50.7185,
        "lon": 7.1213,
        "precision": "address",
        "source": "iclei-web",
        "source_title": "ICLEI website",
        "as_of": "2025",
    }
    row.update(overrides)
    return row


@pytest.fixture
def points() -> pd.DataFrame:
    """Four points, three organisations; the third point carries hostile strings everywhere."""
    rows = [
        _point(),
        _point(
            id="iclei-tokyo",
            name_en="ICLEI Japan",
            name_ja="イクレイ日本",
            kind_en="National office",
            kind_ja="日本事務所",
            address="東京都千代田区",
            city="Tokyo",
            city_ja="東京",
            country="JP",
            country_en="Japan",
            country_ja="日本",
            lat=35.69,
            lon=139.75,
            website="https://japan.iclei.org/",
        ),
        _point(
            id="evil-1",
            point_type="member",
            organisation="can",
            org_name_en="Climate Action Network",
            org_name_ja="気候行動ネットワーク",
            org_short_en="CAN",
            org_short_ja="CAN",
            founded_year=1989,
            name_en=HOSTILE_NAME,
            name_ja=HOSTILE_JA,
            kind_en="member " + HOSTILE_TEMPLATE,
            kind_ja="会員",
            address=HOSTILE_ADDRESS,
            website="javascript:alert(4)",
            source_title=HOSTILE_SOURCE,
            lat=-33.87,
            lon=151.21,
            precision="city",
        ),
        _point(
            id="c40-london",
            organisation="c40",
            org_name_en="C40 Cities",
            org_name_ja="C40世界大都市気候先導グループ",
            org_short_en="C40",
            org_short_ja="C40",
            founded_year=pd.NA,
            name_en="C40 London office",
            name_ja=None,
            website=None,
            lat=51.5,
            lon=-0.12,
            precision="city",
        ),
    ]
    df = pd.DataFrame(rows)
    df["founded_year"] = df["founded_year"].astype("Int64")
    return df


def _html(points: pd.DataFrame, **kwargs) -> str:
    return mapping.map_html(mapping.build_map(points, **kwargs))


def _cluster_layers(page: str) -> list[str]:
    return re.findall(r"var (\w+) = L\.markerClusterGroup\(", page)


@pytest.mark.parametrize("layer", ["objects", "data"])
def test_one_marker_per_point_and_one_layer_per_organisation(points, layer):
    page = _html(points, layer=layer)
    assert mapping.marker_count(page) == len(points)
    assert len(_cluster_layers(page)) == 3
    overlays = re.search(r"overlays :\s*\{(.*?)\}", page, re.S).group(1)
    for short in ("ICLEI", "CAN", "C40"):
        assert f"{short} (" in overlays
    assert "ICLEI (2)" in page  # count per organisation in the layer control and legend


def test_object_markers_coloured_by_organisation_and_carry_ids(points):
    page = _html(points, layer="objects")
    assert page.count(f'"fillColor": "{org_colour("iclei")}"') == 2
    assert page.count(f'"fillColor": "{org_colour("c40")}"') == 1
    for point_id in points["id"]:
        assert f'"pointId": "{point_id}"' in page


def test_data_layer_rows_carry_ids_and_colours(points):
    page = _html(points, layer="data")
    rows = [
        json.loads(m)
        for m in re.findall(r"/\*atlas-points\*/(\[.*?\]);\n", page)  # one array per organisation
    ]
    assert sorted(r[2] for rs in rows for r in rs) == sorted(points["id"])
    assert f'"fillColor":"{org_colour("can")}"' in page


@pytest.mark.parametrize("assets", ["served", "inline"])
@pytest.mark.parametrize("layer", ["objects", "data"])
def test_no_cdn_anywhere(points, assets, layer):
    page = _html(points, assets=assets, layer=layer).lower()
    for host in CDN_HOSTS:
        assert host not in page, host


def test_served_assets_are_absolute_local_links(points):
    page = _html(points)
    for name in ("leaflet.js", "leaflet.markercluster.js", "jquery.min.js", "leaflet.css"):
        assert f'"/app/static/{name}"' in page
    assert not re.search(r'(src|href)="(?!/app/static/|https?://)[^"#]*\.(js|css)"', page)
    assert '"/app/static/world-110m.json"' in page


def test_served_links_are_what_streamlit_folium_collects(points):
    """streamlit-folium loads each element's default_js/default_css: they must all be local."""
    m = mapping.build_map(points)
    m.get_root().render()
    links = []

    def walk(el):
        links.extend(u for _, u in getattr(el, "default_js", []) + getattr(el, "default_css", []))
        for child in getattr(el, "_children", {}).values():
            walk(child)

    walk(m)
    assert links
    assert all(u.startswith("/app/static/") for u in links), links


@pytest.mark.parametrize("layer", ["objects", "data"])
def test_hostile_strings_never_become_markup(points, layer):
    page = _html(points, layer=layer, lang="en")
    assert HOSTILE_NAME not in page
    assert "<img src=x" not in page
    assert "<svg onload" not in page
    assert "javascript:alert" not in page  # the link is dropped, not just escaped
    assert "${alert" not in page  # no template-literal interpolation
    assert "`${" not in page
    assert "1337" not in page  # {{ 7 * 191 }} was not evaluated by Jinja on the server
    assert "</script><" not in page.replace("</script>\n<", "")  # data never closes a script


def test_popup_escaped_text_present_in_object_mode(points):
    page = _html(points, layer="objects", lang="en")
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "&#96;&#36;&#123;alert(2)&#125;&#96; &#92; 東京" in page
    assert "&#123;&#123; 7 * 191 &#125;&#125;" in page


def test_popup_html_content_and_labels():
    row = _point()
    en = mapping.popup_html(row, "en")
    for text in (
        "ICLEI World Secretariat",
        "イクレイ世界事務局",
        "Organisation",
        "ICLEI – Local Governments for Sustainability (ICLEI)",
        "World secretariat (office)",
        "Kaiser-Friedrich-Strasse 7, 53113 Bonn",
        "Bonn, Germany",
        '<a href="https://iclei.org" target="_blank" rel="noopener noreferrer">',
        "1990",
        "exact address",
        "ICLEI website (as of 2025)",
    ):
        assert text in en, text
    ja = mapping.popup_html(row, "ja")
    for text in ("組織", "世界事務局", "ボン、ドイツ", "住所(正確)", "出典", "2025 時点"[-2:]):
        assert text in ja, text
    assert ja.index("イクレイ世界事務局") < ja.index("ICLEI World Secretariat")  # Japanese first


def test_popup_drops_non_http_links():
    for url in ("javascript:alert(1)", "data:text/html,x", "ftp://x.org", 'https://x.org/"onmouseover=1'):
        assert "<a " not in mapping.popup_html(_point(website=url), "en"), url
    assert mapping.safe_url(" https://ok.example/path?q=1 ") == "https://ok.example/path?q=1"


def test_tooltip_both_names_org_kind_escaped():
    tip = mapping.tooltip_html(_point(name_en=HOSTILE_NAME), "ja")
    assert tip.startswith("<b>イクレイ世界事務局</b><br>&lt;script&gt;")
    assert "イクレイ" in tip
    assert "世界事務局 (事務所)" in tip


def test_escape_text_covers_template_literal_and_jinja():
    expected = "a&#96;b&#36;&#123;c&#125;&#92;d&#123;&#123;e&#125;&#125;"
    assert mapping.escape_text("a`b${c}\\d{{e}}") == expected
    assert mapping.escape_text(None) == ""
    assert mapping.escape_text(float("nan")) == ""
    assert mapping.escape_text(1990.0) == "1990"


def test_legend_lists_each_organisation_with_its_colour(points):
    page = _html(points, lang="ja")
    legend = re.search(r'div\.innerHTML = ("(?:[^"\\]|\\.)*");', page).group(1)
    legend = json.loads(legend)
    assert legend.startswith("<b>組織</b>")
    for org, short, n in (("iclei", "イクレイ", 2), ("can", "CAN", 1), ("c40", "C40", 1)):
        assert f'background:{org_colour(org)}"></span>{short} <span class="atlas-count">({n})' in legend


def test_legend_and_layer_control_escape_organisation_names(points):
    points.loc[points["organisation"] == "c40", "org_short_en"] = "<b onclick=x>C40</b>"
    page = _html(points)
    assert "<b onclick" not in page
    legend = json.loads(re.search(r'div\.innerHTML = ("(?:[^"\\]|\\.)*");', page).group(1))
    assert "&lt;b onclick=x&gt;C40&lt;/b&gt; <span" in legend
    overlays = re.search(r"overlays :\s*\{(.*?)\}", page, re.S).group(1)
    names = [json.loads(f'"{k}"') for k in re.findall(r'"((?:[^"\\]|\\.)*)" :', overlays)]
    assert any(n.endswith("&lt;b onclick=x&gt;C40&lt;/b&gt; (1)") for n in names), names  # shown as HTML


@pytest.mark.parametrize("n", [4, 301])
def test_threshold_switches_layer_and_keeps_popups(points, n):
    many = pd.concat([points] * (n // len(points) + 1), ignore_index=True).head(n)
    many["id"] = [f"p{i}" for i in range(n)]
    page = _html(many, threshold=300)
    assert mapping.marker_count(page) == n
    if n > 300:
        assert "bindPopup(A.popup" in page
        assert "bindTooltip(A.tooltip" in page
        assert "L.popup(" not in page
    else:
        assert page.count("L.popup(") == n
        assert "/*atlas-points*/" not in page
    assert "javascript:alert" not in page
    assert HOSTILE_NAME not in page


def test_data_layer_popup_builder_escapes_in_javascript(points):
    page = _html(points, layer="data")
    # every data value reaches the popup through A.esc (checked in a real browser in test_browser_*)
    assert "A.esc = function" in page
    assert re.search(r"\[&<>\"'`\$\\\\\]", page)  # the characters it escapes


def test_fit_bounds_and_empty_and_single_point(points):
    page = _html(points)
    assert ".fitBounds(" in page
    assert "[[-33.87, -0.12], [51.5, 151.21]]" in page
    empty = _html(points.iloc[0:0])
    assert ".fitBounds(" not in empty
    assert mapping.marker_count(empty) == 0
    assert "[20.0, 10.0]" in empty  # the whole world
    single = mapping.build_map(points.iloc[[0]])
    assert single.location == [50.7185, 7.1213]
    assert ".fitBounds(" not in mapping.map_html(single)


def test_rows_without_coordinates_are_left_out(points):
    points.loc[0, "lat"] = None
    points.loc[1, "lon"] = 999
    assert mapping.marker_count(_html(points)) == 2


def test_missing_column_is_a_clear_error(points):
    with pytest.raises(ValueError, match="lacks column"):
        mapping.build_map(points.drop(columns=["lat"]))
    with pytest.raises(ValueError, match="lang"):
        mapping.build_map(points, lang="fr")


def test_map_has_max_zoom_outline_basemap_fullscreen_and_controls(points):
    page = _html(points)
    assert '"maxZoom": 18' in page
    assert "L.geoJSON(null" in page
    assert 'pane: "atlas-land"' in page
    assert "basemaps.cartocdn.com" in page
    assert "OpenStreetMap" in page
    assert "requestFullscreen" in page
    assert "L.control.layers(" in page
    assert "Natural Earth" in page
    no_basemap = _html(points, basemap=False)
    assert "basemaps.cartocdn.com" not in no_basemap


def test_standalone_html_inlines_leaflet_cluster_jquery_and_outline(points):
    page = mapping.standalone_html(points, lang="ja")
    assert "<script src=" not in page
    assert '<link rel="stylesheet"' not in page
    assert "Leaflet 1.9.3" in page or "leafletjs.com" in page
    assert "MarkerClusterGroup" in page
    assert "jQuery" in page
    assert '"type":"FeatureCollection"' in page
    assert "data:image/png;base64," in page  # the layer-control icon, inlined
    assert mapping.marker_count(page) == len(points)


def test_point_at_finds_clicked_rows(points):
    row = mapping.point_at(points, 35.69, 139.75)
    assert row is not None
    assert row["id"] == "iclei-tokyo"
    assert mapping.point_at(points, 35.6900004, 139.7500003)["id"] == "iclei-tokyo"
    assert mapping.point_at(points, 0, 0) is None
    assert mapping.point_at(points, None, None) is None
    assert mapping.point_at(points, -33.87, 151.21 - 360)["id"] == "evil-1"  # wrapped longitude
    twins = pd.concat([points.iloc[[0]], points.iloc[[0]].assign(id="twin")], ignore_index=True)
    assert list(mapping.points_at(twins, 50.7185, 7.1213)["id"]) == ["iclei-bonn", "twin"]


# ---------------------------------------------------------------- in a real browser
def _browser_page(tmp_path, html: str):
    sync_api = pytest.importorskip("playwright.sync_api")
    path = tmp_path / "map.html"
    path.write_text(html, encoding="utf-8")
    return sync_api, path


@pytest.mark.browser
@pytest.mark.parametrize("layer", ["objects", "data"])
def test_browser_standalone_map_draws_markers_offline_and_runs_no_data_script(
    tmp_path, points, layer, browser
):
    _, path = _browser_page(tmp_path, mapping.standalone_html(points, layer=layer))
    dialogs: list[str] = []
    requests: list[str] = []
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_viewport_size({"width": 1200, "height": 800})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: requests.append(r.url))
        # no network: every request outside file:// and data: fails at once
        page.route(
            re.compile(r"^https?://"),
            lambda route: route.abort(),
        )
        page.goto(path.as_uri())
        page.wait_for_selector(".leaflet-overlay-pane path.leaflet-interactive", timeout=15000)
        clusters = page.locator(".leaflet-marker-pane .marker-cluster").count()
        circles = page.locator(".leaflet-overlay-pane path.leaflet-interactive").count()
        # the four points lie on three continents: all drawn as circles, none hidden in a cluster
        assert (circles, clusters) == (len(points), 0)
        assert page.locator(".atlas-legend").inner_text().count("(") == 3
        assert page.locator(".atlas-fullscreen a").count() == 1
        # land outlines drew from the inlined data
        assert page.evaluate("document.querySelectorAll('.leaflet-atlas-land-pane path').length") > 100
        # open the hostile point's popup
        assert page.evaluate("window.atlasMap.openPoint('evil-1')") is True
        popup = page.wait_for_selector(".leaflet-popup-content", timeout=10000)
        text = popup.inner_text()
        assert HOSTILE_NAME in text
        assert HOSTILE_ADDRESS in text
        assert "`${alert(2)}` \\ 東京" in text
        assert HOSTILE_SOURCE in text
        assert "{{ 7 * 191 }}" in text
        assert page.locator(".leaflet-popup-content a").count() == 0  # javascript: link dropped
        assert page.locator(".leaflet-popup-content img, .leaflet-popup-content svg").count() == 0
        assert dialogs == []
        assert all(not u.startswith(("http://", "https://")) or "cartocdn" in u for u in requests)
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"))
        raise
    finally:
        context.close()


@pytest.mark.browser
def test_browser_many_points_cluster_and_popup_still_escaped(tmp_path, points, browser):
    """Above the threshold: the data-driven layer clusters, and a clustered point's popup opens."""
    n = 400
    many = pd.concat([points] * (n // len(points)), ignore_index=True)
    many["id"] = [f"p{i}" for i in range(len(many))]
    hostile_ids = list(many.loc[many["name_en"] == HOSTILE_NAME, "id"])
    html = mapping.standalone_html(many, lang="ja")
    assert "/*atlas-points*/" in html  # switched automatically
    _, path = _browser_page(tmp_path, html)
    dialogs: list[str] = []
    context = browser.new_context()
    page = context.new_page()
    page.set_viewport_size({"width": 1200, "height": 800})
    try:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.route(re.compile(r"^https?://"), lambda route: route.abort())
        page.goto(path.as_uri())
        page.wait_for_selector(".atlas-cluster", timeout=15000)
        counts = page.evaluate(
            "Array.from(document.querySelectorAll('.atlas-cluster span')).map(e => +e.textContent)"
        )
        assert sum(counts) == len(many)  # 100 identical positions per point: all clustered
        assert page.evaluate(f"window.atlasMap.openPoint({hostile_ids[0]!r})") is True
        popup = page.wait_for_selector(".leaflet-popup-content", timeout=15000)
        text = popup.inner_text()
        assert "`${alert(2)}` \\ 東京" in text  # Japanese name first
        assert HOSTILE_NAME in text
        assert HOSTILE_ADDRESS in text
        assert "市の中心(おおよそ)" in text
        assert page.locator(".leaflet-popup-content a, .leaflet-popup-content img").count() == 0
        assert dialogs == []
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"))
        raise
    finally:
        context.close()
