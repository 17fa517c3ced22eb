/* atlas-map.js: the browser side of the Climate Networks Atlas map (see CONTRACT.md).
 *
 * One IIFE that defines window.atlasMap = {init, show, openPoint, announce, state}.
 * Plain ES2017, no build step, no network (except config.outlineUrl when no outline is inlined).
 * Needs Leaflet 1.9 (global L) and supercluster (global Supercluster, vendor/supercluster.min.js).
 *
 * Python passes data, never code. Every value from the data is text: it is escaped (esc) before it
 * goes into any HTML, and a website becomes a link only if it is a plain http(s) address.
 */
(function () {
  "use strict";

  /* supercluster's last clustered zoom; above it the zoom-13 clusters stay, and a click lists their
     places. 45 px at zoom 13 is under a kilometre: places that close are one city's offices, listed
     rather than drawn apart. Each clustered zoom costs the index a pass over the points: 13 instead of
     16 takes 100,000 points from about 0.8 s to 0.3 s (bench/RESULTS.md, figure 3). */
  const SC_MAX_ZOOM = 13;
  const RADIUS = 45; // cluster radius in screen pixels (Leaflet's 256 px tiles: extent 256)
  const FIT = {padding: [30, 30], maxZoom: 8, animate: false};
  const PAD = 48; // px drawn beyond the view, so that an icon half inside it is drawn
  const LIST_MAX = 300; // rows of a cluster list popup (the rest is counted)
  const MUTED = "#bbbbbb";
  const RING = "#222222";
  const FALLBACK = "#777777";
  const BACKGROUND = "#f4f8fb";
  const HEX = /^#[0-9a-f]{6}$/i;
  const URL_OK = /^https?:\/\/[^\s<>"'`\\]+$/i;
  const ESC = {
    "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;",
    "`": "&#96;", "$": "&#36;", "\\": "&#92;"
  };
  const ESC_RE = /[&<>"'`$\\]/g;
  const FS_ICON = "<svg width=\"16\" height=\"16\" viewBox=\"0 0 16 16\" aria-hidden=\"true\" " +
    "focusable=\"false\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\">" +
    "<path d=\"M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5\"/></svg>";

  /* ------------------------------------------------------------------ text helpers */
  function esc(value) {
    if (value === null || value === undefined) { return ""; }
    return String(value).replace(ESC_RE, function (c) { return ESC[c]; });
  }

  function present(value) {
    if (value === null || value === undefined) { return false; }
    if (Array.isArray(value)) { return value.length > 0; }
    if (typeof value === "number") { return isFinite(value); }
    return String(value).trim() !== "";
  }

  function num(value) {
    return value === null || value === undefined || value === "" ? NaN : +value;
  }

  function safeUrl(value) {
    return typeof value === "string" && URL_OK.test(value) ? value : null;
  }

  function hex(value, fallback) {
    return typeof value === "string" && HEX.test(value) ? value : fallback;
  }

  /* Black or white text on a background colour (WCAG relative luminance). */
  function inkFor(colour) {
    const lin = function (i) {
      const c = parseInt(colour.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    const lum = 0.2126 * lin(1) + 0.7152 * lin(3) + 0.0722 * lin(5);
    return lum > 0.179 ? "#000000" : "#FFFFFF";
  }

  /* A label with "{n}" in it, escaped, with n put in. */
  function withCount(label, n) {
    return esc(label || "{n}").replace("{n}", String(n));
  }

  /* Columns whose values repeat come as {dict: [distinct values], codes: [one per point]} (a small
     payload at 100,000 points): decoded here into one value per point. */
  function decodeColumns(columns) {
    const out = {};
    Object.keys(columns).forEach(function (name) {
      const col = columns[name];
      if (col && !Array.isArray(col) && Array.isArray(col.codes)) {
        const dict = Array.isArray(col.dict) ? col.dict : [];
        const codes = col.codes;
        const values = new Array(codes.length);
        for (let i = 0; i < codes.length; i++) { values[i] = dict[codes[i]]; }
        out[name] = values;
      } else {
        out[name] = col;
      }
    });
    return out;
  }

  function dates(since, until) {
    const a = present(since) ? esc(since) : "";
    const b = present(until) ? esc(until) : "";
    if (a && b) { return a + " \u2013 " + b; }
    if (a) { return a + " \u2013"; }
    if (b) { return "\u2013 " + b; }
    return "";
  }

  /* ------------------------------------------------------------------ state */
  const S = {
    map: null,
    basemap: null, // the online tile layer once added (addBasemapLater)
    config: {},
    labels: {},
    renderer: null, // SVG renderer of the lone points (overlay pane)
    clusterGroup: null,
    pointGroup: null,
    legend: null,
    token: undefined,
    data: null,
    cols: {},
    n: 0,
    orgs: [], // {short, label, colour, ink} with checked colours
    firstOrg: null, // Int16Array: marker colour org of each point (-1: none)
    multi: null, // Uint8Array: 2+ organisations
    former: null, // Uint8Array: former office
    features: null, // one GeoJSON feature per point (properties: the point's index)
    visible: null, // Uint8Array: in the index now
    shown: 0,
    index: null,
    orgOn: null, // Uint8Array per organisation
    unchecked: new Set(), // organisation ids unchecked in the legend (kept across selections)
    formerOn: true,
    highlightOn: false,
    drawn: new Map(), // key -> layer
    drawnZoom: null,
    idIndex: null,
    popupPoint: -1,
    clicks: 0,
    announced: false,
    painted: false,
    quiet: false, // true while show() moves the view itself
    legendUser: null, // the user's own collapse choice (null: follow the width)
    lastDrawMs: 0,
    lastIndexMs: 0,
    timing: null // ms of show()'s steps: prepare, index, legend, view, draw
  };

  function post(value) {
    try {
      window.parent.postMessage({
        isStreamlitMessage: true, type: "streamlit:setComponentValue", dataType: "json", value: value
      }, "*");
    } catch (e) { /* no parent to tell */ }
  }

  /* ------------------------------------------------------------------ init */
  function init(map, config) {
    if (S.map) { throw new Error("atlasMap.init: already initialised"); }
    if (typeof L === "undefined" || typeof Supercluster === "undefined") {
      throw new Error("atlasMap.init: Leaflet (L) and supercluster (Supercluster) must be loaded first");
    }
    S.map = map;
    S.config = config || {};
    S.labels = S.config.labels || {};
    S.formerOn = S.config.former !== false;
    S.highlightOn = S.config.highlight === true;
    const box = map.getContainer();
    box.classList.add("atlas-map");
    if (S.config.large) { box.classList.add("atlas-large"); } // a projector: controls large enough to hit
    box.style.background = BACKGROUND;
    addOutline(map);
    addFullscreen(map);
    S.renderer = L.svg({padding: 0.1});
    S.clusterGroup = L.featureGroup().addTo(map);
    S.pointGroup = L.featureGroup().addTo(map);
    S.clusterGroup.on("click", function (e) { clusterClick(e.layer); });
    S.clusterGroup.on("keydown", function (e) {
      const k = e.originalEvent && e.originalEvent.key;
      if (k === "Enter" || k === " ") {
        L.DomEvent.preventDefault(e.originalEvent);
        clusterClick(e.layer);
      }
    });
    S.pointGroup.on("click", function (e) {
      openPointPopup(e.layer._atlasI, e.layer.getLatLng(), {report: true});
    });
    S.pointGroup.bindTooltip(tooltipHtml, {sticky: true, className: "atlas-tooltip"});
    map.on("moveend", onMoveEnd);
    map.on("resize", autoCollapse);
    return window.atlasMap;
  }

  function addOutline(map) {
    const pane = map.getPane("atlas-land") || map.createPane("atlas-land");
    pane.style.zIndex = 150;
    pane.style.pointerEvents = "none";
    const layer = L.geoJSON(null, {
      pane: "atlas-land",
      renderer: L.svg({pane: "atlas-land"}),
      interactive: false,
      attribution: esc(S.config.outlineAttribution || "Natural Earth"),
      style: {color: "#a0a0a0", weight: 0.7, fillColor: "#e4e4e4", fillOpacity: 1}
    }).addTo(map);
    if (S.config.outline) {
      /* After the first frames with the points: a page with everything inline (the download, the
         briefing pack) runs init and show in one script, and drawing ~250 countries first held the
         markers back by about 0.1 s. In the app the outline is fetched and follows the points anyway. */
      const outline = S.config.outline;
      afterFirstFrames(function () {
        try { layer.addData(outline); } catch (e) { /* a broken outline: no outline */ }
      });
    } else if (S.config.outlineUrl && typeof fetch === "function") {
      fetch(S.config.outlineUrl)
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) { if (d) { layer.addData(d); } })
        .catch(function () { /* offline: no outline */ });
    }
  }

  /* fn once, after the next two painted frames (a timer too: a hidden page paints no frame). */
  function afterFirstFrames(fn) {
    let done = false;
    const once = function () {
      if (done) { return; }
      done = true;
      fn();
    };
    requestAnimationFrame(function () { requestAnimationFrame(function () { setTimeout(once, 0); }); });
    setTimeout(once, 1000);
  }

  /* The online basemap (config.basemap: url, attribution, subdomains, maxZoom), added once the first
     points are painted: made with the map, its tiles were laid out by the first setView and held the
     markers back (about 15 ms on the benchmark machine, bench figure 1). Offline its tiles fail quietly
     and the outline shows; online they come from the network after the points anyway. */
  function addBasemapLater() {
    const b = S.config.basemap;
    if (!b || !b.url || S.basemap) { return; }
    S.basemap = true;
    afterFirstFrames(function () {
      S.basemap = L.tileLayer(b.url, {
        attribution: b.attribution || "",  // the atlas's own constant (links to the tiles' terms), not data
        subdomains: b.subdomains || "abc",
        maxZoom: b.maxZoom || 18
      }).addTo(S.map);
    });
  }

  function addFullscreen(map) {
    const title = S.labels.fullscreen || "Full screen";
    const exitTitle = S.labels.exit_fullscreen || title;
    const d = document;
    let button = null;
    /* the frame's document (the map's container) or, after the fallback, the parent's (this frame) */
    const parentDoc = function () {
      try { return window.frameElement ? window.parent.document : null; } catch (e) { return null; }
    };
    const fullIn = function (doc) { return doc ? doc.fullscreenElement || doc.webkitFullscreenElement : null; };
    const isFull = function () {
      const pd = parentDoc();
      return !!(fullIn(d) || (pd && fullIn(pd) === window.frameElement));
    };
    const enter = function () {
      const el = map.getContainer();
      const req = el.requestFullscreen || el.webkitRequestFullscreen;
      const fallback = function () {
        try {
          const fr = window.frameElement;
          if (fr && fr.requestFullscreen) { fr.requestFullscreen(); }
        } catch (e) { /* not allowed */ }
      };
      if (!req) { fallback(); return; }
      try {
        const p = req.call(el);
        if (p && p.catch) { p.catch(fallback); }
      } catch (e) { fallback(); }
    };
    const toggle = function () {
      if (!isFull()) { enter(); return; }
      const doc = fullIn(d) ? d : parentDoc();
      try { (doc.exitFullscreen || doc.webkitExitFullscreen).call(doc); } catch (e) { /* already left */ }
    };
    const Control = L.Control.extend({
      options: {position: "topleft"},
      onAdd: function () {
        const div = L.DomUtil.create("div", "leaflet-bar leaflet-control atlas-fullscreen");
        button = L.DomUtil.create("button", "atlas-fullscreen-button", div);
        button.type = "button";
        button.title = title;
        button.setAttribute("aria-label", title);
        button.setAttribute("aria-pressed", "false");
        button.innerHTML = FS_ICON;
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.on(button, "click", function (e) { L.DomEvent.preventDefault(e); toggle(); });
        return div;
      }
    });
    new Control().addTo(map);
    const changed = function () {
      if (button) {
        const full = isFull();
        button.title = full ? exitTitle : title;
        button.setAttribute("aria-label", button.title);
        button.setAttribute("aria-pressed", full ? "true" : "false");
      }
      setTimeout(function () { map.invalidateSize(); }, 100);
    };
    d.addEventListener("fullscreenchange", changed);
    d.addEventListener("webkitfullscreenchange", changed);
    const pd = parentDoc();
    if (pd) { pd.addEventListener("fullscreenchange", changed); }
  }

  /* ------------------------------------------------------------------ show */
  function show(token, data) {
    if (!S.map) { throw new Error("atlasMap.show: call atlasMap.init(map, config) first"); }
    if (token === S.token) { return; }
    S.token = token;
    clearDrawn();
    S.map.closePopup();
    S.popupPoint = -1;
    S.idIndex = null;
    const t0 = performance.now();
    prepare(data || {});
    const t1 = performance.now();
    buildIndex();
    const t2 = performance.now();
    legendUpdate();
    const t3 = performance.now();
    S.quiet = true;
    try {
      if (!S.map._loaded) { S.map.setView([20, 10], 2, {animate: false}); } // L.map made without a view
      if (data && data.fit) {
        S.map.fitBounds(data.fit, FIT);
      } else if (data && data.center) {
        S.map.setView(data.center, typeof data.zoom === "number" ? data.zoom : S.map.getZoom(), {animate: false});
      }
    } finally {
      S.quiet = false;
    }
    const t4 = performance.now();
    redraw();
    S.timing = {prepare: t1 - t0, index: t2 - t1, legend: t3 - t2, view: t4 - t3, draw: performance.now() - t4};
    if (!S.painted) {
      S.painted = true;
      announce();
      addBasemapLater();
    }
  }

  function prepare(data) {
    const cols = decodeColumns(data.columns || {});
    const lat = cols.lat || [];
    const lon = cols.lon || [];
    const orgsCol = cols.orgs || [];
    const types = cols.type || [];
    const n = Math.min(lat.length, lon.length);
    S.data = data;
    S.cols = cols;
    S.n = n;
    S.orgs = (data.orgs || []).map(function (o) {
      const colour = hex(o && o.colour, FALLBACK);
      return {
        id: o && o.id !== undefined && o.id !== null ? String(o.id) : "",
        short: o && present(o.short) ? String(o.short) : (o && o.id) || "?",
        label: o && present(o.label) ? String(o.label) : (o && o.short) || "",
        colour: colour,
        ink: hex(o && o.ink, inkFor(colour))
      };
    });
    const K = S.orgs.length;
    S.orgOn = new Uint8Array(K);
    for (let k = 0; k < K; k++) { S.orgOn[k] = S.unchecked.has(S.orgs[k].id) ? 0 : 1; }
    const firstOrg = S.firstOrg = new Int16Array(n);
    const multi = S.multi = new Uint8Array(n);
    const former = S.former = new Uint8Array(n);
    const counts = S.orgCounts = new Int32Array(K);
    const features = S.features = new Array(n);
    let nFormer = 0;
    let nMulti = 0;
    for (let i = 0; i < n; i++) {
      const os = orgsCol[i];
      let first = -1;
      if (os && os.length) {
        first = os[0] >= 0 && os[0] < K ? os[0] : -1;
        for (let j = 0; j < os.length; j++) {
          const k = os[j];
          if (k >= 0 && k < K) { counts[k]++; }
        }
        if (os.length > 1) { multi[i] = 1; nMulti++; }
      }
      firstOrg[i] = first;
      if (types[i] === "former-office") { former[i] = 1; nFormer++; }
      features[i] = {type: "Feature", properties: i, geometry: {type: "Point", coordinates: [num(lon[i]), num(lat[i])]}};
    }
    S.nFormer = nFormer;
    S.nMulti = nMulti;
    S.popupRows = Array.isArray(data.popup) ? data.popup : [];
    S.tooltipFields = data.tooltip && Array.isArray(data.tooltip.fields) ? data.tooltip.fields : ["name", "name2"];
  }

  /* Is point i shown with the legend's current choices? */
  function isVisible(i) {
    if (S.former[i] && !S.formerOn) { return false; }
    const os = S.cols.orgs ? S.cols.orgs[i] : null;
    if (!os || !os.length) { return true; } // no organisation: nothing can hide it
    for (let j = 0; j < os.length; j++) {
      if (S.orgOn[os[j]]) { return true; }
    }
    return false;
  }

  /* Per-organisation counts of a cluster, by each point's first organisation (the colour it is drawn
     in), with supercluster's map/reduce. supercluster starts a new cluster from a shallow copy of a
     child cluster's properties, so the counts are copied before the first change (w: the owner).
     Module-level functions (same objects for every index: their optimised code is kept). */
  let scK = 0;
  let scFirst = null;
  function scMap(i) {
    return {o: scFirst[i], c: null, w: null};
  }
  function scReduce(acc, p) {
    const K = scK;
    let c = acc.c;
    if (acc.w !== acc) {
      const own = new Int32Array(K);
      if (c) { own.set(c); } else if (acc.o >= 0) { own[acc.o] = 1; }
      acc.c = c = own;
      acc.w = acc;
    }
    const q = p.c;
    if (q) {
      for (let k = 0; k < K; k++) { c[k] += q[k]; }
    } else if (p.o >= 0) {
      c[p.o] += 1;
    }
  }
  function newIndex(features) {
    return new Supercluster({
      radius: RADIUS, extent: 256, maxZoom: SC_MAX_ZOOM, map: scMap, reduce: scReduce
    }).load(features);
  }

  function buildIndex() {
    const t0 = performance.now();
    const n = S.n;
    const visible = S.visible = new Uint8Array(n);
    const keep = [];
    for (let i = 0; i < n; i++) {
      const f = S.features[i];
      const c = f.geometry.coordinates;
      if (!(c[0] >= -180 && c[0] <= 180 && c[1] >= -90 && c[1] <= 90)) { continue; } // bad coordinates
      if (isVisible(i)) { visible[i] = 1; keep.push(f); }
    }
    S.shown = keep.length;
    scK = S.orgs.length;
    scFirst = S.firstOrg;
    S.index = newIndex(keep);
    S.lastIndexMs = performance.now() - t0;
  }

  /* ------------------------------------------------------------------ drawing */
  function onMoveEnd() {
    if (!S.quiet) { redraw(); }
  }

  function clearDrawn() {
    if (S.clusterGroup) { S.clusterGroup.clearLayers(); }
    if (S.pointGroup) { S.pointGroup.clearLayers(); }
    S.drawn = new Map();
    S.drawnZoom = null;
  }

  function queryZoom() {
    return Math.max(0, Math.min(Math.floor(S.map.getZoom()), SC_MAX_ZOOM));
  }

  function redraw() {
    const map = S.map;
    if (!map || !S.index) { return; }
    const t0 = performance.now();
    const z = queryZoom();
    const pb = map.getPixelBounds();
    const sw = map.unproject([pb.min.x - PAD, pb.max.y + PAD]);
    const ne = map.unproject([pb.max.x + PAD, pb.min.y - PAD]);
    const found = S.index.getClusters([sw.lng, sw.lat, ne.lng, ne.lat], z);
    const centre = map.getCenter().lng;
    const old = S.drawn;
    const next = new Map();
    const addClusters = [];
    const addPoints = [];
    for (let j = 0; j < found.length; j++) {
      const f = found[j];
      const xy = f.geometry.coordinates;
      const shift = Math.round((centre - xy[0]) / 360) * 360; // the world copy nearest the view
      const lng = xy[0] + shift;
      const p = f.properties;
      const lone = typeof p === "number";
      const key = (lone ? "p" + p : "c" + p.cluster_id) + (shift ? "@" + shift : "");
      let layer = old.get(key);
      if (layer) {
        old.delete(key);
      } else if (lone) {
        layer = makePoint(p, xy[1], lng);
        addPoints.push(layer);
      } else {
        layer = makeCluster(p, xy[1], lng);
        addClusters.push(layer);
      }
      next.set(key, layer);
    }
    const tip = S.pointGroup.getTooltip();
    old.forEach(function (layer) {
      if (tip && tip._source === layer) { S.pointGroup.closeTooltip(); }
      (layer._atlasN ? S.clusterGroup : S.pointGroup).removeLayer(layer);
    });
    for (let j = 0; j < addPoints.length; j++) { S.pointGroup.addLayer(addPoints[j]); }
    for (let j = 0; j < addClusters.length; j++) {
      const m = addClusters[j];
      S.clusterGroup.addLayer(m);
      const el = m.getElement();
      if (el) { el.setAttribute("aria-label", m.options.title); }
    }
    S.drawn = next;
    S.drawnZoom = z;
    S.lastDrawMs = performance.now() - t0;
    map.fire("atlas:drawn", {token: S.token, ms: S.lastDrawMs, items: next.size});
  }

  /* The organisation with most points in a cluster (the first in legend order on a tie), -1: none. */
  function dominant(c) {
    if (!c) { return -1; }
    let best = 0;
    for (let k = 1; k < c.length; k++) { if (c[k] > c[best]) { best = k; } }
    return c[best] > 0 ? best : -1;
  }

  function makeCluster(p, lat, lng) {
    const n = p.point_count;
    const org = S.orgs[dominant(p.c)] || {colour: FALLBACK, ink: "#FFFFFF"};
    const size = n < 10 ? 32 : n < 100 ? 36 : n < 1000 ? 42 : n < 10000 ? 48 : 56;
    const title = n + " " + (S.labels.points || "");
    const m = L.marker([lat, lng], {
      icon: L.divIcon({
        html: "<div style=\"background:" + org.colour + ";color:" + org.ink + "\"><span>" + n + "</span></div>",
        className: "marker-cluster atlas-cluster" + (n >= 10000 ? " atlas-cluster-big" : ""),
        iconSize: [size, size]
      }),
      title: title.trim(),
      keyboard: true,
      riseOnHover: true
    });
    m._atlasN = n;
    m._atlasId = p.cluster_id;
    return m;
  }

  function pointStyle(i) {
    const k = S.firstOrg[i];
    const colour = k >= 0 ? S.orgs[k].colour : FALLBACK;
    const style = {
      renderer: S.renderer, radius: 7, weight: 1.5, color: "#ffffff", opacity: 1,
      fillColor: colour, fillOpacity: 0.9, dashArray: null
    };
    if (S.former[i]) {
      style.fillColor = MUTED;
      style.color = colour;
      style.weight = 2;
      style.dashArray = "3 2";
    }
    if (S.highlightOn && S.multi[i]) {
      style.color = RING;
      style.weight = 3;
    }
    return style;
  }

  function makePoint(i, lat, lng) {
    const m = L.circleMarker([lat, lng], pointStyle(i));
    m._atlasI = i;
    return m;
  }

  function restylePoints() {
    S.drawn.forEach(function (layer) {
      if (layer._atlasI !== undefined && S.multi[layer._atlasI]) {
        layer.setStyle(pointStyle(layer._atlasI));
      }
    });
  }

  /* ------------------------------------------------------------------ clusters */
  function expansion(id) {
    try { return S.index.getClusterExpansionZoom(id); } catch (e) { return Infinity; }
  }

  function clusterClick(m) {
    const id = m._atlasId;
    const map = S.map;
    const z = expansion(id);
    const limit = Math.min(SC_MAX_ZOOM, map.getMaxZoom());
    if (map.getZoom() < SC_MAX_ZOOM && z <= limit) {
      map.setView(m.getLatLng(), z);
    } else {
      openClusterList(id, m.getLatLng());
    }
  }

  function leaves(id) {
    try {
      return S.index.getLeaves(id, Infinity).map(function (f) { return f.properties; });
    } catch (e) {
      return [];
    }
  }

  function pointName(i) {
    const name = S.cols.name ? S.cols.name[i] : null;
    return present(name) ? name : (S.cols.id ? S.cols.id[i] : i);
  }

  function openClusterList(id, latlng) {
    const items = leaves(id);
    items.sort(function (a, b) {
      return String(pointName(a)).localeCompare(String(pointName(b)), S.config.lang || undefined);
    });
    let h = "<div class=\"atlas-popup atlas-list\" lang=\"" + esc(S.config.lang || "") + "\">" +
      "<div class=\"atlas-name\">" + withCount(S.labels.cluster_list, items.length) + "</div><ul>";
    const shown = Math.min(items.length, LIST_MAX);
    for (let j = 0; j < shown; j++) {
      const i = items[j];
      const k = S.firstOrg[i];
      const colour = S.former[i] ? MUTED : k >= 0 ? S.orgs[k].colour : FALLBACK;
      h += "<li><button type=\"button\" class=\"atlas-list-item\" data-i=\"" + i + "\">" +
        "<span class=\"atlas-swatch\" style=\"background:" + colour + "\"></span>" +
        esc(pointName(i)) + orgShorts(i, " <span class=\"atlas-list-orgs\">", "</span>") + "</button></li>";
    }
    h += "</ul>";
    if (items.length > shown) { h += "<div class=\"atlas-more\">+ " + (items.length - shown) + "</div>"; }
    h += "</div>";
    const el = document.createElement("div");
    el.innerHTML = h;
    el.addEventListener("click", function (ev) {
      const b = ev.target && ev.target.closest ? ev.target.closest("button[data-i]") : null;
      if (b) { openPointPopup(+b.getAttribute("data-i"), latlng, {report: true, cluster: id}); }
    });
    S.popupPoint = -1;
    L.popup({maxWidth: 340, className: "atlas-popup-wrap"}).setLatLng(latlng).setContent(el).openOn(S.map);
  }

  /* ------------------------------------------------------------------ popups and tooltips */
  function orgShorts(i, before, after) {
    const os = S.cols.orgs ? S.cols.orgs[i] : null;
    if (!os || !os.length) { return ""; }
    const names = [];
    for (let j = 0; j < os.length; j++) {
      const o = S.orgs[os[j]];
      if (o) { names.push(esc(o.short)); }
    }
    return names.length ? before + names.join(", ") + after : "";
  }

  function tooltipHtml(layer) {
    const i = layer._atlasI;
    let h = "";
    let first = true;
    for (let j = 0; j < S.tooltipFields.length; j++) {
      const col = S.cols[S.tooltipFields[j]];
      const v = col ? col[i] : null;
      if (!present(v)) { continue; }
      h += first ? "<b>" + esc(v) + "</b>" : "<br>" + esc(v);
      first = false;
    }
    if (first) { h += "<b>" + esc(pointName(i)) + "</b>"; }
    let line = orgShorts(i, "", "");
    const kind = S.cols.kind ? S.cols.kind[i] : null;
    if (present(kind)) { line += (line ? " \u00b7 " : "") + esc(kind); }
    return h + (line ? "<br>" + line : "");
  }

  /* A source (already escaped) with its as-of date, as the popup row's template says in the page's
     language ("{text} (as of {date})", "{text}（{date}時点）"); one pass, so a "{date}" in the
     source's title stays as written. */
  function withAsOf(template, sourceHtml, date) {
    const values = { text: sourceHtml, date: esc(date) };
    return esc(template || "{text} ({date})").replace(/\{(text|date)\}/g, function (_m, k) { return values[k]; });
  }

  function membershipsHtml(list, row) {
    let h = "<ul class=\"atlas-memberships\">";
    for (let j = 0; j < list.length; j++) {
      const m = list[j];
      if (!m || typeof m !== "object") { continue; }
      const o = S.orgs[m.org];
      const parts = [];
      parts.push("<span class=\"atlas-swatch\" style=\"background:" + (o ? o.colour : FALLBACK) + "\"></span>" +
        "<span class=\"atlas-org\"" + (o && o.label ? " title=\"" + esc(o.label) + "\"" : "") + ">" +
        esc(o ? o.short : "?") + "</span>");
      if (present(m.member)) { parts.push(esc(m.member)); }
      const span = present(m.span) ? esc(m.span) : dates(m.since, m.until);
      if (span) { parts.push(span); }
      if (present(m.status) && String(m.status).toLowerCase() !== "active") {
        parts.push("<span class=\"atlas-status\">" + esc(S.labels["status_" + m.status] || m.status) + "</span>");
      }
      if (present(m.source)) {
        const src = present(m.as_of) ? withAsOf(row.as_of_template, esc(m.source), m.as_of) : esc(m.source);
        parts.push("<span class=\"atlas-source\">" + src + "</span>");
      }
      h += "<li>" + parts.join(" \u00b7 ") + "</li>";
    }
    return h + "</ul>";
  }

  /* One popup row's cell (HTML), or null when the row is left out. */
  function cellHtml(row, i) {
    const col = S.cols[row.field];
    const v = col ? col[i] : null;
    switch (row.type) {
      case "span": {
        const u = row.until && S.cols[row.until] ? S.cols[row.until][i] : null;
        return dates(v, u) || null;
      }
      case "memberships":
        return Array.isArray(v) && v.length ? membershipsHtml(v, row) : null;
      default:
        break;
    }
    if (!present(v)) { return null; }
    switch (row.type) {
      case "url": {
        const url = safeUrl(v);
        return url ? "<a href=\"" + esc(url) + "\" target=\"_blank\" rel=\"noopener noreferrer\">" + esc(url) + "</a>"
          : esc(v);
      }
      case "label": {
        const labels = row.labels || {};
        const shown = Object.prototype.hasOwnProperty.call(labels, v) ? labels[v] : v;
        return esc(shown);
      }
      case "source": {
        const asOf = row.as_of && S.cols[row.as_of] ? S.cols[row.as_of][i] : null;
        return present(asOf) ? withAsOf(row.as_of_template, esc(v), asOf) : esc(v);
      }
      default:
        return esc(v);
    }
  }

  function popupHtml(i, clusterSize) {
    const lang = S.config.lang || "";
    const name = pointName(i);
    const name2 = S.cols.name2 ? S.cols.name2[i] : null;
    let h = "<div class=\"atlas-popup\" lang=\"" + esc(lang) + "\"><div class=\"atlas-name\">" + esc(name) + "</div>";
    if (present(name2) && name2 !== name) {
      const lang2 = S.config.lang2 ? " lang=\"" + esc(S.config.lang2) + "\"" : "";
      h += "<div class=\"atlas-name2\"" + lang2 + ">" + esc(name2) + "</div>";
    }
    h += "<table>";
    for (let j = 0; j < S.popupRows.length; j++) {
      const row = S.popupRows[j];
      if (!row || typeof row.field !== "string") { continue; }
      const cell = cellHtml(row, i);
      if (cell !== null) { h += "<tr><th>" + esc(row.label) + "</th><td>" + cell + "</td></tr>"; }
    }
    h += "</table>";
    if (clusterSize > 1) {
      h += "<button type=\"button\" class=\"atlas-back\">" + withCount(S.labels.cluster_list, clusterSize) +
        "</button>";
    }
    return h + "</div>";
  }

  /* Opens point i's popup at latlng. opts.cluster: the unsplittable cluster it was listed from
     (its popup then has a button back to the list); opts.report: tell the app (config.report). */
  function openPointPopup(i, latlng, opts) {
    opts = opts || {};
    const cluster = opts.cluster;
    const size = cluster !== undefined ? leaves(cluster).length : 0;
    const el = document.createElement("div");
    el.innerHTML = popupHtml(i, size);
    if (size > 1) {
      el.querySelector(".atlas-back").addEventListener("click", function () { openClusterList(cluster, latlng); });
    }
    S.popupPoint = i;
    L.popup({maxWidth: 340, className: "atlas-popup-wrap"}).setLatLng(latlng).setContent(el).openOn(S.map);
    if (opts.report && S.config.report) {
      S.clicks++;
      const report = {
        last_object_clicked: {lat: +S.cols.lat[i], lng: +S.cols.lon[i]},
        last_object_clicked_count: S.clicks,
        point_id: S.cols.id ? S.cols.id[i] : null
      };
      /* after the click's other listeners: streamlit-folium reports the same click without the point's
         id, and the app keeps the last value it gets */
      setTimeout(function () { post(report); }, 0);
    }
  }

  /* ------------------------------------------------------------------ openPoint */
  /* What shows point i at zoom z: {alone: true, ...} or the cluster it is in. */
  function drawnAs(i, lat, lng, z) {
    const map = S.map;
    const p = map.project([lat, lng], z);
    const r = 2 * RADIUS + 2;
    const a = map.unproject([p.x - r, p.y + r], z);
    const b = map.unproject([p.x + r, p.y - r], z);
    const found = S.index.getClusters([a.lng, a.lat, b.lng, b.lat], z);
    for (let j = 0; j < found.length; j++) {
      if (found[j].properties === i) { return {alone: true}; }
    }
    for (let j = 0; j < found.length; j++) {
      const q = found[j].properties;
      if (typeof q !== "number" && leaves(q.cluster_id).indexOf(i) >= 0) {
        const xy = found[j].geometry.coordinates;
        return {alone: false, cluster: q.cluster_id, latlng: L.latLng(xy[1], xy[0])};
      }
    }
    return null;
  }

  function openPoint(id, opts) {
    if (!S.index || id === null || id === undefined) { return false; }
    if (!S.idIndex) {
      S.idIndex = new Map();
      const ids = S.cols.id || [];
      for (let i = 0; i < S.n; i++) { S.idIndex.set(String(ids[i]), i); }
    }
    const i = S.idIndex.get(String(id));
    if (i === undefined || !S.visible[i]) { return false; }
    const map = S.map;
    const lat = +S.cols.lat[i];
    const lng = +S.cols.lon[i];
    const limit = Math.min(SC_MAX_ZOOM, map.getMaxZoom());
    const now = map.getZoom();
    const start = Math.max(0, Math.min(Math.floor(now), limit)); // what is drawn now
    let zoom = null;
    for (let z = start; z <= limit; z++) {
      const d = drawnAs(i, lat, lng, z);
      if (d && d.alone) { zoom = z === start ? now : z; break; }
    }
    let cluster;
    if (zoom === null) { // shares its place with others even at the last zoom
      zoom = Math.max(now, limit);
      const d = drawnAs(i, lat, lng, Math.min(Math.floor(zoom), SC_MAX_ZOOM));
      if (d && !d.alone) { cluster = d.cluster; }
    }
    const shift = Math.round((map.getCenter().lng - lng) / 360) * 360;
    const target = L.latLng(lat, lng + shift);
    const popupOpts = {report: !!(opts && opts.report), cluster: cluster};
    const open = function () { openPointPopup(i, target, popupOpts); };
    if (zoom === now && map.getBounds().pad(-0.05).contains(target)) {
      open();
      return true;
    }
    let done = false;
    const go = function () {
      if (done) { return; }
      done = true;
      map.off("moveend", go);
      open();
    };
    map.on("moveend", go);
    setTimeout(go, 1500);
    map.setView(target, zoom);
    return true;
  }

  /* ------------------------------------------------------------------ legend */
  function legendUpdate() {
    const map = S.map;
    if (!S.legend) {
      // bottom left; on a narrow map (a phone) top right, clear of the attribution across the bottom
      const Legend = L.Control.extend({
        options: {position: map.getSize().x < 600 ? "topright" : "bottomleft"},
        onAdd: function () {
          const div = L.DomUtil.create("div", "atlas-legend leaflet-control");
          div.setAttribute("role", "group");
          L.DomEvent.disableClickPropagation(div);
          L.DomEvent.disableScrollPropagation(div);
          div.addEventListener("change", legendChange);
          div.addEventListener("click", function (e) {
            const b = e.target && e.target.closest ? e.target.closest(".atlas-legend-toggle") : null;
            if (b) {
              S.legendUser = !div.classList.contains("atlas-legend-collapsed");
              setCollapsed(S.legendUser);
            }
          });
          return div;
        }
      });
      S.legend = new Legend().addTo(map);
    }
    const div = S.legend.getContainer();
    const lab = S.labels;
    let h = "<button type=\"button\" class=\"atlas-legend-toggle\" aria-controls=\"atlas-legend-body\">" +
      "<span class=\"atlas-legend-title\">" + esc(lab.legend || "") + "</span>" +
      "<span class=\"atlas-legend-chevron\" aria-hidden=\"true\"></span></button>" +
      "<div class=\"atlas-legend-body\" id=\"atlas-legend-body\">";
    for (let k = 0; k < S.orgs.length; k++) {
      const o = S.orgs[k];
      const n = S.orgCounts[k];
      h += "<label class=\"atlas-legend-row\" title=\"" + esc(o.label) + "\">" +
        "<input type=\"checkbox\" data-org=\"" + k + "\"" + (S.orgOn[k] ? " checked" : "") +
        " aria-label=\"" + esc(o.label || o.short) + " (" + n + ")\">" +
        "<span class=\"atlas-swatch\" style=\"background:" + o.colour + "\"></span>" +
        "<span class=\"atlas-legend-name\">" + esc(o.short) + "</span> " +
        "<span class=\"atlas-count\">(" + n + ")</span></label>";
    }
    if (S.nFormer > 0) {
      h += "<label class=\"atlas-legend-row atlas-legend-extra\">" +
        "<input type=\"checkbox\" data-kind=\"former\"" + (S.formerOn ? " checked" : "") +
        " aria-label=\"" + esc(lab.former_offices || "") + " (" + S.nFormer + ")\">" +
        "<span class=\"atlas-swatch atlas-swatch-former\"></span>" +
        "<span class=\"atlas-legend-name\">" + esc(lab.former_offices || "") + "</span> " +
        "<span class=\"atlas-count\">(" + S.nFormer + ")</span></label>";
    }
    if (S.nMulti > 0) {
      h += "<label class=\"atlas-legend-row atlas-legend-extra\">" +
        "<input type=\"checkbox\" data-kind=\"highlight\"" + (S.highlightOn ? " checked" : "") +
        " aria-label=\"" + esc(lab.multi_network || "") + " (" + S.nMulti + ")\">" +
        "<span class=\"atlas-swatch atlas-swatch-ring\"></span>" +
        "<span class=\"atlas-legend-name\">" + esc(lab.multi_network || "") + "</span> " +
        "<span class=\"atlas-count\">(" + S.nMulti + ")</span></label>";
    }
    h += "</div>";
    div.innerHTML = h;
    div.setAttribute("aria-label", lab.legend || "");
    autoCollapse();
  }

  function setCollapsed(collapsed) {
    if (!S.legend) { return; }
    const div = S.legend.getContainer();
    div.classList.toggle("atlas-legend-collapsed", collapsed);
    const b = div.querySelector(".atlas-legend-toggle");
    if (b) {
      const label = collapsed ? S.labels.show_legend : S.labels.hide_legend;
      b.setAttribute("aria-expanded", collapsed ? "false" : "true");
      if (label) { b.title = label; } // its name stays the visible title; aria-expanded tells the state
    }
  }

  function autoCollapse() {
    if (!S.legend) { return; }
    const narrow = S.map.getSize().x < 600;
    setCollapsed(S.legendUser !== null ? S.legendUser : !!S.config.legendCollapsed || narrow);
  }

  function legendChange(e) {
    const box = e.target;
    if (!box || box.type !== "checkbox") { return; }
    const org = box.getAttribute("data-org");
    const kind = box.getAttribute("data-kind");
    if (kind === "highlight") {
      S.highlightOn = box.checked;
      restylePoints();
      return;
    }
    if (org !== null) {
      const k = +org;
      S.orgOn[k] = box.checked ? 1 : 0;
      if (box.checked) { S.unchecked.delete(S.orgs[k].id); } else { S.unchecked.add(S.orgs[k].id); }
    } else if (kind === "former") {
      S.formerOn = box.checked;
    } else {
      return;
    }
    refilter();
  }

  /* The legend's choices changed: a new index over the points now shown, then draw. */
  function refilter() {
    clearDrawn();
    buildIndex();
    if (S.popupPoint >= 0 && !S.visible[S.popupPoint]) { S.map.closePopup(); }
    redraw();
  }

  /* ------------------------------------------------------------------ app hooks */
  function announce() {
    if (S.announced) { return; }
    S.announced = true;
    requestAnimationFrame(function () {
      setTimeout(function () {
        let waiting = false;
        try {
          waiting = !!(S.config.waitSelector && window.parent.document.querySelector(S.config.waitSelector));
        } catch (e) { /* file:// or another origin: no app to tell */ }
        if (waiting) {
          post({last_object_clicked: null, last_object_clicked_count: 0, drawn: true});
        }
      }, 0);
    });
  }

  function state() {
    const clusters = [];
    const loneIds = [];
    let lone = 0;
    S.drawn.forEach(function (layer) {
      if (layer._atlasN) {
        clusters.push(layer._atlasN);
      } else {
        lone++;
        loneIds.push(S.cols.id ? S.cols.id[layer._atlasI] : layer._atlasI);
      }
    });
    const points = [];
    if (S.visible) {
      const lat = S.cols.lat;
      const lon = S.cols.lon;
      for (let i = 0; i < S.n; i++) {
        if (S.visible[i]) { points.push([+lat[i], +lon[i]]); }
      }
    }
    return {
      token: S.token,
      clusters: clusters,
      lone: lone,
      loneIds: loneIds,
      drawn: clusters.reduce(function (a, b) { return a + b; }, 0) + lone,
      points: points,
      shown: S.shown,
      zoom: S.map ? S.map.getZoom() : null,
      center: S.map ? [S.map.getCenter().lat, S.map.getCenter().lng] : null,
      lastDrawMs: S.lastDrawMs,
      lastIndexMs: S.lastIndexMs,
      timing: S.timing
    };
  }

  /* Opens the tooltip of a point drawn alone (as hovering it does); false if it is not drawn alone. */
  function openTooltip(id) {
    let found = null;
    if (S.pointGroup) {
      S.pointGroup.eachLayer(function (layer) {
        if (S.cols.id && S.cols.id[layer._atlasI] === id) { found = layer; }
      });
    }
    if (!found) { return false; }
    found.fire("mouseover", {latlng: found.getLatLng()}, true);  // as the mouse does
    return true;
  }

  const api = {
    init: init,
    show: show,
    openPoint: openPoint,
    openTooltip: openTooltip,
    announce: announce,
    state: state,
    esc: esc,
    safeUrl: safeUrl,
    version: "1.0.0"
  };
  window.atlasMap = Object.assign(window.atlasMap || {}, api);
})();
