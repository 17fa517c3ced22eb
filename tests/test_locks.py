"""The locks in locks/ match pyproject.toml, pin the tested versions, and are what got installed."""

from __future__ import annotations

import copy
import importlib.metadata
import importlib.util
import re
import tomllib

import pytest

from dashboard.core import paths

ROOT = paths.ROOT
_spec = importlib.util.spec_from_file_location("lockfiles", ROOT / "locks" / "lockfiles.py")
lockfiles = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lockfiles)

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_lock_matches_pyproject_and_the_tested_versions():
    found = lockfiles.problems(pyproject=PYPROJECT)
    assert found == [], "\n".join(found)


@pytest.mark.parametrize(
    ("where", "change", "stale"),
    [
        ("dependencies", "rich>=13", {"test", "runtime", "notebook"}),
        ("test", "pytest-timeout>=2", {"test"}),
        ("notebook", "jupytext>=1.16", {"notebook"}),
        ("build-system", "wheel>=0.40", {"test", "runtime", "notebook"}),
    ],
)
def test_a_changed_dependency_list_makes_its_locks_stale(where, change, stale):
    data = copy.deepcopy(PYPROJECT)
    if where == "dependencies":
        data["project"]["dependencies"].append(change)
    elif where == "build-system":
        data["build-system"]["requires"].append(change)
    else:
        data["project"]["optional-dependencies"][where].append(change)
    found = lockfiles.problems(pyproject=data)
    named = {re.match(r"locks/(\w+)\.txt", p).group(1) for p in found}
    assert named == stale
    assert all("make lock" in p for p in found)


def test_order_and_spacing_of_a_list_do_not_count():
    data = copy.deepcopy(PYPROJECT)
    data["project"]["dependencies"] = [
        d.replace(">=", " >= ") for d in reversed(data["project"]["dependencies"])
    ]
    assert lockfiles.problems(pyproject=data) == []


def test_the_check_is_offline_and_says_what_to_do(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "runtime.txt"
    text = lockfiles.lock_path("runtime").read_text(encoding="utf-8")
    bad.write_text(text.replace(lockfiles.recorded_digest(text), "0" * 64), encoding="utf-8")
    monkeypatch.setattr(lockfiles, "lock_path", lambda name: bad if name == "runtime" else tmp_path / "x")
    assert lockfiles.main(["check", "runtime"]) == 1
    err = capsys.readouterr().err
    assert "locks/runtime.txt no longer matches pyproject.toml" in err
    assert "make lock" in err


def test_every_pin_has_hashes_and_the_runtime_lock_is_a_subset_of_the_tested_one():
    tested = lockfiles.pins(lockfiles.lock_path("test").read_text(encoding="utf-8"))
    runtime = lockfiles.pins(lockfiles.lock_path("runtime").read_text(encoding="utf-8"))
    assert {"streamlit", "setuptools", "websockets", "kubernetes-validate"} <= set(tested)
    assert "pytest" not in runtime
    assert "streamlit" in runtime
    for name, (version, hashes) in runtime.items():
        assert hashes, name
        assert tested[name] == (version, hashes), name


def test_this_environment_is_the_test_lock():
    """The suite runs on exactly the versions the test lock pins (a stale .venv would not)."""
    tested = lockfiles.pins(lockfiles.lock_path("test").read_text(encoding="utf-8"))
    wrong = []
    for name, (version, _) in tested.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            wrong.append(f"{name}: not installed (lock: {version})")
            continue
        if installed != version:
            wrong.append(f"{name}: {installed} installed, lock: {version}")
    assert wrong == [], "run `make install-test`:\n" + "\n".join(wrong)


def test_make_installs_from_the_locks_with_hashes():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "pip install --quiet --require-hashes -r locks/$(1).txt" in makefile
    assert "--no-deps --no-build-isolation -e ." in makefile
    assert 'pip install --quiet -e ".[' not in makefile  # no unlocked install left
