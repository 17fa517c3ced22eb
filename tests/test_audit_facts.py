"""The fixes of the 2026-11 data audit and the member lists, pinned.

Like test_data_facts.py these read the shipped files directly (yaml/csv + the pydantic models), so a
failure points at a fact in data/, not at the loader. Each test names the audit finding it pins
(../research/audit/FINDINGS.md) or the member list it checks; data/AUDIT.md says what changed.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from urllib.parse import urlparse

import pytest
import yaml

from dashboard.core import paths
from dashboard.core.schema import (
    MEMBER_LIST_REQUIRED,
    Event,
    Geocoded,
    Member,
    MemberListRow,
    MembershipCount,
    Office,
    Organisation,
    Source,
    Vocabulary,
)
from geocoding.records import city_key

DATA = paths.SHIPPED_DATA_DIR
LISTS = DATA / paths.MEMBER_LISTS

needs_shared = pytest.mark.skipif(
    not paths.SEEDS_DIR.is_dir(), reason="../shared/seeds is not beside the repository"
)


# ------------------------------------------------------------------ readers
def _rows(path):
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _csv(name: str, model):
    return [
        model.model_validate({k: (v if v.strip() else None) for k, v in r.items()})
        for r in _rows(DATA / name)
    ]


@cache
def sources() -> dict[str, Source]:
    return {
        s["id"]: Source.model_validate(s)
        for s in yaml.safe_load((DATA / paths.SOURCES).read_text(encoding="utf-8"))
    }


@cache
def vocabulary() -> Vocabulary:
    return Vocabulary.model_validate(yaml.safe_load((DATA / paths.VOCABULARY).read_text(encoding="utf-8")))


@cache
def orgs() -> dict[str, Organisation]:
    entries = yaml.safe_load((DATA / paths.ORGANISATIONS).read_text(encoding="utf-8"))
    return {o["id"]: Organisation.model_validate(o) for o in entries}


@cache
def offices() -> dict[str, Office]:
    return {o.id: o for o in _csv(paths.OFFICES, Office)}


@cache
def members() -> dict[str, Member]:
    return {m.id: m for m in _csv(paths.MEMBERS, Member)}


@cache
def membership() -> list[MembershipCount]:
    return _csv(paths.MEMBERSHIP, MembershipCount)


@cache
def events() -> dict[str, Event]:
    return {e.id: e for e in _csv(paths.EVENTS, Event)}


@cache
def member_list(name: str) -> list[MemberListRow]:
    return [
        MemberListRow.model_validate({k: (v if v.strip() else None) for k, v in r.items()})
        for r in _rows(LISTS / f"{name}.csv")
    ]


def counts(org: str) -> list[MembershipCount]:
    return [m for m in membership() if m.organisation == org]


def count_on(org: str, as_of: str) -> list[MembershipCount]:
    return [m for m in counts(org) if m.as_of == as_of]


LIST_NAMES = (
    "c40", "c40-former", "citynet", "anmc21", "kitakyushu", "oeaed",
    "iclei-japan", "can-japan", "iclei-world",
)  # fmt: skip


def _seed(source_id: str) -> str:
    return re.sub(r"\s+", "", (paths.SEEDS_DIR / sources()[source_id].seed).read_text(encoding="utf-8"))


# ------------------------------------------------------------------ A. ICLEI's World Secretariat (1-4)
def test_iclei_world_secretariat_toronto_1991_to_2010_then_bonn_with_2009_kept():
    toronto, bonn = orgs()["iclei"].secretariat
    assert (toronto.city, toronto.since, toronto.until) == ("Toronto", "1991", "2010")
    assert (bonn.city, bonn.since, bonn.until) == ("Bonn", "2010", None)
    for entry, fld in ((toronto, "until"), (bonn, "since")):
        (alt,) = entry.alternatives
        assert (alt.field, alt.value, alt.source) == (fld, "2009", "ext-iclei-enews-18")
        assert alt.note
        assert "Bonn Center" in alt.note


def test_iclei_former_world_secretariat_is_an_office_row():
    toronto = offices()["iclei-toronto"]
    assert (toronto.kind, toronto.city, toronto.since, toronto.until) == (
        "headquarters",
        "Toronto",
        "1991",
        "2010",
    )
    assert offices()["iclei-bonn"].since == "2010"
    assert offices()["iclei-bonn"].until is None


def test_bonn_center_2009_is_a_branch_office_and_the_move_is_2010():
    e2009, e2010 = events()["iclei-bonn-2009"], events()["iclei-bonn-2010"]
    assert (e2009.date, e2009.status, e2009.source) == (
        "2009-01",
        "confirmed",
        "web-iclei-enews18-bonn-center",
    )
    assert "Toronto" in e2009.title_en
    assert (e2010.date, e2010.status) == ("2010", "confirmed")


def test_iclei_founding_month_kept_with_its_disagreeing_dates():
    founded = orgs()["iclei"].founded
    assert founded.date == "1990-09"
    assert {a.value for a in founded.alternatives} == {"1990-09-05", "1990-07"}


# ------------------------------------------------------------------ B. CAN International (5-8)
def test_can_secretariat_is_washington_then_beirut_then_bonn_undated():
    sec = orgs()["can"].secretariat
    assert [(s.city, s.country) for s in sec] == [("Washington DC", "US"), ("Beirut", "LB"), ("Bonn", "DE")]
    assert all(s.since is None and s.until is None for s in sec), "no source dates the moves"
    assert all(s.note for s in sec), "each place says when it is attested"


def test_can_secretariat_offices_each_with_its_attestation():
    o = offices()
    assert o["can-washington-dc"].address == "1810 16th St. NW, Washington, DC 20009, USA"
    assert o["can-washington-dc"].as_of == "2011-05"
    assert (o["can-beirut"].address, o["can-beirut"].as_of, o["can-beirut"].region) == (
        "P.O.Box: 14-5472, Beirut, Lebanon", "2014", "west-asia",
    )  # fmt: skip
    assert o["can-bonn"].as_of == "2024-06"
    lb = vocabulary().countries["LB"]
    assert (lb.en, lb.region) == ("Lebanon", "west-asia")


# ------------------------------------------------------------------ C. statuses (9-17)
@pytest.mark.parametrize(
    ("org", "value", "as_of"),
    [
        ("lgma", "active", "2024-11"),
        ("citynet", "active", "2024"),
        ("can-japan", "active", "2023-09"),
        ("iclei-japan", "active", "2025-09-30"),
        ("kitakyushu-initiative", "ended", "2010"),
        ("anmc21", "suspended", "2025"),
        ("oeaed-environment", "active", "2022-06"),
        ("aecco", "active", "2022-06"),
    ],
)
def test_statuses_dated_by_the_newest_source(org, value, as_of):
    status = orgs()[org].status
    assert (status.value, status.as_of) == (value, as_of)


def test_disagreeing_statuses_kept_as_alternatives():
    ki = orgs()["kitakyushu-initiative"].status
    assert [(a.field, a.value) for a in ki.alternatives] == [("value", "merged")]
    anmc = orgs()["anmc21"].status
    assert [(a.field, a.value) for a in anmc.alternatives] == [("as_of", "2014-09")]


def test_citynet_yokohama_secretariat_until_2013_and_seoul_since_the_opening():
    o = offices()
    assert (o["citynet-yokohama"].since, o["citynet-yokohama"].until) == ("1992", "2013-03")
    assert o["citynet-seoul"].since == "2013-03-26"
    assert o["citynet-seoul"].address.startswith("10F,Seoul Global Center 38 Jongno")
    assert events()["citynet-relocation-approved-2009"].date == "2009-09-09"


def test_can_japan_secretariat_and_seed_date_reasoned():
    (sec,) = orgs()["can-japan"].secretariat
    assert (sec.city, sec.country) == ("Kyoto", "JP")
    assert "Kiko Network" in sec.note
    assert "2014-2015" not in sources()["seed-can-japan"].note
    assert "December 2021" in sources()["seed-can-japan"].note


# ------------------------------------------------------------------ D. founding dates (18-24)
def test_founding_dates_the_sources_give():
    assert orgs()["iclei-japan"].founded.date == "1993"
    assert orgs()["iclei-japan"].name.former[0].ja == "有限責任中間法人イクレイ日本"
    assert orgs()["lgma"].founded.date == "1992"
    assert orgs()["can-japan"].founded is None, "no source gives one"
    assert {a.value for a in orgs()["citynet"].founded.alternatives} == {"1989"}
    assert {a.value for a in orgs()["anmc21"].founded.alternatives} == {"2000-08"}
    assert orgs()["anmc21"].founded.date == "2001"


def test_office_opening_dates():
    expected = {
        "iclei-freiburg": "1991", "iclei-tokyo": "1993", "iclei-melbourne": "1999",
        "iclei-kaohsiung": "2012-09-17", "iclei-seoul": "2012-10-19", "iclei-suwon": "2012-10",
    }  # fmt: skip
    assert {k: offices()[k].since for k in expected} == expected


# ------------------------------------------------------------------ E. seed claims (25-31)
@needs_shared
def test_seed_claims_quoted_verbatim():
    (can2,) = orgs()["can"].governance
    assert can2.ja.startswith("2.CANは、有害な気候変動と戦う")
    assert can2.ja in _seed("seed-can-japan")
    (bodies,) = orgs()["iclei"].governance
    assert "「イクレイ議会」「世界理事会」「地域理事会」" in bodies.ja
    assert bodies.ja in _seed("seed-iclei-profile")
    assert "「ICLEI‐持続可能性を目指す自治体協議会」" in _seed("seed-iclei-profile")
    assert "「ICLEI‐持続可能性を目指す自治体協議会」" in events()["iclei-rename-2003"].title_ja


def test_iclei_cafe_of_january_2024():
    cafe = events()["iclei-cafe-2024"]
    assert (cafe.date, cafe.organisation, cafe.kind, cafe.status) == (
        "2024-01",
        "iclei-japan",
        "conference",
        "seed",
    )


def test_iclei_current_japanese_name_with_the_seed_name_kept():
    name = orgs()["iclei"].name
    assert name.ja == "イクレイ-持続可能な都市と地域をめざす自治体協議会"
    assert "International Council for Local Environmental Initiatives" in name.former[0].ja
    assert any("持続可能性をめざす自治体協議会" in (f.ja or "") for f in name.former[1:])


def test_iclei_offices_and_staff_counts():
    rows = {m.id: m for m in counts("iclei")}
    assert (rows["iclei-2025-offices"].offices, rows["iclei-2025-offices"].staff) == (24, 500)
    assert rows["iclei-2018-09-offices"].offices == 22
    assert (rows["iclei-2022-offices"].offices, rows["iclei-2022-offices"].staff) == (22, 500)
    assert rows["iclei-1991-offices"].offices == 2
    assert {m.id for m in count_on("iclei", "2025")} == {"iclei-2025", "iclei-2025-offices"}


# ------------------------------------------------------------------ F. offices and addresses (32-36)
def test_seoul_address_kept_as_written_with_the_correction_beside_it():
    seoul = offices()["iclei-seoul"]
    assert seoul.address == "14/, Seoul Global Center Building, 38Jongo, Jongo GU, Seoul, South Korea"
    assert "38 Jong-ro, Jongno-gu" in seoul.address_corrected
    assert "14/" in seoul.address_corrected, "the floor stays as written: no source gives it"
    assert "종로구 종로 38" in seoul.note


def test_korea_office_left_suwon_for_dangjin_then_goyang():
    o = offices()
    assert (o["iclei-suwon"].since, o["iclei-suwon"].until) == ("2012-10", "2022-04-29")
    assert (o["iclei-dangjin"].since, o["iclei-dangjin"].until) == ("2022-04-29", "2023")
    assert (o["iclei-goyang"].since, o["iclei-goyang"].until) == ("2023", None)


def test_japanese_office_names_no_source_writes_are_marked_as_the_atlas_own():
    o = offices()
    for oid in ("iclei-cape-town", "iclei-brussels", "iclei-tokyo", "iclei-denver", "iclei-mexico-city",
                "iclei-sao-paulo", "iclei-manila", "iclei-jakarta", "iclei-new-delhi", "iclei-melbourne",
                "can-washington-dc", "can-bonn", "citynet-yokohama", "citynet-seoul"):  # fmt: skip
        assert o[oid].names_by == "atlas", oid
    for oid in ("iclei-bonn", "iclei-freiburg", "iclei-seoul", "iclei-suwon", "iclei-kaohsiung"):
        assert o[oid].names_by == "source", oid
    assert o["iclei-seoul"].name_ja == "東アジア本部"
    assert not members()["iclei-basel"].city_ja


# ------------------------------------------------------------------ G. members and events (38-44)
def test_anmc21_joining_dates_in_members_csv():
    m = members()
    assert {m[k].since for k in ("anmc21-delhi", "anmc21-kuala-lumpur", "anmc21-seoul", "anmc21-tokyo")} == {
        "2000-08-28"
    }
    assert (m["anmc21-tomsk"].since, m["anmc21-tomsk"].region) == ("2012-06-30", "north-asia")
    assert m["anmc21-ulaanbaatar"].since == "2012-06-30"
    assert "2010" in m["anmc21-tomsk"].note, "Sputnik's 2010 is kept beside the TMG date"
    assert vocabulary().countries["RU"].other_regions == ["north-asia"]


def test_anmc21_thirteen_cities_as_of_2014_09_and_beijing_former():
    (dated,) = [m for m in counts("anmc21") if m.as_of and m.as_of.startswith("2014-09")]
    assert (dated.members, dated.qualifier) == (13, "exact")
    rows = member_list("anmc21")
    current = [r for r in rows if r.status != "former"]
    assert len(current) == 13
    assert {r.as_of for r in current} == {"2014-09-05"}
    (beijing,) = [r for r in rows if r.status == "former"]
    assert (beijing.city, beijing.since, beijing.until) == ("Beijing", "2001-10", "2005-08-30")
    tomsk = next(r for r in rows if r.city == "Tomsk")
    assert (tomsk.region, tomsk.member) == ("north-asia", "Tomsk Region")


def test_citynet_dated_counts_with_disagreements_kept():
    c = {m.as_of: m for m in counts("citynet") if m.as_of}
    assert (c["2013-03"].members, c["2013-11"].members) == (130, 131)
    assert (c["2017-11-08"].members, c["2017-11-08"].status) == (138, "conflicting")
    assert c["2017"].members == 136
    assert c["2020-11"].members == 173
    assert c["2009-09"].members == 110


def test_audit_events_added():
    want = {
        "lgma-un-constituency-1992": "1992", "iclei-japan-office-1993": "1993",
        "iclei-japan-corp-2004": "2004-07",
        "iclei-japan-corp-2009": "2009-03", "anmc21-beijing-withdraws-2005": "2005-08-30",
        "citynet-relocation-approved-2009": "2009-09-09", "iclei-kaohsiung-2012": "2012-09-17",
        "iclei-east-asia-2012": "2012-10-19", "iclei-korea-suwon-2012": "2012-10",
        "anmc21-new-members-2012": "2012-06-30", "iclei-east-asia-sgc-2013": "2013-07-30",
        "anmc21-plenary-2014": "2014-09-05", "kitakyushu-initiative-end-2010": "2010",
        "iclei-korea-dangjin-2022": "2022-04-29", "iclei-cafe-2024": "2024-01",
        "anmc21-founders-2000": "2000-08-28",
    }  # fmt: skip
    assert {k: events()[k].date for k in want} == want


# ------------------------------------------------------------------ dated series
def test_kitakyushu_network_size_as_a_dated_series():
    series = {m.as_of: (m.members, m.countries, m.status) for m in counts("kitakyushu-initiative") if m.as_of}
    assert series == {"2004-08": (60, 18, "secondary"), "2010-02-08": (62, 18, "confirmed")}
    undated = {(m.members, m.countries) for m in counts("kitakyushu-initiative") if not m.as_of}
    assert undated == {(173, 19), (62, 18)}, "the seed's 173/19 stays beside the dated figures"


def test_c40_dated_counts():
    c = {m.as_of: m.members for m in counts("c40") if m.as_of}
    assert {k: c[k] for k in ("2006-12-04", "2014-06-23", "2015-03-16", "2016-09", "2017-06", "2018-02")} == {
        "2006-12-04": 24, "2014-06-23": 69, "2015-03-16": 75, "2016-09": 86, "2017-06": 91, "2018-02": 92,
    }  # fmt: skip
    home = next(m for m in counts("c40") if m.id == "c40-2025-home")
    assert (home.as_of, home.members) == ("2025", 97)
    assert "inferred" in home.note


def test_iclei_japan_dated_counts_with_the_two_2023_figures_kept():
    c = counts("iclei-japan")
    assert {m.members for m in c if m.as_of == "2023"} == {24, 25}
    assert {m.status for m in c if m.as_of == "2023"} == {"conflicting"}
    assert [m.members for m in c if m.as_of == "2025-09-09"] == [27]
    assert [m.members for m in c if m.as_of == "2009-12"] == [20]


def test_oeaed_eleven_cities_with_kumamoto_2014():
    rows = member_list("oeaed")
    assert len(rows) == 11
    assert {r.since for r in rows if r.city != "Kumamoto"} == {"2004-11-16"}
    assert next(r for r in rows if r.city == "Kumamoto").since == "2014"
    assert {r.as_of for r in rows} == {"2022-06-24"}
    assert [m.members for m in counts("oeaed-environment") if m.as_of == "2014"] == [11]
    assert [m.members for m in counts("oeaed-environment") if m.as_of == "2014-05-19"] == [10]


# ------------------------------------------------------------------ member lists
@pytest.mark.parametrize("name", LIST_NAMES)
def test_member_list_header_and_rows(name):
    with (LISTS / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert tuple(header[: len(MEMBER_LIST_REQUIRED)]) == MEMBER_LIST_REQUIRED
    rows = member_list(name)
    assert rows
    vocab = vocabulary()
    for r in rows:
        assert r.source in sources(), r.source
        assert r.organisation in orgs()
        c = vocab.countries[r.country]
        assert r.region is None or r.region in c.other_regions, r.city
        assert r.member_kind is None or r.member_kind in vocab.member_kinds
        assert r.status is None or r.status in vocab.member_statuses
        assert "Prefecture" not in r.city, "a prefecture is placed at its seat only with a cited page"
        assert r.note, r.city
        if r.status == "inferred":
            assert "inferred" in r.note.lower() or "not stated" in r.note or "not call" in r.note, r.city
        if r.as_of is None:
            assert re.search(r"undated|no date|no year|not dated|gives no|left empty", r.note, re.I), r.city


def test_at_least_ninety_c40_members_and_regions_only_from_cited_pages():
    current = member_list("c40")
    assert len(current) == 97
    assert all(r.status is None for r in current)
    assert {r.as_of for r in current} == {"2025"}
    assert all("inferred" in r.note and "Casablanca" in r.note for r in current)
    assert {r.city: r.network_region for r in current if r.network_region} == {
        "Casablanca": "Africa", "Fortaleza": "Latin America", "Ahmedabad": "South and West Asia",
    }  # fmt: skip
    former = member_list("c40-former")
    assert {r.city for r in former} == {"Cairo", "Caracas", "Moscow", "Jaipur", "Kolkata"}
    assert {r.status for r in former} == {"former"}
    assert all("Temporarily Inactive" in r.note for r in former)


def test_no_network_region_from_the_uncitable_script():
    for path in [DATA / paths.SOURCES, *LISTS.glob("*.csv")]:
        assert "code-c40-und-regions" not in path.read_text(encoding="utf-8"), path.name


def test_iclei_inferred_memberships_are_marked():
    rows = member_list("iclei-world")
    inferred = [r for r in rows if r.status == "inferred"]
    assert len(inferred) >= 30
    assert all("inferred" in r.note.lower() for r in inferred)
    assert not any(r.status is None and "membership inferred" in r.note.lower() for r in rows)


def test_yamanashi_placed_at_its_seat_from_its_own_page():
    (yamanashi,) = [r for r in member_list("iclei-japan") if r.member == "Yamanashi Prefecture"]
    assert (yamanashi.city, yamanashi.member_kind) == ("Kofu", "prefecture")
    assert "web-pref-yamanashi-chosha" in yamanashi.note
    assert sources()["web-pref-yamanashi-chosha"].url.startswith("https://www.pref.yamanashi.jp/")


def test_every_member_list_city_is_placed_or_listed_in_the_audit():
    placed = {r["id"] for r in _rows(DATA / paths.GEOCODED)}
    audit = (DATA / "AUDIT.md").read_text(encoding="utf-8")
    for name in LIST_NAMES:
        for r in member_list(name):
            if r.latitude is None:
                key = city_key(r.city, r.country)
                assert key in placed or f"`{key}`" in audit, (
                    f"{name}: {r.city} is neither geocoded nor in AUDIT.md"
                )
    for r in _rows(DATA / paths.GEOCODED):
        Geocoded.model_validate({k: (v if v else None) for k, v in r.items()})


def test_every_office_and_member_is_geocoded():
    placed = {r["id"] for r in _rows(DATA / paths.GEOCODED)}
    missing = [i for i in [*offices(), *members()] if i not in placed]
    assert not missing


# ------------------------------------------------------------------ H. sources (45-47)
def test_every_source_url_is_a_page_not_a_bare_host():
    for s in sources().values():
        if s.url is None:
            continue
        u = urlparse(s.url)
        bare = u.path in ("", "/") and not u.query
        assert not bare or "home page" in s.title.lower(), f"{s.id}: {s.url}"


def test_one_id_per_page():
    seen: dict[tuple, str] = {}
    for s in sources().values():
        if s.url is None:
            continue
        u = urlparse(s.url)
        key = (u.netloc.lower().removeprefix("www."), u.path.rstrip("/"), u.query)
        assert key not in seen, f"{s.id} and {seen.get(key)} are the same page"
        seen[key] = s.id


def test_every_source_id_named_in_a_note_exists():
    ident = re.compile(r"(?<![\w-])((?:web|ext|seed)-[a-z0-9][a-z0-9-]*[a-z0-9])(?![\w-])")
    files = [DATA / paths.ORGANISATIONS, DATA / paths.OFFICES, DATA / paths.MEMBERS, DATA / paths.MEMBERSHIP,
             DATA / paths.EVENTS, DATA / paths.SOURCES, *LISTS.glob("*.csv")]  # fmt: skip
    for path in files:
        for sid in ident.findall(path.read_text(encoding="utf-8")):
            assert sid in sources(), f"{path.name} names {sid}"


def test_new_sources_say_when_they_were_read_and_ext_sources_keep_their_origin():
    for s in sources().values():
        if s.id.startswith("web-"):
            assert s.accessed, s.id
            assert s.url, s.id
        if s.id.startswith("ext-"):
            assert "external-facts.csv" in (s.note or ""), s.id
    assert sources()["ext-bonn-de-iclei"].url.endswith("iclei-localgovernmentsforsustainability.php")
    assert sources()["ext-tokyo-anmc21"].url.endswith("/anmc21org/summary/index.html")
    assert sources()["ext-dewiki-can"].url == "https://de.wikipedia.org/wiki/Climate_Action_Network"


def test_every_secretariat_has_its_city_in_japanese():
    """The Japanese organisations table showed "Kyoto、日本" for CAN-Japan: every secretariat names its
    city in both languages."""
    missing = [(o, s.city) for o, rec in orgs().items() for s in rec.secretariat if s.city and not s.city_ja]
    assert missing == []
