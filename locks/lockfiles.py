"""The lock files in this folder: make them with uv (``make lock``) and check them offline (``make test``).

Three locks, each a pip requirements file with an exact version and the sha256 of every file of that
version on PyPI, for CPython 3.11 on Linux:

* ``test.txt``     the dependencies, the ``test`` extra and the build backend: the set ``make test`` runs.
                   Made first; the other two are made with it as constraints, so every package they
                   share with it has the very version that was tested.
* ``runtime.txt``  the dependencies and the build backend: what ``make run``, ``make serve`` and the
                   Docker image install.
* ``notebook.txt`` the dependencies, the ``notebook`` extra and the build backend (``make notebook``).

The build backend (``[build-system] requires``, setuptools) is locked too, so ``pip install --no-deps
--no-build-isolation -e .`` afterwards downloads nothing unhashed.

Each lock starts with a ``# pyproject-sha256:`` line: the hash of the lists it was made from
(requires-python, build-system.requires, the dependencies, its extra) and of the uv options. ``check``
recomputes it from pyproject.toml, with no network, and fails with a message naming the lock and the
command to run when they differ; it also checks that every package the runtime and notebook locks
share with the test lock has the same version and hashes there.

    python locks/lockfiles.py check [runtime|test|notebook ...]
    python locks/lockfiles.py lock --uv PATH [--upgrade | --upgrade-package NAME ...]

Standard library only (runs before anything is installed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYPROJECT = ROOT / "pyproject.toml"

PYTHON_VERSION = "3.11"
UV_OPTIONS = ["--generate-hashes", "--python-version", PYTHON_VERSION, "--python-platform", "linux"]
# name -> extra (None: the dependencies alone). In the order they are made: test first.
LOCKS: dict[str, str | None] = {"test": "test", "runtime": None, "notebook": "notebook"}
CONSTRAINED_BY = "test"
DIGEST_PREFIX = "# pyproject-sha256: "
REFRESH = "run `make lock` and commit locks/ (README: 'Dependencies: locked and tested')"


class LockError(Exception):
    pass


def lock_path(name: str) -> Path:
    return HERE / f"{name}.txt"


def _norm(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def inputs(name: str, pyproject: dict | None = None) -> dict:
    """What lock ``name`` is made from, as read from pyproject.toml (order-insensitive)."""
    data = pyproject if pyproject is not None else tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    project = data["project"]
    extra = LOCKS[name]
    out = {
        "requires-python": _norm(project.get("requires-python", "")),
        "build-system": sorted(_norm(r) for r in data.get("build-system", {}).get("requires", [])),
        "dependencies": sorted(_norm(r) for r in project.get("dependencies", [])),
        "extra": extra,
        "extra-dependencies": sorted(
            _norm(r) for r in project.get("optional-dependencies", {}).get(extra or "", [])
        ),
        "uv-options": UV_OPTIONS,
    }
    if extra is not None and extra not in project.get("optional-dependencies", {}):
        raise LockError(
            f"pyproject.toml has no [project.optional-dependencies] {extra!r} for locks/{name}.txt"
        )
    return out


def digest(name: str, pyproject: dict | None = None) -> str:
    blob = json.dumps(inputs(name, pyproject), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def recorded_digest(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith(DIGEST_PREFIX):
            return line[len(DIGEST_PREFIX) :].split()[0]
        if line and not line.startswith("#"):
            break
    return None


def pins(text: str) -> dict[str, tuple[str, frozenset[str]]]:
    """``name -> (version, hashes)`` of a hashed requirements file (uv's layout)."""
    out: dict[str, tuple[str, frozenset[str]]] = {}
    joined = re.sub(r"\\\n\s*", " ", text)
    for line in joined.splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)(.*)$", line)
        if m:
            name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
            out[name] = (m.group(2), frozenset(re.findall(r"--hash=sha256:([0-9a-f]{64})", m.group(3))))
    return out


def problems(names: list[str] | None = None, pyproject: dict | None = None) -> list[str]:
    """Everything wrong with the locks ``names`` (default: all), as sentences; empty when current."""
    out: list[str] = []
    for name in names or list(LOCKS):
        path = lock_path(name)
        if not path.is_file():
            out.append(f"locks/{name}.txt is missing: {REFRESH}")
            continue
        text = path.read_text(encoding="utf-8")
        have, want = recorded_digest(text), digest(name, pyproject)
        if have is None:
            out.append(f"locks/{name}.txt has no '{DIGEST_PREFIX.strip()}' line: {REFRESH}")
        elif have != want:
            what = f"the {LOCKS[name]!r} extra, " if LOCKS[name] else ""
            out.append(
                f"locks/{name}.txt no longer matches pyproject.toml (its dependencies, {what}"
                f"build-system or requires-python changed since the lock was made): {REFRESH}"
            )
        locked = pins(text)
        if not locked:
            out.append(f"locks/{name}.txt pins no package: {REFRESH}")
        unhashed = sorted(p for p, (_, hashes) in locked.items() if not hashes)
        if unhashed:
            out.append(f"locks/{name}.txt has packages without hashes: {', '.join(unhashed)}: {REFRESH}")
        if name != CONSTRAINED_BY and lock_path(CONSTRAINED_BY).is_file():
            tested = pins(lock_path(CONSTRAINED_BY).read_text(encoding="utf-8"))
            for pkg, (version, hashes) in sorted(locked.items()):
                if pkg not in tested:
                    if name == "runtime":  # the test lock holds every runtime dependency
                        out.append(f"locks/runtime.txt pins {pkg}=={version}, absent from locks/test.txt")
                elif tested[pkg] != (version, hashes):
                    out.append(
                        f"locks/{name}.txt pins {pkg}=={version} but locks/test.txt {pkg}=={tested[pkg][0]}"
                        f" (or other hashes): the tested versions would not be the ones installed; {REFRESH}"
                    )
    return out


def header(name: str, pyproject: dict | None = None) -> str:
    extra = LOCKS[name]
    what = f"the dependencies and the {extra!r} extra" if extra else "the dependencies"
    lines = [
        f"{DIGEST_PREFIX}{digest(name, pyproject)}",
        f"# locks/{name}.txt: {what} of pyproject.toml and its build backend, exact",
        f"# versions and sha256 hashes, for CPython {PYTHON_VERSION} on Linux. Made by `make lock`",
        "# (locks/lockfiles.py, uv); `make test` fails when pyproject.toml's lists no longer match",
        "# the hash above.",
        f"# Install: pip install --require-hashes -r locks/{name}.txt",
        "#          pip install --no-deps --no-build-isolation -e .",
    ]
    if name != CONSTRAINED_BY:
        lines.insert(
            5, f"# Constrained by locks/{CONSTRAINED_BY}.txt: shared packages have the tested versions."
        )
    return "\n".join(lines) + "\n"


def lock(uv: str, upgrade: bool = False, upgrade_packages: list[str] | None = None) -> None:
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    build = "\n".join(data.get("build-system", {}).get("requires", [])) + "\n"
    for name, extra in LOCKS.items():
        path = lock_path(name)
        cmd = [uv, "pip", "compile", "pyproject.toml", "-", *UV_OPTIONS, "--quiet"]
        cmd += ["--custom-compile-command", "make lock", "-o", str(path.relative_to(ROOT))]
        if extra:
            cmd += ["--extra", extra]
        if name != CONSTRAINED_BY:
            cmd += ["-c", str(lock_path(CONSTRAINED_BY).relative_to(ROOT))]
        if upgrade:
            cmd.append("--upgrade")
        for pkg in upgrade_packages or []:
            cmd += ["--upgrade-package", pkg]
        print("+", " ".join(cmd), flush=True)
        subprocess.run(cmd, input=build, text=True, cwd=ROOT, check=True)
        # uv rewrites the whole file (its own header first): ours goes on top
        path.write_text(header(name, data) + path.read_text(encoding="utf-8"), encoding="utf-8")
    found = problems(pyproject=data)
    if found:
        raise LockError("\n".join(found))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="locks/lockfiles.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check_p = sub.add_parser("check", help="offline: do the locks still match pyproject.toml?")
    check_p.add_argument("names", nargs="*", metavar="LOCK", help=", ".join(LOCKS) + " (default: all)")
    lock_p = sub.add_parser("lock", help="(re)make the locks with uv (needs PyPI)")
    lock_p.add_argument("--uv", required=True, help="the uv executable")
    lock_p.add_argument("--upgrade", action="store_true", help="newest versions of everything allowed")
    lock_p.add_argument("--upgrade-package", action="append", default=[], metavar="NAME")
    args = parser.parse_args(argv)
    try:
        if args.command == "lock":
            lock(args.uv, args.upgrade, args.upgrade_package)
            made = ", ".join(f"locks/{n}.txt" for n in LOCKS)
            print(f"{made} made; now `make test` (and `make bench`)")
            return 0
        unknown = [n for n in args.names if n not in LOCKS]
        if unknown:
            parser.error(f"unknown lock {unknown[0]!r} (known: {', '.join(LOCKS)})")
        found = problems(args.names or None)
    except (LockError, OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        print(f"locks: {exc}", file=sys.stderr)
        return 1
    for line in found:
        print(f"locks: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
