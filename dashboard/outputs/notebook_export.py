"""The explainer notebook outside JupyterLab: run it headless in a language, export the runs as one
HTML page, and the command that opens it in JupyterLab. Streamlit-free.

* :func:`run` executes ``notebooks/explainer.ipynb`` with nbclient, its ``LANG`` set, and times it:
  the whole run and each cell's own time (from the kernel's ``execute_input`` to its reply);
* :func:`export_html` turns runs into **one page** with a language switch (``#ja``, ``#en``): every
  output in order, the code left out; plotly.js is inlined once and draws every chart from its JSON,
  the maps are their own inlined pages (iframes, loaded when their language is first shown), the
  explorer shows its static first view. The page
  asks the network for nothing (a Content-Security-Policy forbids it) and opens from ``file://``;
* :func:`lab_command`: ``jupyter lab`` on the notebook, with ``--allow-root`` when run as root
  (containers, CI), which JupyterLab otherwise refuses.

``python -m dashboard notebook-html`` (``make notebook-html``) and ``python -m dashboard notebook``
(``make notebook``) call these.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from time import monotonic
from typing import Any

from dashboard.core import paths
from dashboard.core.safety import Markup, script_code, script_json, style_code
from dashboard.core.text import BASE_LANGS, LANGS, date_text, language_name, t
from dashboard.outputs.briefing import render_template
from dashboard.outputs.notebook import PLOTLY_MIME, stylesheet

NOTEBOOK = paths.ROOT / "notebooks" / "explainer.ipynb"
HTML_OUT = NOTEBOOK.with_suffix(".html")
TEMPLATE = "notebook.html.j2"
PAGE_CSS = "notebook-page.css"
PAGE_JS = "notebook-page.js"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
LANG_LINE = re.compile(r'^LANG = "[^"]*"', re.MULTILINE)
# A map's page (folium's iframe): loaded by the page's script when its language is first shown, since
# a map laid out in a hidden section gets no size and draws no point.
_SRCDOC = re.compile(r"<iframe(\s[^>]*?)?\ssrcdoc=", re.IGNORECASE)
CELL_TIMEOUT_S = 180


@dataclass
class Run:
    """One headless run of the notebook in one language."""

    lang: str
    nb: Any  # nbformat.NotebookNode, executed
    seconds: float  # from the first code cell sent to the last one done (the kernel's start and end excluded)
    cell_seconds: list[float] = field(default_factory=list)  # each code cell's own time

    @property
    def cells_seconds(self) -> float:
        """The cells' own time, added up."""
        return sum(self.cell_seconds)

    def errors(self) -> list[str]:
        """'cell 12: NameError: ...' for every cell that raised, and every output on stderr."""
        out = []
        for i, cell in enumerate(self.nb.cells):
            for o in cell.get("outputs", []):
                if o.get("output_type") == "error":
                    out.append(f"cell {i}: {o.get('ename')}: {o.get('evalue')}")
                elif o.get("name") == "stderr":
                    out.append(f"cell {i} wrote to stderr: {o.get('text', '')[:300]}")
        return out


def language_notebook(lang: str, path: Path = NOTEBOOK) -> Any:
    """The notebook with its first code cell set to ``LANG = "<lang>"``."""
    import nbformat

    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    if not LANG_LINE.search(first.source):
        raise ValueError(f'{path}: the first code cell must set LANG (LANG = "ja")')
    first.source = LANG_LINE.sub(f'LANG = "{lang}"', first.source, count=1)
    return nb


def _seconds(timing: dict[str, str], start: str, end: str) -> float:
    if start not in timing or end not in timing:
        return 0.0
    a, b = (datetime.fromisoformat(timing[k].replace("Z", "+00:00")) for k in (start, end))
    return max(0.0, (b - a).total_seconds())


def run(lang: str, *, path: Path = NOTEBOOK, timeout: int = CELL_TIMEOUT_S) -> Run:
    """Execute the notebook in ``lang`` with nbclient (every cell, errors collected in their outputs),
    in the notebook's folder, and time it."""
    from nbclient import NotebookClient

    nb = language_notebook(lang, path)
    marks: dict[str, float] = {}

    def started(cell: Any, **_: Any) -> None:
        if cell.cell_type == "code":
            marks.setdefault("start", monotonic())

    def executed(**_: Any) -> None:
        marks["end"] = monotonic()

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        record_timing=True,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=started,
        on_cell_executed=executed,
    )
    client.execute()
    cells = [
        _seconds(c.metadata.get("execution", {}), "iopub.execute_input", "shell.execute_reply")
        for c in nb.cells
        if c.cell_type == "code"
    ]
    return Run(lang, nb, marks["end"] - marks["start"], cells)


# ---------------------------------------------------------------------------------- the page
@functools.cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return script_code(get_plotlyjs())


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def output_blocks(nb: Any, chart_prefix: str) -> list[dict[str, Any]]:
    """What the page shows of an executed notebook, in order: for every code cell's outputs, a chart
    (plotly's JSON, drawn by the page), HTML (the cell's own rendering: text, tables, the map, the
    diagram; for the explorer, its static first view) or text. Markdown cells and code are left out:
    every text the reader needs is an output, in the run's language."""
    blocks: list[dict[str, Any]] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            data = out.get("data", {})
            if kind == "stream":
                blocks.append({"kind": "text", "text": _text(out.get("text", ""))})
            elif kind == "error":
                blocks.append({"kind": "text", "text": f"{out.get('ename')}: {out.get('evalue')}"})
            elif PLOTLY_MIME in data:
                spec = data[PLOTLY_MIME]
                blocks.append(
                    {
                        "kind": "chart",
                        "id": f"{chart_prefix}-{len(blocks)}",
                        "json": Markup(script_json(spec)),
                    }
                )
            elif "text/html" in data:
                # made by the atlas's own helpers (every data string escaped there), folium or plotly
                page = _SRCDOC.sub(
                    lambda m: f"<iframe{m.group(1) or ''} data-atlas-srcdoc=", _text(data["text/html"])
                )
                blocks.append({"kind": "html", "html": Markup(page)})
            elif "image/svg+xml" in data:
                blocks.append({"kind": "html", "html": Markup(_text(data["image/svg+xml"]))})
            elif "image/png" in data:
                blocks.append(
                    {"kind": "image", "src": "data:image/png;base64," + _text(data["image/png"]).strip()}
                )
            elif "text/plain" in data and WIDGET_VIEW not in data:
                blocks.append({"kind": "text", "text": _text(data["text/plain"])})
    return blocks


def export_html(runs: Sequence[Run], *, today: date | None = None) -> str:
    """The runs (one per language, the first shown by default) as one HTML page that opens offline."""
    if not runs:
        raise ValueError("export_html needs at least one run")
    made = (today or date.today()).isoformat()
    sections = [
        {
            "lang": r.lang,
            "name": language_name(r.lang),
            "title": t("nb_export_title", r.lang),
            "footer": t("nb_export_footer", r.lang, date=date_text(made, r.lang)),
            "blocks": output_blocks(r.nb, f"chart-{r.lang}"),
        }
        for r in runs
    ]
    return render_template(
        TEMPLATE,
        sections=sections,
        first=sections[0],
        languages_label=t("nb_export_languages", runs[0].lang),
        css=Markup(style_code((paths.TEMPLATES_DIR / PAGE_CSS).read_text(encoding="utf-8")) + stylesheet()),
        plotly_js=Markup(_plotly_js()),
        page_js=Markup(script_code((paths.TEMPLATES_DIR / PAGE_JS).read_text(encoding="utf-8"))),
    )


def write_html(out: Path = HTML_OUT, langs: Iterable[str] = BASE_LANGS, *,
               progress: Callable[[str], None] | None = None) -> tuple[Path, list[Run]]:  # fmt: skip
    """Run the notebook in each language and write the page to ``out`` (atomically: a failed run
    writes nothing). Raises RuntimeError naming the cells that failed."""
    from geocoding.files import atomic_write_text

    runs = []
    for lang in langs:
        r = run(lang)
        if progress:
            progress(f"{lang}: ran in {r.seconds:.1f} s (cells' own time {r.cells_seconds:.1f} s)")
        problems = r.errors()
        if problems:
            raise RuntimeError(f"the notebook failed in {lang}:\n" + "\n".join(problems))
        runs.append(r)
    atomic_write_text(out, export_html(runs))
    return out, runs


# ---------------------------------------------------------------------------------- JupyterLab
def lab_command(uid: int | None = None, notebook: Path = NOTEBOOK) -> list[str]:
    """``python -m jupyter lab <notebook>``, with ``--allow-root`` when ``uid`` (default: this process's
    effective user) is root: JupyterLab refuses to start as root without it."""
    uid = os.geteuid() if uid is None else uid
    return [sys.executable, "-m", "jupyter", "lab", *(["--allow-root"] if uid == 0 else []), str(notebook)]
