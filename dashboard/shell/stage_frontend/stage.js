/* stage.js: the presenter's keys and the size of the screen, for the Streamlit app.
 *
 * Runs in a hidden custom-component frame (dashboard/shell/stage.py declares it with this folder),
 * served by the app itself, so the app's page is the same origin: the script listens for keys on
 * that page and on the same-origin frames in it (the map), and measures where the page's main
 * visual (.st-key-main-visual) starts and how wide it is. It tells the app through Streamlit's
 * component protocol (a "streamlit:setComponentValue" message); the app does the rest. Where a page
 * marks the part that fills the rest of the screen (.st-key-fill, a table under a row of numbers),
 * the top measured is that part's.
 *
 * Keys (only while the app asks for them: presentation mode with scenes):
 *   Right, Down, Page Down   next scene        (a presenter's clicker sends Page Down or Right)
 *   Left, Up, Page Up        previous scene
 *   Home, End                first, last scene
 *   N                        presenter notes open / closed
 * A key typed into a field, a list or a slider is that control's, never a step. In a frame (the
 * map) only Page Up / Page Down step: the map keeps its arrows for panning.
 */
(function () {
  "use strict";

  const NEXT = {ArrowRight: 1, ArrowDown: 1, PageDown: 1};
  const PREV = {ArrowLeft: 1, ArrowUp: 1, PageUp: 1};
  const FRAME_KEYS = {PageDown: 1, PageUp: 1};
  // where keys belong to the control under focus
  const OWN_KEYS = "input, textarea, select, [contenteditable=''], [contenteditable='true'], " +
    "[role='slider'], [role='combobox'], [role='listbox'], [role='option'], [role='radio'], " +
    "[role='radiogroup'], [role='tab'], [role='menu'], [role='menuitem'], [role='grid'], " +
    "[role='spinbutton'], [role='textbox'], [data-testid='stDataFrame']";
  const VISUAL = ".st-key-main-visual";
  const FILL = ".st-key-fill"; // a part of the main visual that takes the rest of the screen (a table)

  let args = null;
  let pending = null; // the scene asked for and not yet shown (several quick presses add up)
  let count = 0;
  let lastSize = null;
  let timer = null;
  const watched = new WeakSet();

  let host;
  try { host = window.parent.document; } catch (e) { host = null; /* another origin: nothing to do */ }

  /* A frame Streamlit has removed keeps its listeners on the page until they notice. */
  function alive() {
    return !!(host && window.frameElement && window.frameElement.isConnected);
  }

  function post(type, extra) {
    const message = {isStreamlitMessage: true, type: type};
    Object.keys(extra || {}).forEach(function (k) { message[k] = extra[k]; });
    window.parent.postMessage(message, "*");
  }

  function send(value) {
    count += 1;
    value.event = Date.now().toString(36) + "-" + count; // new each time: the app acts once on each
    post("streamlit:setComponentValue", {value: value, dataType: "json"});
  }

  /* ------------------------------------------------------------------ size */
  function documentTop(el) {
    let top = 0;
    for (let e = el; e; e = e.offsetParent) { top += e.offsetTop; }
    return top;
  }

  function measure() {
    if (!host) { return null; }
    const win = window.parent;
    const visual = host.querySelector(VISUAL);
    const fill = host.querySelector(FILL) || visual; // what fills the rest of the screen
    const main = host.querySelector("[data-testid='stMainBlockContainer']");
    const box = visual || main;
    const width = box ? box.clientWidth : win.innerWidth;
    return {
      width: Math.round(width / 4) * 4,
      height: Math.round(win.innerHeight / 4) * 4,
      top: fill ? Math.round(documentTop(fill)) : null
    };
  }

  function differs(a, b) {
    if (!a || !b) { return true; }
    return Math.abs(a.width - b.width) > 6 || Math.abs(a.height - b.height) > 6 ||
      (a.top === null) !== (b.top === null) || Math.abs((a.top || 0) - (b.top || 0)) > 6;
  }

  /* Whether the app wants this size: args.measure is "all", "none", or the room (px) the page's
   * visual needs under its top (a map): only a screen with less is reported. Each report costs a
   * script run. */
  function wanted(size) {
    const need = args ? args.measure : "all";
    if (need === "none") { return false; }
    if (typeof need === "number") { return size.top !== null && size.height - size.top < need; }
    return true;
  }

  function report() {
    timer = null;
    const size = measure();
    if (!size || !size.width || !wanted(size)) { return; }
    const known = (args && args.known) || lastSize;
    if (differs(size, known) && differs(size, lastSize)) {
      lastSize = size;
      send({viewport: size});
    }
  }

  function soon() {
    if (!alive()) { return; }
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(report, 250);
  }

  /* ------------------------------------------------------------------ keys */
  function step(delta) {
    const total = args.total || 0;
    if (!total) { return; }
    const from = pending !== null ? pending : (args.index >= 0 ? args.index : -1);
    let to;
    if (delta === "first") { to = 0; } else if (delta === "last") { to = total - 1; } else { to = from + delta; }
    if (from < 0 && delta === -1) { to = 0; }
    to = Math.max(0, Math.min(total - 1, to));
    if (to === from) { return; }
    pending = to;
    send({go: to});
  }

  function onKey(e, inFrame) {
    if (!alive()) { return; }
    if (!args || !args.keys || e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) { return; }
    const k = e.key;
    if (inFrame && !FRAME_KEYS[k]) { return; }
    const target = e.target;
    if (target && target.closest && target.closest(OWN_KEYS)) { return; }
    if (k === "n" || k === "N") {
      e.preventDefault();
      send({notes: "toggle"}); // the app flips it: right even while its last answer is on the way
      return;
    }
    let delta = 0;
    if (NEXT[k]) { delta = 1; } else if (PREV[k]) { delta = -1; } else if (k === "Home") { delta = "first"; } else if (k === "End") { delta = "last"; }
    if (!delta) { return; }
    e.preventDefault();
    step(delta);
  }

  function watchFrames() {
    if (!host) { return; }
    host.querySelectorAll("iframe").forEach(function (frame) {
      let doc;
      try { doc = frame.contentDocument; } catch (e) { doc = null; /* another origin */ }
      if (!doc || doc === document || watched.has(doc)) { return; }
      watched.add(doc);
      doc.addEventListener("keydown", function (e) { onKey(e, true); });
    });
  }

  /* ------------------------------------------------------------------ protocol */
  window.addEventListener("message", function (e) {
    const data = e.data;
    if (!data || data.type !== "streamlit:render") { return; }
    args = data.args || {};
    pending = null;
    post("streamlit:setFrameHeight", {height: 0});
    soon();
    watchFrames();
  });

  if (host) {
    host.addEventListener("keydown", function (e) { onKey(e, false); });
    window.parent.addEventListener("resize", soon);
    new MutationObserver(function () { soon(); watchFrames(); })
      .observe(host.body, {childList: true, subtree: true});
  }
  post("streamlit:componentReady", {apiVersion: 1});
}());
