"""The fault audit of issue 18, one section per finding: each test failed before its fix.

A hostile or unlucky user broke the atlas by: a 420-byte YAML alias bomb; a data file that is a
folder, a FIFO, unreadable or nested thousands of levels deep; a duplicated header column; an
``export --out`` onto a device, a full disk or an unwritable folder; a malformed geocoding cache or
output; a large file whose memory stayed after it was gone; and a link with more than 1,000
parameters. The limits themselves are tested in tests/test_file_limits.py, the server's memory in
tests/test_memory.py, the fuzzer that keeps all this so in tests/test_fuzz_data.py.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.__main__ import main as dashboard_main
from dashboard.core import paths
from dashboard.core.data import (
    Atlas,
    Problem,
    _pydantic_problems,
    _short,
    load_atlas,
    load_atlas_partial,
    validate,
)
from dashboard.core.filters import LINK_DROPPED, from_query_params
from dashboard.core.schema import Source
from geocoding import files
from geocoding.cli import main as geocoding_main
from geocoding.gazetteer import Gazetteer
from tests.geocoding_fakes import FakeClock, copy_fixture
from tests.test_file_limits import alias_bomb, without_file_mode_override

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
APP = str(ROOT / "dashboard" / "app.py")
PAGES = ("overview", "map", "timeline", "membership", "compare", "sources")
DATA_FILES = (
    paths.VOCABULARY, paths.SOURCES, paths.ORGANISATIONS, paths.OFFICES,
    paths.MEMBERS, paths.MEMBERSHIP, paths.EVENTS, paths.GEOCODED,
)  # fmt: skip


@pytest.fixture
def folder(minimal_copy: Path) -> Path:
    """A copy of the minimal fixture to damage, with ATLAS_DATA_DIR pointing at it (conftest.py)."""
    return minimal_copy


def validate_cli(folder: Path, prefix: list[str] | None = None) -> tuple[subprocess.CompletedProcess, float]:
    """``python -m dashboard validate`` in a child process; also the child's peak memory in MB. The
    timeout only keeps a regression from hanging the suite (a FIFO used to make validate wait forever)."""
    code = (
        "import resource, sys\n"
        "from dashboard.__main__ import main\n"
        f"status = main(['validate', '--data-dir', {str(folder)!r}])\n"
        "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    proc = subprocess.run(
        [*(prefix or []), sys.executable, "-c", code],
        capture_output=True, text=True, check=False, cwd=ROOT, timeout=120,
    )  # fmt: skip
    peak = re.search(r"MAXRSS (\d+)", proc.stderr)
    return proc, int(peak.group(1)) / 1024 if peak else float("nan")


def app(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in (params or {"lang": "en"}).items():
        at.query_params[k] = v
    at.run()
    return at


def unescaped(text: str) -> str:
    """Markdown as a reader sees it (the app escapes file names for Markdown)."""
    return re.sub(r"\\(.)", r"\1", text)


def top_error(at: AppTest) -> str:
    return unescaped("\n".join(e.value for e in at.error))


# ======================================================================= 1. the 420-byte YAML file
def test_an_alias_bomb_in_organisations_yaml_is_refused_at_once_with_little_memory(folder):
    bomb = alias_bomb()
    (folder / paths.ORGANISATIONS).write_text(bomb, encoding="utf-8")
    assert len(bomb.encode()) < 450  # the audit's 420 bytes, give or take
    proc, peak_mb = validate_cli(folder)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "organisations.yaml, line 6: aliases (*name) repeat more than 10,000 values" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert peak_mb < 400, f"validate peaked at {peak_mb:.0f} MB"  # it used to climb to 1-3 GB


def test_an_alias_bomb_leaves_every_session_a_page_that_names_it(folder):
    (folder / paths.ORGANISATIONS).write_text(alias_bomb(), encoding="utf-8")
    at = app()
    assert not at.exception
    assert "cannot be shown" in top_error(at)  # no organisation: little can be shown
    assert "organisations.yaml, line 6: aliases (*name) repeat more than" in at.code[0].value
    assert "Could not read organisations.yaml" in top_error(at)


class Tripwire:
    """A value that fails the test if anything formats it."""

    def __repr__(self) -> str:
        raise AssertionError("the whole value was formatted")

    __str__ = __repr__


def test_problem_values_are_formatted_from_a_bounded_prefix():
    deep = [[[[[[Tripwire()]]]]]]  # deeper than the levels shown
    wide = [1, 2, 3, 4, 5, 6, 7, Tripwire()]  # longer than the items shown
    assert _short(deep).startswith("[[[")
    assert _short(wide) == "[1, 2, 3, 4, 5, ...]"
    assert _short({"a": 1, "b": Tripwire(), "c": 3, "d": 4, "e": 5, "f": 6, "z": Tripwire()}.keys())
    assert len(_short("x" * 10_000_000)) == 80
    # a problem never carries a long text, whoever builds it
    p = Problem("offices.csv", "line 2", "x" * 10_000, "y" * 10_000, "z" * 10_000)
    assert len(str(p)) < 1_000


def test_the_pydantic_problem_formatter_never_formats_the_whole_input():
    shared = [Tripwire()] * 1000
    bomb = [[[[shared] * 9] * 9] * 9] * 9  # 9**4 * 1000 values once expanded, a few KB in memory
    with pytest.raises(Exception) as caught:  # noqa: PT011 (pydantic's ValidationError)
        Source.model_validate({"id": "a", "title": bomb, "publisher": "P", "language": "en", "url": bomb})
    problems = list(_pydantic_problems(caught.value, "sources.yaml", "entry 1"))
    assert {p.field for p in problems} == {"title", "url"}
    assert all(len(p.value) <= 80 for p in problems)


# ======================================================================= 2. unreadable files
def make_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def make_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def make_deep(path: Path) -> None:
    depth = 5_000
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\n", "\n  deep: " + "[" * depth + "]" * depth + "\n", 1), encoding="utf-8")


BROKEN_KINDS: dict[str, tuple[Callable[[Path], None], str]] = {
    "folder": (make_folder, "is a folder, not a file"),
    "fifo": (make_fifo, "is a named pipe (FIFO), not a file"),
}


@pytest.mark.parametrize("kind", list(BROKEN_KINDS))
@pytest.mark.parametrize("file", DATA_FILES)
def test_validate_names_a_data_file_that_is_not_a_file_and_never_waits(folder, file, kind):
    damage, message = BROKEN_KINDS[kind]
    damage(folder / file)
    proc, _ = validate_cli(folder)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"- {file}: {message}" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("file", [paths.SOURCES, paths.ORGANISATIONS, paths.VOCABULARY])
def test_validate_names_yaml_nested_thousands_of_levels_deep(folder, file):
    make_deep(folder / file)
    proc, _ = validate_cli(folder)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(
        rf"- {re.escape(file)}, line \d+: (nests lists and mappings more than 64|is not valid YAML)",
        proc.stdout,
    )
    assert "Traceback" not in proc.stdout + proc.stderr


def test_validate_names_a_member_list_that_is_a_fifo(folder):
    (folder / paths.MEMBER_LISTS).mkdir()
    os.mkfifo(folder / paths.MEMBER_LISTS / "big.csv")
    proc, _ = validate_cli(folder)
    assert "- member-lists/big.csv: is a named pipe (FIFO), not a file" in proc.stdout


def test_validate_names_a_file_it_may_not_read(folder):
    (folder / paths.OFFICES).chmod(0)
    proc, _ = validate_cli(folder, prefix=without_file_mode_override())
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "- offices.csv: cannot be read (Permission denied)" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


# What each broken file leaves: the pages that must still show their own content.
STILL_SHOWN: dict[str, dict[str, Callable[[AppTest], bool]]] = {
    paths.OFFICES: {  # the timeline and the member cities need no office
        "timeline": lambda at: len(at.get("plotly_chart")) == 1,
        "membership": lambda at: len(at.get("plotly_chart")) == 1,
        "map": lambda at: not at.info,  # the member city is on the map
    },
    paths.EVENTS: {"overview": lambda at: len(at.dataframe) >= 1, "map": lambda at: not at.info},
    paths.MEMBERSHIP: {"timeline": lambda at: len(at.get("plotly_chart")) == 1},
    paths.MEMBERS: {"timeline": lambda at: len(at.get("plotly_chart")) == 1},
    paths.GEOCODED: {"timeline": lambda at: len(at.get("plotly_chart")) == 1},
    paths.SOURCES: {"overview": lambda at: len(at.dataframe[0].value) == 2},  # both organisations
    paths.VOCABULARY: {"overview": lambda at: len(at.dataframe[0].value) == 2},
}


@pytest.mark.parametrize("kind", list(BROKEN_KINDS))
@pytest.mark.parametrize("file", DATA_FILES)
def test_the_app_names_a_broken_file_on_every_page_and_shows_what_does_not_need_it(folder, file, kind):
    BROKEN_KINDS[kind][0](folder / file)
    at = app()
    assert not at.exception, [e.value for e in at.exception]
    fatal = file == paths.ORGANISATIONS  # without organisations, little can be shown
    for page in PAGES:
        if page != "overview":
            at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        shown = top_error(at)
        assert f"Could not read {file}" in shown, (page, shown)  # named at the top of every page
        if fatal:
            continue
        assert at.title, page  # the page itself is drawn
        check = STILL_SHOWN.get(file, {}).get(page)
        assert check is None or check(at), f"{page} lost what does not depend on {file}"


def test_a_broken_sources_file_does_not_turn_every_row_into_an_error(folder):
    make_folder(folder / paths.SOURCES)
    problems = validate(folder)
    assert [str(p) for p in problems if p.severity == "error"] == ["sources.yaml: is a folder, not a file"]
    atlas, _ = load_atlas_partial(folder)
    assert atlas is not None
    assert len(atlas.offices) == 2
    assert len(atlas.events) == 2


# ======================================================================= 3. a duplicated header column
def test_a_header_naming_a_column_twice_is_one_message_and_corrupts_nothing(folder):
    offices = folder / paths.OFFICES
    offices.write_text(
        offices.read_text(encoding="utf-8").replace("name,name_ja", "name,name", 1), encoding="utf-8"
    )
    problems = [str(p) for p in validate(folder)]
    assert problems == [
        "offices.csv, line 1, field 'name': column is named 2 times (columns 3 and 4): rename the one meant"
    ]
    atlas, _ = load_atlas_partial(folder)
    assert "本部" not in set(atlas.offices["name"])  # no office's English name became the Japanese one
    assert atlas.offices.empty  # the file is set aside until its header is fixed


def test_a_header_column_without_a_name_is_one_message(folder):
    offices = folder / paths.OFFICES
    offices.write_text(offices.read_text(encoding="utf-8").replace(",website,", ",,", 1), encoding="utf-8")
    problems = [str(p) for p in validate(folder) if p.file == paths.OFFICES]
    assert problems == ["offices.csv, line 1: column 11 has no name in the header"]


# ======================================================================= 4. export writes regular files only
def export(out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*extra, sys.executable, "-m", "dashboard", "export", "--out", str(out), "--data-dir", str(MINIMAL)],
        capture_output=True, text=True, check=False, cwd=ROOT, timeout=180,
    )  # fmt: skip


def test_export_refuses_to_replace_a_fifo(tmp_path):
    out = tmp_path / "briefing.html"
    os.mkfifo(out)
    proc = export(out)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: could not write {out}: a named pipe (FIFO) is there, not a regular file: refusing to "
        "replace it; nothing was written"
    ]
    assert stat.S_ISFIFO(os.stat(out).st_mode)  # still the FIFO
    assert sorted(p.name for p in tmp_path.iterdir()) == ["briefing.html"]


def test_export_refuses_to_replace_a_device_node(tmp_path):
    out = tmp_path / "null"
    try:
        os.mknod(out, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")
    proc = export(out)
    assert proc.returncode == 2
    assert "a character device is there, not a regular file" in proc.stderr
    assert stat.S_ISCHR(os.stat(out).st_mode)  # as root, it used to become a regular file


def test_export_into_a_folder_it_may_not_write_is_one_line(tmp_path):
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    proc = export(folder / "briefing.html", *without_file_mode_override())
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: could not write {folder / 'briefing.html'}: Permission denied; nothing was written"
    ]
    assert list(folder.iterdir()) == []


def test_export_on_a_disk_that_fills_up_is_one_line_and_leaves_no_temporary(tmp_path):
    out = tmp_path / "briefing.html"
    proc = export(out, "prlimit", "--fsize=100000")  # writes past 100 kB fail: EFBIG
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: could not write {out}: File too large; nothing was written"
    ]
    assert list(tmp_path.iterdir()) == []


def test_export_when_the_disk_is_full_is_one_line_and_leaves_no_temporary(tmp_path, monkeypatch, capsys):
    out = tmp_path / "briefing.html"
    out.write_text("the previous pack")

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", full)
    code = dashboard_main(["export", "--out", str(out), "--data-dir", str(MINIMAL)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [
        f"error: could not write {out}: No space left on device; nothing was written"
    ]
    assert out.read_text() == "the previous pack"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["briefing.html"]


def test_export_removes_the_temporary_a_killed_export_left(tmp_path):
    out = tmp_path / "briefing.html"
    code = (
        "import os, tempfile\n"
        "prefix = '.briefing.html.' + str(os.getpid()) + '.'\n"
        f"fd, tmp = tempfile.mkstemp(prefix=prefix, suffix='.tmp', dir={str(tmp_path)!r})\n"
        "os.write(fd, b'<html>half a pack')\n"
        "os.kill(os.getpid(), 9)\n"
    )
    killed = subprocess.run([sys.executable, "-c", code], check=False, timeout=60)
    assert killed.returncode < 0
    assert len(list(tmp_path.glob(".briefing.html.*.tmp"))) == 1
    proc = export(out)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["briefing.html"]


# ======================================================================= 5. the geocoder's cache and output
@pytest.fixture
def geo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copy_fixture(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


def geocode_offline(gazetteer: Gazetteer) -> int:
    clock = FakeClock()
    return geocoding_main(["--offline", "--no-progress"], clock=clock, sleep=clock.sleep, gazetteer=gazetteer)


GOOD_ENTRY = {"provider": "gazetteer", "query": "Bonn, DE", "found": True,
              "checked_at": "2025-01-01T00:00:00Z", "latitude": 50.7, "longitude": 7.1,
              "precision": "city"}  # fmt: skip


def cache_with(**entry) -> bytes:
    data = {
        "format": "atlas-geocoding-cache",
        "version": 1,
        "entries": {"gazetteer|x": {**GOOD_ENTRY, **entry}},
    }
    return json.dumps(data).encode()


def nested_cache(depth: int = 100_000) -> bytes:
    return (
        b'{"format": "atlas-geocoding-cache", "version": 1, "entries": ' + b"[" * depth + b"]" * depth + b"}"
    )


MALFORMED: list = [
    # (file, content or damage, what the message says)
    pytest.param(
        paths.GEOCODING_CACHE,
        cache_with(latitude="50.7"),
        "latitude is '50.7', not a number",
        id="cache-text-latitude",
    ),
    pytest.param(
        paths.GEOCODING_CACHE,
        nested_cache(),
        "nests arrays and objects more than 64 levels deep",
        id="cache-deeply-nested",
    ),
    pytest.param(
        paths.GEOCODING_CACHE,
        cache_with(found="yes"),
        "found is str, not true or false",
        id="cache-text-found",
    ),
    pytest.param(
        paths.GEOCODING_CACHE, cache_with(place=["Bonn"]), "place is list, not text", id="cache-list-place"
    ),
    pytest.param(
        paths.GEOCODING_CACHE,
        cache_with(latitude=float("nan")),
        "latitude is float, not a number",
        id="cache-nan",
    ),
    pytest.param(
        paths.GEOCODING_CACHE,
        b'{"format": "atlas-geocoding-cache", "version": 1, "entries": {"a": 1}}',
        "entry 'a': not an object",
        id="cache-entry-not-object",
    ),
    pytest.param(
        paths.GEOCODING_CACHE,
        b'{"format": "atlas-geocoding-cache", "version": 1' + b"0" * 5000 + b"}",
        "is not valid JSON",
        id="cache-huge-number",
    ),
    pytest.param(
        paths.GEOCODING_CACHE, "\u00e9t\u00e9".encode("latin-1"), "is not UTF-8 text", id="cache-latin1"
    ),
    pytest.param(paths.GEOCODING_CACHE, make_folder, "is a folder, not a file", id="cache-folder"),
    pytest.param(paths.GEOCODING_CACHE, make_fifo, "is a named pipe (FIFO), not a file", id="cache-fifo"),
    pytest.param(
        paths.GEOCODED, "id,latitude\nx,1\n".encode("utf-16"), "is not UTF-8 text", id="output-utf16"
    ),
    pytest.param(
        paths.GEOCODED, "id,place\nx,Zürich\n".encode("latin-1"), "is not UTF-8 text", id="output-latin1"
    ),
    pytest.param(
        paths.GEOCODED, b"id,id\nx,y\n", "names column id more than once", id="output-duplicate-column"
    ),
    pytest.param(
        paths.GEOCODED, b"latitude,longitude\n1,2\n", "no column id in the header", id="output-no-id"
    ),
    pytest.param(paths.GEOCODED, b'id\n"x' + b"y" * 200_000 + b'"\n', "not CSV", id="output-field-too-large"),
    pytest.param(paths.GEOCODED, make_folder, "is a folder, not a file", id="output-folder"),
    pytest.param(paths.GEOCODED, make_fifo, "is a named pipe (FIFO), not a file", id="output-fifo"),
    pytest.param(
        paths.GEOCODING_OVERRIDES, "- id: é\n".encode("latin-1"), "is not UTF-8 text", id="overrides-latin1"
    ),
    pytest.param(
        paths.GEOCODING_OVERRIDES,
        alias_bomb().encode(),
        "repeat more than 10,000 values",
        id="overrides-alias-bomb",
    ),
    pytest.param(
        paths.GEOCODING_OVERRIDES,
        b"- id: a\n  x: " + b"[" * 5000 + b"]" * 5000 + b"\n",
        "is not valid YAML",
        id="overrides-deep",
    ),
    pytest.param(
        paths.GEOCODING_OVERRIDES,
        b"- id: a\n  latitude: 1\n  latitude: 2\n",
        "latitude is given twice",
        id="overrides-duplicate-key",
    ),
    pytest.param(
        paths.GEOCODING_OVERRIDES,
        b"- id: a\n  as_of: 2024-13-45\n",
        "month must be in 1..12",
        id="overrides-impossible-date",
    ),
    pytest.param(
        paths.OFFICES,
        "id,city,country\nx,Zürich,CH\n".encode("latin-1"),
        "is not UTF-8 text",
        id="offices-latin1",
    ),
    pytest.param(
        paths.OFFICES,
        b"id,city,city,country\nx,a,b,JP\n",
        "names column city more than once",
        id="offices-duplicate-column",
    ),
    pytest.param(
        paths.OFFICES,
        b"id,city,country\nx,Tokyo,JP,extra\n",
        "more cells than the header",
        id="offices-extra-cell",
    ),
    pytest.param(paths.OFFICES, make_folder, "is a folder, not a file", id="offices-folder"),
]


@pytest.mark.parametrize(("file", "content", "message"), MALFORMED)
def test_the_geocoder_names_a_malformed_file_exits_2_and_leaves_it_untouched(
    geo, gazetteer, capsys, file, content, message
):
    path = geo / file
    if not path.exists():
        path.write_text("to be replaced\n", encoding="utf-8")
    if callable(content):
        content(path)
    else:
        path.write_bytes(content)
    before = {p.name: (p.read_bytes() if p.is_file() else None) for p in geo.iterdir()}
    code = geocode_offline(gazetteer)
    err = capsys.readouterr().err
    assert code == 2, err
    assert str(path) in err
    assert message in err, err
    assert "Traceback" not in err
    after = {p.name: (p.read_bytes() if p.is_file() else None) for p in geo.iterdir()}
    assert after == before  # nothing written, nothing replaced, no temporary file


def test_a_cache_entry_with_a_text_latitude_used_to_be_a_traceback(geo):
    """The audit's own case, read as the geocoder reads it (Cache.load)."""
    from geocoding.cache import Cache, CacheError

    (geo / paths.GEOCODING_CACHE).write_bytes(cache_with(latitude="50.7"))
    with pytest.raises(CacheError, match=r"entry 'gazetteer\|x': latitude is '50.7', not a number"):
        Cache.load(geo / paths.GEOCODING_CACHE)


def test_a_gazetteer_index_that_cannot_be_read_is_rebuilt_with_a_note(geo):
    os.mkfifo(geo / paths.GAZETTEER_INDEX)
    g = Gazetteer(index_path=geo / paths.GAZETTEER_INDEX)
    assert "is a named pipe (FIFO), not a file; rebuilding it" in g.index_note
    assert g.city("Bonn", "DE") is not None


# ======================================================================= 6. memory after a data change
def live_atlases() -> list[Atlas]:
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, Atlas)]


def test_after_a_data_change_no_old_atlas_or_selection_stays_cached(folder):
    at = app()
    for page in PAGES:  # every page once: selections, tables and maps cached for the old data
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception
    old = [a for a in live_atlases() if a.data_dir == folder]
    assert len(old) == 1
    old_id = id(old[0])
    del old
    offices = folder / paths.OFFICES
    offices.write_text(
        offices.read_text(encoding="utf-8").replace("World Secretariat", "World HQ"), encoding="utf-8"
    )
    at.switch_page("app_pages/overview.py").run()
    assert not at.exception
    mine = [a for a in live_atlases() if a.data_dir == folder]
    assert [id(a) for a in mine] != [old_id]
    assert len(mine) == 1, f"{len(mine)} copies of the atlas are alive after the data changed"
    assert "World HQ" in set(mine[0].offices["name"])


def test_a_member_list_edited_is_picked_up_without_a_restart(folder):
    lists = folder / paths.MEMBER_LISTS
    lists.mkdir()
    header = "organisation,city,country,latitude,longitude,precision,since,until,as_of,source,note\n"
    (lists / "net.csv").write_text(
        header + "net,Osaka,JP,34.69,135.50,city,,,2025,src-a,\n", encoding="utf-8"
    )
    at = app()
    before = {m.label: m.value for m in at.metric}
    (lists / "net.csv").write_text(
        header
        + "net,Osaka,JP,34.69,135.50,city,,,2025,src-a,\nnet,Kobe,JP,34.69,135.19,city,,,2025,src-a,\n",
        encoding="utf-8",
    )
    at.run()
    after = {m.label: m.value for m in at.metric}
    assert before != after  # the new member city is counted


# ======================================================================= 7. more than 1,000 URL parameters
def test_a_dropped_link_gives_the_same_kind_of_notice_as_any_malformed_link():
    atlas = load_atlas(MINIMAL)
    parsed = from_query_params({LINK_DROPPED: "fields.1001.1000"}, atlas)
    assert [n.text("en") for n in parsed.notices] == [
        "The link carries 1,001 settings, more than the 1,000 a link may have: it was ignored as a whole, "
        "and the atlas opened without its filters."
    ]
    assert "1,001" in parsed.notices[0].text("ja")
    assert parsed.filters == from_query_params({}, atlas).filters
    # a forged or garbled marker is an unknown setting like any other
    garbled = from_query_params({LINK_DROPPED: "x" * 50}, atlas)
    assert [n.key for n in garbled.notices] == ["notice_settings"]
