"""What the atlas shows of the audited facts (issue "The atlas's content"): a disagreement shown wherever
the date is, secretariats as a sequence, counts in the reader's language with how many members are
named, cities in several networks and what two organisations share. On the shipped data."""

from __future__ import annotations

import re

import pytest

from dashboard.core.compare import (
    comparison,
    current_secretariat,
    latest_membership_text,
    named_members,
    secretariat_text,
    shared_members,
    status_text,
)
from dashboard.core.data import load_atlas
from dashboard.core.filters import Filters, select
from dashboard.core.tables import organisations_table, several_networks_table
from dashboard.core.text import t
from dashboard.outputs.briefing import briefing_html

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


@pytest.mark.parametrize(
    ("lang", "bonn", "other"),
    [("en", "since 2010", "2009 according to"), ("ja", "2010年から", "」では2009年")],
)
def test_the_world_secretariat_move_shows_both_dates_wherever_it_is_shown(atlas, lang, bonn, other):
    text = secretariat_text(atlas, "iclei", lang)
    assert bonn in text
    assert other in text
    cell = comparison(atlas, ["iclei", "can"], lang).row("secretariat").values[0]
    assert other in cell
    table = organisations_table(atlas, select(atlas, Filters(organisations=("iclei",))), lang)
    assert other in table[t("col_secretariat", lang)].iloc[0]


def test_what_other_sources_say_reads_in_japanese_order(atlas):
    """Another source's date sits in brackets beside the date it differs from (not in a list with the
    place), and another source's status is its label, not its id."""
    founded = comparison(atlas, ["iclei", "can"], "ja").row("founded").values[0]
    assert founded.startswith("1990年9月（「"), founded
    assert "」では1990年7月）、ニューヨーク" in founded
    assert "では統合済み" in status_text(atlas, "kitakyushu-initiative", "ja")
    assert "merged" not in status_text(atlas, "kitakyushu-initiative", "en")


def test_can_internationals_secretariat_is_a_sequence_ending_in_bonn(atlas):
    places = [s.city for s in atlas.org("can").secretariat]
    assert places[-1] == "Bonn"
    assert len(places) >= 3
    assert current_secretariat(atlas, "can").city == "Bonn"
    text = secretariat_text(atlas, "can", "en", sources=False).splitlines()
    assert [line.endswith("(earlier)") for line in text] == [True] * (len(text) - 1) + [False]
    row = atlas.organisations.set_index("id").loc["can"]
    assert row["secretariat"] == "Bonn (DE)"


def test_an_english_reader_gets_english_counts_not_japanese_quotations(atlas):
    for org_id in atlas.organisation_records:
        text = latest_membership_text(atlas, org_id, "en")
        assert not CJK.search(text), (org_id, text)
    assert "出典の表記：「福島県の加盟により" in latest_membership_text(
        atlas, "iclei-japan", "ja"
    )  # the Japanese wording, for a Japanese reader, in Japanese quotation marks


def test_counts_say_how_many_members_the_atlas_names(atlas):
    named = named_members(atlas, "iclei")
    assert named > 100
    assert f"{named} of 2,500 named here" in latest_membership_text(atlas, "iclei", "en")
    assert "13 cities (as of 2014-09-05" in latest_membership_text(atlas, "anmc21", "en")


def test_two_organisations_share_members_and_the_comparison_says_which(atlas):
    pairs = shared_members(atlas, ["c40", "iclei"], "en")
    assert pairs[0][:2] == ("c40", "iclei")
    assert "London" in pairs[0][2]
    cell = comparison(atlas, ["c40", "iclei"], "en").row("shared_members").values[0]
    assert cell.startswith(f"ICLEI: {len(pairs[0][2])} (")


def test_cities_in_several_networks_are_listed_once_with_every_network(atlas):
    table = several_networks_table(atlas, select(atlas, Filters(lang="en")), "en")
    tokyo = table[table["Name"] == "Tokyo"].iloc[0]
    assert tokyo["Networks (count)"] >= 2
    assert "C40" in tokyo["Networks"]
    assert "ANMC21" in tokyo["Networks"]
    assert table["Name"].is_unique
    # filterable like everything else: with C40 alone, no city is in several of the selected networks
    assert several_networks_table(atlas, select(atlas, Filters(organisations=("c40",))), "en").empty


def test_the_english_briefing_pack_shows_english_counts(atlas):
    page = briefing_html(atlas, Filters(lang="en", organisations=("iclei-japan", "anmc21")))
    table = page.split('<section id="organisations">')[1].split("</section>")[0]
    assert "27 local governments in Japan" in table
    assert "福島県" not in table


def test_the_briefing_pack_lists_the_cities_in_several_networks(atlas):
    page = briefing_html(atlas, Filters(lang="ja"))
    section = page.split('<section id="several-networks">')[1].split("</section>")[0]
    assert t("several_networks", "ja") in section
    assert "東京" in section
    only_c40 = briefing_html(atlas, Filters(lang="ja", organisations=("c40",)))
    assert 'id="several-networks"' not in only_c40


def test_a_japanese_name_no_source_writes_is_marked_as_the_atlas_own(atlas):
    from dashboard.atlasmap.builder import selection_data
    from dashboard.core.tables import places_table

    flagged = atlas.points[atlas.points["names_by"] == "atlas"]
    assert len(flagged) > 0
    pid = flagged.iloc[0]["id"]
    for lang, first, second in (("ja", "name", None), ("en", "name2", "name")):
        data = selection_data(atlas.points, lang, atlas=atlas)
        i = data["columns"]["id"].index(pid)
        assert data["columns"][first][i].endswith(f"({t('names_by_atlas', lang)})")
        if second:  # the English name, from the source, is not marked
            assert "atlas" not in data["columns"][second][i]
    table = places_table(atlas, select(atlas, Filters(lang="ja")), "ja")
    assert any(t("names_by_atlas", "ja") in n for n in table[t("col_name", "ja")])
