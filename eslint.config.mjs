// ESLint (flat config) for the atlas's browser code (the map, the presenter's keys, the scenes pack, the
// exported notebook's page): `make lint-js` or `npm run lint`.
import js from "@eslint/js";
import globals from "globals";

export default [
  {ignores: ["**/vendor/**", "node_modules/**", ".venv/**", "dashboard/static/**"]},
  js.configs.recommended,
  {
    // atlas-map.js: a classic script (one IIFE defining window.atlasMap), ES2017, Leaflet and
    // supercluster loaded before it
    files: ["dashboard/atlasmap/browser/**/*.js"],
    languageOptions: {
      ecmaVersion: 2017,
      sourceType: "script",
      globals: {...globals.browser, L: "readonly", Supercluster: "readonly"},
    },
    linterOptions: {reportUnusedDisableDirectives: "error"},
    rules: {
      // ES2017 has no optional catch binding: `catch (e) {}` must name an error it ignores
      "no-unused-vars": ["error", {caughtErrors: "none"}],
    },
  },
  {
    // stage.js (the presenter's keys, dashboard/shell/stage_frontend), page_base.js (inlined in every
    // page's HTML by dashboard/shell/streamlit_private.py), scenes.js (the scenes pack) and
    // notebook-page.js (the exported explainer notebook's page, after the inlined plotly.js), both in
    // dashboard/outputs/templates: classic scripts, ES2017
    files: [
      "dashboard/shell/stage_frontend/**/*.js",
      "dashboard/shell/page_base/**/*.js",
      "dashboard/outputs/templates/**/*.js",
    ],
    languageOptions: {ecmaVersion: 2017, sourceType: "script", globals: {...globals.browser}},
    linterOptions: {reportUnusedDisableDirectives: "error"},
    rules: {"no-unused-vars": ["error", {caughtErrors: "none"}]},
  },
  {
    files: ["**/*.mjs"],
    languageOptions: {ecmaVersion: "latest", sourceType: "module", globals: {...globals.node}},
  },
];
