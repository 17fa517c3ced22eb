"""Hostile and broken input: text from the data is shown literally everywhere, broken files are named.

``tests/fixtures/hostile`` is the minimal fixture with ``<script>``, ``<img onerror>``, ``javascript:``
links, template literals, quotes, Markdown links, Jinja, spreadsheet formulas and a 10,000-character
string in every free-text field. It is valid data, so every page shows it; each test checks one
output (map popups and tooltips, tables, the comparison and its Markdown, chart hover text, CSV,
the briefing pack) for markup coming from the data and for the text being there as written.

The broken-file cases check that ``python -m dashboard validate`` and the app both name the file,
the line and the problem, and that the app shows it on the page and keeps serving the other pages.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from dashboard.atlasmap import builder as mapping
from dashboard.core import compare, figures, tables
from dashboard.core.data import load_atlas
from dashboard.core.filters import Filters, select
from dashboard.core.safety import FORMULA_STARTS, script_json_text
from dashboard.core.safety import csv_text as safe_csv

FIXTURES = Path(__file__).parent / "fixtures"
HOSTILE = FIXTURES / "hostile"
MINIMAL = FIXTURES / "minimal"
APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")

# Markup that only the data can bring: none of it may reach any output unescaped.
RAW_MARKUP = re.compile(
    r"<script>alert|<img src=x|<svg onload|<b onclick|<b>host|<i>local|<i>\"|ノード<i>|TN<b>", re.IGNORECASE
)
JS_LINK = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
MD_LINK = re.compile(r"\]\(\s*javascript:", re.IGNORECASE)  # a Markdown link or image
LONG = ("長" + "x" * 99) * 100


@pytest.fixture(scope="module")
def atlas():
    return load_atlas(HOSTILE)


@pytest.fixture(scope="module")
def sel(atlas):
    return select(atlas, Filters())


def test_the_hostile_fixture_is_valid_and_carries_every_kind_of_attack(atlas):
    text = "\n".join(p.read_text(encoding="utf-8") for p in HOSTILE.glob("*.*"))
    for attack in ("<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "javascript:alert(3)",
                   "`${alert(4)}`", "[click me](javascript:alert(5))", "{{ 7 * 191 }}", "=HYPERLINK(",
                   "@SUM(1)", '"double"', LONG):  # fmt: skip
        assert attack in text, attack
    assert atlas.problems == []
    assert len(atlas.points) == 3


def _strings(obj) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _strings(v)


def assert_inert(text: str, where: str, markdown: bool = False) -> None:
    found = RAW_MARKUP.search(text)
    assert found is None, (
        f"{where}: raw markup from the data: {text[max(0, found.start() - 60) : found.end() + 60]!r}"
    )
    assert not JS_LINK.search(text), f"{where}: a javascript: link"
    if markdown:
        assert not MD_LINK.search(text), f"{where}: a javascript: link in Markdown"


# ---------------------------------------------------------------------------------- the map
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_map_page_holds_no_markup_from_the_data(atlas, sel, lang):
    page = mapping.map_html(mapping.build_map(sel.points, lang=lang, atlas=atlas))
    assert_inert(page, f"map ({lang})")
    assert "1337" not in page  # {{ 7 * 191 }} was not evaluated on the server
    assert "`${" not in page
    assert mapping.shown_points(page) == 3


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_the_json_text_literal_is_inert_and_gives_back_the_value(value):
    """The map's data travels as ``JSON.parse(`...`)`` (dashboard.core.safety.script_json_text): nothing
    in the text can end the backquotes, start a substitution or close the script, and the text
    (backslashes halved, as the browser reads the literal) is the JSON of the value."""
    literal = script_json_text(value)
    inner = literal[1:-1]
    assert literal[0] == literal[-1] == "`"
    assert "`" not in inner
    assert "$" not in inner
    assert "<" not in inner
    assert "\r" not in inner
    assert "\n" not in inner
    assert json.loads(re.sub(r"\\(.)", r"\1", inner)) == value


def test_standalone_map_holds_no_markup_from_the_data(atlas, sel):
    page = mapping.standalone_html(sel.points, lang="ja", atlas=atlas)
    assert_inert(page, "standalone map")
    assert "1337" not in page


def test_the_map_data_holds_the_text_as_written(atlas, sel):
    """Popups and tooltips are built in the browser from this data, escaping every value (checked in
    a real browser by tests/browser/test_injection.py): the data must carry the text exactly."""
    data = mapping.selection_data(sel.points, "en", atlas=atlas)
    at = {pid: i for i, pid in enumerate(data["columns"]["id"])}
    address = data["columns"]["address"]
    bonn_address = address["dict"][address["codes"][at["net-bonn"]]]
    assert bonn_address == sel.points.set_index("id").loc["net-bonn", "address"]
    assert "<script>alert(1)</script> Secretariat" in data["columns"]["name"][at["net-bonn"]]
    assert address["dict"][address["codes"][at["node-tokyo"]]] == LONG  # 10,000 characters, whole
    ja = mapping.selection_data(sel.points, "ja", atlas=atlas)
    assert ja["columns"]["name"][at["node-tokyo"]] == "@SUM(1) 日本<script>alert(1)</script>"


# ---------------------------------------------------------------------------------- charts
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_chart_hover_legends_and_labels_are_escaped(atlas, sel, lang):
    for name, fig in (
        ("timeline", figures.timeline_figure(sel, atlas, lang)),
        ("membership", figures.membership_figure(sel.membership, atlas, lang)),
    ):
        spec = fig.to_dict()
        for s in _strings(spec):
            assert_inert(s, f"{name} ({lang})")
            assert "<a " not in s, f"{name}: a link in the figure"
        blob = json.dumps(spec, ensure_ascii=False)
        assert "hovertemplate" not in blob  # data never goes through plotly's template syntax
        assert "&lt;" in blob  # the hostile text is there, escaped
    hover = json.dumps(figures.timeline_figure(sel, atlas, "en").to_dict()["data"], ensure_ascii=False)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; founded" in hover
    assert "[click me](javascript:alert(5)) %{x}" in hover  # shown as written, not a template


# ---------------------------------------------------------------------------------- tables
TABLES: dict[str, Callable] = {
    "organisations": lambda a, s, lang: tables.organisations_table(a, s, lang),
    "sources": lambda a, _s, lang: tables.sources_table(a, lang),
    "places": lambda a, s, lang: tables.places_table(a, s, lang),
    "events": lambda a, s, lang: tables.events_table(a, s, lang),
    "membership": lambda a, s, lang: tables.membership_table(a, s, lang),
    "disagreements": lambda a, _s, lang: tables.disagreements_table(a, lang),
    "compare": lambda a, _s, lang: compare.compare_table(a, ["net", "node"], lang),
}


def _cells(df) -> list[str]:
    return [str(v) for v in df.reset_index().to_numpy().ravel().tolist()]


@pytest.mark.parametrize("name", list(TABLES))
def test_tables_hold_plain_text_and_their_csv_neutralises_formulas(atlas, sel, name):
    for lang in ("en", "ja"):
        df = TABLES[name](atlas, sel, lang)
        assert not df.empty, name
        text = safe_csv(df)
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) == len(df) + 1  # header + one line per row, nothing split or lost
        for row in rows:
            for cell in row:
                assert not cell.startswith(FORMULA_STARTS), f"{name}: formula cell {cell[:60]!r}"
        # the neutralised cell still says what the data says, after the apostrophe
        formulas = [c for c in _cells(df) if c.startswith(FORMULA_STARTS)]
        for cell in formulas:
            assert "'" + cell in text or "'" + cell.replace('"', '""') in text, cell


def test_tables_show_the_hostile_text_literally(atlas, sel):
    places = tables.places_table(atlas, sel, "en")
    assert "<script>alert(1)</script> Secretariat" in list(places["Name"])
    assert LONG in list(places["Address (as written in the source)"])
    sources = tables.sources_table(atlas, "en")
    assert sources["Source"].iloc[0].startswith('=HYPERLINK("https://evil.example"')
    assert all(u is None or u.startswith(("http://", "https://")) for u in sources["URL"])


# ---------------------------------------------------------------------------------- comparison
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_comparison_markdown_has_no_markup_or_link_from_the_data(atlas, lang):
    md = compare.compare_markdown(atlas, ["net", "node"], lang)
    assert_inert(md, "comparison Markdown", markdown=True)
    assert "](javascript" not in md
    assert "[click me]\\(javascript:alert(5))" in md  # shown literally by a Markdown renderer
    lines = md.strip().splitlines()
    table = [ln for ln in lines if ln.startswith("|")]
    n_cols = table[0].count(" | ") + 1
    # pipes and newlines in the data do not break the table: every row has the same columns
    for ln in table[2:]:
        assert len(re.split(r"(?<!\\)\|", ln)) - 2 == n_cols, ln[:120]
    assert len(md) > 10_000  # the long mission is kept whole


def test_comparison_cells_are_the_text_as_written(atlas):
    c = compare.comparison(atlas, ["net", "node"], "en")
    mission = c.row("mission").values[0]
    assert "[click me](javascript:alert(5)) `${alert(4)}` {{ 7 * 191 }} javascript:alert(3)" in mission
    assert LONG in mission
    assert c.row("name").values == ["<script>alert(1)</script> Network \"double\" 'single'",
                                    "@Node <img src=x onerror=alert(2)>"]  # fmt: skip


# ---------------------------------------------------------------------------------- briefing pack
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_briefing_pack_shows_hostile_text_literally(atlas, sel, lang):
    briefing = pytest.importorskip("dashboard.outputs.briefing")
    page = briefing.briefing_html(atlas, Filters(lang=lang, compare=("net", "node")), lang=lang)
    # the pack inlines Leaflet and plotly (their own <script> elements); text from the data is escaped
    assert_inert(page, f"briefing pack ({lang})")
    assert "7 * 191" in page  # Jinja-like text kept as text (the pack's map is no Jinja template)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page or "\\u003cscript\\u003ealert(1)" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page or "\\u003cimg src=x onerror=alert(2)" in page
    assert not re.search(r"""href\s*=\s*["']?\s*(?:javascript|vbscript):""", page, re.IGNORECASE)


# ---------------------------------------------------------------------------------- the app
def _app(params: dict[str, str], page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    return at


def _page_text(at: AppTest) -> str:
    parts = []
    for kind in ("title", "caption", "markdown", "info", "warning", "error", "success", "text", "code"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    return "\n".join(parts)


@pytest.mark.parametrize("page", ["overview", "map", "timeline", "membership", "compare", "sources"])
def test_every_page_renders_the_hostile_data_without_an_exception(monkeypatch, page):
    monkeypatch.setenv("ATLAS_DATA_DIR", str(HOSTILE))
    at = _app({"lang": "en", "compare": "net,node"}, None if page == "overview" else page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, page
    assert not at.error, [e.value for e in at.error]
    for kind in ("markdown", "success", "caption"):  # elements that render Markdown
        for e in getattr(at, kind):
            # a tag is only harmless in Markdown when its "<" is escaped (shown literally)
            assert not re.search(r"(?<!\\)<(script|img)", e.value), (kind, e.value)
    if page == "overview":
        names = list(at.dataframe[0].value["Name"])
        assert "<script>alert(1)</script> Network \"double\" 'single'" in names  # literal in the table
    if page == "compare":
        shared = "\n".join(s.value for s in at.success)
        assert "Climate \\<script\\>alert\\(1\\)\\</script\\>" in shared  # escaped for Markdown


# ---------------------------------------------------------------------------------- broken files
def _edit(path: Path, fn: Callable[[str], str]) -> None:
    path.write_text(fn(path.read_text(encoding="utf-8")), encoding="utf-8", newline="")


BROKEN: list = [
    pytest.param(
        "offices.csv",
        lambda p: _edit(p, lambda t: t.rstrip("\n")[:-40]),
        ["offices.csv, line 3", "fewer cells than the header has columns (truncated?)"],
        id="truncated-row",
    ),
    pytest.param(
        "offices.csv",
        lambda p: _edit(p, lambda t: t[: t.index("1-14-2") + 6]),
        ["offices.csv, line 3", "truncated"],
        id="truncated-inside-quotes",
    ),
    pytest.param(
        "members.csv",
        lambda p: p.write_bytes(p.read_text(encoding="utf-8").encode("shift_jis")),
        ["members.csv, line 2: is not UTF-8 text"],
        id="shift-jis",
    ),
    pytest.param(
        "events.csv",
        lambda p: p.write_bytes(p.read_text(encoding="utf-8").encode("utf-16")),
        ["events.csv, line 1: is not UTF-8 text"],
        id="utf-16",
    ),
    pytest.param("members.csv", lambda p: p.write_text(""), ["members.csv: file is empty"], id="empty-file"),
    pytest.param(
        "sources.yaml",
        lambda p: _edit(p, lambda t: t.replace("- id: src-b\n", "- id: src-b\n  title: [oops\n")),
        ["sources.yaml, line ", "is not valid YAML"],
        id="yaml-syntax-error",
    ),
    pytest.param(
        "offices.csv",
        lambda p: _edit(p, lambda t: t.replace("node-tokyo,node", "net-bonn,node")),
        ["offices.csv, line 3, field 'id': duplicate id (first at line 2)"],
        id="duplicate-id",
    ),
    pytest.param(
        "offices.csv",
        lambda p: _edit(p, lambda t: t.replace("1-14-2 Nishi", "1-14-2 " + "N" * 200_000)),
        ["offices.csv, line 3", "is not valid CSV"],
        id="field-too-large",
    ),
]
ACCEPTED: list = [
    pytest.param(lambda p: p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes()), id="bom"),
    pytest.param(lambda p: p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n")), id="windows-line-endings"),
    pytest.param(
        lambda p: p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes().replace(b"\n", b"\r\n")), id="bom-and-crlf"
    ),
]


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(MINIMAL, folder)
    monkeypatch.setenv("ATLAS_DATA_DIR", str(folder))
    return folder


def _validate_cli(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dashboard", "validate", "--data-dir", str(folder)],
        capture_output=True, text=True, check=False, cwd=Path(APP).parent.parent, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(("file", "damage", "expected"), BROKEN)
def test_validate_command_names_file_line_and_problem(broken, file, damage, expected):
    damage(broken / file)
    proc = _validate_cli(broken)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for part in expected:
        assert part in proc.stdout, f"{part!r} not in:\n{proc.stdout}"
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(("file", "damage", "expected"), BROKEN)
def test_app_names_the_problem_on_the_page_and_keeps_serving(broken, file, damage, expected):
    damage(broken / file)
    at = _app({"lang": "en"})
    assert not at.exception, [e.value for e in at.exception]
    shown = _page_text(at)
    for part in expected:
        assert part in shown, f"{part!r} not on the page:\n{shown[:2000]}"
    assert "Traceback" not in shown
    fatal = "cannot be shown" in shown
    for page in ("map", "sources"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert expected[0] in _page_text(at), page  # named on every page
        if not fatal:
            assert at.title, page  # the page itself is still drawn on what is valid


@pytest.mark.parametrize("damage", ACCEPTED)
@pytest.mark.parametrize("file", ["offices.csv", "organisations.yaml"])
def test_bom_and_windows_line_endings_are_read_as_usual(broken, file, damage):
    damage(broken / file)
    proc = _validate_cli(broken)
    assert proc.returncode == 0, proc.stdout
    at = _app({"lang": "en"})
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert {m.label: m.value for m in at.metric}["Offices"] == "2"
    names = list(at.dataframe[0].value["Name"])
    assert sorted(names) == ["Test Network", "Test Node"]  # no "\ufeff" or "\r" in the text
