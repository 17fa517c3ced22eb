"""Command line: ``python -m dashboard validate`` checks the data folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboard import paths


def _validate(args: argparse.Namespace) -> int:
    from dashboard.data import validate

    folder = Path(args.data_dir).resolve() if args.data_dir else paths.data_dir()
    problems = validate(folder)
    errors = [p for p in problems if p.severity == "error"]
    if not problems:
        print(f"OK: the data in {folder} is valid.")
        return 0
    print(f"{len(errors)} error(s) and {len(problems) - len(errors)} warning(s) in the data in {folder}:")
    for p in problems:
        print(f"- {p}")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check every data file; exit 1 on any problem")
    v.add_argument("--data-dir", help="data folder to check (default: $ATLAS_DATA_DIR or data/)")
    v.set_defaults(func=_validate)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
