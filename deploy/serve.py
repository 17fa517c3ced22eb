"""Serve the atlas to many: N ``streamlit run dashboard/app.py`` replicas behind nginx (``make serve``).

    python deploy/serve.py --replicas 3 --port 8501 --address 127.0.0.1

* Each replica is a Streamlit process on a free port of 127.0.0.1, started from the repository root
  (so ``.streamlit/config.toml`` applies), its output in ``<run dir>/replica-<i>.log``.
* nginx (Debian's ``/usr/sbin/nginx``, run as this user, not as a daemon) listens on ADDRESS:PORT
  with a configuration made from ``deploy/nginx.conf.template`` in the run folder, which also holds
  its pid file, logs and temporary files: nothing outside it is written. Websockets are proxied;
  a cookie pins a browser to one replica (see the template).
* Every ``--interval`` seconds each replica's ``/_stcore/health`` is asked (an answer may take up to
  ``--health-timeout`` seconds: a replica busy with a room opening the link at once is slow, not dead).
  A replica that stops
  answering (``--fails`` times in a row) or whose process ended is taken out of nginx (the
  configuration marks it ``down`` and nginx reloads); a replica whose process ended is started again
  (after ``--restart-delay`` seconds, doubling up to a minute while it keeps failing), and so is one
  that has not answered for ``--hung-after`` seconds; one that answers again is put back.
* ``<run dir>/status.json`` says at any moment which replicas are up and in rotation.
* Ctrl-C or SIGTERM stops nginx, then every replica (SIGTERM, SIGKILL after 10 s), checks that
  nothing is left listening on any of the ports, and exits. The children are also told to end if
  this process dies without cleaning up (Linux's parent-death signal).

Standard library only; it does not import the atlas (a replica that fails to start cannot take the
supervisor down with it).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
APP = ROOT / "dashboard" / "app.py"
STOP_GRACE_S = 10.0
MAX_RESTART_DELAY_S = 60.0


def log(message: str) -> None:
    print(f"[serve {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def listening(port: int, host: str = "127.0.0.1") -> bool:
    """Does anything accept connections on host:port?"""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy


def healthy(port: int, timeout: float) -> bool:
    try:
        with _DIRECT.open(f"http://127.0.0.1:{port}/_stcore/health", timeout=timeout) as r:
            return r.status == 200
    except (OSError, urllib.error.URLError, ValueError):
        return False


try:
    _LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here, not in the forked child
except OSError:
    _LIBC = None


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: SIGTERM it when the supervisor dies (Linux)."""
    if _LIBC is not None and hasattr(_LIBC, "prctl"):
        _LIBC.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


def children(pid: int) -> list[int]:
    """The pids of a process's children (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
    return out


def render(template: str, **fields: str) -> str:
    out = template
    for name, value in fields.items():
        out = out.replace("{{ " + name + " }}", value)
    left = re.findall(r"\{\{ *\w+ *\}\}", out)
    if left:
        raise ValueError(f"template fields left unfilled: {', '.join(left)}")
    return out


def worker_user_line() -> str:
    """nginx's ``user`` line: as root, the workers drop to an unprivileged user (nginx refuses to guess
    a group here); otherwise they run as this user."""
    if os.geteuid() != 0:
        return "# not root: the workers run as this user"
    for name in ("www-data", "nobody"):
        with contextlib.suppress(KeyError):
            user = pwd.getpwnam(name)
            return f"user {name} {grp.getgrgid(user.pw_gid).gr_name};"
    return "user nobody nogroup;"


def hidden_from_workers(path: Path) -> Path | None:
    """As root, the first folder on the way to ``path`` that other users (nginx's workers) may not enter."""
    if os.geteuid() != 0:
        return None
    path = Path(path).resolve()
    for folder in [path, *path.parents][::-1]:
        if not folder.stat().st_mode & 0o001:
            return folder
    return None


@dataclass
class Replica:
    index: int
    port: int
    log_path: Path
    proc: subprocess.Popen | None = None
    state: str = "starting"  # starting | healthy | unhealthy | dead | stopped
    in_rotation: bool = False
    failures: int = 0  # health checks failed in a row
    restarts: int = 0
    restart_at: float = 0.0
    restart_delay: float = 1.0
    healthy_since: float | None = None
    unhealthy_since: float | None = None

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "port": self.port,
            "pid": self.proc.pid if self.proc else None,
            "state": self.state,
            "in_rotation": self.in_rotation,
            "restarts": self.restarts,
            "log": str(self.log_path),
        }


@dataclass
class Supervisor:
    replicas: int
    port: int
    address: str
    run_dir: Path
    nginx: str
    python: str = sys.executable
    app: Path = APP
    interval: float = 1.0
    fails: int = 3
    restart_delay: float = 1.0
    hung_after: float = 60.0
    health_timeout: float = 5.0
    startup_timeout: float = 180.0
    extra_args: list[str] = field(default_factory=list)
    _replicas: list[Replica] = field(default_factory=list)
    _nginx: subprocess.Popen | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _signal: str | None = None
    _reloads: int = 0
    _failing_open: bool = False

    # ------------------------------------------------------------------------------ replicas
    def _start_replica(self, r: Replica) -> None:
        if r.proc is not None and r.proc.poll() is None:
            return
        if r.restarts and listening(r.port):  # its old port was taken meanwhile: take another
            r.port = free_port()
        cmd = [
            self.python, "-m", "streamlit", "run", str(self.app),
            "--server.port", str(r.port), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", "--server.runOnSave", "false",
            *self.extra_args,
        ]  # fmt: skip
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with r.log_path.open("ab") as out:
            out.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting on port {r.port}\n".encode())
            out.flush()
            r.proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the supervisor, which stops them in order
                preexec_fn=_die_with_parent,
            )
        r.state, r.failures, r.healthy_since = "starting", 0, None
        log(f"replica {r.index}: started (pid {r.proc.pid}, port {r.port})")

    def _stop_process(self, proc: subprocess.Popen | None, name: str, sig: int = signal.SIGTERM) -> None:
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)  # its own session: the group is the process and its children
            os.killpg(proc.pid, signal.SIGCONT)  # a stopped process handles the signal only once resumed
        try:
            proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            log(f"{name} did not stop within {STOP_GRACE_S:.0f} s: killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    # ------------------------------------------------------------------------------ nginx

    def config_text(self) -> str:
        servers = []
        for r in self._replicas:
            down = "" if r.in_rotation else " down"
            servers.append(f"        server 127.0.0.1:{r.port} max_fails=1 fail_timeout=5s{down};")
        host = f"[{self.address}]" if ":" in self.address else self.address
        return render(
            TEMPLATE.read_text(encoding="utf-8"),
            user=worker_user_line(),
            run_dir=str(self.run_dir),
            listen=f"{host}:{self.port}",
            servers="\n".join(servers),
        )

    @property
    def config_path(self) -> Path:
        return self.run_dir / "nginx.conf"

    def _write_config(self) -> None:
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(self.config_text(), encoding="utf-8")
        os.replace(tmp, self.config_path)

    def _nginx_cmd(self, *args: str) -> list[str]:
        # -e: the error log before the configuration is read (not /var/log/nginx/error.log)
        return [self.nginx, "-p", str(self.run_dir), "-c", str(self.config_path),
                "-e", str(self.run_dir / "logs" / "nginx-error.log"), *args]  # fmt: skip

    def _start_nginx(self) -> None:
        self._write_config()
        test = subprocess.run(self._nginx_cmd("-t", "-q"), capture_output=True, text=True, check=False)
        if test.returncode != 0:
            raise RuntimeError(f"nginx rejects the configuration {self.config_path}:\n{test.stderr}")
        self._nginx = subprocess.Popen(
            self._nginx_cmd(), stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent
        )
        deadline = time.monotonic() + 10
        while not listening(self.port, self._probe_host()):
            if self._nginx.poll() is not None:
                err = (self.run_dir / "logs" / "nginx-error.log").read_text(errors="replace")[-1500:]
                raise RuntimeError(f"nginx exited ({self._nginx.returncode}) on start:\n{err}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"nginx is not listening on {self.address}:{self.port} after 10 s")
            time.sleep(0.05)
        log(f"nginx: listening on {self.address}:{self.port} (pid {self._nginx.pid})")

    def _reload_nginx(self) -> None:
        """``nginx -s reload`` for the master we started, returning once it took effect: its new
        workers are up (the old ones then stop accepting and finish what they hold)."""
        self._write_config()
        if self._nginx is None or self._nginx.poll() is not None:
            return
        before = set(children(self._nginx.pid))
        self._nginx.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (set(children(self._nginx.pid)) - before):
            time.sleep(0.02)
        time.sleep(0.1)  # the old workers close their listening sockets on the master's word
        self._reloads += 1
        in_rotation = [r.index for r in self._replicas if r.in_rotation]
        log(f"nginx: reloaded, replicas in rotation: {in_rotation or 'none'}")

    def _probe_host(self) -> str:
        if self.address in ("0.0.0.0", ""):
            return "127.0.0.1"
        return "::1" if self.address == "::" else self.address

    # ------------------------------------------------------------------------------ state
    def status(self) -> dict:
        return {
            "pid": os.getpid(),
            "address": self.address,
            "port": self.port,
            "url": self.url,
            "nginx_pid": self._nginx.pid if self._nginx else None,
            "nginx_reloads": self._reloads,
            "ready": any(r.in_rotation for r in self._replicas) and self._nginx is not None,
            "replicas": [r.to_json() for r in self._replicas],
        }

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.address in ("0.0.0.0", "") else self.address
        return f"http://{host}:{self.port}"

    def _write_status(self) -> None:
        path = self.run_dir / "status.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.status(), indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def _check(self, pool: ThreadPoolExecutor) -> tuple[bool, bool]:
        """One round of health checks: (did the rotation change, did any state change)."""
        now = time.monotonic()
        alive = [r for r in self._replicas if r.proc is not None and r.proc.poll() is None]
        timeout = self.health_timeout
        checks = pool.map(lambda r: healthy(r.port, timeout), alive)
        answers = {r.index: ok for r, ok in zip(alive, checks, strict=True)}
        before = {r.index: (r.state, r.in_rotation, r.port) for r in self._replicas}
        for r in self._replicas:
            if r.proc is not None and r.proc.poll() is not None:
                if r.state != "dead":
                    code = r.proc.returncode
                    log(f"replica {r.index}: process ended ({code}); restart in {r.restart_delay:.0f} s")
                    r.state, r.in_rotation, r.restart_at = "dead", False, now + r.restart_delay
                    r.restart_delay = min(MAX_RESTART_DELAY_S, r.restart_delay * 2)
                elif now >= r.restart_at:
                    r.restarts += 1
                    self._start_replica(r)
            elif answers.get(r.index):
                if r.state != "healthy":
                    log(f"replica {r.index}: healthy on port {r.port}")
                r.state, r.failures, r.in_rotation = "healthy", 0, True
                r.healthy_since, r.unhealthy_since = r.healthy_since or now, None
                if now - r.healthy_since > 60:
                    r.restart_delay = self.restart_delay  # up for a minute: back to a short delay
            elif r.state == "unhealthy" and now - (r.unhealthy_since or now) > self.hung_after:
                log(f"replica {r.index}: not answering for {self.hung_after:.0f} s: restarting it")
                self._stop_process(r.proc, f"replica {r.index}")  # the next round restarts it
                r.unhealthy_since = None
            elif r.state != "starting":
                r.failures += 1
                if r.failures >= self.fails and r.state != "unhealthy":
                    log(f"replica {r.index}: not answering on /_stcore/health ({r.failures} times)")
                    r.state, r.in_rotation, r.healthy_since = "unhealthy", False, None
                    r.unhealthy_since = now
        # Fail open: when no replica answers in time but some are running (a room opening the link at
        # once keeps them all busy), taking them all out would answer everyone with 502: those stay in,
        # until one answers again. A replica whose process ended is out either way.
        slow = [
            r
            for r in self._replicas
            if r.state == "unhealthy" and r.proc is not None and r.proc.poll() is None
        ]
        fail_open = bool(slow) and not any(r.state == "healthy" for r in self._replicas)
        for r in slow:
            r.in_rotation = fail_open
        if fail_open and not self._failing_open:
            log(f"no replica answers in time: replicas {[r.index for r in slow]} stay in rotation while "
                "they are running (a slow answer beats none)")  # fmt: skip
        self._failing_open = fail_open
        after = {r.index: (r.state, r.in_rotation, r.port) for r in self._replicas}
        changed = any(before[i][1] != after[i][1] for i in after)
        return changed, before != after

    # ------------------------------------------------------------------------------ run / stop
    def _on_signal(self, signum: int, _frame) -> None:
        self._signal = signal.Signals(signum).name
        self._stop.set()

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        for sub in ("logs", "tmp"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        self.run_dir.chmod(0o755)  # nginx's workers (another user when run as root) reach tmp/
        hidden = hidden_from_workers(self.run_dir)
        if hidden:
            log(f"nginx's workers run as another user and cannot enter {hidden}, so they could not keep "
                f"their cached and temporary files in {self.run_dir}/tmp: choose a --run-dir whose every "
                "parent folder others may enter (the default, a new folder in /tmp, is)")  # fmt: skip
            return 2
        if listening(self.port, self._probe_host()):
            log(f"port {self.port} on {self.address} is already in use: choose another with PORT=")
            return 2
        self._replicas = [
            Replica(i, free_port(), self.run_dir / f"replica-{i}.log", restart_delay=self.restart_delay)
            for i in range(self.replicas)
        ]
        log(f"run folder: {self.run_dir}")
        code = 0
        try:
            for r in self._replicas:
                self._start_replica(r)
            self._write_status()
            code = self._loop()
        except Exception as exc:  # report, then stop everything started so far
            log(f"error: {exc}")
            code = 1
        finally:
            self.stop()
        return code

    def _loop(self) -> int:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=max(2, self.replicas)) as pool:
            while not self._stop.is_set():
                changed, touched = self._check(pool)
                if self._nginx is None:
                    if any(r.in_rotation for r in self._replicas):
                        self._start_nginx()
                        self._write_status()
                        shared = (
                            " (and from other machines at this one's address)"
                            if self.address in ("0.0.0.0", "::")
                            else ""
                        )
                        log(f"open {self.url}{shared} — {self.replicas} replicas; Ctrl-C stops everything")
                    elif time.monotonic() - started > self.startup_timeout:
                        raise RuntimeError(
                            f"no replica became healthy in {self.startup_timeout:.0f} s; "
                            f"see {self.run_dir}/replica-*.log"
                        )
                elif self._nginx.poll() is not None:
                    raise RuntimeError(
                        f"nginx exited ({self._nginx.returncode}); see {self.run_dir}/logs/nginx-error.log"
                    )
                elif changed:
                    self._reload_nginx()  # the status below says what nginx does now
                if touched:
                    self._write_status()
                self._stop.wait(self.interval)
        log(f"{self._signal or 'stop'} received: stopping")
        return 0

    def stop(self) -> None:
        self._stop_process(self._nginx, "nginx", signal.SIGTERM)  # fast shutdown: closes the websockets
        for r in self._replicas:
            self._stop_process(r.proc, f"replica {r.index}")
            r.state, r.in_rotation = "stopped", False
        ports = [(self._probe_host(), self.port)] + [("127.0.0.1", r.port) for r in self._replicas]
        deadline = time.monotonic() + 5
        busy = [p for h, p in ports if listening(p, h)]
        while busy and time.monotonic() < deadline:
            time.sleep(0.1)
            busy = [p for h, p in ports if listening(p, h)]
        if busy:
            log(f"still listening after the stop (not ours?): ports {busy}")
        else:
            log(f"stopped: nginx and {len(self._replicas)} replicas ended, nothing listening on ports "
                f"{', '.join(str(p) for _, p in ports)}")  # fmt: skip
        self._nginx = None
        self._write_status()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="deploy/serve.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--replicas", type=int, default=2, help="Streamlit processes (default 2)")
    p.add_argument("--port", type=int, default=8501, help="where nginx listens (default 8501)")
    p.add_argument("--address", default="127.0.0.1", help="where nginx listens (0.0.0.0: the network)")
    p.add_argument("--nginx", default="/usr/sbin/nginx", help="the nginx binary")
    p.add_argument("--run-dir", type=Path, help="config, logs, pid file (default: a new temporary folder)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between health checks")
    p.add_argument(
        "--health-timeout",
        type=float,
        default=5.0,
        help="seconds a replica may take to answer one (default 5)",
    )
    p.add_argument("--fails", type=int, default=3, help="failed checks in a row that take a replica out")
    p.add_argument("--restart-delay", type=float, default=1.0, help="seconds before a dead replica restarts")
    p.add_argument(
        "--hung-after", type=float, default=60.0, help="seconds out of rotation before a replica is restarted"
    )
    p.add_argument(
        "--startup-timeout", type=float, default=180.0, help="seconds for the first healthy replica"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.replicas < 1:
        print("--replicas must be at least 1", file=sys.stderr)
        return 2
    if shutil.which(args.nginx) is None:
        print(f"{args.nginx} not found: `make nginx` installs Debian's nginx (apt-get)", file=sys.stderr)
        return 2
    temporary = args.run_dir is None
    run_dir = Path(tempfile.mkdtemp(prefix="atlas-serve-")) if temporary else args.run_dir.resolve()
    sup = Supervisor(
        replicas=args.replicas,
        port=args.port,
        address=args.address,
        run_dir=run_dir,
        nginx=args.nginx,
        interval=args.interval,
        fails=args.fails,
        restart_delay=args.restart_delay,
        hung_after=args.hung_after,
        health_timeout=args.health_timeout,
        startup_timeout=args.startup_timeout,
    )
    code = sup.run()
    if temporary and code == 0:
        shutil.rmtree(run_dir, ignore_errors=True)
    elif code:
        log(f"logs kept in {run_dir}")
    return code


if __name__ == "__main__":
    sys.exit(main())
