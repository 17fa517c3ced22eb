"""Reading a page's layout as a person sees it: where text is, whether any covers other text, where
the main visual is, what axe-core finds. Helpers for the presentation and accessibility tests."""

from __future__ import annotations

import re
from pathlib import Path

from dashboard.core import paths
from tests.browser.pageutil import APP_IDLE, poll

AXE = paths.ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = paths.ROOT / "test-artifacts" / "screens"
# projectors in presentation mode, a laptop, a phone
SIZES = {"1280x720": (1280, 720), "1920x1080": (1920, 1080), "1440x900": (1440, 900), "390x844": (390, 844)}
PHONE = "390x844"
PROJECTOR = ("1280x720", "1920x1080")
VISUAL = ".st-key-main-visual"

# Every piece of text on the page, as the boxes it is drawn in (a line of HTML text each, or an SVG
# <text>), cut to what the scrolling or clipping boxes around it let show, in page pixels. Text inside
# the map's frame counts too (its controls: legend, buttons, attribution; not the markers' counts,
# which Leaflet's clustering spaces). Inputs' values and hidden text are left out.
TEXT_BOXES_JS = r"""() => {
  const out = [];
  const clipCache = new Map();
  const visibleOpts = {opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true};
  function clipOf(el, win) {
    if (!el || el === el.ownerDocument.documentElement) {
      return {x0: 0, y0: 0, x1: win.innerWidth, y1: win.innerHeight};
    }
    if (clipCache.has(el)) { return clipCache.get(el); }
    const parent = clipOf(el.parentElement, win);
    let box = parent;
    const cs = win.getComputedStyle(el);
    if (cs.overflowX !== "visible" || cs.overflowY !== "visible" || cs.clipPath !== "none") {
      const r = el.getBoundingClientRect();
      box = {x0: Math.max(parent.x0, r.left), y0: Math.max(parent.y0, r.top),
             x1: Math.min(parent.x1, r.right), y1: Math.min(parent.y1, r.bottom)};
    }
    clipCache.set(el, box);
    return box;
  }
  function add(rect, clip, dx, dy, id, text) {
    const x0 = Math.max(rect.left, clip.x0), y0 = Math.max(rect.top, clip.y0);
    const x1 = Math.min(rect.right, clip.x1), y1 = Math.min(rect.bottom, clip.y1);
    if (x1 - x0 < 2 || y1 - y0 < 2) { return; }
    out.push({id: id, text: text.slice(0, 50), x0: x0 + dx, y0: y0 + dy, x1: x1 + dx, y1: y1 + dy});
  }
  function collect(doc, dx, dy, prefix, skip) {
    const win = doc.defaultView;
    const walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
    let node, n = 0;
    while ((node = walker.nextNode())) {
      const text = node.textContent.trim();
      const el = node.parentElement;
      n += 1;
      if (!text || !el || el.closest("script, style, noscript, svg, " + skip)) { continue; }
      if (!el.checkVisibility(visibleOpts)) { continue; }
      const range = doc.createRange();
      range.selectNodeContents(node);
      for (const rect of range.getClientRects()) { add(rect, clipOf(el, win), dx, dy, prefix + n, text); }
    }
    doc.querySelectorAll("svg text").forEach(function (t, k) {
      const text = t.textContent.trim();
      if (!text || t.closest(skip) || !t.checkVisibility(visibleOpts)) { return; }
      add(t.getBoundingClientRect(), clipOf(t.parentElement, win), dx, dy, prefix + "svg" + k, text);
    });
  }
  collect(document, 0, 0, "p", ".st-key-atlas-stage, [data-testid='stDataFrame']");
  document.querySelectorAll("iframe").forEach(function (frame, k) {
    let doc = null;
    try { doc = frame.contentDocument; } catch (e) { return; }
    if (!doc || !doc.body || !frame.checkVisibility(visibleOpts)) { return; }
    const r = frame.getBoundingClientRect();
    const inMap = ".leaflet-marker-pane, .leaflet-popup-pane, .leaflet-tooltip-pane";
    collect(doc, r.left, r.top, "f" + k + "-", inMap);
  });
  return out;
}"""


def text_boxes(page) -> list[dict]:
    return page.evaluate(TEXT_BOXES_JS)


def overlapping_text(page, slack: float = 3.0) -> list[tuple[str, str]]:
    """Pairs of different pieces of text drawn over each other (by more than ``slack`` px each way)."""
    boxes = text_boxes(page)
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a["id"] == b["id"]:
                continue
            w = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            h = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            if w > slack and h > slack:
                out.append((a["text"], b["text"]))
    return out


def rect(page, selector: str) -> dict | None:
    js = "(s) => { const e = document.querySelector(s); return e && e.getBoundingClientRect().toJSON() }"
    return page.evaluate(js, selector)


def settle(page, timeout: float = 40.0) -> dict | None:
    """Until the app is idle and the main visual has kept its place and size for a second (the stage
    has measured the screen and the page has been drawn for it); the visual's box."""
    page.locator(APP_IDLE).wait_for(state="attached", timeout=timeout * 1000)
    last: dict = {"box": None, "same": 0}

    def read():
        page.locator(APP_IDLE).wait_for(state="attached", timeout=timeout * 1000)
        box = rect(page, VISUAL)
        key = None if box is None else tuple(round(box[k]) for k in ("x", "y", "width", "height"))
        last["same"] = last["same"] + 1 if key == last["box"] else 0
        last["box"] = key
        return last["same"]

    poll(read, lambda same: same >= 3, timeout=timeout, every=0.4)
    return rect(page, VISUAL)


def screenshot(page, size: str, name: str) -> Path:
    """A screenshot kept as a test artifact (test-artifacts/screens/<size>/<name>.png)."""
    folder = SCREENS / size
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    page.screenshot(path=str(path))
    return path


def axe_violations(page, impacts: tuple[str, ...] = ("critical", "serious")) -> list[str]:
    """axe-core (node_modules/axe-core, loaded from the local file into the page and each of its
    frames) on the whole page: the violations of these impacts, one line each."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `npm ci` (make test does)")
    code = AXE.read_text(encoding="utf-8")
    for frame in page.frames:
        if frame.url.startswith(("http", "about:srcdoc")) or frame == page.main_frame:
            try:
                frame.add_script_tag(content=code)
            except Exception:  # a frame that went away meanwhile
                continue
    found = page.evaluate(
        """async () => {
          const r = await axe.run(document, {resultTypes: ['violations']});
          return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 4).map(n => n.target.join(' '))}));
        }"""
    )
    return [f"{v['impact']} {v['id']}: {v['help']} at {v['nodes']}" for v in found if v["impact"] in impacts]


# Once any fading in is done: the element the keyboard's focus is on (in a same-origin frame, the
# frame's), its name as a person hears it (aria-label, else its label's or its own text), and
# whether its focus shows: the element, or the first box around it that is drawn (a radio's label,
# a slider's thumb, whose inputs are drawn hidden), has an outline of 2 px or more.
FOCUSED_JS = r"""async () => {
  // what the focus brought in (a toolbar, a heading's link) has finished fading in
  const fading = document.getAnimations().map(a => a.finished.catch(() => null));
  await Promise.race([Promise.all(fading), new Promise(r => setTimeout(r, 1000))]);
  let el = document.activeElement;
  let inFrame = false;
  while (el && el.tagName === "IFRAME") {
    let doc = null;
    try { doc = el.contentDocument; } catch (e) { break; }
    if (!doc || !doc.activeElement || doc.activeElement === doc.body) { break; }
    el = doc.activeElement;
    inFrame = true;
  }
  if (!el || el === document.body) { return null; }
  const win = el.ownerDocument.defaultView;
  const label = el.closest("label");
  const name = (el.getAttribute("aria-label") || (label && label.innerText) || el.innerText ||
                el.getAttribute("title") || "").replace(/\s+/g, " ").trim();
  function hidden(e) {  // drawn hidden: not visible, or in a box clipped to nothing (a radio's input)
    const r = e.getBoundingClientRect();
    if (r.width < 4 || r.height < 4) { return true; }
    if (!e.checkVisibility({opacityProperty: true, visibilityProperty: true})) { return true; }
    for (let a = e; a; a = a.parentElement) {
      const c = win.getComputedStyle(a);
      const b = a.getBoundingClientRect();
      if ((c.clipPath !== "none" || c.clip !== "auto") && (b.width < 4 || b.height < 4)) { return true; }
    }
    return false;
  }
  function ring(e) {
    const cs = win.getComputedStyle(e);
    const transparent = /rgba\([^)]*,\s*0\)$|transparent/.test(cs.outlineColor);
    return cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2 && !transparent;
  }
  // what the eye sees of it: itself, or the first box around it that is drawn (a slider's thumb)
  let seen = el;
  while (seen && hidden(seen)) { seen = seen.parentElement; }
  return {tag: el.tagName, name: name.slice(0, 120), inFrame: inFrame,
          shows: !!seen && ring(seen) || !!label && ring(label)};
}"""


def tab_stops(page, limit: int = 120) -> list[dict]:
    """Press Tab from the top of the page until the focus comes back round (or ``limit`` presses):
    each stop as FOCUSED_JS reads it."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    stops: list[dict] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED_JS)
        if stop is None:
            continue
        if stops and stop == stops[0] and len(stops) > 3:
            break
        stops.append(stop)
    return stops
