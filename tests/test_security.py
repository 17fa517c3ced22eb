"""Configuration that keeps the atlas safe: XSRF on, no HTML from data, only map assets served,
nothing written outside the data, the cache and dashboard/static."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from dashboard.atlasmap import assets
from dashboard.core import paths

ROOT = paths.ROOT
PY_FILES = sorted(p for p in paths.DASHBOARD_DIR.rglob("*.py") if "static" not in p.parts)


def test_streamlit_keeps_xsrf_protection_on():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    server = config.get("server", {})
    assert server.get("enableXsrfProtection", True) is True
    assert server.get("enableCORS", True) is True  # turning CORS off would also turn XSRF off
    assert config.get("client", {}).get("showErrorDetails") in ("none", False)  # no tracebacks to users


def test_no_unsafe_allow_html_anywhere_in_the_dashboard():
    assert PY_FILES
    offenders = [str(p.relative_to(ROOT)) for p in PY_FILES if "unsafe_allow_html" in p.read_text("utf-8")]
    assert offenders == []


def _calls(name: str) -> list[tuple[Path, ast.Call]]:
    """Every call whose function is ``<something>.name`` (st.html, components.html, ...)."""
    out = []
    for path in PY_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name:
                out.append((path, node))
    return out


def test_st_html_only_ever_gets_the_constant_stylesheets():
    calls = [
        (p, c) for p, c in _calls("html") if isinstance(c.func.value, ast.Name) and c.func.value.id == "st"
    ]
    assert calls, "expected the stylesheets' calls in dashboard/shell/state.py"
    for path, call in calls:
        arg = call.args[0] if call.args else None
        assert isinstance(arg, ast.Name), f"{path.name}:{call.lineno}: st.html with a non-constant argument"
        assert arg.id in ("BASE_CSS", "PRESENTATION_CSS"), f"{path.name}:{call.lineno}: st.html({arg.id})"
    from dashboard.shell import state

    for css in (state.BASE_CSS, state.PRESENTATION_CSS):
        assert css.strip().startswith("<style>")
        assert css.strip().endswith("</style>")
        assert css.count("<") == 2  # the two style tags: no other markup
        assert "<script" not in css.lower()


def test_no_html_string_reaches_a_component_only_a_declared_static_folder():
    """HTML built in Python and shown in a frame (components.v1.html / iframe, st.iframe) would
    bypass escaping, so none is used. The one custom component, the stage, is declared with
    ``declare_component(path=...)``: a folder of static files in dashboard/shell, committed, holding
    no data and no template; what the app sends it is a few numbers and booleans."""
    for path in PY_FILES:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"components(\.v1)?\.(html|iframe)\b", text), path.name
        assert not re.search(r"\bst\.iframe\b", text), path.name
    declared = _calls("declare_component")
    assert [p.name for p, _ in declared] == ["stage.py"]
    _, call = declared[0]
    keywords = {k.arg for k in call.keywords}
    assert "path" in keywords
    assert "url" not in keywords  # served by the app itself, never from elsewhere
    from dashboard.shell import stage

    folder = stage.FRONTEND
    assert folder.parent == paths.DASHBOARD_DIR / "shell"
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["index.html", "stage.js"]
    tracked = subprocess.run(
        ["git", "ls-files", str(folder.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sorted(Path(t).name for t in tracked) == files  # committed files, not written at run time
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"\{\{|\{%|\$\{", page)  # no template
    assert re.findall(r"<script[^>]*>", page) == ['<script src="stage.js">']  # no inline code
    # what the stage is sent: numbers, booleans, what to measure and the measured size, by these names only
    tree = ast.parse((paths.DASHBOARD_DIR / "shell" / "stage.py").read_text(encoding="utf-8"))
    sent = [
        {k.arg for k in node.keywords}
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_component"
    ]
    assert sent == [
        {"measure", "keys", "index", "total", "notes", "known", "key", "default", "on_change", "tab_index"}
    ]


def test_markdown_only_of_escaped_data():
    for path, call in _calls("markdown"):
        if not call.args or isinstance(call.args[0], ast.Constant):
            continue
        # data shown with st.markdown goes through escape_markdown or markdown_lines
        # (interface text comes from t())
        source = ast.get_source_segment(path.read_text(encoding="utf-8"), call.args[0]) or ""
        escaped = "escape_markdown(" in source or "markdown_lines(" in source
        assert escaped or source.startswith("t("), f"{path.name}:{call.lineno}: {source}"


def test_static_folder_holds_only_the_map_assets(tmp_path):
    static = assets.ensure_static_assets(tmp_path / "static")
    served = sorted(str(p.relative_to(static)) for p in static.rglob("*") if p.is_file())
    assert served == sorted(assets.SERVED)
    # and the real folder, if the app has filled it, holds nothing else (no data, no source code)
    if paths.STATIC_DIR.is_dir():
        real = {str(p.relative_to(paths.STATIC_DIR)) for p in paths.STATIC_DIR.rglob("*") if p.is_file()}
        extra = {r for r in real - set(assets.SERVED) if not re.match(r".*\.tmp$", r)}
        assert extra == set(), extra


def test_served_url_refuses_anything_but_a_map_asset():
    assert assets.served_url("leaflet.js") == "/app/static/leaflet.js"
    for name in ("../data/offices.csv", "/etc/passwd", "app.py", "images/../../ui.py"):
        with pytest.raises(KeyError):
            assets.served_url(name)


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    skip = (".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "test-artifacts")
    out = {}
    for p in root.rglob("*"):
        rel = p.relative_to(root)
        if any(part in skip or part.endswith(".egg-info") for part in rel.parts) or not p.is_file():
            continue
        st = p.stat()
        out[str(rel)] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([sys.executable, "-m", "geocoding", "--offline", "--no-progress"], id="geocoder"),
        pytest.param([sys.executable, "-m", "dashboard", "validate"], id="validate"),
    ],
)
def test_a_run_writes_only_inside_its_data_folder(tmp_path, command):
    data = tmp_path / "data"
    shutil.copytree(Path(__file__).parent / "fixtures" / "geocoding", data)
    before_repo = _snapshot(ROOT)
    before_tmp = {p.name for p in tmp_path.iterdir()}
    env = {"ATLAS_DATA_DIR": str(data), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    after_repo = _snapshot(ROOT)
    changed = {k for k in set(before_repo) | set(after_repo) if before_repo.get(k) != after_repo.get(k)}
    # other helpers may be editing the tree right now: only count files this command could write
    suspicious = {c for c in changed if not c.endswith((".py", ".md", ".ipynb", ".toml", ".json", ".txt"))}
    suspicious |= {c for c in changed if c.startswith("data/")}
    assert suspicious == set(), suspicious
    assert {p.name for p in tmp_path.iterdir()} <= before_tmp | {"home"}
    fixture = {p.name for p in (Path(__file__).parent / "fixtures" / "geocoding").iterdir()}
    written = {p.name for p in data.iterdir()} - fixture
    if "geocoding" in command:
        assert written == {paths.GEOCODED, paths.GEOCODING_CACHE, paths.GAZETTEER_INDEX}
    else:
        assert written == set()
