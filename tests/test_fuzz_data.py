"""A fuzzer over the data files: whatever a file holds, validate and the loader finish, name it, never raise.

Hypothesis takes the minimal fixture (plus one member list) and mutates one file's bytes and structure:
truncation, NUL and other stray bytes, other encodings (Latin-1, UTF-16, Shift_JIS), huge fields,
nesting thousands of levels deep, YAML anchors and alias bombs, values of the wrong type, lines
duplicated (a key given twice, a row twice), dropped or swapped, header columns named twice. For every
mutation, ``validate`` and ``load_atlas_partial``:

- never raise, and return within ``SECONDS`` (run in a thread: a hang fails the test, not the suite);
- allocate at most ``PEAK_MB`` of Python memory (tracemalloc) while they run;
- report problems only in the data folder's own files, each problem short (``MAX_PROBLEM_CHARS``);
- name the mutated file among the errors when the mutation cannot leave it valid (another encoding
  of text that is not ASCII, a header column named twice, an alias bomb, a file over its size limit).

``make test`` runs a short pass (``ATLAS_FUZZ_EXAMPLES``, 100 by default, ~20 s on an idle
machine); ``make fuzz`` a long one (5,000). The audit's findings and every failure the fuzzer has found
are kept below as ``@example``s, so each run tries them first. No example database is written
(``database=None``): runs are repeatable from the seed hypothesis prints on a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dashboard.core import paths
from dashboard.core.data import load_atlas_partial, validate
from geocoding.files import MAX_CSV_BYTES, MAX_YAML_BYTES
from tests.test_file_limits import alias_bomb, in_thread

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
MEMBER_LIST = f"{paths.MEMBER_LISTS}/net.csv"
FILES = (
    paths.VOCABULARY, paths.SOURCES, paths.ORGANISATIONS, paths.OFFICES, paths.MEMBERS,
    paths.MEMBERSHIP, paths.EVENTS, paths.GEOCODED, MEMBER_LIST,
)  # fmt: skip
YAML_FILES = {paths.VOCABULARY, paths.SOURCES, paths.ORGANISATIONS}

EXAMPLES = int(os.environ.get("ATLAS_FUZZ_EXAMPLES", "100"))
SECONDS = 5.0  # validate + load of the minimal data take ~0.05 s; a slow shared machine, 20x that
PEAK_MB = 200  # Python allocations while reading a folder of a few KB (and a file up to its limit)
MAX_PROBLEM_CHARS = 1_200


def base_folder(into: Path) -> Path:
    """The minimal fixture and one member list: every kind of data file, all of it valid."""
    shutil.copytree(MINIMAL, into)
    (into / paths.MEMBER_LISTS).mkdir()
    (into / MEMBER_LIST).write_text(
        "organisation,city,country,latitude,longitude,precision,since,until,as_of,source,note\n"
        "net,Osaka,JP,34.69,135.50,city,,,2025,src-a,\n",
        encoding="utf-8",
    )
    return into


# ---------------------------------------------------------------------------------- mutations
# A mutation is a list of operations, each a tuple a test can print and an @example can repeat.
STRAY = [
    b"\x00", b"\xef\xbb\xbf", b"\xff", b"\x80", b'"', b"'", b"\n", b"\r", b",", b": ", b"- ", b"&a ",
    b"*a ", b"[", b"{", b"}", b"!!python/object/apply:os.system ", b"\t", b"#", b"%YAML 1.1\n", b"---\n",
]  # fmt: skip
WRONG_VALUES = [
    "[1, 2]", "{a: 1}", "123", "-1.5e308", "null", "~", "true", "2024-13-45", "9" * 5000,
    "&x [*x]", "'", '"', "!!binary AAAA", "*nowhere", "<<: *nowhere", "=HYPERLINK(1)",
]  # fmt: skip


def bomb_value(levels: int, width: int = 9) -> str:
    """A flow list that is an alias bomb of ``width ** levels`` values, to put where a value goes."""
    parts = ["&b0 [" + ",".join(["x"] * width) + "]"]
    parts += [f"&b{i} [" + ",".join([f"*b{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "[" + ", ".join(parts) + "]"


def _at(data: bytes, frac: float) -> int:
    return min(len(data), int(len(data) * frac))


def _lines(data: bytes) -> list[str] | None:
    try:
        return data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None


def apply(op: tuple, data: bytes, yaml_file: bool) -> bytes:
    kind = op[0]
    if kind == "replace":  # the whole file (the @examples' own cases)
        return op[1]
    if kind == "truncate":
        return data[: _at(data, op[1])]
    if kind == "insert":
        i = _at(data, op[1])
        return data[:i] + op[2] + data[i:]
    if kind == "huge":
        i = _at(data, op[1])
        return data[:i] + b"x" * op[2] + data[i:]
    if kind == "deep":
        i = _at(data, op[1])
        return data[:i] + b"[" * op[2] + b"]" * op[2] + data[i:]
    if kind == "encode":
        try:
            return data.decode("utf-8").encode(op[1], errors="replace")
        except UnicodeDecodeError:
            return data
    lines = _lines(data)
    if lines is None or not lines:
        return data
    i = op[1] % len(lines)
    if kind == "duplicate_line":
        lines.insert(i, lines[i])
    elif kind == "delete_line":
        del lines[i]
    elif kind == "swap_lines":
        j = op[2] % len(lines)
        lines[i], lines[j] = lines[j], lines[i]
    elif kind in ("value", "bomb"):
        new = op[2] if kind == "value" else bomb_value(op[2])
        line = lines[i]
        if yaml_file and ": " in line:
            lines[i] = line[: line.index(": ") + 2] + new
        elif not yaml_file and "," in line:
            cells = line.split(",")
            cells[op[3] % len(cells)] = new.replace(",", ";")
            lines[i] = ",".join(cells)
        else:
            lines[i] = line + new
    elif kind == "header_twice" and not yaml_file:
        cells = lines[0].split(",")
        cells[op[1] % len(cells)] = cells[op[2] % len(cells)]
        lines[0] = ",".join(cells)
    return "\n".join(lines).encode("utf-8")


fraction = st.floats(min_value=0, max_value=1, allow_nan=False)
line = st.integers(min_value=0, max_value=40)
operation = st.one_of(
    st.tuples(st.just("truncate"), fraction),
    st.tuples(st.just("insert"), fraction, st.one_of(st.sampled_from(STRAY), st.binary(max_size=16))),
    st.tuples(st.just("huge"), fraction, st.sampled_from([1_000, 70_000, 300_000])),
    st.tuples(st.just("deep"), fraction, st.sampled_from([10, 65, 1_000, 20_000])),
    st.tuples(st.just("encode"), st.sampled_from(["latin-1", "utf-16", "shift_jis", "utf-8-sig"])),
    st.tuples(st.just("duplicate_line"), line),
    st.tuples(st.just("delete_line"), line),
    st.tuples(st.just("swap_lines"), line, line),
    st.tuples(st.just("value"), line, st.sampled_from(WRONG_VALUES), line),
    st.tuples(st.just("bomb"), line, st.integers(min_value=1, max_value=9), line),
    st.tuples(st.just("header_twice"), line, line),
)


def cannot_stay_valid(op: tuple, before: bytes, after: bytes, yaml_file: bool) -> bool:
    """Mutations that leave no valid file: the file must be named among the errors."""
    kind = op[0]
    if kind == "replace":
        return True
    if kind == "encode":  # UTF-16 always, Latin-1 and Shift_JIS when the text is not ASCII
        try:
            after.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False
    if kind == "header_twice":
        return not yaml_file and after.split(b"\n", 1)[0] != before.split(b"\n", 1)[0]
    if kind == "bomb":
        return yaml_file and op[2] >= 5  # 9**5 values: past the aliases' bound
    return False


# ---------------------------------------------------------------------------------- the property
def read_folder(folder: Path) -> tuple[list, list, float, float]:
    """validate and load_atlas_partial on ``folder``: their problems, the seconds and peak MB taken."""

    def both():
        tracemalloc.start()
        t0 = time.perf_counter()
        try:
            checked = validate(folder)
            _, loaded = load_atlas_partial(folder)
            return checked, loaded, time.perf_counter() - t0, tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()

    return in_thread(both, timeout=SECONDS * 4)


def check_mutation(file: str, ops: list[tuple], *, pad_to: int = 0) -> None:
    yaml_file = file in YAML_FILES
    with tempfile.TemporaryDirectory(prefix="atlas-fuzz-") as tmp:
        folder = base_folder(Path(tmp) / "data")
        path = folder / file
        before = path.read_bytes()
        data = before
        must_name = False
        for op in ops:
            mutated = apply(op, data, yaml_file)
            must_name = must_name or cannot_stay_valid(op, data, mutated, yaml_file)
            data = mutated
        if pad_to:  # a file past its size limit
            data += b"#" * (pad_to - len(data)) if yaml_file else b"\n" * (pad_to - len(data))
            must_name = True
        path.write_bytes(data)
        checked, loaded, seconds, peak_mb = read_folder(folder)

    assert seconds < SECONDS, f"{file} {ops}: validate and load took {seconds:.1f} s"
    assert peak_mb < PEAK_MB, f"{file} {ops}: {peak_mb:.0f} MB allocated"
    assert [str(p) for p in checked] == [str(p) for p in loaded]  # the same problems, whoever reads
    known = set(FILES)
    for p in checked:
        assert p.file in known, f"{file} {ops}: a problem in {p.file!r}: {p}"
        assert len(str(p)) <= MAX_PROBLEM_CHARS, f"{file} {ops}: a problem of {len(str(p))} characters"
    if must_name:
        named = {p.file for p in checked if p.severity == "error"}
        assert file in named, f"{file} {ops}: the errors name {sorted(named)} only"


def test_the_base_folder_is_valid(tmp_path):
    """The fuzzer starts from valid data, so every error it sees comes from its mutation."""
    folder = base_folder(tmp_path / "data")
    assert validate(folder) == []
    atlas, _ = load_atlas_partial(folder)
    assert atlas is not None
    assert len(atlas.points) >= 3  # two offices, the member city and the member list's Osaka


@settings(
    max_examples=EXAMPLES,
    deadline=None,  # timed inside, with a bound that allows for a busy machine
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(file=st.sampled_from(FILES), ops=st.lists(operation, min_size=1, max_size=3))
# the audit's findings (issue 18) and failures the fuzzer found, tried first on every run
@example(file=paths.ORGANISATIONS, ops=[("replace", alias_bomb().encode())])  # the audit's 420 bytes
@example(file=paths.ORGANISATIONS, ops=[("bomb", 2, 9, 0)])
@example(file=paths.SOURCES, ops=[("deep", 0.5, 5_000)])
@example(file=paths.VOCABULARY, ops=[("value", 0, "[" * 20_000 + "]" * 20_000, 0)])
@example(file=paths.OFFICES, ops=[("header_twice", 3, 2)])  # name_ja renamed to name
@example(file=paths.OFFICES, ops=[("encode", "shift_jis")])
@example(file=paths.OFFICES, ops=[("insert", 0.5, b"\x00")])
@example(file=paths.GEOCODED, ops=[("encode", "latin-1"), ("insert", 0.9, b"\xe9")])
@example(file=paths.ORGANISATIONS, ops=[("truncate", 0.37)])  # ends inside a flow mapping
@example(file=paths.MEMBERS, ops=[("huge", 0.5, 300_000)])  # one field longer than csv's limit
@example(file=MEMBER_LIST, ops=[("value", 1, "9" * 5000, 3)])  # a latitude of 5,000 digits
@example(file=paths.ORGANISATIONS, ops=[("value", 3, "2024-13-45", 0)])  # a date that does not exist
@example(file=paths.SOURCES, ops=[("value", 1, "&x [*x]", 0)])  # an alias inside its own anchor
@example(file=paths.ORGANISATIONS, ops=[("duplicate_line", 2)])  # a key given twice
@example(file=paths.GEOCODED, ops=[("duplicate_line", 1)])  # found by the fuzzer: a TypeError in places
def test_validate_and_the_loader_survive_any_mutation_of_a_data_file(file, ops):
    check_mutation(file, ops)


def test_a_file_past_its_size_limit_is_named_not_read():
    check_mutation(paths.ORGANISATIONS, [], pad_to=MAX_YAML_BYTES + 1)
    check_mutation(paths.OFFICES, [], pad_to=MAX_CSV_BYTES + 1)
