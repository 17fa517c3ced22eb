"""The deployment files: the Dockerfile and the Kubernetes manifests in deploy/k8s/.

No container engine runs on the project's machines, so the image is tested by what it runs: its
COPY lines assemble the image's /app in a temporary folder (minus what .dockerignore leaves out),
its build steps run there, the tree is made read-only, and its CMD serves every page, checked
with its HEALTHCHECK and with bench/wsclient.py sessions, while neither /app nor the data folder
may be written (as root, with the capability to override file modes dropped). The manifests are
validated against the Kubernetes schemas bundled in kubernetes-validate (offline, strict: an
unknown field fails) and checked against each other and the image.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bench._server import free_port
from bench.wsclient import open_session
from dashboard.core import paths

ROOT = paths.ROOT
DOCKERFILE = ROOT / "Dockerfile"
K8S = ROOT / "deploy" / "k8s"
HEALTH = "/_stcore/health"
PAGES = ("", "map", "timeline", "membership", "compare", "sources")
K8S_VERSIONS = ("1.29", "1.33", "1.37")  # oldest supported by the manifests .. newest schema bundled


# ---------------------------------------------------------------------------------- the Dockerfile
def instructions() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` of the Dockerfile, continuation lines joined, comments dropped."""
    lines, out, current = DOCKERFILE.read_text(encoding="utf-8").splitlines(), [], ""
    for line in lines:
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if current and line.lstrip().startswith("#"):
            continue
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        word, _, rest = current.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def one(name: str) -> str:
    found = [args for word, args in instructions() if word == name]
    assert len(found) == 1, f"expected one {name}, found {found}"
    return found[0]


def env_of(image_app: Path, home: Path) -> dict[str, str]:
    """The image's ENV lines, with /app and the home folder mapped to the test's folders."""
    env: dict[str, str] = {}
    for word, args in instructions():
        if word == "ENV":
            for key, value in re.findall(r"(\w+)=(\S+)", args):
                env[key] = value
    env.pop("PATH", None)  # the test's own virtual environment stands for /opt/venv
    for key, value in env.items():
        env[key] = value.replace("/home/atlas", str(home)).replace("/app", str(image_app))
    return env


def exec_form(args: str) -> list[str]:
    """A CMD/HEALTHCHECK in exec form (a JSON list)."""
    start = args.index("[")
    return json.loads(args[start:])


def test_the_image_is_python_311_slim_non_root_and_installs_from_the_lock():
    assert one("FROM") == "python:3.11-slim"
    user = one("USER").split(":")[0]
    assert user not in ("root", "0")
    runs = [args for word, args in instructions() if word == "RUN"]
    assert any("useradd --system --uid 10001 --gid atlas" in r and user in r for r in runs)
    assert any("pip install --require-hashes -r locks/runtime.txt" in r for r in runs)
    assert any("pip install --no-deps --no-build-isolation -e ." in r for r in runs)
    assert not any(re.search(r"pip install (?!--require-hashes|--no-deps)", r) for r in runs), runs
    # the data folder and dashboard/static are ready before the user switch
    build = [r for r in runs if "ensure_static_assets()" in r]
    assert build
    assert "python -m dashboard validate" in build[0]
    words = [w for w, _ in instructions()]
    assert words.index("USER") > max(i for i, (w, a) in enumerate(instructions()) if w == "RUN")
    assert one("EXPOSE") == "8501"
    assert "ATLAS_DATA_DIR=/app/data" in " ".join(a for w, a in instructions() if w == "ENV")
    health = one("HEALTHCHECK")
    assert f"http://127.0.0.1:8501{HEALTH}" in health
    cmd = exec_form(one("CMD"))
    # Streamlit's own command line, started through the atlas's launcher (the link guard first)
    assert cmd[:5] == ["python", "-m", "dashboard.shell.server", "run", "dashboard/app.py"]
    assert cmd[cmd.index("--server.port") + 1] == "8501"
    assert cmd[cmd.index("--server.address") + 1] == "0.0.0.0"  # inside the container: every interface


def test_the_image_runs_the_command_the_supervisor_runs():
    """One Streamlit command line for a replica, in the image and in make serve."""
    cmd = exec_form(one("CMD"))
    options = {cmd[i]: cmd[i + 1] for i in range(5, len(cmd), 2)}
    supervisor = (ROOT / "deploy" / "serve.py").read_text(encoding="utf-8")
    for option, value in options.items():
        if option in ("--server.port", "--server.address"):
            continue
        assert f'"{option}", "{value}"' in supervisor, option


def dockerignored() -> list[str]:
    text = (ROOT / ".dockerignore").read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def _ignored(rel: str) -> bool:
    for pattern in dockerignored():
        bare = pattern.removeprefix("**/")
        if fnmatch.fnmatch(rel, pattern) or rel == pattern or rel.startswith(pattern + "/"):
            return True
        if any(fnmatch.fnmatch(part, bare) for part in rel.split("/")):
            return True
    return False


def test_the_build_context_leaves_local_state_out():
    for local in (".git", ".venv", ".tools", "dashboard/static", "test-artifacts"):
        assert _ignored(local), local
    assert _ignored("dashboard/__pycache__")
    assert not _ignored("dashboard/app.py")
    assert not _ignored("data/offices.csv")


def copies() -> list[tuple[list[str], str]]:
    out = []
    for word, args in instructions():
        if word == "COPY":
            parts = args.split()
            assert not any(p.startswith("--from") for p in parts)
            out.append((parts[:-1], parts[-1]))
    return out


def test_every_copied_path_exists_and_the_app_needs_nothing_else():
    copied = {src for srcs, _ in copies() for src in srcs}
    for src in copied:
        assert (ROOT / src).exists(), src
    # what the app and its packages import from this repository is in the image
    assert {"dashboard", "geocoding", "data", ".streamlit", "pyproject.toml", "locks/runtime.txt"} <= copied
    imported = set()
    for py in [*(ROOT / "dashboard").rglob("*.py"), *(ROOT / "geocoding").rglob("*.py")]:
        if "static" in py.parts:
            continue
        imported |= set(re.findall(r"^\s*(?:from|import) (\w+)", py.read_text(encoding="utf-8"), re.M))
    local = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert imported & local <= copied


def build_image_tree(dest: Path) -> Path:
    """/app as the Dockerfile's COPY lines make it (and .dockerignore filters it)."""
    app = dest / "app"
    for srcs, target in copies():
        for src in srcs:
            source = ROOT / src
            where = (
                app / target if not target.endswith("/") and len(srcs) == 1 else app / target / source.name
            )
            if source.is_dir():
                shutil.copytree(
                    source,
                    where,
                    ignore=lambda d, names: [
                        n for n in names if _ignored(str((Path(d) / n).relative_to(ROOT)))
                    ],
                )
            else:
                where.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, where)
    return app


def snapshot(root: Path) -> dict[str, tuple[int, int, bytes]]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            st = p.stat()
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns, p.read_bytes()[:256])
    return out


def set_writable(root: Path, writable: bool) -> None:
    for p in [root, *root.rglob("*")]:
        mode = p.stat().st_mode
        p.chmod(mode | stat.S_IWUSR if writable else mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def as_image_user(cmd: list[str]) -> list[str]:
    """Root may write anything: drop the capabilities that let it ignore file modes."""
    if os.geteuid() != 0:
        return cmd
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is needed to run as root without overriding file modes")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *cmd]


def test_what_the_image_runs_serves_every_page_from_a_read_only_tree(tmp_path):
    app = build_image_tree(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "ATLAS_DATA_DIR"}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    build_env = dict(env, **{k: v for k, v in env_of(app, home).items() if k != "ATLAS_DATA_DIR"})
    # the build steps on the app (the pip installs are the test lock's, already here)
    steps = [a for w, a in instructions() if w == "RUN" and a.startswith("python ")]
    assert steps
    for step in steps:
        done = subprocess.run(["sh", "-c", step], cwd=app, env=build_env, capture_output=True, text=True)
        assert done.returncode == 0, f"{step}\n{done.stdout}\n{done.stderr}"
    assert sorted(p.name for p in (app / "dashboard" / "static").iterdir())  # the map assets are there

    run_env = dict(env, **env_of(app, home))
    assert Path(run_env["ATLAS_DATA_DIR"]) == app / "data"
    port = free_port()
    cmd = [
        {"python": sys.executable, "8501": str(port), "0.0.0.0": "127.0.0.1"}.get(a, a)
        for a in exec_form(one("CMD"))
    ]
    health = [
        sys.executable if a == "python" else a.replace(":8501/", f":{port}/")
        for a in exec_form(one("HEALTHCHECK"))
    ]
    assert subprocess.run(health, capture_output=True, check=False).returncode != 0  # nothing there yet

    before = snapshot(app)
    set_writable(app, False)
    log = tmp_path / "server.log"
    try:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                as_image_user(cmd), cwd=app, env=run_env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            deadline = time.monotonic() + 90
            while subprocess.run(health, capture_output=True, check=False).returncode != 0:
                assert proc.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, "the HEALTHCHECK never passed"
                time.sleep(0.3)
            for lang in ("ja", "en"):
                for page in PAGES:
                    s = open_session(f"http://127.0.0.1:{port}", page, f"lang={lang}", timeout=120)
                    assert s.status == "finished", page
                    assert s.exceptions() == [], (page, s.exceptions())
        finally:
            proc.terminate()
            proc.wait(20)
        assert subprocess.run(health, capture_output=True, check=False).returncode != 0
    finally:
        set_writable(app, True)
    text = log.read_text(errors="replace")
    for word in ("Traceback", "PermissionError", "Permission denied", "Read-only", "Errno 13"):
        assert word not in text, text[-3000:]
    assert snapshot(app) == before  # neither the app, its static folder nor the data was written


# ---------------------------------------------------------------------------------- Kubernetes
def manifests() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                out.append((path.name, doc))
    return out


def kind(name: str) -> dict:
    found = [doc for _, doc in manifests() if doc["kind"] == name]
    assert len(found) == 1, name
    return found[0]


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_the_manifests_are_valid_kubernetes(version):
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    docs = manifests()
    assert {d["kind"] for _, d in docs} == {"Deployment", "Service", "Ingress", "PodDisruptionBudget"}
    for name, doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name} ({doc['kind']}) is not valid for Kubernetes {version}: {exc}")


def test_the_validator_uses_its_bundled_schemas_and_catches_a_typo():
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    import importlib.resources

    bundled = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"
    assert (bundled / "v1.37.0-local-strict" / "deployment-apps-v1.json").is_file()  # no download
    doc = kind("Deployment")
    broken = json.loads(json.dumps(doc))
    broken["spec"]["replica"] = 3
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSIONS[-1], strict=True)


def test_the_manifests_agree_with_each_other_and_the_image():
    dep, svc, ing, pdb = (kind(k) for k in ("Deployment", "Service", "Ingress", "PodDisruptionBudget"))
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert svc["spec"]["selector"].items() <= labels.items()
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert dep["spec"]["replicas"] >= 2
    pod = dep["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    port = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert port == {"http": int(one("EXPOSE"))}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": HEALTH, "port": "http"}, probe
    # the image's user, never root, a read-only root file system with writable /tmp and home
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert {"/tmp", "/home/atlas"} <= set(mounts)
    # the data folder: mounted read-only where ATLAS_DATA_DIR points
    env = {e["name"]: e["value"] for e in container["env"]}
    data = mounts[env["ATLAS_DATA_DIR"]]
    assert data["readOnly"] is True
    volume = next(v for v in pod["volumes"] if v["name"] == data["name"])
    assert "configMap" in volume
    # the Service: sticky by client address; its port reaches the container's
    assert svc["spec"]["sessionAffinity"] == "ClientIP"
    assert svc["spec"]["ports"][0]["targetPort"] in ("http", port["http"])
    # the Ingress: ingress-nginx, sticky by cookie, websockets kept open, to this Service
    notes = ing["metadata"]["annotations"]
    assert ing["spec"]["ingressClassName"] == "nginx"
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert notes["nginx.ingress.kubernetes.io/affinity-mode"] == "persistent"
    assert notes["nginx.ingress.kubernetes.io/session-cookie-name"]
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == svc["metadata"]["name"]
    assert backend["port"] in ({"name": "http"}, {"number": svc["spec"]["ports"][0]["port"]})


def test_the_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == sorted({name for name, _ in manifests()})
