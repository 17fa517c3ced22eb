"""The map at benchmark scale: 100,000 synthetic points go into the data-driven layer, every point
is on the page once, popups and tooltips are bound, and hostile names stay escaped. No timing
here: speed is measured by ``python -m bench``."""

from __future__ import annotations

import json
import re

import pytest

from bench.synthetic import HOSTILE, SOURCE, SOURCE_TITLE, synthetic_points
from dashboard.atlasmap.builder import (
    DATA_LAYER_THRESHOLD,
    build_map,
    map_html,
    marker_count,
    standalone_html,
)
from dashboard.core.data import POINT_COLUMNS


@pytest.fixture(scope="module")
def big():
    return synthetic_points(100_000, hostile_every=997)


@pytest.fixture(scope="module")
def big_page(big):
    return map_html(build_map(big, lang="en"))


def test_synthetic_points_are_labelled_and_complete(big):
    assert list(big.columns) == list(POINT_COLUMNS)
    assert len(big) == 100_000
    assert big["id"].is_unique
    assert set(big["source"]) == {SOURCE}
    assert set(big["source_title"]) == {SOURCE_TITLE}
    assert big["lat"].between(-90, 90).all()
    assert big["lon"].between(-180, 180).all()
    assert big["name_en"].str.startswith("Synthetic point").sum() == 100_000 - len(range(0, 100_000, 997))


def test_100k_points_use_the_data_layer_with_every_point_once(big, big_page):
    assert len(big) > DATA_LAYER_THRESHOLD
    assert marker_count(big_page) == 100_000
    assert "/*atlas-points*/" in big_page
    # no per-marker folium objects: the markers are made in the browser by one loop per layer
    assert big_page.count("L.circleMarker(") == big_page.count("var mk = L.circleMarker(")
    rows = [
        r for m in re.finditer(r"/\*atlas-points\*/(\[.*?\]);\n", big_page) for r in json.loads(m.group(1))
    ]
    assert sorted(r[2] for r in rows)[:2] == ["synthetic-0", "synthetic-1"]
    assert len({r[2] for r in rows}) == 100_000


def test_popups_and_tooltips_are_bound_and_escaped_in_the_browser(big_page):
    assert "mk.bindPopup(A.popup" in big_page
    assert "mk.bindTooltip(A.tooltip" in big_page
    assert "A.esc = function (v)" in big_page
    assert "E(nm[0])" in big_page  # the name goes through the escape function in the popup


@pytest.mark.parametrize("fragment", [HOSTILE, "<img src=x", "</script><script>alert", "{{7*7}}", "${1}"])
def test_no_hostile_string_reaches_the_page_raw(big_page, fragment):
    assert fragment not in big_page


def test_hostile_names_are_kept_as_data_not_dropped(big_page):
    # the JSON escapes '<' as \u003c: the text is there, only inert
    assert big_page.count("\\u003cimg src=x onerror=alert(1)\\u003e") == len(range(0, 100_000, 997))
    # {{7*7}} was neither evaluated by the template engine nor left as template syntax
    assert big_page.count("\\u007b{7*7}}") == len(range(0, 100_000, 997))


def test_standalone_file_at_scale_needs_no_network(tmp_path):
    page = standalone_html(synthetic_points(25_000, hostile_every=1000), lang="ja")
    assert marker_count(page) == 25_000
    assert HOSTILE not in page
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["']https?://""", page)
