"""The text catalogue: one file per language, every key in every language, every key the code asks
for defined, no interface text left in Python, and a third language added by files alone."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
import yaml

from dashboard.core import paths, text

CATALOGUES = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in paths.LOCALES_DIR.glob("*.yaml")}
PY_FILES = sorted(
    p
    for p in (paths.ROOT / "dashboard").rglob("*.py")
    if "static" not in p.parts and "browser" not in p.parts
)
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def test_the_languages_are_japanese_first_then_english():
    assert text.LANGS[:2] == ("ja", "en")
    assert text.DEFAULT_LANG == "ja"
    assert set(CATALOGUES) == set(text.LANGS)


@pytest.mark.parametrize("lang", sorted(CATALOGUES))
def test_every_key_exists_in_every_language_with_the_same_placeholders(lang):
    english = CATALOGUES["en"]
    catalogue = CATALOGUES[lang]
    assert sorted(set(english) - set(catalogue)) == [], f"{lang}.yaml lacks these keys"
    assert sorted(set(catalogue) - set(english)) == [], f"{lang}.yaml has keys en.yaml lacks"
    for key, value in catalogue.items():
        assert isinstance(value, str), f"{lang}.yaml: {key} is not text"
        assert value.strip(), f"{lang}.yaml: {key} is empty"
        # (a date may be written with or without leading zeros: {m} and {mm} fill the same month)
        assert _same_value(PLACEHOLDER.findall(value)) == _same_value(PLACEHOLDER.findall(english[key])), (
            f"{lang}.yaml: {key} fills other placeholders than en.yaml"
        )


def _same_value(names: list[str]) -> set[str]:
    return {{"mm": "m", "dd": "d"}.get(n, n) for n in names}


def test_every_key_the_code_asks_for_is_in_the_catalogue():
    asked: dict[str, str] = {}
    for path in [*PY_FILES, paths.ROOT / "dashboard" / "app.py"]:
        for key in re.findall(r"\bt\(\s*\"([a-z0-9_-]+)\"", path.read_text(encoding="utf-8")):
            asked.setdefault(key, path.name)
    missing = {k: f for k, f in asked.items() if k not in CATALOGUES["en"]}
    assert not missing, f"keys asked for but not in the catalogue: {missing}"
    assert len(asked) > 50  # the scan finds the calls


def test_no_interface_text_is_written_in_python():
    """Japanese (or any CJK) text outside comments and docstrings means a string that skipped the
    catalogue. (Docstrings may quote examples.)"""
    cjk = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")
    offenders = []
    for path in PY_FILES:
        source = path.read_text(encoding="utf-8")
        for n, line in enumerate(source.splitlines(), start=1):
            code = line.split("#", 1)[0]
            if cjk.search(code) and '"""' not in code and not code.strip().startswith(("(", '"', "'", "``")):
                offenders.append(f"{path.relative_to(paths.ROOT)}:{n}: {line.strip()[:80]}")
    assert not offenders, "\n".join(offenders)


def test_dates_and_notes_read_as_each_language_writes_them():
    """Japanese order and punctuation come from the catalogue, not from English glued together:
    "2010年2月から", not "(から 2010-02)"; the year written once in a range of years."""
    assert text.date_span("1991", "2010", "ja") == "1991〜2010年"
    assert text.date_span("1991", "2010", "en") == "1991–2010"
    assert text.date_span("2010-02", None, "ja") == "2010年2月から"
    assert text.date_span("2010-02", None, "en") == "since 2010-02"
    assert text.date_span(None, "2010-12-31", "ja") == "2010年12月31日まで"
    assert text.date_span("2009-05", "2010", "ja") == "2009年5月〜2010年"
    assert text.date_span("2009-05", "2010", "en") == "2009-05 – 2010"
    assert text.aside("活動中", text.as_of("2025-09", "ja"), "ja") == "活動中（2025年9月時点）"
    assert text.aside("Active", text.as_of("2025-09", "en"), "en") == "Active (as of 2025-09)"
    assert text.aside("活動中", text.as_of(None, "ja"), "ja") == "活動中"  # no date: no empty brackets
    assert text.labelled("出典", text.quoted("2,500+", "ja"), "ja") == "出典：「2,500+」"
    assert text.labelled("Source", text.quoted("2,500+", "en"), "en") == "Source: “2,500+”"
    assert text.clauses(["2025年時点", "", "出典の表記"], "ja") == "2025年時点、出典の表記"


def test_a_pack_made_in_a_later_year_still_writes_its_date():
    """The data's dates stop at this year, but the day a briefing pack is made may be any later one."""
    assert text.date_text("2031-01-05", "ja") == "2031年1月5日"
    assert text.date_text("2031-01-05", "en") == "2031-01-05"


def test_a_missing_key_falls_back_instead_of_breaking_a_page():
    assert text.t("no-such-key", "ja") == "no-such-key"
    assert text.choose({"ja": None, "en": "Bonn"}, "ja") == "Bonn"
    assert text.choose({"ja": "ボン", "en": "Bonn"}, "fr") == "Bonn"  # a third language: English next


# ------------------------------------------------------------------ a third language
XX_PROBE = textwrap.dedent(
    """
    import json, sys
    from streamlit.testing.v1 import AppTest
    from dashboard.core import text
    from dashboard.core.data import load_atlas
    from dashboard.core.filters import from_query_params
    from dashboard.outputs.briefing import briefing_html

    atlas = load_atlas()
    parsed = from_query_params({"lang": "xx"}, atlas)
    page = briefing_html(atlas, parsed.filters)
    at = AppTest.from_file(sys.argv[1], default_timeout=120)
    at.query_params["lang"] = "xx"
    at.run()
    radio = at.sidebar.radio[0]
    regions = [m for m in at.sidebar.multiselect if m.label == text.t("regions", "xx")]
    print(json.dumps({
        "langs": list(text.LANGS),
        "notices": [str(n) for n in parsed.notices],
        "lang": parsed.filters.lang,
        "briefing_lang": 'lang="xx"' in page,
        "briefing_title": text.t("briefing_briefing", "xx") in page,
        "exception": [str(e.value) for e in at.exception],
        "title": [t.value for t in at.title],
        "radio": [radio.format_func(o) for o in radio.options],
        "region_options": [regions[0].format_func(o) for o in regions[0].options] if regions else [],
    }))
    """
)


def test_a_third_language_is_one_catalogue_file_plus_vocabulary_labels(tmp_path):
    # the new catalogue: every English text marked, so the page shows which language it took
    locales = tmp_path / "locales"
    locales.mkdir()
    english = CATALOGUES["en"]
    xx = {k: f"⟦xx⟧ {v}" for k, v in english.items()}
    xx["language_name"] = "Xxish"
    (locales / "xx.yaml").write_text(yaml.safe_dump(xx, allow_unicode=True), encoding="utf-8")
    # the vocabulary's labels in the new language (a copy of the shipped data otherwise)
    data = tmp_path / "data"
    shutil.copytree(paths.SHIPPED_DATA_DIR, data)
    vocab_path = data / paths.VOCABULARY
    vocab = yaml.safe_load(vocab_path.read_text(encoding="utf-8"))
    for terms in vocab.values():
        for entry in terms.values():
            entry["xx"] = f"⟦xx⟧ {entry['en']}"
    vocab_path.write_text(yaml.safe_dump(vocab, allow_unicode=True), encoding="utf-8")

    env = {**__import__("os").environ, "ATLAS_LOCALES_DIR": str(locales), "ATLAS_DATA_DIR": str(data)}
    probe = tmp_path / "probe.py"
    probe.write_text(XX_PROBE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(probe), str(paths.ROOT / "dashboard" / "app.py")],
        capture_output=True, text=True, env=env, cwd=paths.ROOT, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["langs"] == ["ja", "en", "xx"]
    assert seen["lang"] == "xx"  # a link may ask for it
    assert seen["notices"] == []
    assert seen["briefing_lang"]  # the briefing pack speaks it
    assert seen["briefing_title"]
    assert seen["exception"] == []
    assert seen["title"]
    assert all(t.startswith("⟦xx⟧") for t in seen["title"]), seen["title"]
    assert seen["radio"] == ["日本語", "English", "Xxish"]
    assert seen["region_options"]
    assert all(o.startswith("⟦xx⟧") for o in seen["region_options"])
