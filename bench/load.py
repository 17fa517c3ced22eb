"""``python -m bench.load [--quick] [--only room,soak,site]``: serving many, measured (``make loadtest``).

* **room**: the briefing room and the kill (:mod:`bench.room`): 50 attendees open one shared link within
  10 s through nginx and 2 replicas, beside 5 Chromium pages; then a replica is killed mid-test.
* **soak**: 15 minutes of sessions opening and closing (:mod:`bench.soak`): the memory slope.
* **site**: the static site (``make site``) served by nginx: requests per second (:mod:`bench.static_site`).

Writes ``bench/loadtest.json`` and ``bench/LOADTEST.md`` (with the machine, the versions and the command),
prints the table, and exits 1 if any check failed (an error, a missing marker, a session that did not
carry on or reconnect, a file the site's server did not serve). Targets that are figures (p95 under 10 s,
a flat memory line) are reported as met or not; they do not change the exit code, as in ``python -m
bench``. ``--quick`` runs the short versions that ``make test`` runs (tests/test_room.py, tests/test_site.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench.room import Room, run_room
from bench.soak import Soak, run_soak
from bench.static_site import run_site

HERE = Path(__file__).resolve().parent
PARTS = ("room", "soak", "site")
P95_TARGET_S = 10.0
FLAT_MB_PER_100 = 2.0  # "flat": under 2 MB per 100 sessions (a leak of one map's data per session is ~50)

FULL = {
    "room": Room(),
    "soak": Soak(),
    "site": {"seconds": 10.0, "connections": 50},
}
QUICK = {
    "room": Room(attendees=12, window=4.0, browsers=2, second_wave=6, second_window=4.0, observe=5.0),
    # too short to get past the warm-up (Streamlit's 128 kept sessions per replica): no slope
    "soak": Soak(duration=30.0, sample_every=1.0, clients=2, fit=False),
    "site": {"seconds": 2.0, "connections": 20},
}


def targets(r: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met): issue 16's figures."""
    out: list[tuple[str, str, bool | None]] = []
    room = r.get("room", {}).get("room")
    if room:
        ready, n = room["ready"], room["attendees"]
        replicas = r["parameters"]["room"]["replicas"]
        out.append((
            f"{n} attendees within {room['window_s']:.0f} s, {replicas} replica(s): "
            f"p95 under {P95_TARGET_S:.0f} s",
            f"p50 {ready['p50']} s, p95 {ready['p95']} s, max {ready['max']} s",
            None if ready["p95"] is None else ready["p95"] < P95_TARGET_S,
        ))  # fmt: skip
        everyone = n + len(room["chromium"])
        out.append((
            "every attendee gets every marker, 0 errors",
            f"{room['every_marker']} of {everyone} got every marker; {room['errors']} errors",
            room["errors"] == 0 and room["every_marker"] == everyone,
        ))  # fmt: skip
    kill = r.get("room", {}).get("kill")
    if kill and "skipped" not in kill:
        out.append((
            "a replica killed mid-test: the others' sessions carry on, new sessions go to the live one, "
            "the dead one's attendees reconnect",
            f"{kill['carried_on']}/{kill['room_sessions_on_live']} carried on, {kill['reconnected']} "
            f"reconnected, {kill['second_wave_after_kill_on_live']}/{kill['second_wave_after_kill']} new "
            f"on the live replica, {len(kill['problems'])} problems",
            not kill["problems"],
        ))  # fmt: skip
    soak = r.get("soak")
    if soak and "error" not in soak:
        slope = soak["mb_per_100_sessions"]
        if not soak["parameters"]["fit"]:
            out.append((f"sessions opening and closing ({soak['duration_s']:.0f} s): 0 errors",
                        f"{soak['sessions']} sessions, {soak['errors']} errors (too short for the memory "
                        "slope: see make loadtest)", soak["errors"] == 0))  # fmt: skip
            slope = None
        out.append((
            f"sessions opening and closing for {soak['duration_s'] / 60:.0f} min: memory flat "
            f"(under {FLAT_MB_PER_100:g} MB per 100 sessions)",
            f"{slope} MB per 100 sessions over {soak['sessions']} sessions, {soak['errors']} errors",
            None if slope is None else abs(slope) < FLAT_MB_PER_100 and soak["errors"] == 0,
        ))  # fmt: skip
    site = r.get("site")
    if site and "error" not in site:
        page = site["pages_measured"].get("ja/map.html", {})
        tool = page.get("tool", "").split(" (")[0]
        out.append((
            "static site: the map page served by nginx, no Python",
            f"{page.get('rps')} requests/s ({tool}), {page.get('errors')} errors",
            page.get("errors") == 0 and site["every_file_served"],
        ))  # fmt: skip
    return out


def _mb(d: dict[str, dict[str, float]] | None) -> str:
    if not d:
        return "—"
    return "; ".join(f"replica {k}: {v['start']} → peak {v['peak']} MB" for k, v in d.items())


def _room_md(r: dict[str, Any]) -> list[str]:
    room = r["room"]
    ro, visit = room["room"], room["visit"]
    cpu = ro["cpu_s"]
    ready, fin, drawn = ro["ready"], ro["finished"], ro["chromium_drawn"]
    return [
        "",
        "## 1. The briefing room",
        "",
        f"Shared link `{room['link']}` ({room['expected_markers']} markers), `make serve` with "
        f"{r['parameters']['room']['replicas']} replica(s) behind nginx, loopback. A Chromium opened the "
        "link first and recorded what a fresh browser does "
        f"({visit['files']} files, then {visit['frame_files']} for the map's frame, and "
        f"{visit['follow_ups']} messages once the map is drawn); each protocol-level attendee "
        "(bench/wsclient.py) does the same: the page, its files (from nginx's cache after the first), "
        "the websocket run, the frame's files, the map's report and the run it causes. ready = from the "
        "attendee's first request until a browser would have everything to draw every marker.",
        "",
        "| | p50 | p95 | max |",
        "|---|---|---|---|",
        f"| {ro['attendees']} protocol attendees within {ro['window_s']:.0f} s: ready "
        f"| {ready['p50']} s | {ready['p95']} s | {ready['max']} s |",
        f"| the same: script run finished | {fin['p50']} s | {fin['p95']} s | {fin['max']} s |",
        f"| {len(ro['chromium'])} Chromium pages beside them: every marker drawn "
        f"| {drawn['p50']} s | {drawn['p95']} s | {drawn['max']} s |",
        "",
        f"- errors: **{ro['errors']}**; every marker: {ro['every_marker']} of "
        f"{ro['attendees'] + len(ro['chromium'])}; sessions per replica: {ro['per_replica']}; health "
        f"checks missed (a busy replica): {ro['health_misses']}",
        f"- replicas' memory (resident, MB): idle {room['memory_idle_mb']}, before the room "
        f"{room['memory_before_mb']}; during it {_mb(ro['memory_mb'])}",
        f"- CPU-seconds over the room's {ro['duration_s']} s (capacity {cpu['capacity']}): replicas "
        f"{cpu['replicas']}, nginx {cpu['nginx']}, the load itself (client threads, Playwright, "
        f"Chromium) {cpu['load']}, other work on the machine {cpu['others']}; load average at the start "
        f"{ro['load_average']}",
    ]


def _kill_md(r: dict[str, Any]) -> list[str]:
    ki = r["room"]["kill"]
    rec, second = ki["reconnect_ready"], ki["second_wave_ready"]
    lines = [
        "",
        "## 2. A replica killed mid-test",
        "",
        f"With every room session open, {ki['second_wave']} more attendees opened the link within "
        f"{r['parameters']['room']['second_window']:.0f} s and replica {ki['killed_replica']} was "
        "killed (SIGKILL) halfway through.",
        "",
        f"- sessions on the live replica: {ki['carried_on']} of {ki['room_sessions_on_live']} carried "
        f"on (a rerun drew every marker), {ki['still_carrying_on']} still did "
        f"{ki['still_connected_after_s']:.0f} s after the kill (nginx's reload cuts no websocket)",
        f"- sessions of the killed replica (room and second wave): {ki['reconnected']} reconnected "
        f"with their cookie to the live replica with every marker (ready p50 {rec['p50']} s, "
        f"max {rec['max']} s)",
        f"- new sessions opened after the kill: {ki['second_wave_after_kill']}, on the live replica: "
        f"{ki['second_wave_after_kill_on_live']}; second wave ready p95 {second['p95']} s",
        f"- problems: {ki['problems'] or 'none'}",
        "",
        "| Chromium page | replica | connection states after the kill | reconnected, markers redrawn "
        "| blank samples | next page opened |",
        "|---|---|---|---|---|---|",
    ]
    for c in ki["chromium"]:
        where = "killed" if c["on_killed_replica"] else "live"
        redrawn = "—" if c["reconnected_and_redrawn_s"] is None else f"{c['reconnected_and_redrawn_s']} s"
        lines.append(
            f"| {c['index']} | {where} | {' → '.join(map(str, c['connection_states']))} | {redrawn} "
            f"| {c['blank_samples']} of {c['samples']} | {c.get('next_page_opened')} |"
        )
    return lines


def _soak_md(soak: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## 3. Sessions opening and closing",
        "",
        f"{soak['parameters']['clients']} clients opened {soak['sessions']} sessions in "
        f"{soak['duration_s']:.0f} s ({soak['sessions_per_s']} per second; {soak['abandoned']} closed "
        f"before their run finished) over {len(soak['views'])} views (every page, both languages, some "
        "filters). Memory fitted (least squares) against sessions after the first "
        f"{soak['parameters']['warmup']:.0f} s and {soak['parameters']['warmup_sessions']} sessions "
        f"(sessions {'–'.join(map(str, soak['fitted_sessions'] or ['none']))}).",
        "",
        "| replica | start | after warm-up | end | peak | slope (MB per 100 sessions) |",
        "|---|---|---|---|---|---|",
    ]
    for k, rep in soak["replicas"].items():
        lines.append(
            f"| {k} | {rep['start_mb']} MB | {rep['after_warmup_mb']} MB | {rep['end_mb']} MB "
            f"| {rep['peak_mb']} MB | {rep['mb_per_100_sessions']} |"
        )
    return [*lines, "", f"Both replicas together: **{soak['mb_per_100_sessions']} MB per 100 sessions**; "
            f"errors {soak['errors']}."]  # fmt: skip


def _site_md(site: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## 4. The static site",
        "",
        f"`make site` built {site['pages']} pages ({site['mb']} MB, and {site['gz_mb']} MB of .gz "
        f"beside them; {site['scenes']} scenes) in {site['build_s']} s; nginx "
        "(deploy/nginx-site.conf.template, gzip_static) served every file as written: "
        f"{site['every_file_served']}.",
        "",
        "| page | file | sent (gzip) | requests/s | latency p50 / p99 | errors | tool |",
        "|---|---|---|---|---|---|---|",
    ]
    for page, f in site["pages_measured"].items():
        lat = f["latency_ms"]
        lines.append(
            f"| /{page} | {f['file_bytes'] / 1e3:.0f} kB | {f['bytes_sent'] / 1e3:.0f} kB | {f['rps']} "
            f"| {lat['p50']} / {lat['p99']} ms | {f['errors']} "
            f"| {f['tool']}, {f['connections']} connections, {f['seconds']} s |"
        )
    return lines


def _earlier(r: dict[str, Any], part: str) -> list[str]:
    """A line saying when a part carried over from an earlier run (``--keep``) was measured."""
    run = r.get("carried", {}).get(part)
    if not run:
        return []
    return ["", f"*Measured in an earlier run: `{run['command']}`, started {run['started']}, load average "
                f"{run['load_average_at_start']} at its start.*"]  # fmt: skip


def _carry(results: dict[str, Any], earlier: dict[str, Any], parts: list[str]) -> None:
    """Copy ``parts`` (and their parameters) from an earlier run's results, saying when it ran."""
    for part in parts:
        if part in earlier and part not in results:
            results[part] = earlier[part]
            results["parameters"][part] = earlier["parameters"][part]
            carried = earlier.get("carried", {}).get(part) or {
                "command": earlier["command"],
                "started": earlier["started"],
                "load_average_at_start": earlier["machine"]["load_average_at_start"],
            }
            results.setdefault("carried", {})[part] = carried


def markdown(r: dict[str, Any]) -> str:
    m, v = r["machine"], r["versions"]
    lines = [
        "# Load test results (serving many)",
        "",
        f"`{r['command']}` ({r['mode']} mode), started {r['started']}, took {r.get('total_s')} s.",
        "",
        f"**Machine:** {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}. Load average "
        f"{m['load_average_at_start']} at start, {m.get('load_average_at_end')} at end. *{m['note']}.*",
        "",
        "**Versions:** " + ", ".join(f"{k} {val}" for k, val in v.items() if val),
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for name, value, met in targets(r):
        lines.append(
            f"| {name} | {value} | {'yes' if met else ('not measured' if met is None else '**no**')} |"
        )
    if r.get("room", {}).get("room"):
        lines += _room_md(r) + _earlier(r, "room")
        if "skipped" not in r["room"].get("kill", {"skipped": True}):
            lines += _kill_md(r)
    if r.get("soak") and "error" not in r["soak"]:
        lines += _soak_md(r["soak"]) + _earlier(r, "soak")
    if r.get("site") and "error" not in r["site"]:
        lines += _site_md(r["site"]) + _earlier(r, "site")
    errors = {k: x["error"] for k, x in r.items() if isinstance(x, dict) and "error" in x}
    if r.get("failures") or errors:
        lines += ["", "## Failures", ""] + [f"- {f}" for f in r.get("failures", [])]
        lines += [f"- {k}: {e}" for k, e in errors.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import machine

    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="the short versions (as in make test)")
    p.add_argument("--only", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    p.add_argument("--out", default=str(HERE), help="folder for loadtest.json and LOADTEST.md")
    p.add_argument("--replicas", type=int, default=2, help="replicas for the room (1: one process, no kill)")
    p.add_argument(
        "--keep", action="store_true", help="keep the parts not run from the folder's loadtest.json, dated"
    )
    args = p.parse_args(argv)
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    if unknown := [x for x in only if x not in PARTS]:
        p.error(f"unknown part(s): {', '.join(unknown)}")
    os.environ.pop("ATLAS_DATA_DIR", None)
    params = dict(QUICK if args.quick else FULL)
    params["room"] = dataclasses.replace(params["room"], replicas=args.replicas)

    def log(msg: str) -> None:
        print(msg, flush=True)

    results: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mode": "quick" if args.quick else "full",
        "command": "python -m bench.load"
        + (" --quick" if args.quick else "")
        + (f" --only {','.join(only)}" if len(only) < len(PARTS) else "")
        + (f" --replicas {args.replicas}" if args.replicas != 2 else ""),
        **machine(),
        "parameters": {
            "room": vars(params["room"]) | {"link": list(params["room"].link)},
            "soak": {k: v for k, v in vars(params["soak"]).items() if k != "views"},
            "site": params["site"],
        },
    }
    failures: list[str] = []
    t_all = time.perf_counter()
    for part in only:
        log(f"[{part}]")
        try:
            with tempfile.TemporaryDirectory(prefix=f"atlas-load-{part}-") as tmp:
                if part == "room":
                    out = run_room(params["room"], Path(tmp), log=log)
                elif part == "soak":
                    out = run_soak(params["soak"], Path(tmp), log=log)
                else:
                    out = run_site(**params["site"], log=log)
        except Exception as exc:
            traceback.print_exc()
            out = {"error": f"{type(exc).__name__}: {exc}", "failures": [f"{part}: {exc}"]}
        failures += out.get("failures", [])
        results[part] = out
    results["total_s"] = round(time.perf_counter() - t_all, 1)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["failures"] = failures
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    if args.keep and (folder / "loadtest.json").is_file():
        earlier = json.loads((folder / "loadtest.json").read_text(encoding="utf-8"))
        _carry(results, earlier, [part for part in PARTS if part not in only])
    (folder / "loadtest.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", "utf-8")
    text = markdown(results)
    (folder / "LOADTEST.md").write_text(text, encoding="utf-8")
    print()
    print(text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
