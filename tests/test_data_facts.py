"""Spot checks: the shipped data says what the seed pages and the checked external facts say.

These read the shipped files directly (yaml/csv + the pydantic models), so a failure points at a
fact in data/, not at the loader. The seeds and the external facts live in ../shared.
"""

from __future__ import annotations

import csv
import re
from functools import cache

import pytest
import yaml

from dashboard.core import paths
from dashboard.core.schema import (
    Event,
    Member,
    MembershipCount,
    Office,
    Organisation,
    Source,
    Vocabulary,
)

DATA = paths.SHIPPED_DATA_DIR

needs_shared = pytest.mark.skipif(
    not paths.SEEDS_DIR.is_dir() or not paths.EXTERNAL_FACTS.exists(),
    reason="../shared (seeds, external facts) is not beside the repository",
)


# ------------------------------------------------------------------ readers
def _csv(name: str, model):
    with (DATA / name).open(encoding="utf-8", newline="") as fh:
        return [
            model.model_validate({k: (v if v.strip() else None) for k, v in row.items()})
            for row in csv.DictReader(fh)
        ]


@cache
def sources() -> dict[str, Source]:
    return {s["id"]: Source.model_validate(s) for s in yaml.safe_load((DATA / paths.SOURCES).read_text())}


@cache
def vocabulary() -> Vocabulary:
    return Vocabulary.model_validate(yaml.safe_load((DATA / paths.VOCABULARY).read_text()))


@cache
def orgs() -> dict[str, Organisation]:
    entries = yaml.safe_load((DATA / paths.ORGANISATIONS).read_text(encoding="utf-8"))
    return {o["id"]: Organisation.model_validate(o) for o in entries}


@cache
def offices() -> list[Office]:
    return _csv(paths.OFFICES, Office)


@cache
def members() -> list[Member]:
    return _csv(paths.MEMBERS, Member)


@cache
def membership() -> list[MembershipCount]:
    return _csv(paths.MEMBERSHIP, MembershipCount)


@cache
def events() -> list[Event]:
    return _csv(paths.EVENTS, Event)


def _squash(text: str) -> str:
    """Text without any whitespace: seeds wrap lines where the data joins them."""
    return re.sub(r"\s+", "", text)


@cache
def seed_text(source_id: str) -> str:
    return (paths.SEEDS_DIR / sources()[source_id].seed).read_text(encoding="utf-8")


def counts(org: str) -> list[MembershipCount]:
    return [m for m in membership() if m.organisation == org]


# ------------------------------------------------------------------ ids and references
FIXED_ORGS = {
    "iclei", "iclei-japan", "lgma", "can", "can-japan", "c40", "citynet", "anmc21",
    "kitakyushu-initiative", "aecco", "oeaed-environment",
}  # fmt: skip
SEED_IDS = {
    "seed-can-japan": "000_",
    "seed-iclei-profile": "001_",
    "seed-lgma-offices": "002_",
    "seed-municipal-networks": "003_",
    "seed-iclei-cafe-2025": "004_",
}


def test_every_fixed_organisation_id_is_present():
    assert set(orgs()) >= FIXED_ORGS


def test_seed_sources_point_at_the_right_seed_files():
    for sid, prefix in SEED_IDS.items():
        assert sources()[sid].seed.startswith(prefix), sid
        assert sources()[sid].language == "ja"


@needs_shared
def test_seed_files_exist():
    for sid in SEED_IDS:
        assert (paths.SEEDS_DIR / sources()[sid].seed).is_file(), sid


def test_every_row_names_a_known_source_and_organisation():
    known = set(sources())
    for rec in [*offices(), *members(), *membership(), *events()]:
        assert rec.source in known, rec.id
        assert rec.organisation is None or rec.organisation in orgs(), rec.id
    for o in orgs().values():
        assert set(o.sources) <= known, o.id
        for text in [*o.mission, *o.vision, *o.goals, *o.activities, *o.unfccc, *o.notes]:
            assert text.source in known, (o.id, text)


def test_office_and_member_ids_are_unique_across_both_files():
    ids = [o.id for o in offices()] + [m.id for m in members()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_places_carry_the_region_of_their_country():
    countries = vocabulary().countries
    for rec in [*offices(), *members()]:
        assert rec.country in countries, rec.id
        c = countries[rec.country]
        assert rec.region in (c.region, *c.other_regions), rec.id


def test_external_sources_are_marked_and_dates_are_not_invented():
    for s in sources().values():
        if s.id.startswith("ext-"):
            assert "external-facts.csv" in (s.note or ""), s.id
            assert s.seed is None
            assert s.accessed is None, f"{s.id}: no access date is known"


# ------------------------------------------------------------------ verbatim Japanese
@needs_shared
def test_japanese_texts_quoted_from_seeds_are_verbatim():
    checked = 0
    for o in orgs().values():
        texts = [
            *o.mission,
            *o.vision,
            *o.goals,
            *o.activities,
            *o.unfccc,
            *o.governance,
            *o.notes,
            *o.name.former,
        ]
        if o.founded and o.founded.note:
            texts.append(o.founded.note)
        for t in texts:
            if t.ja and t.source in SEED_IDS:
                assert _squash(t.ja) in _squash(seed_text(t.source)), (o.id, t.ja[:40])
                assert t.en, f"{o.id}: every Japanese text has an English translation"
                checked += 1
    assert checked >= 60


@needs_shared
def test_mission_texts_from_seeds_are_as_written():
    iclei = orgs()["iclei"].mission[0]
    assert iclei.source == "seed-iclei-profile"
    assert iclei.translation == "atlas"
    assert iclei.ja in seed_text("seed-iclei-profile")
    assert orgs()["can"].mission[0].ja.startswith("CANのミッションは、温室効果ガス排出量を減らすための")
    assert orgs()["can"].mission[0].ja in seed_text("seed-can-japan")
    assert orgs()["can-japan"].mission[0].ja in seed_text("seed-can-japan")
    assert orgs()["lgma"].mission[0].ja in seed_text("seed-lgma-offices")


@needs_shared
def test_seed_counts_are_quoted_verbatim():
    for m in membership():
        if m.status == "seed":
            assert _squash(m.value_as_written) in _squash(seed_text(m.source)), m.id


# ------------------------------------------------------------------ ICLEI
ICLEI_OFFICE_CITIES = {
    "Bonn", "Cape Town", "Freiburg", "Brussels", "Seoul", "Tokyo", "Suwon", "Kaohsiung", "Denver",
    "Mexico City", "São Paulo", "Quezon City", "Jakarta", "New Delhi", "Melbourne",
}  # fmt: skip


def test_all_fifteen_iclei_offices_from_the_seed_list():
    iclei = [o for o in offices() if o.organisation == "iclei" and o.source == "seed-iclei-cafe-2025"]
    assert len(iclei) == 15
    assert {o.city for o in iclei} == ICLEI_OFFICE_CITIES
    assert all(o.source == "seed-iclei-cafe-2025" and o.as_of == "2025-01" for o in iclei)
    by_city = {o.city: o for o in iclei}
    assert by_city["Bonn"].kind == "headquarters"
    assert by_city["Kaohsiung"].kind == "capacity-centre"
    assert by_city["Jakarta"].kind == "project-office"


def test_iclei_addresses_keep_the_seed_typos():
    by_id = {o.id: o for o in offices()}
    assert by_id["iclei-seoul"].address == (
        "14/, Seoul Global Center Building, 38Jongo, Jongo GU, Seoul, South Korea"
    )
    assert by_id["iclei-bonn"].address == "Kaiser-Friedrich-Str. 7, 53113 Bonn, Germany"
    assert by_id["iclei-tokyo"].address == "1-14-2 Nishi-Shimbashi, Minato-ku, Tokyo, Japan 105-0003"
    assert by_id["iclei-sao-paulo"].address.startswith("Rua Ibiraçu, 226, Vila Madalena, São Paulo")


@needs_shared
@pytest.mark.parametrize("seed", ["seed-iclei-cafe-2025", "seed-lgma-offices"])
def test_every_iclei_address_is_in_both_seed_office_lists(seed):
    flat = _squash(seed_text(seed)).replace(",", "")
    for o in offices():
        if o.organisation == "iclei" and o.source == "seed-iclei-cafe-2025":
            assert _squash(o.address).replace(",", "") in flat, o.id


def test_iclei_founded_1990_by_200_local_governments_from_43_countries():
    iclei = orgs()["iclei"]
    assert iclei.founded.date.startswith("1990")
    assert iclei.founded.place.city == "New York"
    founding = [m for m in counts("iclei") if m.as_of and m.as_of.startswith("1990")]
    assert {m.status for m in founding} == {"seed", "confirmed"}
    for m in founding:
        assert (m.members, m.qualifier, m.countries) == (200, "at-least", 43)


def test_iclei_rename_2003_and_former_name():
    assert any(e.organisation == "iclei" and e.kind == "rename" and e.date == "2003" for e in events())
    assert "International Council for Local Environmental Initiatives" in orgs()["iclei"].name.former[0].ja


def test_world_secretariat_moves_to_bonn_in_2010_and_the_2009_reading_is_kept():
    # Was: two conflicting events, 2009 and 2010. e-News 18 (the 2009 source) says the World Secretariat
    # was still in Toronto in February 2009: what opened in Bonn in January 2009 was a branch office.
    moves = {e.date: e for e in events() if e.organisation == "iclei" and "Bonn" in e.title_en}
    assert set(moves) == {"2009-01", "2010"}
    assert {e.status for e in moves.values()} == {"confirmed"}
    assert "branch office" in moves["2009-01"].title_en
    assert moves["2009-01"].source != moves["2010"].source
    bonn = next(s for s in orgs()["iclei"].secretariat if s.city == "Bonn")
    assert bonn.since == "2010"
    assert [(a.field, a.value) for a in bonn.alternatives] == [("since", "2009")]


def test_iclei_toronto_and_freiburg_1991():
    e = [e for e in events() if e.organisation == "iclei" and e.date == "1991"]
    assert len(e) == 1
    assert "Toronto" in e[0].title_en
    assert "Freiburg" in e[0].title_en


def test_basel_is_iclei_900th_member_and_saitama_hosted_at_cop29():
    basel = next(m for m in members() if m.id == "iclei-basel")
    assert (basel.organisation, basel.since, basel.role) == ("iclei", "2008-08", "900th member")
    saitama = next(m for m in members() if m.city == "Saitama")
    assert saitama.organisation == "iclei-japan"
    assert saitama.source == "seed-iclei-cafe-2025"
    assert "COP29" in saitama.role


def test_lgma_has_iclei_as_focal_point_and_was_renamed_2019():
    lgma = orgs()["lgma"]
    assert lgma.parent.organisation == "iclei"
    assert lgma.parent.type in vocabulary().relations
    assert "focal point" in vocabulary().relations[lgma.parent.type].en
    dates = {e.date for e in events() if e.organisation == "lgma"}
    assert {"2013-06", "2019"} <= dates


# ------------------------------------------------------------------ CAN, CAN-Japan
def test_can_founded_1989_with_1800_ngos_in_130_countries():
    assert orgs()["can"].founded.date.startswith("1989")
    seed = next(m for m in counts("can") if m.source == "seed-can-japan")
    assert (seed.members, seed.qualifier, seed.member_kind, seed.countries) == (1800, "at-least", "NGOs", 130)
    assert seed.as_of is None
    assert seed.note
    dated = next(m for m in counts("can") if m.as_of == "2021-12")
    assert (dated.members, dated.countries) == (1800, 130)


def test_can_international_secretariat_is_a_sequence_of_three_places():
    # Was: Washington DC and Bonn as two simultaneous, conflicting places. CAN's own publications place the
    # secretariat in Washington DC (2010 report) and Beirut (2014); Bonn is attested from October 2016.
    sec = orgs()["can"].secretariat
    assert [s.city for s in sec] == ["Washington DC", "Beirut", "Bonn"]
    assert len({s.source for s in sec}) == 3
    can_offices = {o.id for o in offices() if o.organisation == "can"}
    assert can_offices == {"can-washington-dc", "can-beirut", "can-bonn"}


def test_can_japan_is_the_national_node_of_can():
    parent = orgs()["can-japan"].parent
    assert (parent.organisation, parent.type) == ("can", "national-node-of")


# ------------------------------------------------------------------ CITYNET
def test_citynet_131_members_as_of_april_2013_and_november_2013():
    by_date = {m.as_of: m for m in counts("citynet")}
    assert by_date["2013-04"].members == 131
    assert by_date["2013-04"].status == "seed"
    assert by_date["2013-04"].countries == 24
    assert by_date["2013-11"].members == 131
    assert by_date["2013-11"].status == "confirmed"


def test_citynet_founded_1987_at_nagoya_with_the_seed_kept():
    citynet = orgs()["citynet"]
    assert citynet.founded.date == "1987"
    assert citynet.founded.place.city == "Nagoya"
    assert any(
        "1987年に設立" in (t.ja or "") and t.source == "seed-municipal-networks" for t in citynet.mission
    )
    assert any("Nagoya" in (t.en or "") for t in citynet.notes)


def test_citynet_secretariat_yokohama_then_seoul():
    sec = [(s.city, s.since, s.until) for s in orgs()["citynet"].secretariat]
    assert sec == [("Yokohama", "1992", "2013-03"), ("Seoul", "2013-03-26", None)]
    assert {"citynet-yokohama", "citynet-seoul"} <= {o.id for o in offices()}


# ------------------------------------------------------------------ OEAED, ANMC21, Kitakyushu
def test_oeaed_seed_ten_cities_and_eleven_since_2014():
    rows = counts("oeaed-environment")
    assert any(m.status == "seed" and m.members == 10 for m in rows)
    assert any(m.as_of == "2014" and m.members == 11 and m.status == "confirmed" for m in rows)
    founders = [m for m in members() if m.organisation == "oeaed-environment" and m.since == "2004-11-16"]
    assert len(founders) == 10
    kumamoto = next(m for m in members() if m.id == "oeaed-kumamoto")
    assert kumamoto.since == "2014"


def test_anmc21_suspended_with_seed_founding_year_and_founders_meeting():
    anmc = orgs()["anmc21"]
    assert anmc.status.value == "suspended"
    assert anmc.founded.date == "2001"
    assert anmc.founded.source == "seed-municipal-networks"
    assert any(e.organisation == "anmc21" and e.date == "2000-08-28" for e in events())
    cities = [m for m in members() if m.organisation == "anmc21"]
    assert len(cities) == 13
    founders = {m.city for m in cities if m.since == "2000-08-28"}
    assert founders == {"Delhi", "Kuala Lumpur", "Seoul", "Tokyo"}


def test_kitakyushu_network_size_conflict_kept():
    # The undated rows stay as they were; dated rows (2004-08, 2010-02) now make a series beside them.
    undated = {(m.members, m.countries): m.status for m in counts("kitakyushu-initiative") if m.as_of is None}
    assert undated == {(173, 19): "seed", (62, 18): "conflicting"}


def test_aecco_succeeds_both_kitakyushu_networks_in_february_2010():
    aecco = orgs()["aecco"]
    assert aecco.founded.date == "2010-02"
    assert {r.organisation for r in aecco.relations if r.type == "successor-of"} == {
        "asian-environmental-city-network",
        "kitakyushu-initiative",
    }


def test_c40_cities_named_in_the_seed():
    assert {m.city for m in members() if m.organisation == "c40"} == {
        "London", "New York", "Tokyo", "Bangkok", "Jakarta",
    }  # fmt: skip


# ------------------------------------------------------------------ external facts
ORG_OF = {"ICLEI": "iclei", "CAN": "can", "C40": "c40", "CITYNET": "citynet", "OEAED": "oeaed-environment"}
ORG_OF |= {"ANMC21": "anmc21", "Kitakyushu Initiative Network": "kitakyushu-initiative"}


@cache
def external_facts() -> list[dict[str, str]]:
    with paths.EXTERNAL_FACTS.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@needs_shared
def test_every_external_count_is_a_membership_row():
    facts = [f for f in external_facts() if f["fact"] in ("members", "offices and staff", "size")]
    assert len(facts) >= 30
    for f in facts:
        org = ORG_OF[f["organisation"]]
        as_of = None if f["as_of"] in ("current", "undated") else f["as_of"]
        matches = [m for m in counts(org) if m.value_as_written == f["value"] and m.as_of == as_of]
        assert matches, f"no membership row for {org} {f['as_of']}: {f['value']}"


@needs_shared
def test_every_world_milestone_is_an_event_without_organisation():
    milestones = {e.date: e for e in events() if e.kind == "milestone" and e.organisation is None}
    for f in external_facts():
        if f["organisation"] == "(milestone)":
            start = f["value"].split(" to ")[0]
            assert start in milestones, f["fact"]
            if " to " in f["value"]:
                assert milestones[start].end_date == f["value"].split(" to ")[1]


def test_timeline_runs_1987_to_2025():
    years = [int(e.date[:4]) for e in events()]
    assert min(years) == 1987
    assert max(years) == 2025
    cafe = next(e for e in events() if e.date == "2025-01-15")
    assert cafe.kind == "conference"
    assert cafe.source == "seed-iclei-cafe-2025"
    for e in events():
        assert e.title_ja
        assert e.title_en


def test_undated_counts_say_why():
    for m in membership():
        if m.as_of is None:
            assert len(m.note or "") > 20, m.id


def test_every_named_data_file_is_shipped():
    for name in (
        paths.SOURCES, paths.VOCABULARY, paths.ORGANISATIONS, paths.OFFICES, paths.MEMBERS,
        paths.MEMBERSHIP, paths.EVENTS,
    ):  # fmt: skip
        assert (DATA / name).is_file(), name
