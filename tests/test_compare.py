"""The side-by-side comparison and its exports (Markdown, formula-safe CSV)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dashboard.core.compare import (
    ATTRIBUTES,
    compare_csv,
    compare_markdown,
    compare_table,
    comparison,
    markdown_table,
    shared_themes,
)
from dashboard.core.data import Atlas, load_atlas
from dashboard.core.safety import csv_bytes as safe_csv_bytes
from dashboard.core.safety import csv_cell as neutralise
from dashboard.core.safety import csv_text as safe_csv

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
SCRIPT = "<script>alert(1)</script>"

THIRD = f"""\
- id: third
  name: {{en: "Third | Network", ja: 第三ネットワーク, short_en: "T|3", short_ja: 第三}}
  kind: ngo-network
  founded:
    date: "1992-06"
    place: {{en: Rio de Janeiro, ja: リオデジャネイロ}}
    source: src-b
  secretariat:
    - {{city: Bonn, city_ja: ボン, country: DE, since: "1993", until: "2009", source: src-a}}
    - {{city: Tokyo, city_ja: 東京, country: JP, since: "2010", source: src-b}}
  relations:
    - {{organisation: net, type: national-node-of, since: "2001-04", source: src-b}}
  regions: [global, east-asia]
  status: {{value: active, as_of: "2025", source: src-b}}
  mission:
    - {{en: "=cmd()|calc\\nsecond line", ja: "使命|縦棒\\n二行目", translation: source, source: src-b}}
  vision:
    - {{en: "@x {SCRIPT}", source: src-b}}
  goals:
    - {{en: First goal, ja: 第一の目標, source: src-a}}
    - {{en: Second goal, ja: 第二の目標, source: src-b}}
  unfccc:
    - {{ja: 国連の会議に参加, source: src-a}}
  themes: [sustainability, climate]
  sources: [src-a, src-b]
"""


@pytest.fixture(scope="module")
def atlas(tmp_path_factory: pytest.TempPathFactory) -> Atlas:
    folder = tmp_path_factory.mktemp("cmp") / "data"
    shutil.copytree(MINIMAL, folder)
    with (folder / "organisations.yaml").open("a", encoding="utf-8") as f:
        f.write(THIRD)
    return load_atlas(folder)


def cell(df: pd.DataFrame, label: str, column: str) -> str:
    return df.loc[label, column]


# ---------------------------------------------------------------------------------- the table
def test_columns_are_the_short_names_and_rows_the_attributes(atlas):
    df = compare_table(atlas, ["net", "node", "third"], "en")
    assert list(df.columns) == ["TN", "TN-J", "T|3"]
    assert df.index.name == "Attribute"
    assert list(df.index)[:6] == [
        "Full name", "Kind", "Founded (when, where)", "Secretariat", "Latest membership", "Regions",
    ]  # fmt: skip
    assert len(df) == len(ATTRIBUTES)
    ja = compare_table(atlas, ["net", "third"], "ja")
    assert list(ja.columns) == ["テスト", "第三"]
    assert ja.index.name == "項目"
    assert cell(ja, "種類", "第三") == "NGOネットワーク"


def test_cells_hold_the_facts_with_their_sources(atlas):
    df = compare_table(atlas, ["net", "node", "third"], "en")
    assert cell(df, "Kind", "TN") == "Local-government network"
    assert cell(df, "Founded (when, where)", "T|3") == "1992-06, Rio de Janeiro [Test source B]"
    assert cell(df, "Founded (when, where)", "TN") == "1990-09 [Test source A]"
    assert cell(df, "Secretariat", "T|3").split("\n") == [
        "Bonn, Germany (1993–2009) [Test source A]",
        "Tokyo, Japan (since 2010) [Test source B]",
    ]
    latest = cell(df, "Latest membership", "TN")
    assert "at least 2,500" in latest
    assert "as of 2025" in latest
    assert "2,500+ in 125+ countries" in latest
    assert "Test source B" in latest
    assert cell(df, "Latest membership", "TN-J") == "—"  # no count: a dash, nothing made up
    assert cell(df, "Regions", "T|3") == "Global, East Asia"
    assert cell(df, "Parent and relations", "TN-J") == "National node of TN [Test source B]"
    assert cell(df, "Parent and relations", "T|3") == "National node of TN (since 2001-04) [Test source B]"
    assert cell(df, "Mission", "TN") == "To build sustainable cities (atlas translation) [Test source A]"
    assert cell(df, "Goals", "T|3").split("\n") == [
        "• First goal (atlas translation) [Test source A]",
        "• Second goal (atlas translation) [Test source B]",
    ]
    assert cell(df, "Status", "TN-J") == "Active (as of 2025) [Test source B]"
    assert cell(df, "Sources", "T|3") == "Test source A\nTest source B"


def test_japanese_cells_read_as_japanese_is_written(atlas):
    """Dates, brackets, lists and word order as a Japanese reader writes them, not English order in
    Japanese words ("(時点 2025)", "(から 2001-04)", "(2010–)", "全世界, 東アジア")."""
    ja = compare_table(atlas, ["net", "node", "third"], "ja")
    assert cell(ja, "設立（時期・場所）", "第三") == "1992年6月、リオデジャネイロ [Test source B]"
    assert cell(ja, "事務局", "第三").split("\n") == [
        "ボン、ドイツ（1993〜2009年） [Test source A]",
        "東京、日本（2010年から） [Test source B]",
    ]
    # (an English source's wording is not quoted to a Japanese reader: tests/test_content.py)
    latest = "2,500以上（2025年時点、2,500のうち1をアトラスに掲載） [Test source B]"
    assert cell(ja, "最新の会員数", "テスト") == latest
    assert cell(ja, "活動地域", "第三") == "全世界、東アジア"
    assert cell(ja, "上位組織・関係", "第三") == "テスト国内拠点（2001年4月から） [Test source B]"
    assert cell(ja, "状況", "ノード") == "活動中（2025年時点） [Test source B]"


def test_text_only_in_the_other_language_is_marked(atlas):
    en = compare_table(atlas, ["net", "third"], "en")
    assert cell(en, "Relation to the UNFCCC", "T|3") == "[JA] 国連の会議に参加 [Test source A]"
    ja = compare_table(atlas, ["net", "third"], "ja")
    assert cell(ja, "ビジョン", "第三").startswith("[EN] @x")
    assert cell(ja, "ミッション", "テスト") == "持続可能な都市をつくる [Test source A]"


def test_shared_themes(atlas):
    assert shared_themes(atlas, ["net", "third"]) == ["climate", "sustainability"]
    assert shared_themes(atlas, ["net", "node", "third"]) == ["climate"]
    c = comparison(atlas, ["net", "node", "third"], "en")
    assert c.shared_theme_labels == ["Climate"]
    assert c.row("shared_themes").values == ["Climate"] * 3
    assert c.themes["net"] == [("climate", "Climate", True), ("sustainability", "Sustainability", False)]
    assert c.columns == ["TN", "TN-J", "T|3"]
    assert c.org_ids == ["net", "node", "third"]


@pytest.mark.parametrize("ids", [["net"], ["net", "net"], ["net", "node", "third", "net", "x"], []])
def test_two_to_four_known_organisations(atlas, ids):
    with pytest.raises(ValueError, match="organisation"):
        compare_table(atlas, ids, "en")


def test_unknown_organisation_is_named(atlas):
    with pytest.raises(ValueError, match=r"unknown organisation id.*nope"):
        compare_table(atlas, ["net", "nope"], "en")


# ---------------------------------------------------------------------------------- Markdown
def split_row(line: str) -> list[str]:
    """Cells of a Markdown table row, honouring escaped pipes."""
    assert line.startswith("| "), line
    assert line.endswith(" |"), line
    cells, cur, i = [], "", 1
    body = line[1:-1]
    while i <= len(body):
        ch = body[i - 1]
        if ch == "\\" and i < len(body):
            cur += ch + body[i]
            i += 2
            continue
        if ch == "|":
            cells.append(cur.strip())
            cur = ""
        else:
            cur += ch
        i += 1
    cells.append(cur.strip())
    return cells


def test_markdown_is_a_valid_table_with_n_plus_one_columns(atlas):
    md = compare_markdown(atlas, ["net", "node", "third"], "en")
    lines = md.splitlines()
    assert lines[0].startswith("# Compare:")
    table = [ln for ln in lines if ln.startswith("|")]
    assert len(table) == 2 + len(ATTRIBUTES)  # header, rule, one line per attribute
    assert table[1] == "| --- | --- | --- | --- |"
    for line in table:
        assert len(split_row(line)) == 4, line
    header = split_row(table[0])
    assert header == ["Attribute", "TN", "TN-J", "T\\|3"]
    mission = next(split_row(ln) for ln in table if ln.startswith("| Mission "))
    assert mission[3] == "=cmd()\\|calc<br>second line [Test source B]"
    vision = next(split_row(ln) for ln in table if ln.startswith("| Vision "))
    assert "&lt;script&gt;" in vision[3]
    assert "<script>" not in md


def test_markdown_table_of_any_frame():
    df = pd.DataFrame({"a|b": ["x\r\ny", "back\\slash"], "c": ["", "1 & 2"]})
    md = markdown_table(df).splitlines()
    assert md[0] == "| a\\|b | c |"
    assert md[2] == "| x<br>y |   |"
    assert md[3] == "| back\\\\slash | 1 &amp; 2 |"


# ---------------------------------------------------------------------------------- CSV
def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_compare_csv_neutralises_formulas_and_keeps_text(atlas):
    rows = read_csv(compare_csv(atlas, ["net", "third"], "en"))
    assert rows[0] == ["Attribute", "TN", "T|3"]
    by_label = {r[0]: r[1:] for r in rows[1:]}
    assert by_label["Mission"][1] == "'=cmd()|calc\nsecond line [Test source B]"
    assert by_label["Vision"][1] == f"'@x {SCRIPT} [Test source B]"
    assert by_label["Kind"] == ["Local-government network", "NGO network"]
    assert len(rows) == 1 + len(ATTRIBUTES)


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=cmd()", "'=cmd()"),
        ("@x", "'@x"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain = text", "plain = text"),
        ("", ""),
        (None, ""),
        (float("nan"), ""),
        (-5, -5),
        (2.5, 2.5),
        (["a", "=b"], "a; =b"),
        (["=a", "b"], "'=a; b"),
    ],
)
def test_neutralise(value, safe):
    assert neutralise(value) == safe


def test_safe_csv_of_a_data_frame():
    df = pd.DataFrame(
        {"=name": ['=HYPERLINK("http://x")', "Bonn"], "members": [-3, 2500], "regions": [["global"], ["-x"]]}
    )
    rows = read_csv(safe_csv(df))
    assert rows == [
        ["'=name", "members", "regions"],
        ['\'=HYPERLINK("http://x")', "-3", "global"],
        ["Bonn", "2500", "'-x"],
    ]
    assert safe_csv_bytes(df).startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Japanese right
    assert "ボン" in safe_csv_bytes(pd.DataFrame({"c": ["ボン"]})).decode("utf-8-sig")
