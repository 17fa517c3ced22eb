"""bench/report.py: each target compares the right figure with its limit, and a results file with
figures missing or failed still renders (the benchmark's timings themselves are not tested here)."""

from __future__ import annotations

from bench.report import TARGETS, markdown, targets

MACHINE = {
    "machine": {"cpu": "test CPU", "cores": 2, "nproc": 2, "memory_gb": 1.0, "os": "test",
                "load_average_at_start": [1.0], "load_average_at_end": [1.0], "note": "a test"},
    "versions": {"python": "3.11"},
    "command": "python -m bench", "mode": "full", "started": "2026-01-01T00:00:00Z", "total_s": 1.0,
}  # fmt: skip


def met(results: dict) -> dict[str, bool | None]:
    return {name: ok for name, _, ok in targets(results)}


def test_each_target_reads_its_figure_and_compares_with_its_limit():
    figures = {
        "map_page": {"ratio_first": 1.05},  # at most 1.05: met
        "scale": {"sizes": {
            "100000": {"build": {"median": 0.8}, "browser": {"page_to_drawn": {"median": 1.5},  # not < 1.5
                                                         "show_to_drawn": {"median": 0.9},
                                                         "moves": {"max_painted_ms": 99.9}}},
        }},
        "session": {"protocol": {"session": {"median": 0.03}}},
        "member_list": {"with_coordinates": {"missing": 0}, "without_coordinates": {"missing": 3}},
    }  # fmt: skip
    got = met({**MACHINE, "figures": figures})
    assert got["Map page: every marker visible, at most 1.05× the minimal st_folium app"] is True
    assert got["100,000 points: drawn in Chromium < 1.5 s from the page's start"] is False
    assert got["100,000 points: drawn in Chromium < 1.5 s from the map's show()"] is True
    assert got["100,000 points: every pan and zoom < 100 ms (slowest of 15, to the painted frame)"] is True
    assert got["100,000 points: built on the server < 3 s"] is True
    assert [ok for name, ok in got.items() if name.startswith("A new session")] == [True]
    lists = [ok for name, ok in got.items() if name.startswith("Member list of 2,500 rows")]
    assert lists == [True, False]  # three rows of the list without coordinates not on the map
    assert got["Warm geocoding run of the whole dataset < 1 s"] is None  # not measured
    assert len(got) == len(TARGETS)


def test_a_results_file_with_missing_and_failed_figures_still_renders():
    text = markdown({**MACHINE, "figures": {"map_page": {"error": "TimeoutError: never showed 313 markers"}}})
    assert "## Targets" in text
    assert "not measured" in text
    assert "- map_page: TimeoutError: never showed 313 markers" in text
    assert "nproc 2" in text


def test_load_results_carry_the_parts_not_run_with_the_run_they_came_from():
    """``python -m bench.load --only room --keep``: the soak and site figures stay, dated by their run."""
    from bench.load import _carry, _earlier

    machine = {"cpu": "x", "cores": 2, "memory_gb": 1, "os": "linux", "note": "n"}
    earlier = {
        "command": "python -m bench.load", "started": "2026-01-01T00:00:00Z", "mode": "full",
        "machine": machine | {"load_average_at_start": [9.0, 9.0, 9.0]}, "versions": {},
        "parameters": {"soak": {"minutes": 15}},
        "soak": {"sessions": 1682, "seconds": 904, "clients": 4, "views": 12, "closed_early": 0,
                 "warmup_s": 180, "fit_from": 1, "fit_to": 2, "replicas": {}, "slope_total": 1.3,
                 "errors": 0, "failures": []},
    }  # fmt: skip
    now = {
        "command": "python -m bench.load --only room", "started": "2026-02-02T00:00:00Z", "mode": "full",
        "machine": machine | {"load_average_at_start": [1.0, 1.0, 1.0]}, "versions": {},
        "parameters": {"room": {}}, "failures": [],
    }  # fmt: skip
    _carry(now, earlier, ["room", "soak", "site"])
    assert now["soak"] is earlier["soak"]
    assert "site" not in now  # the earlier run had none either
    assert now["carried"] == {"soak": {"command": "python -m bench.load", "started": "2026-01-01T00:00:00Z",
                                       "load_average_at_start": [9.0, 9.0, 9.0]}}  # fmt: skip
    text = "\n".join(_earlier(now, "soak"))  # the line under the soak's section in LOADTEST.md
    assert not _earlier(now, "room")  # measured in this run: no line
    assert "Measured in an earlier run: `python -m bench.load`, started 2026-01-01T00:00:00Z" in text
