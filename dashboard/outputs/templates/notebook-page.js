/* The exported explainer notebook (notebook.html.j2): the language switch (#ja, #en, ...; the sections' ids are lang-ja, lang-en, so the address never scrolls the page) and the charts.
   Each chart's figure is JSON in a <script type="application/json"> inside its div; it is drawn with
   the inlined plotly.js the first time its language is shown (a hidden chart would get no width), and
   every chart of a language, the explorer's too, is redrawn to its size when the language is shown. The maps
   (iframes whose page waits in data-atlas-srcdoc) are loaded when their language is first shown: a map
   laid out in a hidden section would get no size and draw no point. */
(function () {
  "use strict";
  const sections = Array.prototype.slice.call(document.querySelectorAll("main.atlas-notebook"));
  const links = Array.prototype.slice.call(document.querySelectorAll("nav.atlas-languages a"));
  const CONFIG = {displaylogo: false, responsive: false}; // drawn at the width their labels were laid out for

  function loadMaps(section) {
    section.querySelectorAll("iframe[data-atlas-srcdoc]").forEach(function (frame) {
      frame.srcdoc = frame.getAttribute("data-atlas-srcdoc");
      frame.removeAttribute("data-atlas-srcdoc");
    });
  }

  function drawCharts(section) {
    section.querySelectorAll("div.atlas-chart").forEach(function (div) {
      if (div.getAttribute("data-drawn")) {
        return;
      }
      const source = div.querySelector("script[type='application/json']");
      const figure = JSON.parse(source.textContent);
      div.setAttribute("data-drawn", "1");
      window.Plotly.newPlot(div, figure.data || [], figure.layout || {}, Object.assign({}, CONFIG, figure.config || {}));
    });
    section.querySelectorAll(".js-plotly-plot").forEach(function (plot) {
      window.Plotly.Plots.resize(plot);
    });
  }

  function show() {
    const wanted = decodeURIComponent((window.location.hash || "").slice(1));
    const current = sections.find(function (s) { return s.lang === wanted; }) || sections[0];
    if (!current) {
      return;
    }
    sections.forEach(function (s) { s.hidden = s !== current; });
    links.forEach(function (a) {
      a.setAttribute("aria-current", a.getAttribute("data-lang") === current.lang ? "true" : "false");
    });
    document.documentElement.lang = current.lang;
    document.title = current.getAttribute("data-title");
    loadMaps(current);
    if (window.Plotly) {
      drawCharts(current);
    }
  }

  window.addEventListener("hashchange", show);
  show();
}());
