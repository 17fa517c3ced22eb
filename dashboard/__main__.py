"""Command line.

``python -m dashboard validate`` checks the data folder.
``python -m dashboard export --out briefing.html`` writes the briefing pack (one HTML file that opens
offline) for the filters given, read by the same parser as the app's URL parameters;
``--scenes`` writes the scenes pack instead: data/scenes.yaml's scenes, stepped with the keys.
``python -m dashboard site --out site`` writes the static site (``make site``): the whole atlas as HTML
pages that any web server serves with no Python running.
``python -m dashboard notebook-html`` runs the explainer notebook in Japanese and English and writes
``notebooks/explainer.html`` (one page, both languages, opens offline).
``python -m dashboard notebook`` opens the explainer notebook in JupyterLab (``--allow-root`` as root).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboard.core import paths
from geocoding.files import atomic_write_text


def _validate(args: argparse.Namespace) -> int:
    from dashboard.core.data import validate

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


def _atlas(args: argparse.Namespace, *, scenes_apart: bool = False):
    """(data folder, atlas) for ``--data-dir`` (default: $ATLAS_DATA_DIR or data/); the atlas is None,
    and the error said, when the data cannot be loaded. ``scenes_apart``: a problem in scenes.yaml
    does not stop it: the scene it is in is left out (as the app leaves it out) and the problem said
    as a warning."""
    from dashboard.core.data import AtlasDataError, load_atlas_partial

    folder = Path(args.data_dir).resolve() if args.data_dir else paths.data_dir()
    atlas, problems = load_atlas_partial(folder)
    errors = [p for p in problems if p.severity == "error" and not (scenes_apart and p.file == paths.SCENES)]
    if atlas is None or errors:
        exc = AtlasDataError(errors or problems, folder)
        print(f"error: {exc}\nRun `python -m dashboard validate` for the details.", file=sys.stderr)
        return folder, None
    if scenes_apart:
        for problem in problems:
            if problem.file == paths.SCENES:
                tag = "warning: " if problem.severity == "error" else ""  # else the problem says so
                print(f"{tag}{problem} (the scene is left out)", file=sys.stderr)
    return folder, atlas


def _export(args: argparse.Namespace) -> int:
    from datetime import date

    from dashboard.core.filters import from_query_params
    from dashboard.outputs.briefing import briefing_html

    _, atlas = _atlas(args)
    if atlas is None:
        return 1
    if args.scenes:
        return _export_scenes(args, atlas)
    params = {
        key: value
        for key, value in (
            ("lang", args.lang),
            ("years", args.years),
            ("region", args.region),
            ("kind", args.kind),
            ("org", args.org),
            ("compare", args.compare),
        )
        if value is not None
    }
    parsed = from_query_params(params, atlas)
    # The app ignores a bad value in a link with a notice; on the command line it is a mistake:
    # say so and write nothing. A year range clamped to 1987-2025 is only a warning.
    errors = []
    for notice in parsed.notices:
        text = notice.replace(" in the link", "")
        if "adjusted" in notice:
            print(f"warning: {text}", file=sys.stderr)
        else:
            errors.append(text.removeprefix("Ignored ").capitalize())
    if errors:
        for text in errors:
            print(f"error: {text}", file=sys.stderr)
        print(
            "Known regions: " + ", ".join(atlas.vocabulary.regions)
            + "\nKnown kinds: " + ", ".join(atlas.vocabulary.organisation_kinds)
            + "\nKnown organisations: " + ", ".join(atlas.organisation_records),
            file=sys.stderr,
        )  # fmt: skip
        return 2
    page = briefing_html(atlas, parsed.filters, today=date.today())
    return _write(args.out, "briefing.html", page, "open it in a browser, no internet needed.")


def _write(where: str, default_name: str, page: str, how: str) -> int:
    """Write a pack to ``where`` (a file, or a folder to put ``default_name`` in) and say so."""
    out = Path(where)
    if out.is_dir():
        out = out / default_name
    try:
        # a regular file only (a device or FIFO at the path is refused), written whole or not at all:
        # a failed write leaves neither half a file nor a temporary one
        atomic_write_text(out, page)
    except OSError as exc:
        print(f"error: could not write {out}: {exc.strerror or exc}; nothing was written", file=sys.stderr)
        return 2
    print(f"Wrote {out} ({len(page.encode('utf-8')) / 1e6:.1f} MB): {how}")
    return 0


def _export_scenes(args: argparse.Namespace, atlas) -> int:
    from datetime import date

    from dashboard.outputs.briefing import scenes_html

    given = [o for o in ("years", "region", "kind", "org", "compare") if getattr(args, o) is not None]
    if given:
        print(
            f"error: --scenes takes each scene's filters from {paths.SCENES}; leave out "
            + ", ".join(f"--{o}" for o in given),
            file=sys.stderr,
        )
        return 2
    if not atlas.scenes:
        print(
            f"error: no scenes in {atlas.data_dir / paths.SCENES} (see the README, 'Presenting')",
            file=sys.stderr,
        )
        return 1
    page = scenes_html(atlas, lang=args.lang or "ja", today=date.today())
    how = (
        f"{len(atlas.scenes)} scenes. Open it in a browser, no internet needed; the arrow keys,"
        " Page Up/Down or a clicker step through them, N shows the notes."
    )
    return _write(args.out, "briefing-scenes.html", page, how)


def _site(args: argparse.Namespace) -> int:
    from datetime import date

    from dashboard.outputs.site import build_site

    _, atlas = _atlas(args, scenes_apart=True)
    if atlas is None:
        return 1
    print(f"Writing the static site into {args.out} ...")
    report = build_site(Path(args.out), atlas, scenes=atlas.scenes, today=date.today(), log=print)
    print(
        f"Wrote {report.out}: {len(report.pages)} pages, {report.files} files, {report.bytes / 1e6:.1f} MB"
        + (f", {len(report.scenes)} scenes" if report.scenes else ", no scenes (no scenes.yaml)")
        + f". Open {report.out / 'index.html'} in a browser, or serve the folder with any web server."
    )
    return 0


def _notebook_html(args: argparse.Namespace) -> int:
    from dashboard.outputs.notebook_export import write_html

    out = Path(args.out)
    langs = [lang.strip() for lang in args.lang.split(",") if lang.strip()]
    try:
        written, runs = write_html(out, langs, progress=print)
    except (RuntimeError, ValueError) as exc:
        print(f"error: {exc}\nNothing was written.", file=sys.stderr)
        return 1
    size = written.stat().st_size / 1e6
    langs = ", ".join(r.lang for r in runs)
    print(f"Wrote {written} ({size:.1f} MB; {langs}): open it in a browser, no internet needed.")
    return 0


def _notebook(args: argparse.Namespace) -> int:
    import os

    from dashboard.outputs.notebook_export import lab_command

    command = lab_command()
    if args.dry_run:
        print(" ".join(command))
        return 0
    os.execv(command[0], command)  # JupyterLab takes over this process (Ctrl-C stops it)
    return 0  # pragma: no cover


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check every data file; exit 1 on any problem")
    v.add_argument("--data-dir", help="data folder to check (default: $ATLAS_DATA_DIR or data/)")
    v.set_defaults(func=_validate)
    e = sub.add_parser(
        "export",
        help="write the briefing pack: one HTML file that opens offline",
        description="Write the briefing pack for the filters given (same values as the app's URL).",
    )
    e.add_argument("--out", default="briefing.html", help="file to write (default: briefing.html)")
    e.add_argument("--lang", choices=["ja", "en"], help="language (default: ja)")
    e.add_argument("--years", help="founding year range, e.g. 1990,2010 (default: 1987,2025)")
    e.add_argument("--region", help="comma-separated region ids, e.g. east-asia,europe")
    e.add_argument("--kind", help="comma-separated kinds of organisation, e.g. city-network")
    e.add_argument("--org", help="comma-separated organisation ids, e.g. iclei,can")
    e.add_argument("--compare", help="2-4 organisation ids for the comparison, e.g. iclei,c40")
    e.add_argument("--data-dir", help="data folder (default: $ATLAS_DATA_DIR or data/)")
    e.add_argument(
        "--scenes",
        action="store_true",
        help="write the scenes pack instead: every scene of scenes.yaml, stepped with the arrow keys",
    )
    e.set_defaults(func=_export)
    s = sub.add_parser(
        "site",
        help="write the static site: the whole atlas as HTML pages for any web server or CDN",
        description="Write the static site (both languages, the default view, one page per scene).",
    )
    s.add_argument("--out", default="site", help="folder to write (default: site; replaced when done)")
    s.add_argument("--data-dir", help="data folder (default: $ATLAS_DATA_DIR or data/)")
    s.set_defaults(func=_site)
    h = sub.add_parser(
        "notebook-html",
        help="run the explainer notebook and write it as one HTML page that opens offline",
        description="Run notebooks/explainer.ipynb in each language; write one HTML page with all of them.",
    )
    h.add_argument("--out", default=str(paths.ROOT / "notebooks" / "explainer.html"),
                   help="file to write (default: notebooks/explainer.html)")  # fmt: skip
    h.add_argument(
        "--lang", default="ja,en", help="comma-separated languages, the first shown first (default: ja,en)"
    )
    h.set_defaults(func=_notebook_html)
    n = sub.add_parser(
        "notebook", help="open the explainer notebook in JupyterLab (needs the notebook extra)"
    )
    n.add_argument("--dry-run", action="store_true", help="print the command instead of running it")
    n.set_defaults(func=_notebook)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
