"""Offline map assets (dashboard.atlasmap.assets) and the committed world outline."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re

import pytest

from dashboard.atlasmap import assets
from dashboard.core import paths
from dashboard.core.safety import script_code


def test_ensure_static_assets_copies_exactly_the_map_assets(tmp_path):
    target = tmp_path / "static"
    assert assets.ensure_static_assets(target) == target
    copied = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert copied == sorted(assets.SERVED)  # nothing else is exposed
    for name, src in assets.ASSET_SOURCES.items():
        assert (target / name).read_bytes() == src.read_bytes(), name
    assert "Leaflet 1.9" in (target / "leaflet.js").read_text(encoding="utf-8")
    assert "Supercluster" in (target / "supercluster.min.js").read_text(encoding="utf-8")
    assert "window.atlasMap" in (target / "atlas-map.js").read_text(encoding="utf-8")


def test_the_bundles_are_their_files_in_load_order(tmp_path):
    target = assets.ensure_static_assets(tmp_path / "static")
    js = (target / "atlas-map.bundle.js").read_text(encoding="utf-8")
    parts = [assets.ASSET_SOURCES[f].read_text(encoding="utf-8").strip() for _, f in assets.JS_ASSETS]
    at = [js.index(p) for p in parts]
    assert at == sorted(at)  # Leaflet, then supercluster, then the atlas's map code
    assert len(js) == sum(map(len, parts)) + len("\n;\n") * (len(parts) - 1) + 1
    css = (target / "atlas-map.bundle.css").read_text(encoding="utf-8")
    assert css.index(".leaflet-container") < css.index(".atlas-legend")
    assert "url(images/layers.png)" in css  # resolves next to the bundle, as next to leaflet.css
    (target / "atlas-map.bundle.js").write_text("stale", encoding="utf-8")
    assets.ensure_static_assets(target)
    assert (target / "atlas-map.bundle.js").read_text(encoding="utf-8") == js


def test_ensure_static_assets_is_idempotent_and_repairs(tmp_path):
    target = assets.ensure_static_assets(tmp_path)
    js = target / "leaflet.js"
    before = js.stat().st_mtime_ns, js.stat().st_ino
    assets.ensure_static_assets(tmp_path)
    assert (js.stat().st_mtime_ns, js.stat().st_ino) == before  # up to date: not rewritten
    js.write_text("truncated", encoding="utf-8")
    (target / "atlas-map.css").unlink()
    assets.ensure_static_assets(tmp_path)
    assert js.read_bytes() == assets.ASSET_SOURCES["leaflet.js"].read_bytes()
    assert (target / "atlas-map.css").is_file()
    assert not [p for p in target.iterdir() if p.name.endswith(".tmp")]


def test_ensure_static_assets_defaults_to_the_served_folder():
    assert paths.STATIC_DIR == paths.DASHBOARD_DIR / "static"  # next to app.py: /app/static/
    assert assets.served_url("leaflet.js") == "/app/static/leaflet.js"
    with pytest.raises(KeyError, match="not a map asset"):
        assets.served_url("../paths.py")


def test_missing_source_names_the_file(tmp_path, monkeypatch):
    fake = dict(assets.ASSET_SOURCES)
    fake["leaflet.js"] = tmp_path / "nowhere" / "leaflet.js"
    monkeypatch.setattr(assets, "ASSET_SOURCES", fake)
    with pytest.raises(FileNotFoundError, match=r"leaflet\.js"):
        assets.ensure_static_assets(tmp_path / "static")


def test_inline_css_embeds_images_and_scripts_are_script_safe():
    css = assets.inline_css("leaflet.css")
    assert "data:image/png;base64," in css
    assert "url(images/" not in css
    for _, name in assets.JS_ASSETS:
        code = script_code(assets.asset_text(name))
        assert not re.search(r"</script", code, re.IGNORECASE)
    assert script_code('x = "</script><b>"') == 'x = "<\\/script><b>"'


def test_world_outline_is_valid_geojson_with_the_countries():
    data = json.loads(assets.world_outline_text())
    assert data["type"] == "FeatureCollection"
    features = data["features"]
    assert len(features) >= 170
    names = {f["properties"]["name"] for f in features}
    assert {"Japan", "Germany", "Brazil", "South Africa", "Australia", "Canada"} <= names
    for f in features:
        geom = f["geometry"]
        assert geom["type"] in ("Polygon", "MultiPolygon")
        polygons = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        for polygon in polygons:
            for ring in polygon:
                assert len(ring) >= 4
                assert ring[0] == ring[-1]
                for lon, lat in ring:
                    assert -180 <= lon <= 191
                    assert -90 <= lat <= 90
                # no line across the whole map (rings cut at the antimeridian were joined)
                jumps = sum(abs(b[0] - a[0]) > 180 for a, b in itertools.pairwise(ring))
                assert jumps <= 1, f["properties"]["name"]
    assert os.path.getsize(paths.ASSETS_DIR / assets.WORLD_OUTLINE) < 300_000


def test_world_outline_origin_matches_the_file():
    origin = (paths.ASSETS_DIR / "world-110m.ORIGIN").read_text(encoding="utf-8")
    for text in ("Natural Earth", "public domain", "world-atlas@", "build_world.py"):
        assert text in origin
    recorded = re.search(r"^sha256: ([0-9a-f]{64})$", origin, re.MULTILINE).group(1)
    actual = hashlib.sha256((paths.ASSETS_DIR / assets.WORLD_OUTLINE).read_bytes()).hexdigest()
    assert recorded == actual


def test_every_organisation_has_its_own_stable_colour():
    import yaml

    from dashboard.core import colours

    ids = [
        o["id"] for o in yaml.safe_load((paths.SHIPPED_DATA_DIR / "organisations.yaml").read_text("utf-8"))
    ]
    mapping = colours.org_colours(ids)
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in mapping.values())
    assert len(set(mapping.values())) == len(ids)  # no two organisations share a colour
    assert colours.org_colour("some-new-network") == colours.org_colour("some-new-network")
    assert colours.org_colour("some-new-network") in colours.PALETTE
    assert colours.text_colour("#332288") == "#FFFFFF"
    assert colours.text_colour("#DDCC77") == "#000000"
