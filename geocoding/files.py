"""Reading and writing the atlas's files safely. The lowest layer, shared by the geocoder and the dashboard.

Reading, with limits (the README's *Security* and *The data* sections list them):

- ``read_bytes_limited`` / ``read_text_limited``: regular files only (a directory, a FIFO, a socket or a
  device is refused without opening it for long: a FIFO is never waited on), at most ``limit`` bytes,
  UTF-8 text. Every refusal is a ``FileProblem`` naming the file (and the line, where there is one).
- ``load_yaml_limited``: YAML checked event by event before any value is built: at most
  ``MAX_NESTING`` levels of lists and mappings, aliases (``*name``) repeating at most
  ``MAX_YAML_ALIAS_VALUES`` values in all (no "billion laughs"), no alias to a node that holds it;
  a key given twice in one mapping is reported (``YamlDuplicate``), not silently overwritten.
- ``load_json_limited``: JSON no deeper than ``MAX_NESTING``, checked before it is parsed.

Writing: ``atomic_write_text`` / ``atomic_write_bytes``: the new content goes to a temporary file in
the same folder, is flushed to disk, then replaces the target in one ``os.replace``: a reader (another
session, another process) sees the old file or the new one, never half of one, and a failed write
leaves the old file as it was and no temporary file behind. Only a regular file (or nothing) is
replaced: a directory, FIFO or device at the path is refused. Temporary files left by a killed
writer (``.name.<pid>.<random>.tmp`` beside the target, whose process is gone) are removed by the
next write to the same target.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TEMP_SUFFIX = ".tmp"

# ---------------------------------------------------------------------------------- limits
MiB = 1024 * 1024
MAX_CSV_BYTES = 16 * MiB  # a CSV data file: a member list of ~100,000 rows fits
MAX_YAML_BYTES = 4 * MiB  # a YAML data file (sources.yaml, the largest, is ~130 KB)
MAX_JSON_BYTES = 32 * MiB  # the geocoding cache and the gazetteer index (~100-160 KB each)
MAX_NESTING = 64  # YAML and JSON: levels of lists and mappings inside each other (the data uses 5)
MAX_YAML_ALIAS_VALUES = 10_000  # values that YAML aliases (*name) may repeat, in all, in one file


class FileProblem(Exception):  # noqa: N818 (a problem to report, as data.Problem)
    """A file cannot be used: missing, not a regular file, too large, not UTF-8, malformed.

    ``reason`` says why in words a user can act on; ``line`` is where, when there is a place."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.reason = reason
        self.line = line
        where = f", line {line}" if line is not None else ""
        super().__init__(f"{self.path}{where}: {reason}")


class FileMissing(FileProblem):
    """The file does not exist (some callers treat that as "nothing yet")."""


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MB" if n >= MiB else f"{n:,} bytes"


def _too_large(limit: int) -> str:
    return f"is larger than the {_size(limit)} a file of this kind may be (see the README's Security section)"


def read_bytes_limited(path: Path | str, limit: int) -> bytes:
    """The bytes of ``path``: a regular file of at most ``limit`` bytes (symbolic links followed).

    Raises ``FileMissing`` when there is no such file and ``FileProblem`` for anything else that
    stops it being read: a folder, a FIFO (checked before opening, and opened non-blocking, so a
    pipe is never waited on), a device, no permission, too large."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileMissing(path, "file is missing") from None
    except OSError as exc:
        raise FileProblem(path, f"cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise FileProblem(path, f"is {_kind(st.st_mode)}, not a file")
    if st.st_size > limit:
        raise FileProblem(path, _too_large(limit))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileMissing(path, "file is missing") from None
    except OSError as exc:
        raise FileProblem(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)  # replaced between the stat and the open?
        if not stat.S_ISREG(st.st_mode):
            raise FileProblem(path, f"is {_kind(st.st_mode)}, not a file")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(limit + 1 - total, MiB))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise FileProblem(path, f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if total > limit:  # it grew while being read
        raise FileProblem(path, _too_large(limit))
    return b"".join(chunks)


def decode_utf8(raw: bytes, path: Path | str) -> str:
    """``raw`` as UTF-8 text (a byte-order mark is dropped); a ``FileProblem`` with the line otherwise."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FileProblem(path, f"is not UTF-8 text (byte {exc.start}); save it as UTF-8", line) from None


def read_text_limited(path: Path | str, limit: int) -> str:
    """``read_bytes_limited`` decoded as UTF-8 (see ``decode_utf8``)."""
    return decode_utf8(read_bytes_limited(path, limit), path)


# ---------------------------------------------------------------------------------- YAML
@dataclass(frozen=True)
class YamlDuplicate:
    """A key given twice in one mapping: the later value would silently replace the first."""

    key: str
    line: int  # where it is given again
    first_line: int
    entry: int | None  # 1-based position in the top-level list, when the document is one


_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster


def _short_key(value: str) -> str:
    return value if len(value) <= 60 else value[:59] + "…"


def check_yaml_events(text: str, path: Path | str) -> list[YamlDuplicate]:
    """Walk ``text``'s YAML events (no value is built) and enforce the limits of the module.

    Raises ``FileProblem`` (with the line) for nesting deeper than ``MAX_NESTING``, aliases repeating
    more than ``MAX_YAML_ALIAS_VALUES`` values, an alias inside the node it names, or a syntax
    error; returns the keys given twice in one mapping."""
    # each open collection: [anchor, values so far, is mapping, next scalar is a key, keys seen]
    stack: list[list[Any]] = []
    sizes: dict[str, int] = {}  # anchor -> values its node holds, aliases expanded
    open_anchors: set[str] = set()
    repeated = 0
    top_entry = 0
    duplicates: list[YamlDuplicate] = []

    def add(n: int, key: tuple[str, int] | None) -> None:
        if not stack:
            return
        top = stack[-1]
        top[1] += n
        if top[2]:  # a mapping: keys and values alternate
            if top[3] and key is not None:
                seen = top[4]
                if key[0] in seen and key[0] != "<<":
                    entry = top_entry if len(stack) >= 2 and stack[0][2] is False else None
                    duplicates.append(YamlDuplicate(_short_key(key[0]), key[1], seen[key[0]], entry))
                else:
                    seen.setdefault(key[0], key[1])
            top[3] = not top[3]

    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if len(stack) == 1 and stack[0][2] is False:
                    top_entry += 1
                if len(stack) >= MAX_NESTING:
                    raise FileProblem(
                        path, f"nests lists and mappings more than {MAX_NESTING} levels deep", line
                    )
                mapping = isinstance(event, yaml.MappingStartEvent)
                if event.anchor:
                    open_anchors.add(event.anchor)
                stack.append([event.anchor, 0, mapping, True, {}])
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, count, *_ = stack.pop()
                if anchor:
                    sizes[anchor] = count + 1
                    open_anchors.discard(anchor)
                add(count + 1, None)
            elif isinstance(event, yaml.ScalarEvent):
                if len(stack) == 1 and stack[0][2] is False:
                    top_entry += 1
                if event.anchor:
                    sizes[event.anchor] = 1
                add(1, (event.value, line or 0) if event.value is not None else None)
            elif isinstance(event, yaml.AliasEvent):
                if len(stack) == 1 and stack[0][2] is False:
                    top_entry += 1
                if event.anchor in open_anchors:
                    raise FileProblem(
                        path, f"alias *{_short_key(event.anchor)} refers to a node that holds it", line
                    )
                n = sizes.get(event.anchor)
                if n is None:
                    raise FileProblem(
                        path, f"is not valid YAML: alias *{_short_key(event.anchor)} is not defined", line
                    )
                repeated += n
                if repeated > MAX_YAML_ALIAS_VALUES:
                    raise FileProblem(
                        path,
                        f"aliases (*name) repeat more than {MAX_YAML_ALIAS_VALUES:,} values: "
                        "write the values out instead",
                        line,
                    )
                add(n, None)  # an alias as a key is not compared
            elif isinstance(event, yaml.DocumentStartEvent):
                stack.clear()
                sizes.clear()
                top_entry = 0
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, path) from None
    return duplicates


def _yaml_problem(exc: yaml.YAMLError, path: Path | str) -> FileProblem:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return FileProblem(
        path, f"is not valid YAML: {problem[:200]}", mark.line + 1 if mark is not None else None
    )


def load_yaml_limited(text: str, path: Path | str) -> tuple[Any, list[YamlDuplicate]]:
    """The value of a YAML document (safe tags only) checked by ``check_yaml_events`` first, and the
    keys given twice. Raises ``FileProblem`` for anything that stops it being read."""
    duplicates = check_yaml_events(text, path)
    try:
        return yaml.load(text, Loader=_Loader), duplicates
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, path) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # an implicit value that does not convert: a date like 2024-13-45, an integer of 5,000 digits
        raise FileProblem(path, f"is not valid YAML: {str(exc)[:200]}") from None


# ---------------------------------------------------------------------------------- JSON
_JSON_NEXT = re.compile(r'["\[\]{}]')
_JSON_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def check_json_nesting(text: str, path: Path | str, max_depth: int = MAX_NESTING) -> None:
    """Raise ``FileProblem`` (with the line) when ``text`` nests arrays and objects deeper than
    ``max_depth``. One linear pass; strings are skipped whole."""
    depth, pos = 0, 0
    while (m := _JSON_NEXT.search(text, pos)) is not None:
        c = m.group()
        if c == '"':
            rest = _JSON_STRING_REST.match(text, m.end())
            if rest is None:
                return  # an unterminated string: the parser says so
            pos = rest.end()
            continue
        pos = m.end()
        if c in "[{":
            depth += 1
            if depth > max_depth:
                line = text.count("\n", 0, m.start()) + 1
                raise FileProblem(path, f"nests arrays and objects more than {max_depth} levels deep", line)
        else:
            depth -= 1


def load_json_limited(text: str, path: Path | str) -> Any:
    """The value of a JSON text, refused (``FileProblem`` with the line) when it is nested too deeply
    or is not JSON."""
    check_json_nesting(text, path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileProblem(path, f"is not valid JSON ({exc.msg}, column {exc.colno})", exc.lineno) from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of 5,000 digits
        raise FileProblem(path, f"is not valid JSON ({str(exc)[:200]})") from None


# ---------------------------------------------------------------------------------- writing
class NotRegularFileError(OSError):
    """The target of a write is a folder, FIFO, socket or device: never replaced."""


def temp_prefix(path: Path) -> str:
    """The prefix of the temporary files written beside ``path`` (``.name.``)."""
    return f".{path.name}."


# what follows temp_prefix: "<pid>.<random>" (or, from older versions, "<random>")
_TEMP_REST = re.compile(r"^(?:(\d+)\.)?[a-z0-9_]{8}$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporary files a killed writer left beside ``path`` (its process is gone);
    return them. Temporaries of live processes (another writer at work) are kept."""
    path = Path(path)
    prefix = temp_prefix(path)
    removed = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(prefix) and name.endswith(TEMP_SUFFIX)):
            continue
        m = _TEMP_REST.match(name[len(prefix) : -len(TEMP_SUFFIX)])
        if m is None:
            continue  # another target's temporary (".a.b.…" beside "a")
        if m.group(1) is not None and (int(m.group(1)) == os.getpid() or _alive(int(m.group(1)))):
            continue
        stale = path.parent / name
        try:
            if stat.S_ISREG(os.lstat(stale).st_mode):
                stale.unlink()
                removed.append(stale)
        except OSError:
            pass
    return removed


def check_writable_target(path: Path) -> None:
    """Raise ``NotRegularFileError`` when something other than a regular file is at ``path``."""
    try:
        st = os.stat(path)
    except OSError:
        return  # nothing there (or not reachable: the write itself says why)
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFileError(
            errno.EINVAL,
            f"{_kind(st.st_mode)} is there, not a regular file: refusing to replace it",
            str(path),
        )


def atomic_write_bytes(path: Path, data: bytes, *, mtime_ns: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically (see the module). ``mtime_ns`` sets the new file's
    modification time (used to mark a copy as up to date with its source). Raises ``OSError``
    (``NotRegularFileError`` when the target is not a regular file); never leaves a temporary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    check_writable_target(path)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f"{temp_prefix(path)}{os.getpid()}.", suffix=TEMP_SUFFIX, dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mtime_ns is not None:
            os.utime(tmp, ns=(mtime_ns, mtime_ns))
        check_writable_target(path)  # replaced by a FIFO or a folder meanwhile?
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, line endings as given) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
