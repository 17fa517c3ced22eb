"""Serving many, short versions (``make test``): the briefing room, a replica killed in it, and sessions
opening and closing, through ``make serve``'s nginx and replicas on loopback (bench/room.py, bench/soak.py).

``make loadtest`` (``python -m bench.load``) runs the full versions: 50 attendees within 10 s beside 5
Chromium pages, the kill watched for 75 s, 15 minutes of sessions; and records the figures. Here the
same code runs smaller and every check must hold: every attendee (protocol-level clients doing what a
recorded Chromium visit did, and real Chromium pages) gets every marker of the shared link, nothing
fails; after the kill the live replica's sessions carry on, the dead one's reconnect to the live one
with every marker, new sessions go to the live one, and a Chromium page on the dead replica shows
Streamlit's reconnection (never a blank page), draws every marker again and still opens another page.

Without nginx or Chromium the tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench._serve import NGINX
from bench._server import CHROMIUM
from bench.load import QUICK
from bench.room import run_room
from bench.soak import run_soak

pytestmark = [pytest.mark.load, pytest.mark.serve]


def need(binary: str, how: str) -> None:
    if shutil.which(binary) is None:
        message = f"{binary} is missing: `{how}` installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.browser
def test_the_briefing_room_and_a_replica_killed_in_it(tmp_path):
    need(NGINX, "make nginx")
    need(CHROMIUM, "make browser")
    room = QUICK["room"]
    # its own thread: Playwright's sync API may already run in this one (the browser tests' Chromium)
    with ThreadPoolExecutor(max_workers=1) as pool:
        out = pool.submit(run_room, room, tmp_path).result()
    r, kill = out["room"], out["kill"]
    print(f"\nroom: ready {r['ready']}, Chromium {r['chromium_drawn']}, memory {r['memory_mb']}")
    print(f"kill: { ({k: v for k, v in kill.items() if k not in ('chromium', 'memory_mb')}) }")
    assert out["failures"] == [], "\n".join(out["failures"])
    # the room: every attendee, protocol-level or Chromium, got every marker
    assert out["expected_markers"] > 0
    assert r["errors"] == 0
    assert r["every_marker"] == room.attendees + room.browsers
    assert r["ready"]["n"] == room.attendees
    assert set(r["per_replica"]) == {"0", "1"}  # both replicas took sessions
    # the kill
    assert kill["carried_on"] == kill["room_sessions_on_live"] > 0
    assert kill["still_carrying_on"] == kill["carried_on"]
    assert kill["reconnected"] >= kill["room_sessions_on_killed"] > 0
    assert kill["second_wave_after_kill_on_live"] == kill["second_wave_after_kill"]
    on_killed = [c for c in kill["chromium"] if c["on_killed_replica"]]
    on_live = [c for c in kill["chromium"] if not c["on_killed_replica"]]
    assert on_killed
    assert on_live
    for c in on_killed:  # Streamlit's reconnection, then every marker again, never blank
        assert any(state != "CONNECTED" for state in c["connection_states"]), c
        assert c["connection_states"][-1] == "CONNECTED"
        assert c["reconnected_and_redrawn_s"] is not None
    for c in kill["chromium"]:
        assert c["blank_samples"] == 0
        assert c["markers_at_end"] == out["expected_markers"]
        assert c["next_page_opened"]
    for c in on_live:
        assert c["connection_states"] == ["CONNECTED"]


def test_sessions_opening_and_closing(tmp_path):
    need(NGINX, "make nginx")
    soak = QUICK["soak"]
    out = run_soak(soak, tmp_path)
    print(f"\nsoak: {out['sessions']} sessions in {out['duration_s']} s, {out['errors']} errors, "
          f"memory {[(k, v['start_mb'], v['end_mb']) for k, v in out['replicas'].items()]}")  # fmt: skip
    assert out["failures"] == [], "\n".join(out["failures"])
    assert out["errors"] == 0
    assert out["sessions"] >= 10
    assert out["abandoned"] >= 1  # some were closed before their run finished, and nothing broke
    assert out["duration_s"] < soak.duration + 60  # bounded
