"""URL parameters are untrusted: any text in any parameter gives a valid view and a notice, never an error.

Property-based (hypothesis): arbitrary strings (control characters, huge numbers, commas, unicode,
lists of values) in every parameter the app reads, and in keys it does not know. A few AppTest runs
then check the same through the app itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from dashboard.core.data import load_atlas
from dashboard.core.filters import LANGS, YEAR_MAX, YEAR_MIN, Filters, from_query_params, to_query_params

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
ATLAS = load_atlas(MINIMAL)
KEYS = ("years", "region", "kind", "org", "compare", "lang", "present")
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e999", "-1e999", "nan", "inf", "0x7df", "２０００", "1_990", "1990.9", "9" * 5000]),
)
texts = st.one_of(
    st.text(),  # any unicode, control characters and surrogates excluded by hypothesis
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    numbers,
    st.lists(numbers, min_size=0, max_size=4).map(",".join),
    st.sampled_from(["", ",", ",,,", " , ", "\x00", "\r\n", "europe", "net,node", "ja", "en", "1"]),
)
values = st.one_of(texts, st.lists(texts, max_size=3))  # a parameter given several times
params = st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=20)), values, max_size=9)


def _known(value: str | list[str], allowed) -> bool:
    items = [value] if isinstance(value, str) else value
    cells = [c.strip() for item in items for c in item.split(",") if c.strip()]
    return all(c in allowed for c in cells)


@SETTINGS
@given(params)
@example({"years": "2000,1990"})
@example({"lang": ["ja", "0"]})  # found by hypothesis: a second, unknown language went unreported
@example({"years": "1e999,-1e999"})
@example({"years": "nan,nan"})
@example({"years": "9" * 5000 + ",1"})
@example({"years": ["1990", "2000"]})
@example({"lang": "\x00", "present": "yes", "zzz": "1"})
def test_from_query_params_never_raises_and_gives_valid_filters(p):
    parsed = from_query_params(p, ATLAS)
    f = parsed.filters
    assert isinstance(f, Filters)
    lo, hi = f.years
    assert isinstance(lo, int)
    assert isinstance(hi, int)
    assert YEAR_MIN <= lo <= hi <= YEAR_MAX
    assert f.lang in LANGS
    assert isinstance(f.present, bool)
    assert set(f.regions) <= set(ATLAS.vocabulary.regions)
    assert set(f.kinds) <= set(ATLAS.vocabulary.organisation_kinds)
    assert set(f.organisations) <= set(ATLAS.organisation_records)
    assert set(f.compare) <= set(ATLAS.organisation_records)
    assert len(f.compare) <= 4
    for n in parsed.notices:
        assert isinstance(n, str)
        assert len(n) <= 400  # a notice never repeats a huge value in full

    # anything unknown is reported
    unknown_keys = [k for k in p if k not in KEYS]
    if unknown_keys:
        assert any("unknown setting" in n for n in parsed.notices)
    for key, allowed, word in (
        ("region", ATLAS.vocabulary.regions, "region"),
        ("kind", ATLAS.vocabulary.organisation_kinds, "kind"),
        ("org", ATLAS.organisation_records, "organisation"),
    ):
        if key in p and not _known(p[key], allowed):
            assert any(f"unknown {word}" in n for n in parsed.notices), (key, p[key], parsed.notices)
    if "lang" in p and not _known(p["lang"], LANGS):
        assert any("language" in n for n in parsed.notices), parsed.notices

    # the URL the app writes back reads the same filters again, with nothing to report
    again = from_query_params(to_query_params(f), ATLAS)
    assert again.filters == f
    assert again.notices == []


@SETTINGS
@given(st.integers(min_value=-(10**6), max_value=10**6), st.integers(min_value=-(10**6), max_value=10**6))
def test_any_year_pair_is_clamped_in_order_and_changes_are_reported(a, b):
    parsed = from_query_params({"years": f"{a},{b}"}, ATLAS)
    lo, hi = parsed.filters.years
    assert (lo, hi) == (max(YEAR_MIN, min(a, b, YEAR_MAX)), min(YEAR_MAX, max(a, b, YEAR_MIN)))
    if (lo, hi) != (a, b):
        assert any("adjusted" in n for n in parsed.notices)
    else:
        assert parsed.notices == []


@SETTINGS
@given(texts.filter(lambda v: [c.strip() for c in v.split(",") if c.strip()][:1] not in ([], ["0"], ["1"])))
def test_an_unknown_presentation_value_is_reported(value):
    parsed = from_query_params({"present": value}, ATLAS)
    assert parsed.filters.present is False
    assert any("presentation" in n for n in parsed.notices), (value, parsed.notices)


# ---------------------------------------------------------------------------------- through the app
HOSTILE_PARAMS = [
    {"years": "1e999,-inf", "lang": "en"},
    {"years": "9" * 5000, "region": "<script>alert(1)</script>", "lang": "en"},
    {"org": "net,\x00,../../etc/passwd", "compare": "net," * 50, "kind": "ø" * 300, "lang": "en"},
    {"lang": "en", "present": "yes", "`${alert(1)}`": "<img src=x onerror=alert(2)>"},
]


@pytest.mark.parametrize(
    "p", HOSTILE_PARAMS, ids=["inf-years", "huge-and-script", "control-chars", "bad-keys"]
)
def test_app_with_hostile_parameters_shows_a_notice_and_the_page(monkeypatch, p):
    monkeypatch.setenv("ATLAS_DATA_DIR", str(MINIMAL))
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in p.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Climate Networks Atlas"
    notices = "\n".join(w.value for w in at.warning)
    assert "Ignored" in notices or "adjusted" in notices, notices
    assert "<script>" not in notices  # shown escaped for Markdown
    assert "<img " not in notices
    lo, hi = at.sidebar.slider[0].value
    assert YEAR_MIN <= lo <= hi <= YEAR_MAX
    # the URL is rewritten to the filters actually in force: nothing hostile stays in it
    assert set(at.query_params) <= set(KEYS), dict(at.query_params)
    at.switch_page("app_pages/timeline.py").run()
    assert not at.exception
