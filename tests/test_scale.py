"""The map at benchmark scale: 100,000 synthetic points go into one selection, every point once, as data
the browser code escapes, hostile names kept but inert. No timing here: ``python -m bench`` measures."""

from __future__ import annotations

import re

import pytest

from bench.synthetic import HOSTILE, SOURCE, synthetic_points
from dashboard.atlasmap.builder import (
    SHOW_MARK,
    build_map,
    map_html,
    shown_data,
    shown_points,
    standalone_html,
)
from dashboard.core.places import POINT_COLUMNS

N_HOSTILE = len(range(0, 100_000, 997))


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
    assert big["lat"].between(-90, 90).all()
    assert big["lon"].between(-180, 180).all()
    assert big["name_en"].str.startswith("Synthetic point").sum() == 100_000 - N_HOSTILE


def test_100k_points_are_one_selection_with_every_point_once(big_page):
    assert shown_points(big_page) == 100_000
    assert big_page.count(SHOW_MARK) == 1
    (data,) = shown_data(big_page)
    ids = data["columns"]["id"]
    assert ids[:2] == ["synthetic-0", "synthetic-1"]
    assert len(set(ids)) == 100_000
    # repeated values are sent once (a dictionary and a code per point), keeping the page small
    assert len(data["columns"]["memberships"]["dict"]) == 3
    assert len(big_page) < 15_000_000


@pytest.mark.parametrize("fragment", [HOSTILE, "<img src=x", "</script><script>alert", "{{7*7}}", "${1}"])
def test_no_hostile_string_reaches_the_page_raw(big_page, fragment):
    assert fragment not in big_page


def test_hostile_names_are_kept_as_data_not_dropped(big_page):
    (data,) = shown_data(big_page)
    assert sum(name.startswith(HOSTILE) for name in data["columns"]["name"]) == N_HOSTILE
    # the JSON escapes '<' as \u003c (its backslash doubled in the text given to JSON.parse): the text
    # is there, only inert
    assert big_page.count("\\\\u003cimg src=x onerror=alert(1)\\\\u003e") == N_HOSTILE
    # {{7*7}} was neither evaluated by a template engine nor left as template syntax
    assert big_page.count("\\\\u007b{7*7}}") == N_HOSTILE


def test_standalone_file_at_scale_needs_no_network():
    page = standalone_html(synthetic_points(25_000, hostile_every=1000), lang="ja")
    assert shown_points(page) == 25_000
    assert HOSTILE not in page
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["']https?://""", page)
