"""The layers of ARCHITECTURE.md, checked on the code's own imports: each layer imports only from the
layers below it, geocoding from nothing of ours, Streamlit only in the app shell."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dashboard.core import paths

ROOT = paths.ROOT
# (folder or file, layer); the most specific match wins
LAYERS = {
    "geocoding": 1,
    "dashboard/core": 2,
    "dashboard/atlasmap": 3,
    "dashboard/outputs": 4,
    "dashboard/shell": 4,
    "dashboard/app_pages": 5,
    "dashboard/app.py": 5,
    "dashboard/__main__.py": 5,
    "dashboard/__init__.py": 5,
}
STREAMLIT_ALLOWED = ("dashboard/shell", "dashboard/app_pages", "dashboard/app.py")


def _layer_of(relative: str) -> int | None:
    best = max((k for k in LAYERS if relative == k or relative.startswith(k + "/")), key=len, default=None)
    return LAYERS[best] if best else None


def _module_path(module: str) -> str | None:
    """'dashboard.core.text' -> 'dashboard/core/text.py' (or the package folder)."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ROOT.joinpath(*parts[:n])
        if candidate.with_suffix(".py").is_file():
            return str(candidate.with_suffix(".py").relative_to(ROOT))
        if candidate.is_dir() and (candidate / "__init__.py").is_file():
            return str(candidate.relative_to(ROOT)) + "/__init__.py"
    return None


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                out.append((node.lineno, f"{base}.{node.module}" if node.module else base))
            elif node.module:
                out.append((node.lineno, node.module))
    return out


SOURCES = sorted(
    p for p in [*ROOT.glob("dashboard/**/*.py"), *ROOT.glob("geocoding/**/*.py")] if "static" not in p.parts
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_layer_imports_only_from_the_layers_below(path):
    here = str(path.relative_to(ROOT))
    mine = _layer_of(here)
    assert mine is not None, f"{here} belongs to no layer of ARCHITECTURE.md"
    for line, module in _imports(path):
        top = module.split(".")[0]
        if top in ("streamlit", "streamlit_folium"):
            assert here.startswith(STREAMLIT_ALLOWED), f"{here}:{line} imports {module} outside the app shell"
            continue
        if top not in ("dashboard", "geocoding"):
            continue
        target = _module_path(module)
        assert target is not None, f"{here}:{line}: cannot resolve {module}"
        theirs = _layer_of(target)
        if here.startswith("geocoding"):
            assert top == "geocoding", (
                f"{here}:{line}: geocoding imports {module} (it must import nothing of dashboard)"
            )
        assert theirs is not None
        assert theirs <= mine, f"{here}:{line} (layer {mine}) imports {module} (layer {theirs}): an arrow up"


def test_the_check_reads_imports():
    seen = {m for p in SOURCES for _, m in _imports(p)}
    assert "dashboard.core.text" in seen
    assert "geocoding.records" in seen
