// Tells Streamlit's frontend where the app's root is before it starts, so a page's own address
// (/map, /timeline, ...) opens without a detour. Without it the frontend first asks
// <page>/_stcore/health, gets a 404, waits 100 ms and only then tries the root: about 0.1 s on every
// shared link. Inlined by dashboard/shell/streamlit_private.py into the page's HTML, before Streamlit's
// own script, with the app's page names in data-pages. An address whose last part is not a page
// (the root, an unknown page) is left as it was: Streamlit then probes as it always does.
(function () {
  "use strict";
  var script = document.currentScript;
  var pages;
  try {
    pages = JSON.parse((script && script.getAttribute("data-pages")) || "[]");
  } catch (e) {
    return;
  }
  var own = window.__streamlit || {};
  if (own.BACKEND_BASE_URL) {
    return; // a host that embeds the atlas said where its backend is: that stands
  }
  var path = window.location.pathname.replace(/\/+$/, "");
  var last = path.slice(path.lastIndexOf("/") + 1);
  if (!last || pages.indexOf(last) < 0) {
    return;
  }
  var root = path.slice(0, path.length - last.length - 1);
  window.__streamlit = Object.assign({}, own, {BACKEND_BASE_URL: window.location.origin + root + "/"});
})();
