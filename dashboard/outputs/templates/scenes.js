/* scenes.js: steps the scenes pack (scenes.html.j2) with the keys, as presentation mode in the app does.
 *   Right, Down, Page Down, Space   next scene (a presenter's clicker sends Page Down or Right)
 *   Left, Up, Page Up               previous scene
 *   Home, End                       first, last scene
 *   N                               presenter notes on / off
 * The address's #scene-<id> follows the scene shown, so a reload (or a link with it) opens that scene.
 * Each chart is drawn at the size it was laid out for and scaled to fit its scene.
 */
(function () {
  "use strict";

  const deck = document.getElementById("deck");
  const scenes = Array.prototype.slice.call(document.querySelectorAll(".scene"));
  const prev = document.getElementById("scene-prev");
  const next = document.getElementById("scene-next");
  const notes = document.getElementById("scene-notes");
  const counter = document.getElementById("scene-counter");
  const chartW = Number(deck.getAttribute("data-chart-width")) || 1280;
  const chartH = Number(deck.getAttribute("data-chart-height")) || 600;
  let current = 0;

  function fit() {
    document.querySelectorAll(".chart-box").forEach(function (box) {
      const visual = box.parentElement;
      const scale = Math.min(visual.clientWidth / chartW, visual.clientHeight / chartH);
      box.style.width = chartW + "px";
      box.style.height = chartH + "px";
      box.style.transform = "scale(" + scale + ")";
      box.style.left = Math.max(0, (visual.clientWidth - chartW * scale) / 2) + "px";
    });
  }

  function show(i, focus) {
    current = Math.max(0, Math.min(scenes.length - 1, i));
    scenes.forEach(function (s, k) {
      const on = k === current;
      s.classList.toggle("current", on);
      s.setAttribute("aria-hidden", on ? "false" : "true");
      if ("inert" in s) { s.inert = !on; }
    });
    counter.textContent = (current + 1) + " / " + scenes.length;
    prev.disabled = current === 0;
    next.disabled = current === scenes.length - 1;
    const id = scenes[current].id;
    if (window.location.hash !== "#" + id) {
      try { window.history.replaceState(null, "", "#" + id); } catch (e) { /* file:// in some browsers */ }
    }
    if (focus) { scenes[current].querySelector("h1").focus({preventScroll: true}); }
  }

  function toggleNotes() {
    const open = !document.body.classList.contains("notes-open");
    document.body.classList.toggle("notes-open", open);
    notes.setAttribute("aria-pressed", open ? "true" : "false");
  }

  function typing(target) {
    return !!(target && target.closest && target.closest("input, textarea, select, [contenteditable='true']"));
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) { return; }
    const k = e.key;
    const onButton = e.target && e.target.tagName === "BUTTON";
    if (k === "ArrowRight" || k === "ArrowDown" || k === "PageDown" || (k === " " && !onButton)) {
      show(current + 1);
    } else if (k === "ArrowLeft" || k === "ArrowUp" || k === "PageUp") {
      show(current - 1);
    } else if (k === "Home") {
      show(0);
    } else if (k === "End") {
      show(scenes.length - 1);
    } else if (k === "n" || k === "N") {
      toggleNotes();
    } else {
      return;
    }
    e.preventDefault();
  });
  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  notes.addEventListener("click", toggleNotes);
  window.addEventListener("resize", fit);
  scenes.forEach(function (s) { s.querySelector("h1").setAttribute("tabindex", "-1"); });

  const start = scenes.findIndex(function (s) { return "#" + s.id === window.location.hash; });
  show(start >= 0 ? start : 0);
  fit();
}());
