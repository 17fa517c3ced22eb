"""Writing the atlas's files safely. The lowest layer, shared by the geocoder and the dashboard.

``atomic_write_text`` / ``atomic_write_bytes``: the new content goes to a temporary file in the same
folder, is flushed to disk, then replaces the target in one ``os.replace``: a reader (another session,
another process) sees the old file or the new one, never half of one, and a failed write leaves the
old file as it was and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def temp_prefix(path: Path) -> str:
    """The prefix of the temporary files written beside ``path`` (``.name.``)."""
    return f".{path.name}."


def atomic_write_bytes(path: Path, data: bytes, *, mtime_ns: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically (see the module). ``mtime_ns`` sets the new file's
    modification time (used to mark a copy as up to date with its source)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mtime_ns is not None:
            os.utime(tmp, ns=(mtime_ns, mtime_ns))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, line endings as given) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
