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
