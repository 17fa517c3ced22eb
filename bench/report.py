"""The readable table of a results.json: machine, versions, every figure and the targets."""

from __future__ import annotations

from typing import Any

from bench._stats import fmt

PAN_LIMIT_MS = 1000  # "still pannable": every pan of the 100,000-point map completes within this


def _get(d: dict | None, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


# Issue 7's targets: (target, path to the median in results.json, limit, unit).
TARGETS: list[tuple[str, tuple[str, ...], float, str]] = [
    ("Map page: every marker visible within 1.2× of the minimal app", ("map_page", "ratio_first"), 1.2, "×"),
    ("Filter change: server rerun < 150 ms (map page)", ("filter", "server", "map", "median"), 150, " ms"),
    (
        "Filter change: browser shows the new view < 1 s",
        ("filter", "browser", "map_and_caption", "median"),
        1.0,
        " s",
    ),
    ("2,500 points: drawn < 2 s", ("scale", "sizes", "2500", "browser_draw", "median"), 2, " s"),
    ("100,000 points: built < 3 s", ("scale", "sizes", "100000", "atlas_build", "median"), 3, " s"),
    ("Warm geocoding run of the whole dataset < 1 s", ("geocoding", "warm_run", "median"), 1, " s"),
    ("Each further session < 30 MB", ("memory", "per_session", "median"), 30, " MB"),
    # issue 18: memory comes back after a large file was loaded and removed
    ("Server memory after a large file is removed ≤ 1.2× of before", ("large_file", "ratio_after"), 1.2, "×"),
]
SPEEDUP = ("2,500 points: built ≥ 25× faster than one object per marker", 25)


def targets(r: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each target of issue 7; met is None when not measured."""
    f = r.get("figures", {})
    out: list[tuple[str, str, bool | None]] = []
    for name, path, limit, unit in TARGETS:
        value = _get(f, *path)
        met = None if value is None else (value <= limit if unit == "×" else value < limit)
        out.append((name, "—" if value is None else f"{value}{unit}", met))
    speedup = _get(f, "scale", "sizes", "2500", "build_speedup")
    out.insert(3, (SPEEDUP[0], "—" if speedup is None else f"{speedup}×",
                   None if speedup is None else speedup >= SPEEDUP[1]))  # fmt: skip
    pan = _get(f, "scale", "sizes", "100000", "pan", "per_pan")
    out.insert(6, (
        f"100,000 points: still pannable (every pan done < {PAN_LIMIT_MS} ms)",
        "—" if not pan else f"pan {pan['median']} ms (max {pan['max']} ms)",
        None if not pan else pan["max"] < PAN_LIMIT_MS,
    ))  # fmt: skip
    return out


def _bytes(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def markdown(r: dict[str, Any]) -> str:
    m, v, f = r["machine"], r["versions"], r["figures"]
    lines = [
        "# Benchmark results",
        "",
        f"`{r['command']}` ({r['mode']} mode), started {r['started']}, took {r.get('total_s')} s.",
        "",
        f"**Machine:** {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}. "
        f"Load average {m['load_average_at_start']} at start, {m.get('load_average_at_end')} at end. "
        f"*{m['note']}: absolute times are noisy; the ratios compare runs interleaved in the same session.*",
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
        lines += [
            "",
            "## 1. Map page: opening to every marker visible (headless Chromium)",
            "",
            mp["about"],
            "",
            "| app | first time all markers shown | settled |",
            "|---|---|---|",
            f"| atlas /map | {fmt(mp['atlas_first'])} | {fmt(mp['atlas_settled'])} |",
            f"| minimal st_folium app | {fmt(mp['minimal_first'])} | {fmt(mp['minimal_settled'])} |",
            f"| ratio atlas / minimal | {mp['ratio_first']}× | {mp['ratio_settled']}× |",
        ]
        if "atlas_filters" in mp:
            lines += ["", f"Atlas: the sidebar's filters shown after {fmt(mp['atlas_filters'])}."]
    fl = f.get("filter", {})
    if fl and "error" not in fl:
        s = fl["server"]
        lines += [
            "",
            "## 2. Filter change",
            "",
            fl["about"],
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
            "## 3. Map size: build time, page weight, drawing (synthetic points)",
            "",
            sc["about"],
            "",
            "| points | layer | atlas build | one object per marker | speed-up | HTML atlas / per-object "
            "| browser: drawn | pan (100k) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for n, row in sc["sizes"].items():
            base = fmt(row["baseline_build"]) if row.get("baseline_build") else "not measured (cap 25,000)"
            speed = f"{row['build_speedup']}×" if row.get("build_speedup") else "—"
            weight = _bytes(row["atlas_html_bytes"]) + (
                f" / {_bytes(row['baseline_html_bytes'])}" if row.get("baseline_html_bytes") else ""
            )
            pan = row.get("pan")
            pan_text = (f"{pan['per_pan']['median']} ms per pan (max {pan['per_pan']['max']}), longest frame "
                        f"{pan['longest_frame']['median']} ms") if pan else ""  # fmt: skip
            drawn = fmt(row.get("browser_draw")) if row.get("browser_draw") else "not measured"
            lines.append(
                f"| {int(n):,} | {row['atlas_layer']} | {fmt(row['atlas_build'])} | {base} | {speed} "
                f"| {weight} | {drawn} | {pan_text} |"
            )
    ge = f.get("geocoding", {})
    if ge and "error" not in ge:
        lines += [
            "",
            "## 4. Geocoding",
            "",
            ge["about"],
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
            "## 5. Server memory",
            "",
            me["about"],
            "",
            f"- idle server (before any session): {fmt(me['idle'])}",
            f"- 1 session: {fmt(me['one_session'])}",
            f"- {me['sessions']} sessions: {fmt(me['twenty_sessions'])}",
            f"- each further session: {fmt(me['per_session'])}",
        ]
    lf = f.get("large_file", {})
    if lf and "error" not in lf:
        lines += [
            "",
            "## 6. Server memory after a large data file",
            "",
            lf["about"],
            "",
            f"- before: {lf['before_mb']} MB",
            f"- with the {lf['file_mb']} MB offices.csv: {lf['with_file_mb']} MB "
            f"(every page opened in {lf['pages_with_file_s']} s)",
            f"- after it was put back: {lf['after_mb']} MB ({lf['ratio_after']}× of before)",
        ]
    errors = {k: x["error"] for k, x in f.items() if "error" in x}
    if errors:
        lines += ["", "## Errors", ""] + [f"- {k}: {e}" for k, e in errors.items()]
    return "\n".join(lines) + "\n"
