"""The readable table of a results.json: machine, versions, every figure and the targets."""

from __future__ import annotations

from typing import Any

from bench._stats import fmt


def _get(d: dict | None, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


# (target, path to the value in results.json's figures (dotted), limit, unit, how it compares):
# "<": the value must be below the limit; "<=": at most the limit; "==": equal to it.
S100K, S2500, ML = "scale.sizes.100000.browser", "scale.sizes.2500.browser", "member_list"
TARGETS: list[tuple[str, str, float, str, str]] = [
    ("Map page: every marker visible, at most 1.05× the minimal st_folium app",
     "map_page.ratio_first", 1.05, "×", "<="),
    ("100,000 points: drawn in Chromium < 1.5 s from the page's start",
     f"{S100K}.page_to_drawn.median", 1.5, " s", "<"),
    ("100,000 points: drawn in Chromium < 1.5 s from the map's show()",
     f"{S100K}.show_to_drawn.median", 1.5, " s", "<"),
    ("100,000 points: every pan and zoom < 100 ms (slowest of 15, to the painted frame)",
     f"{S100K}.moves.max_painted_ms", 100, " ms", "<"),
    ("100,000 points: built on the server < 3 s", "scale.sizes.100000.build.median", 3, " s", "<"),
    ("2,500 points: drawn in Chromium < 1.5 s from the page's start",
     f"{S2500}.page_to_drawn.median", 1.5, " s", "<"),
    ("2,500 points: every pan and zoom < 100 ms", f"{S2500}.moves.max_painted_ms", 100, " ms", "<"),
    ("A new session on the map page (a shared link, both runs of the map-first start): server CPU < 0.15 s",
     "session.protocol.session.median", 0.15, " CPU s", "<"),
    ("Member list of 2,500 rows with coordinates: on the map with no code change (every row a point)",
     f"{ML}.with_coordinates.missing", 0, " rows missing", "=="),
    ("Member list of 2,500 rows without coordinates: on the map after `python -m geocoding --offline`",
     f"{ML}.without_coordinates.missing", 0, " rows missing", "=="),
    ("Member list: map page at most 1.05× the minimal app on the same data",
     f"{ML}.map_page.ratio_first", 1.05, "×", "<="),
    ("Member list: show() to drawn in the app < 1.5 s",
     f"{ML}.map_page.atlas_show_to_drawn.median", 1.5, " s", "<"),
    ("Member list: every pan and zoom < 100 ms", f"{ML}.moves.max_painted_ms", 100, " ms", "<"),
    ("Member list: a new session < 0.15 CPU s", f"{ML}.session.protocol.session.median", 0.15, " CPU s", "<"),
    ("Member list: filter change, server rerun < 150 ms", f"{ML}.filter.map.median", 150, " ms", "<"),
    ("Filter change: server rerun < 150 ms (map page)", "filter.server.map.median", 150, " ms", "<"),
    ("Filter change: the browser shows the new view < 1 s",
     "filter.browser.map_and_caption.median", 1.0, " s", "<"),
    ("Warm geocoding run of the whole dataset < 1 s", "geocoding.warm_run.median", 1, " s", "<"),
    ("Each further session < 30 MB of server memory", "memory.per_session.median", 30, " MB", "<"),
]  # fmt: skip


def targets(r: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each target; met is None when not measured."""
    f = r.get("figures", {})
    out: list[tuple[str, str, bool | None]] = []
    for name, path, limit, unit, how in TARGETS:
        value = _get(f, *path.split("."))
        if value is None:
            out.append((name, "—", None))
            continue
        met = {"<": value < limit, "<=": value <= limit, "==": value == limit}[how]
        out.append((name, f"{value}{unit}", met))
    return out


def _bytes(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def _load(fig: dict[str, Any]) -> str:
    la = fig.get("load_average")
    return f"Load average (1 min) {la[0]} at the start of this figure, {la[1]} at its end." if la else ""


def _trace_table(mp: dict[str, Any]) -> list[str]:
    atlas, minimal = mp.get("atlas_trace", {}), mp.get("minimal_trace", {})
    about = mp.get("milestones") or {}
    lines = ["| milestone | atlas /map | minimal app |", "|---|---|---|"]
    for key, what in about.items():
        if key in atlas or key in minimal:
            a = f"{atlas[key]:.3f} s" if key in atlas else "—"
            m = f"{minimal[key]:.3f} s" if key in minimal else "—"
            lines.append(f"| {what} | {a} | {m} |")
    return lines


def _map_page(mp: dict[str, Any], title: str) -> list[str]:
    lines = [
        "| app | every marker visible | settled (held 1 s) |",
        "|---|---|---|",
        f"| atlas /map | {fmt(mp['atlas_first'])} | {fmt(mp['atlas_settled'])} |",
        f"| minimal st_folium app | {fmt(mp['minimal_first'])} | {fmt(mp['minimal_settled'])} |",
        f"| ratio atlas / minimal | {mp['ratio_first']}× | {mp['ratio_settled']}× |",
    ]
    if "atlas_filters" in mp:
        lines += ["", f"{title}: the sidebar's filters shown after {fmt(mp['atlas_filters'])}."]
    if "atlas_show_to_drawn" in mp:
        lines += [f"The map's show() to the frame painted in the app: {fmt(mp['atlas_show_to_drawn'])}."]
    runs = mp.get("atlas_script_runs")
    if runs:
        lines += [f"Script runs the atlas page asked for per session: {', '.join(map(str, runs))}."]
    if mp.get("atlas_trace"):
        lines += [
            "",
            "Where the time goes (medians, seconds from opening the page, by the page's own clock):",
            "",
        ]
        lines += _trace_table(mp)
    return lines


def _moves(mv: dict[str, Any]) -> str:
    parts = []
    for kind in ("pan", "zoom"):
        k = mv.get(kind)
        if k:
            parts.append(
                f"{kind}s: {fmt(k['painted'])} to the painted frame, redraw {fmt(k['redraw'])}, "
                f"main-thread CPU {fmt(k['cpu'])}"
            )
    return (
        "; ".join(parts) + f". Slowest move: {mv.get('max_painted_ms')} ms ({mv.get('max_cpu_ms')} CPU ms)."
    )


def markdown(r: dict[str, Any]) -> str:
    m, v, f = r["machine"], r["versions"], r["figures"]
    lines = [
        "# Benchmark results",
        "",
        f"`{r['command']}` ({r['mode']} mode), started {r['started']}, took {r.get('total_s')} s.",
        "",
        f"**Machine:** {m['cpu']}, nproc {m.get('nproc', m['cores'])}, {m['memory_gb']} GB, {m['os']}. "
        f"Load average {m['load_average_at_start']} at start, {m.get('load_average_at_end')} at end. "
        f"*{m['note']}: absolute times are noisy; the ratios compare runs interleaved in the same "
        "session, and the CPU figures (server CPU seconds, the browser's main-thread CPU) depend less "
        "on what else the machine runs.*",
        "",
        "**Versions:** " + ", ".join(f"{k} {val}" for k, val in v.items() if val),
        "",
        "Medians, with (min–max, number of runs).",
        "",
        "## Targets",
        "",
        "| target | measured (median) | met |",
        "|---|---|---|",
    ]
    for name, value, met in targets(r):
        lines.append(
            f"| {name} | {value} | {'yes' if met else ('not measured' if met is None else '**no**')} |"
        )

    mp = f.get("map_page", {})
    if mp and "error" not in mp:
        lines += ["", "## 1. Map page: opening to every marker visible (headless Chromium)", ""]
        lines += [mp["about"], "", _load(mp), ""]
        lines += _map_page(mp, "Atlas")
    se = f.get("session", {})
    if se and "error" not in se:
        p = se["protocol"]
        lines += [
            "",
            "## 2. A new session: server CPU",
            "",
            se["about"],
            "",
            _load(se),
            "",
            "| per new session on /map | server CPU | wall |",
            "|---|---|---|",
            f"| first run (the map) | {fmt(p['first_run'])} | {fmt(p['first_run_wall'])} |",
            f"| map-first rerun (the filters) | {fmt(p['map_first_rerun'])} "
            f"| {fmt(p['map_first_rerun_wall'])} |",
            f"| whole session, protocol level | {fmt(p['session'])} | |",
        ]
        if "browser" in se:
            lines.append(
                f"| whole Chromium session (every file served) | {fmt(se['browser']['session'])} | |"
            )
        lines += [
            "",
            f"{p['batches']} batches of {p['sessions_per_batch']} sessions; the server's idle CPU "
            f"({p['idle_cpu_per_s']} s per second) taken off. At the protocol level one process admits about "
            f"{1 / p['session']['median']:.0f} new sessions per CPU second.",
        ]
    fl = f.get("filter", {})
    if fl and "error" not in fl:
        s = fl["server"]
        lines += [
            "",
            "## 3. Filter change",
            "",
            fl["about"],
            "",
            _load(fl),
            "",
            "| measure | time |",
            "|---|---|",
            f"| server rerun, map page, a new selection (AppTest) | {fmt(s['map'])} |",
            f"| server rerun, map page, a selection seen before | {fmt(s['map_seen_before'])} |",
            f"| server rerun, timeline page with charts, a new selection | {fmt(s['timeline'])} |",
            f"| server rerun, timeline page, a selection seen before | {fmt(s['timeline_seen_before'])} |",
        ]
        if "browser" in fl:
            b = fl["browser"]
            lines += [
                f"| browser: key press to new marker count on the map | {fmt(b['map_markers'])} |",
                f"| browser: key press to map and caption updated | {fmt(b['map_and_caption'])} |",
            ]
    sc = f.get("scale", {})
    if sc and "error" not in sc:
        lines += [
            "",
            "## 4. Map size: 2,500 to 100,000 points (synthetic)",
            "",
            sc["about"],
            "",
            _load(sc),
            "",
            "| points | server: data + JSON | JSON (per point) | one object per point (JSON) "
            "| standalone page | page start → drawn | show() → drawn | main-thread CPU, page start → drawn |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for n, row in sc["sizes"].items():
            b = row.get("browser") or {}
            lines.append(
                f"| {int(n):,} | {fmt(row['build'])} "
                f"| {_bytes(row['json_bytes'])} ({row['bytes_per_point']} B) "
                f"| {_bytes(row['records_json_bytes'])}, encoded in {row['records_json_encode_s']} s "
                f"| {_bytes(row['standalone_bytes'])}, built in {fmt(row['standalone_build'])} "
                f"| {fmt(b.get('page_to_drawn'))} | {fmt(b.get('show_to_drawn'))} "
                f"| {fmt(b.get('page_to_drawn_cpu'))} |"
            )
        lines += ["", "show()'s steps (medians, ms) and the pan/zoom sequence:", ""]
        for n, row in sc["sizes"].items():
            b = row.get("browser") or {}
            if b:
                steps = ", ".join(f"{k} {val:g}" for k, val in b["show_steps_ms"].items())
                lines.append(f"- {int(n):,} points: {steps}. " + (_moves(b["moves"]) if "moves" in b else ""))
    ml = f.get("member_list", {})
    if ml and "error" not in ml:
        w, wo = ml["with_coordinates"], ml["without_coordinates"]
        lines += [
            "",
            "## 5. A member list of 2,500 rows dropped into data/member-lists/",
            "",
            ml["about"],
            "",
            _load(ml),
            "",
            f"- With coordinates: `validate` found {w['errors']} errors; {w['points']} points on the map "
            f"({w['missing']} of the list's rows missing), checked in {w['validate_s']} s.",
            f"- Without coordinates: {wo['points_before_geocoding']} points before geocoding; "
            f"`python -m geocoding --offline` took {wo['geocoding']['seconds']} s "
            f"({wo['geocoding']['summary']}); "
            f"then {wo['points']} points ({wo['missing']} missing), {wo['errors']} errors.",
            "",
        ]
        lines += _map_page(ml["map_page"], "With the list")
        if "moves" in ml:
            lines += ["", "Pans and zooms in the app's map: " + _moves(ml["moves"])]
        p = ml["session"]["protocol"]
        lines += [
            "",
            f"A new session: first run {fmt(p['first_run'])}, map-first rerun {fmt(p['map_first_rerun'])}, "
            f"whole session {fmt(p['session'])}.",
            f"Filter change, server rerun (AppTest): a new selection {fmt(ml['filter']['map'])}, one seen "
            f"before {fmt(ml['filter']['map_seen_before'])}.",
        ]
        if "map_page" in wo:
            mp2 = wo["map_page"]
            lines += [
                f"Without coordinates, after geocoding: every marker after {fmt(mp2['atlas_first'])} "
                f"(minimal app {fmt(mp2['minimal_first'])}, {mp2['ratio_first']}×)."
            ]
    ge = f.get("geocoding", {})
    if ge and "error" not in ge:
        lines += [
            "",
            "## 6. Geocoding",
            "",
            ge["about"],
            "",
            _load(ge),
            "",
            f"- warm `python -m geocoding --offline` over {ge['rows']} rows: {fmt(ge['warm_run'])}; "
            f"cache file unchanged by the runs: {ge['cache_unchanged']}",
            f"- gazetteer load (first look-up): {ge['gazetteer_load_s']} s",
            f"- gazetteer look-ups: {fmt(ge['lookups_per_s'])}",
        ]
    me = f.get("memory", {})
    if me and "error" not in me:
        lines += [
            "",
            "## 7. Server memory",
            "",
            me["about"],
            "",
            _load(me),
            "",
            f"- idle server (before any session): {fmt(me['idle'])}",
            f"- 1 session: {fmt(me['one_session'])}",
            f"- {me['sessions']} sessions: {fmt(me['twenty_sessions'])}",
            f"- each further session: {fmt(me['per_session'])}",
        ]
    errors = {k: x["error"] for k, x in f.items() if "error" in x}
    if errors:
        lines += ["", "## Errors", ""] + [f"- {k}: {e}" for k, e in errors.items()]
    return "\n".join(lines) + "\n"
