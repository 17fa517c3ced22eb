"""The README keeps up with the code (datasette's test_docs): every command option, every data
column and every make target it should name is there, and every make target it names exists."""

from __future__ import annotations

import argparse
import re

import pytest

from dashboard.__main__ import build_parser as dashboard_parser
from dashboard.core import paths, schema
from geocoding.cli import build_parser as geocoding_parser

README = (paths.ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (paths.ROOT / "Makefile").read_text(encoding="utf-8")


def _options(parser: argparse.ArgumentParser) -> set[str]:
    out = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.add(name)
                out |= _options(sub)
        out |= {o for o in action.option_strings if o.startswith("--") and o != "--help"}
    return out


PARSERS = [("geocoding", geocoding_parser), ("dashboard", dashboard_parser)]


@pytest.mark.parametrize(("name", "parser"), PARSERS)
def test_every_command_option_is_documented(name, parser):
    def named(option: str) -> bool:
        return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", README) is not None

    missing = sorted(o for o in _options(parser()) if not named(o))
    assert not missing, f"python -m {name}: options not in the README: {missing}"


@pytest.mark.parametrize(
    ("file", "model"),
    [
        (paths.OFFICES, schema.Office),
        (paths.MEMBERS, schema.Member),
        (paths.MEMBERSHIP, schema.MembershipCount),
        (paths.EVENTS, schema.Event),
        (paths.GEOCODED, schema.Geocoded),
    ],
)
def test_every_data_column_is_documented(file, model):
    row = next((line for line in README.splitlines() if line.startswith(f"| `{file}`")), None)
    assert row, f"{file} has no row in the README's data table"
    missing = [f for f in model.model_fields if f not in row]
    assert not missing, f"{file}: columns not in the README: {missing}"


def test_every_data_file_is_documented():
    names = [v for k, v in vars(paths).items() if k.isupper() and isinstance(v, str) and "." in v]
    missing = [n for n in names if f"`{n}`" not in README]
    assert not missing, f"data files not in the README: {missing}"


def test_make_targets_named_in_the_readme_exist():
    named = set(re.findall(r"\bmake ([a-z][a-z-]+)", README))
    assert {"run", "test"} <= named  # the two-command quick start
    defined = set(re.findall(r"^([a-z][a-z-]+):", MAKEFILE, flags=re.M))
    assert named <= defined, f"README names make targets the Makefile lacks: {sorted(named - defined)}"
