"""The bottom layer's limits on reading and writing (geocoding/files.py), which the loader and the
geocoder share: regular files only (a FIFO is never waited on), a size limit, UTF-8, YAML checked
for nesting, aliases and duplicate keys before any value is built, JSON checked for nesting, and
writes that replace only a regular file and clean up after a killed writer.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from geocoding import files
from geocoding.files import (
    MAX_NESTING,
    MAX_YAML_ALIAS_VALUES,
    FileMissing,
    FileProblem,
    NotRegularFileError,
    atomic_write_text,
    check_json_nesting,
    load_json_limited,
    load_yaml_limited,
    read_bytes_limited,
    read_text_limited,
    remove_stale_temporaries,
)

ROOT = Path(__file__).resolve().parent.parent


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The classic "billion laughs": each anchor holds ``width`` aliases of the one before (420 bytes
    for 9 x 9, 9**9 values once expanded)."""
    lines = ["- id: bomb", "  a0: &a0 [" + ",".join(["lol"] * width) + "]"]
    lines += [f"  a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def in_thread(fn, timeout: float = 10.0):
    """Run ``fn`` in a thread; fail (rather than hang the suite) when it does not return in time."""
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # handed back to the test
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"did not return within {timeout} s"
    if "error" in out:
        raise out["error"]
    return out.get("value")


# ---------------------------------------------------------------------------------- reading
def test_a_regular_file_is_read_whole(tmp_path):
    p = tmp_path / "a.csv"
    p.write_bytes(b"\xef\xbb\xbfid\nx\n")
    assert read_bytes_limited(p, 100) == b"\xef\xbb\xbfid\nx\n"
    assert read_text_limited(p, 100) == "id\nx\n"  # the byte-order mark is dropped


def test_a_missing_file_is_its_own_kind_of_problem(tmp_path):
    with pytest.raises(FileMissing, match="file is missing"):
        read_bytes_limited(tmp_path / "none.csv", 100)


def test_a_folder_is_refused_by_name(tmp_path):
    (tmp_path / "offices.csv").mkdir()
    with pytest.raises(FileProblem) as caught:
        read_bytes_limited(tmp_path / "offices.csv", 100)
    assert caught.value.reason == "is a folder, not a file"
    assert str(caught.value).startswith(str(tmp_path / "offices.csv"))


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "offices.csv"
    os.mkfifo(fifo)
    with pytest.raises(FileProblem, match=r"is a named pipe \(FIFO\), not a file"):
        in_thread(lambda: read_bytes_limited(fifo, 100))


def test_a_fifo_swapped_in_after_the_check_is_refused_without_waiting(tmp_path, monkeypatch):
    """The race: stat sees a file, open finds a FIFO. Opened non-blocking, then refused."""
    fifo = tmp_path / "offices.csv"
    os.mkfifo(fifo)
    real_stat = os.stat
    regular = real_stat(Path(__file__))
    monkeypatch.setattr(
        files.os, "stat", lambda p, *a, **k: regular if Path(p) == fifo else real_stat(p, *a, **k)
    )
    with pytest.raises(FileProblem, match="FIFO"):
        in_thread(lambda: read_bytes_limited(fifo, 10**6))


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_even_through_a_symbolic_link(tmp_path, target):
    link = tmp_path / "members.csv"
    link.symlink_to(target)
    with pytest.raises(FileProblem, match="character device, not a file"):
        in_thread(lambda: read_bytes_limited(link, 100))


def test_a_symbolic_link_to_a_regular_file_is_followed(tmp_path):
    (tmp_path / "real.csv").write_text("id\n", encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(tmp_path / "real.csv")
    assert read_text_limited(tmp_path / "link.csv", 100) == "id\n"


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path):
    p = tmp_path / "big.csv"
    with p.open("wb") as fh:
        fh.truncate(files.MAX_CSV_BYTES + 1)  # sparse: nothing is really written
    with pytest.raises(FileProblem, match=r"larger than the 16\.0 MB"):
        read_bytes_limited(p, files.MAX_CSV_BYTES)
    assert read_bytes_limited(p, files.MAX_CSV_BYTES + 1)  # at the limit: read


def test_a_file_that_grows_while_read_is_refused(tmp_path, monkeypatch):
    p = tmp_path / "a.csv"
    p.write_bytes(b"x" * 50)
    real_stat = os.stat
    mode = real_stat(p).st_mode
    # the check sees 10 bytes; by the time it is read, there are 50
    monkeypatch.setattr(
        files.os, "stat", lambda path, *a, **k: SimpleNamespace(st_mode=mode, st_size=10) if Path(path) == p
        else real_stat(path, *a, **k)
    )  # fmt: skip
    with pytest.raises(FileProblem, match="larger than"):
        read_bytes_limited(p, 20)


def test_an_unreadable_file_is_named_with_the_reason(tmp_path):
    p = tmp_path / "offices.csv"
    p.write_text("id\n", encoding="utf-8")
    p.chmod(0)
    code = f"from geocoding.files import read_bytes_limited as r\nr({str(p)!r}, 100)"
    proc = subprocess.run(
        [*without_file_mode_override(), sys.executable, "-c", code],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    assert f"FileProblem: {p}: cannot be read (Permission denied)" in proc.stderr


def without_file_mode_override() -> list[str]:
    """Root reads anything: a command prefix that drops the capabilities letting it ignore file modes."""
    if os.geteuid() != 0:
        return []
    import shutil

    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is needed to run as root without overriding file modes")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]


def test_text_that_is_not_utf8_names_the_line():
    with pytest.raises(FileProblem) as caught:
        files.decode_utf8("id\nzürich\n".encode("latin-1"), "members.csv")
    assert caught.value.line == 2
    assert "is not UTF-8 text" in caught.value.reason


# ---------------------------------------------------------------------------------- YAML
def test_an_alias_bomb_is_refused_before_it_is_expanded():
    text = alias_bomb()
    assert len(text) < 450
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(FileProblem) as caught:
        in_thread(lambda: load_yaml_limited(text, "organisations.yaml"), timeout=10)
    assert f"repeat more than {MAX_YAML_ALIAS_VALUES:,} values" in caught.value.reason
    assert caught.value.line is not None
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 50  # nothing was built


def test_a_few_small_aliases_are_read_as_yaml_means_them():
    value, duplicates = load_yaml_limited("- &src {id: a, title: T}\n- *src\n", "sources.yaml")
    assert value == [{"id": "a", "title": "T"}, {"id": "a", "title": "T"}]
    assert duplicates == []


def test_an_alias_inside_the_node_it_names_is_refused():
    with pytest.raises(FileProblem, match="refers to a node that holds it"):
        load_yaml_limited("- id: a\n  x: &loop [1, *loop]\n", "sources.yaml")


@pytest.mark.parametrize("style", ["flow", "block"])
def test_nesting_past_the_limit_is_refused_with_its_line(style):
    def nested(depth: int) -> str:
        if style == "flow":
            return "- id: a\n  x: " + "[" * depth + "1" + "]" * depth + "\n"
        return "- id: a\n  x:\n" + "".join("  " * (i + 2) + "-\n" for i in range(depth))

    load_yaml_limited(nested(MAX_NESTING - 3), "sources.yaml")  # inside the limit: read
    for depth in (MAX_NESTING + 1, 100_000 if style == "flow" else 1_000):
        with pytest.raises(FileProblem) as caught:
            in_thread(lambda d=depth: load_yaml_limited(nested(d), "sources.yaml"))
        assert "levels deep" in caught.value.reason or "nesting depth" in caught.value.reason
        assert caught.value.line is not None


def test_a_key_given_twice_is_reported_with_both_lines_and_its_entry():
    text = "- id: a\n  title: One\n- id: b\n  title: Two\n  title: Three\n"
    value, duplicates = load_yaml_limited(text, "sources.yaml")
    assert value[1]["title"] == "Three"  # what YAML itself does: the later value wins, silently
    assert [(d.key, d.first_line, d.line, d.entry) for d in duplicates] == [("title", 4, 5, 2)]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("x: 2024-13-45\n", "month must be in 1..12"),  # an implicit date that is no date
        ("x: 1" + "0" * 5000 + "\n", "integer string conversion"),
        ("x: !!python/object/apply:os.system ['true']\n", "could not determine a constructor"),
        ("x: [1, 2\n", "did not find expected"),
        ("a: 1\n---\nb: 2\n", "found another document"),
    ],
)
def test_yaml_that_does_not_convert_is_a_file_problem_not_an_exception(text, reason):
    with pytest.raises(FileProblem, match="is not valid YAML") as caught:
        load_yaml_limited(text, "vocabulary.yaml")
    assert reason in caught.value.reason


# ---------------------------------------------------------------------------------- JSON
def test_json_nesting_is_checked_before_parsing():
    deep = "[" * 200_000 + "]" * 200_000
    with pytest.raises(FileProblem, match=f"more than {MAX_NESTING} levels deep") as caught:
        load_json_limited('{"a":\n' + deep + "}", "geocoding_cache.json")
    assert caught.value.line == 2
    check_json_nesting('{"s": "' + "[" * 1000 + '", "t": "\\"[[["}', "x.json")  # brackets in strings


def test_json_strings_with_escaped_quotes_are_skipped_in_linear_time():
    text = '"' + '\\"' * 2_000_000  # an unterminated string of escaped quotes: no quadratic rescans
    in_thread(lambda: check_json_nesting(text, "x.json"), timeout=10)
    with pytest.raises(FileProblem, match="is not valid JSON"):
        load_json_limited(text, "x.json")


def test_json_numbers_too_long_to_convert_are_a_file_problem():
    with pytest.raises(FileProblem, match="is not valid JSON"):
        load_json_limited('{"a": 1' + "0" * 5000 + "}", "x.json")


# ---------------------------------------------------------------------------------- writing
def test_only_a_regular_file_is_replaced(tmp_path):
    fifo = tmp_path / "briefing.html"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFileError, match=r"a named pipe \(FIFO\) is there, not a regular file"):
        atomic_write_text(fifo, "x")
    assert fifo.is_fifo()
    assert [p.name for p in tmp_path.iterdir()] == ["briefing.html"]  # no temporary file left


def test_a_temporary_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "briefing.html"
    # a writer that dies (kill -9) right after creating its temporary file, as a killed export would
    code = (
        "import os, tempfile\n"
        "prefix = '.briefing.html.' + str(os.getpid()) + '.'\n"
        f"tempfile.mkstemp(prefix=prefix, suffix='.tmp', dir={str(tmp_path)!r})\n"
        "os.kill(os.getpid(), 9)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    (tmp_path / ".briefing.html.abcd1234.tmp").write_text("from an older version")
    stale = sorted(p.name for p in tmp_path.iterdir())
    assert len(stale) == 2
    # a live writer's temporary (this process), and another target's, are left alone
    live = tmp_path / f".briefing.html.{os.getpid()}.zzzz9999.tmp"
    live.write_text("being written")
    other = tmp_path / ".briefing.html.old.12345.abcd1234.tmp"  # ".briefing.html.old"'s temporary
    other.write_text("x")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["briefing.html", live.name, other.name])


def test_stale_temporaries_are_only_regular_files(tmp_path):
    (tmp_path / ".a.csv.abcd1234.tmp").mkdir()
    assert remove_stale_temporaries(tmp_path / "a.csv") == []
    assert (tmp_path / ".a.csv.abcd1234.tmp").is_dir()


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "a.csv"
    target.write_text("old")

    def full(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]
