"""Build the committed country-outline layer ``world-110m.json`` (GeoJSON) and its ``ORIGIN`` file.

The map has no tiles offline, so it always draws this light outline of the world underneath the
points. Source: Natural Earth 1:110m Admin 0 countries (public domain), as redistributed in
TopoJSON by the npm package ``world-atlas``; converted to GeoJSON with ``topojson-client``'s
``feature`` and rounded to 2 decimal places (about 1 km, far below what 1:110m can show).

Run (needs node and npm, which reach the npm registry)::

    .venv/bin/python dashboard/atlasmap/browser/build_world.py

Re-running with the same package versions gives the same file (same sha256).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "world-110m.json"
ORIGIN = HERE / "world-110m.ORIGIN"
WORLD_ATLAS = "world-atlas@2.0.2"
TOPOJSON_CLIENT = "topojson-client@3.1.0"
DECIMALS = 2

_CONVERT_JS = """
const fs = require("fs");
const {feature} = require("topojson-client");
const topo = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
process.stdout.write(JSON.stringify(feature(topo, topo.objects.countries)));
"""


def _round_ring(ring: list[list[float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for lon, lat in ring:
        point = [round(lon, DECIMALS), round(lat, DECIMALS)]
        if not out or out[-1] != point:  # rounding merges neighbours: drop the repeats
            out.append(point)
    if out[0] != out[-1]:
        out.append(out[0])
    return out


def _unwrap(ring: list[list[float]]) -> list[list[float]]:
    """Make a ring that crosses the antimeridian continuous (Russia's Chukotka, Fiji).

    Natural Earth cuts such rings at +-180, so a flat map would draw a line across the whole world.
    Their part west of -180 becomes 180..190 (Leaflet draws that just right of 180). A ring with a
    single jump goes round the pole (Antarctica) and stays as it is.
    """
    jumps = sum(1 for a, b in itertools.pairwise(ring) if abs(b[0] - a[0]) > 180)
    if jumps < 2:
        return ring
    return [[lon + 360 if lon < 0 else lon, lat] for lon, lat in ring]


def simplify(collection: dict) -> dict:
    """Round every coordinate, drop rings that collapse, keep only the country name and id."""
    features = []
    for f in collection["features"]:
        geom = f["geometry"]
        if geom is None:
            continue
        polygons = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        kept = []
        for polygon in polygons:
            rings = [_unwrap(_round_ring(r)) for r in polygon]
            rings = [r for r in rings if len(r) >= 4]
            if rings:
                kept.append(rings)
        if not kept:
            continue
        geometry = (
            {"type": "Polygon", "coordinates": kept[0]}
            if len(kept) == 1
            else {"type": "MultiPolygon", "coordinates": kept}
        )
        props = {"name": f.get("properties", {}).get("name")}
        features.append({"type": "Feature", "id": f.get("id"), "properties": props, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "install", "--silent", "--prefix", tmp, WORLD_ATLAS, TOPOJSON_CLIENT],
            check=True,
        )
        topo = Path(tmp) / "node_modules" / "world-atlas" / "countries-110m.json"
        input_sha = hashlib.sha256(topo.read_bytes()).hexdigest()
        converted = subprocess.run(
            ["node", "-e", _CONVERT_JS, str(topo)],
            check=True,
            capture_output=True,
            cwd=tmp,
            env={
                "NODE_PATH": str(Path(tmp) / "node_modules"),
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            },
        ).stdout
    collection = simplify(json.loads(converted))
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    OUTPUT.write_text(text + "\n", encoding="utf-8")
    sha = hashlib.sha256(OUTPUT.read_bytes()).hexdigest()
    ORIGIN.write_text(
        "\n".join(
            [
                f"file: {OUTPUT.name}",
                "title: World country outlines, 1:110m (GeoJSON)",
                "producer: Natural Earth (naturalearthdata.com), Admin 0 countries 1:110m, v4.1.0",
                "licence: public domain (Natural Earth terms of use)",
                f"package: npm {WORLD_ATLAS} (file countries-110m.json, package licence ISC,"
                f" sha256 {input_sha})",
                f"converted with: npm {TOPOJSON_CLIENT} feature(topology, objects.countries);"
                f" coordinates rounded to {DECIMALS} decimals, repeated points dropped,"
                " rings cut at the antimeridian made continuous (lon 180..190),"
                " properties reduced to name and id (ISO 3166-1 numeric)",
                "command: .venv/bin/python dashboard/atlasmap/browser/build_world.py",
                f"built: {dt.date.today().isoformat()}",
                f"features: {len(collection['features'])}",
                f"sha256: {sha}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes, {len(collection['features'])} countries)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
