"""What the explainer notebook (``notebooks/explainer.ipynb``) shows, built from the dashboard's own
modules. Streamlit-free; imports IPython and ipywidgets only when something is displayed.

Every output is in one language, the notebook's ``LANG``:

* **text** from the catalogue (``nb_*`` keys in ``dashboard/core/locales``): :func:`prose` renders a
  catalogue entry written in a small Markdown subset (headings, paragraphs, lists, ``**bold**``,
  ```code```, links) as HTML, with data values escaped (:mod:`dashboard.core.safety`);
  :func:`key_findings` computes the three findings from the data;
* **tables** (:func:`table`): no index column, readable headers, optionally shortened with a line
  saying how many rows there are and where the rest is; the briefing pack's table macro draws them;
* **charts** (:func:`timeline_chart`, :func:`membership_chart`): the dashboard's figure functions,
  with a title, the units, a source line and one sentence saying what the chart shows. Each figure
  is emitted as plotly's JSON mime type (JupyterLab draws it with its bundled plotly.js) *and* as
  HTML (the first chart after :func:`use_offline_plotly` carries plotly.js itself), so an HTML
  export shows it with no network;
* the **relationship diagram** (:func:`relations_diagram`): an SVG drawn from the organisations'
  ``parent`` and ``relations``;
* the **explorer** (:class:`Explorer`): pickers that redraw the map and the charts in place, with
  a static first view (:meth:`Explorer.static_view`) for wherever no kernel runs.

Why the explorer sets its output widgets' ``outputs`` instead of drawing ``with out:``: output captured
by an Output widget makes nbclient (``jupyter nbconvert --execute``, the tests, ``make
notebook-html``) echo every captured output back to the kernel on the shell channel while it waits for
that cell's reply on the same channel; with a large output (the map) the reply then sits unseen until
the cell's timeout. Setting ``outputs`` sends the same content to JupyterLab and captures nothing.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from dashboard.atlasmap.builder import build_map
from dashboard.core import paths, tables
from dashboard.core.colours import org_colour
from dashboard.core.compare import comparison
from dashboard.core.data import Atlas, nn
from dashboard.core.describe import membership_summary, timeline_summary
from dashboard.core.figures import (
    Space,
    dated_counts,
    latest_membership,
    membership_figure,
    qualifier_text,
    short_name,
    timeline_figure,
    undated_counts,
)
from dashboard.core.filters import YEAR_MAX, YEAR_MIN, Filters, Selection, select
from dashboard.core.places import names_for
from dashboard.core.safety import Markup, escape_html, safe_url, style_code
from dashboard.core.schema import PRECISIONS
from dashboard.core.tables import disagreements_table, several_networks_table, sources_table
from dashboard.core.text import (
    CATALOGUES,
    LANGS,
    count,
    date_text,
    has,
    join,
    language_name,
    pick,
    precision_label,
    t,
)
from dashboard.outputs.briefing import filters_in_words, html_table, render_template

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from IPython.display import HTML

    from geocoding import Pipeline, Report, Target

PLOTLY_MIME = "application/vnd.plotly.v1+json"
# The width a chart is laid out for: JupyterLab's output area and the exported page's column.
NOTEBOOK_SPACE = Space(width=1040)
PLOTLY_RENDERER = "plotly_mimetype"
# Drawn at the width their labels were laid out for (NOTEBOOK_SPACE), not squeezed to a narrow window
# (the labels would run into each other): a narrower page scrolls the chart sideways.
CHART_CONFIG = {"displaylogo": False, "responsive": False}
STYLESHEET = "notebook.css"  # in dashboard/outputs/templates/, sent with every HTML output
# Terms the glossary explains, in order (catalogue keys nb_term_<id> and nb_term_<id>_def).
GLOSSARY = ("unfccc", "cop", "constituency", "focal_point", "national_node", "secretariat")
# Relations drawn the other way round, so that every arrow reads "A is the <label> of B":
# ICLEI -> LGMA (focal point of), AECN -> AECCO (succeeded by).
REVERSED_RELATIONS = frozenset({"has-focal-point", "successor-of"})
# A script, stylesheet or image the page would fetch from another machine (the page itself may
# mention URLs, e.g. the optional basemap's tile template; only what it loads counts).
_EXTERNAL = re.compile(
    r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.IGNORECASE
)
_plotlyjs_pending = {"next chart": True}  # the next chart's HTML carries plotly.js (see use_offline_plotly)


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def _lab(lang: str) -> dict[str, str]:
    """The notebook's labels in ``lang`` (catalogue keys ``nb_<name>``)."""
    _check_lang(lang)
    return {k.removeprefix("nb_"): t(k, lang) for k in CATALOGUES["en"] if k.startswith("nb_")}


# ---------------------------------------------------------------------------------- HTML outputs
@functools.cache
def stylesheet() -> str:
    """The notebook outputs' stylesheet (``templates/notebook.css``), safe inside ``<style>``."""
    return style_code((paths.TEMPLATES_DIR / STYLESHEET).read_text(encoding="utf-8"))


class Html:
    """An HTML fragment shown as a notebook output, with its plain-text form.

    The fragment is wrapped in ``<div class="atlas-nb">`` with the notebook's stylesheet, so it looks
    the same in JupyterLab and in an exported page (tables aligned left, line breaks kept).
    """

    def __init__(self, fragment: str, text: str = "") -> None:
        self.fragment = fragment
        self.text = text

    def __add__(self, other: Html) -> Html:
        return Html(self.fragment + other.fragment, "\n\n".join(s for s in (self.text, other.text) if s))

    def page(self) -> str:
        return f'<style>{stylesheet()}</style><div class="atlas-nb">{self.fragment}</div>'

    def _repr_mimebundle_(self, **_kwargs: Any) -> dict[str, str]:
        return {"text/html": self.page(), "text/plain": self.text}


# ---------------------------------------------------------------------------------- text from the catalogue
_HEADING = re.compile(r"^(#{1,4})\s+(.+)$")
_BULLET = re.compile(r"^[-•]\s+(.+)$")
_NUMBERED = re.compile(r"^\d+\.\s+(.+)$")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_RELATIVE = re.compile(r"^(?![a-z][a-z0-9+.-]*:)(?!//)[\w./#-]+$", re.IGNORECASE)


def _href(target: str) -> str | None:
    """A link's address if it is a relative path in the repository or a plain http(s) URL."""
    if _RELATIVE.match(target):
        return target
    return safe_url(target)


def _inline(text: str) -> str:
    text = _CODE.sub(r"<code>\1</code>", text)
    text = _BOLD.sub(r"<strong>\1</strong>", text)

    def link(m: re.Match[str]) -> str:
        href = _href(html.unescape(m.group(2)))
        return f'<a href="{escape_html(href)}">{m.group(1)}</a>' if href else m.group(1)

    return _LINK.sub(link, text)


def markup(text: str) -> str:
    """Catalogue text in the notebook's Markdown subset as HTML: ``#``–``####`` headings, paragraphs
    (blank-line separated), ``-`` and ``1.`` lists, ``**bold**``, ```code``` and ``[text](link)`` (a
    relative path or an http(s) URL; anything else stays plain text). Everything is escaped first."""
    out = []
    for block in re.split(r"\n\s*\n", escape_html(text.strip())):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        heading = _HEADING.match(lines[0])
        if heading and len(lines) == 1:
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif all(_BULLET.match(line) for line in lines):
            items = "".join(f"<li>{_inline(_BULLET.match(line).group(1))}</li>" for line in lines)  # type: ignore[union-attr]
            out.append(f"<ul>{items}</ul>")
        elif all(_NUMBERED.match(line) for line in lines):
            items = "".join(f"<li>{_inline(_NUMBERED.match(line).group(1))}</li>" for line in lines)  # type: ignore[union-attr]
            out.append(f"<ol>{items}</ol>")
        else:
            out.append(f"<p>{_inline(' '.join(lines))}</p>")
    return "".join(out)


def _html_value(value: Any) -> str:
    return str(value) if isinstance(value, Markup) else escape_html(value)


def prose(key: str, lang: str, **values: Any) -> Html:
    """Catalogue entry ``key`` in ``lang``, rendered (see :func:`markup`), with ``{placeholders}`` filled
    from ``values`` (escaped, unless a value is Markup the atlas made itself)."""
    _check_lang(lang)
    template = t(key, lang)
    fragment = markup(template).format(**{k: _html_value(v) for k, v in values.items()})
    return Html(fragment, template.format(**values) if values else template)


def _joined(items: Iterable[Html], tag: str, css_class: str) -> Html:
    items = list(items)
    inner = "".join(f"<li>{i.fragment.removeprefix('<p>').removesuffix('</p>')}</li>" for i in items)
    return Html(f'<{tag} class="{css_class}">{inner}</{tag}>', "\n".join(f"- {i.text}" for i in items))


def _org(atlas: Atlas, org_id: str, lang: str) -> str:
    return short_name(atlas, org_id, lang)


def key_findings(atlas: Atlas, sel: Selection, lang: str) -> Html:
    """Three findings computed from the data: the largest network, the cities in several networks, and
    how many sources and disagreements stand behind the numbers."""
    items = []
    latest = [(o, latest_membership(atlas, o)) for o in sel.org_ids]
    counted = [(o, m) for o, m in latest if m]
    if counted:
        org_id, m = max(counted, key=lambda pair: pair[1]["members"])
        items.append(
            prose(
                "nb_finding_largest",
                lang,
                org=_org(atlas, org_id, lang),
                count=qualifier_text(m["qualifier"], m["members"], atlas, lang),
                as_of=date_text(m["as_of"], lang),
            )
        )
    several = sel.points[sel.points["n_networks"] >= 2]
    if not several.empty:
        most = int(several["n_networks"].max())
        top = several[several["n_networks"] == most].sort_values("name_en")
        names = [names_for(p._asdict(), lang)[0] for p in top.itertuples(index=False)]
        cities = count("cities", len(several), lang)
        items.append(prose("nb_finding_overlap", lang, cities=cities, k=most, names=join(names, lang)))
    items.append(
        prose(
            "nb_finding_sources",
            lang,
            sources=len(atlas.sources),
            disagreements=len(disagreements_table(atlas, lang)),
        )
    )
    return prose("nb_findings_title", lang) + _joined(items, "ol", "atlas-findings")


# ---------------------------------------------------------------------------------- tables
def table(df: pd.DataFrame, lang: str, *, limit: int | None = None, rest: str = "nb_rows_shown",
          links: Iterable[str] = (), **values: Any) -> Html:  # fmt: skip
    """``df`` as a readable table: no index column, every cell escaped, line breaks kept; ``links``
    columns link their http(s) addresses. With ``limit``, only the first rows are shown, followed by
    catalogue entry ``rest`` (filled with ``shown``, ``total`` and ``values``)."""
    shown = df if limit is None or len(df) <= limit else df.head(limit)
    out = Html(html_table(shown.reset_index(drop=True), links=links), _plain_table(shown))
    if len(shown) < len(df):
        out = out + prose(rest, lang, shown=len(shown), total=len(df), **values)
    return out


def _plain_table(df: pd.DataFrame) -> str:
    return df.to_string(index=False, max_colwidth=40) if not df.empty else ""


def relations(atlas: Atlas) -> list[dict[str, Any]]:
    """Every relation between organisations as recorded (``parent`` first, then ``relations``), in
    file order: organisation, type, related organisation, since, source id."""
    out = []
    for org_id, rec in atlas.organisation_records.items():
        for rel in [*([rec.parent] if rec.parent else []), *rec.relations]:
            out.append(
                {
                    "organisation": org_id,
                    "type": rel.type,
                    "related": rel.organisation,
                    "since": rel.since,
                    "source": rel.source,
                }
            )
    return out


def relations_table(atlas: Atlas, lang: str = "ja") -> pd.DataFrame:
    """Every relation between organisations, one row each: organisation, the relation in words ("is an
    office of ICLEI", vocabulary label and related organisation), since when, source title."""
    lab = _lab(lang)
    rows = [
        {
            lab["organisation"]: _org(atlas, r["organisation"], lang),
            lab["relation"]: t(
                "relation_phrase",
                lang,
                relation=atlas.label("relations", r["type"], lang),
                target=_org(atlas, r["related"], lang),
            ),
            lab["since"]: date_text(r["since"], lang),
            lab["source"]: atlas.source_title(r["source"]),
        }
        for r in relations(atlas)
    ]
    return pd.DataFrame(rows, columns=[lab[k] for k in ("organisation", "relation", "since", "source")])


def missions_table(
    atlas: Atlas, org_ids: Sequence[str], lang: str, rows: Sequence[str] = ("mission", "unfccc", "themes")
) -> pd.DataFrame:
    """A few rows of the dashboard's comparison (``dashboard.core.compare``): the attribute, then one
    column per organisation."""
    c = comparison(atlas, list(org_ids), lang)
    data = [[c.row(key).label, *c.row(key).values] for key in rows]
    return pd.DataFrame(data, columns=[t("cmp_attribute", lang), *c.columns])


def glossary(lang: str) -> pd.DataFrame:
    """The terms a newcomer meets here, with what they mean."""
    lab = _lab(lang)
    return pd.DataFrame(
        [(t(f"nb_term_{k}", lang), t(f"nb_term_{k}_def", lang)) for k in GLOSSARY],
        columns=[lab["term"], lab["meaning"]],
    )


def seed_sources_table(atlas: Atlas, lang: str) -> pd.DataFrame:
    """The seed pages every fact starts from: title, publisher, language, published, accessed."""
    df = sources_table(atlas, lang)
    seeds = df[df[t("col_seed", lang)] != ""]
    language = t("col_language", lang)
    out = seeds.drop(columns=[t("col_id", lang), t("col_seed", lang), t("col_url", lang)])
    out[language] = out[language].map(lambda code: language_name(code) if code in LANGS else code)
    blank = [c for c in out.columns if not out[c].map(lambda v: bool(nn(v))).any()]  # no date known
    return out.drop(columns=blank).reset_index(drop=True)


def undated_table(atlas: Atlas, sel: Selection, lang: str) -> pd.DataFrame:
    """Membership figures with no date (never drawn): organisation, figure as written, status, source."""
    rows = undated_counts(sel.membership)
    return pd.DataFrame(
        {
            t("field_organisation", lang): [_org(atlas, o, lang) for o in rows["organisation"]],
            t("col_as_written", lang): list(rows["value_as_written"]),
            t("col_check_status", lang): [t(f"status_{s}", lang) for s in rows["status"]],
            t("field_source", lang): [atlas.source_title(s) for s in rows["source"]],
        }
    )


def undated_section(atlas: Atlas, sel: Selection, lang: str) -> Html:
    """The membership figures with no date, under their heading (nothing when every figure is dated)."""
    df = undated_table(atlas, sel, lang)
    return Html("") if df.empty else prose("nb_undated_title", lang) + table(df, lang)


def overlap_section(atlas: Atlas, sel: Selection, lang: str) -> Html:
    """The cities in three or more of the selected networks (the dashboard's several-networks table),
    and how many more are in two."""
    three = several_networks_table(atlas, sel, lang, minimum=3)
    two = several_networks_table(atlas, sel, lang, minimum=2)
    shown = three.drop(columns=[t("field_source", lang)])  # each city's sources: its popup on the map
    more = count("cities", len(two) - len(three), lang)
    return table(shown, lang) + prose("nb_overlap_rest", lang, more=more)


def precision_table(lang: str = "ja") -> pd.DataFrame:
    """The coordinate precisions, best first, with what each means on the map."""
    lab = _lab(lang)
    return pd.DataFrame(
        {
            lab["level"]: [t(f"nb_precision_{p}", lang) for p in PRECISIONS],
            lab["meaning"]: [precision_label(p, lang) for p in PRECISIONS],
        }
    )


def address_table(target: Target, lang: str) -> pd.DataFrame:
    """An address as the source writes it and as the geocoder cleans it."""
    from geocoding import clean_address

    lab = _lab(lang)
    return pd.DataFrame(
        [
            (lab["as_written"], target.address or ""),
            (lab["cleaned"], ", ".join(clean_address(target.address))),
        ],
        columns=[lab["form"], lab["address"]],
    )


def _query_kind(kind: str, lang: str) -> str:
    return t(f"nb_query_{kind}", lang) if has(f"nb_query_{kind}") else kind


def query_chain_table(pipeline: Pipeline, target: Target, lang: str = "ja") -> pd.DataFrame:
    """The queries the geocoder would send for one office or member, precise to coarse."""
    lab = _lab(lang)
    city = pipeline.gazetteer.city(target.city, target.country, target.city_ja)
    queries = pipeline.queries(target, city)
    return pd.DataFrame(
        {
            lab["step"]: range(1, len(queries) + 1),
            lab["query_kind"]: [_query_kind(q.kind, lang) for q in queries],
            lab["best_precision"]: [precision_label(q.precision, lang) for q in queries],
            lab["query"]: [q.display for q in queries],
        }
    )


def outcomes_table(report: Report, atlas: Atlas, lang: str = "ja") -> pd.DataFrame:
    """One row per geocoded office or member: its name, city, country, the point, how precise and from
    which provider (or why it could not be placed)."""
    lab = _lab(lang)
    offices = atlas.offices.set_index("id") if not atlas.offices.empty else pd.DataFrame()
    rows = []
    for o in report.outcomes:
        row = o.row or {}
        name = pick(o.target.city_ja, o.target.city, lang)  # a member city is named by its city
        if o.target.id in offices.index:
            office = offices.loc[o.target.id]
            own = pick(nn(office.get("name_ja")), nn(office.get("name")), lang)
            org = _org(atlas, office["organisation"], lang)
            name = t("nb_office_name", lang, org=org, name=own) if own else name
        provider = row.get("provider", "")
        entry = {
            lab["name"]: name,
            lab["city"]: pick(o.target.city_ja, o.target.city, lang),
            lab["country"]: atlas.label("countries", o.target.country, lang),
            lab["latitude"]: f"{row['latitude']:.4f}" if row.get("latitude") is not None else "",
            lab["longitude"]: f"{row['longitude']:.4f}" if row.get("longitude") is not None else "",
            lab["precision"]: precision_label(row.get("precision"), lang),
            lab["provider"]: t(f"nb_provider_{provider}", lang)
            if has(f"nb_provider_{provider}")
            else provider,
        }
        if report.missing:
            entry[lab["failure"]] = o.failure or ""
        rows.append(entry)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------- the relationship diagram
NODE_H = 46
ROW_GAP = 18
BAND_GAP = 34
MARGIN = 12
MIN_COLUMN_GAP = 110


def _text_width(text: str, size: float) -> float:
    """About how wide ``text`` is drawn at ``size`` px (full-width characters are about 1 em)."""
    return sum(size * (1.0 if ord(ch) >= 0x2E80 else 0.62) for ch in text)


@dataclass
class _Node:
    id: str
    name: str
    kind: str
    colour: str
    width: float
    x: float = 0.0
    y: float = 0.0


def diagram_links(atlas: Atlas) -> list[dict[str, Any]]:
    """The relations as arrows reading "A is the <label> of B", one per pair of organisations (a
    relation recorded from both sides, such as merged into / succeeds, is drawn once)."""
    out, pairs = [], set()
    for r in relations(atlas):
        a, b = (
            (r["related"], r["organisation"])
            if r["type"] in REVERSED_RELATIONS
            else (r["organisation"], r["related"])
        )
        if (
            frozenset((a, b)) in pairs
            or a not in atlas.organisation_records
            or b not in atlas.organisation_records
        ):
            continue
        pairs.add(frozenset((a, b)))
        out.append({**r, "from": a, "to": b})
    return out


def _link_label(link: Mapping[str, Any], atlas: Atlas, lang: str) -> str:
    key = f"nb_link_{link['type']}"
    label = t(key, lang) if has(key) else atlas.label("relations", link["type"], lang)
    since = date_text(link["since"], lang)
    return t("nb_link_since", lang, link=label, since=since) if since else label


def _components(ids: list[str], links: list[dict[str, Any]]) -> list[list[str]]:
    """Groups of linked organisations, each in file order, ordered by their first member."""
    group = {i: i for i in ids}

    def root(i: str) -> str:
        while group[i] != i:
            i = group[i]
        return i

    for link in links:
        group[root(link["from"])] = root(link["to"])
    out: dict[str, list[str]] = {}
    for i in ids:
        out.setdefault(root(i), []).append(i)
    return list(out.values())


def relations_layout(atlas: Atlas, lang: str) -> dict[str, Any]:
    """Where the diagram draws each organisation and arrow: one band per group of linked organisations
    (an arrow's head one column right of its tail), then the organisations linked to none."""
    links = diagram_links(atlas)
    order = list(atlas.organisation_records)
    linked = [o for o in order if any(o in (lk["from"], lk["to"]) for lk in links)]
    nodes = {}
    for o in order:
        name, kind = _org(atlas, o, lang), atlas.label("organisation_kinds", atlas.org(o).kind, lang)
        width = max(_text_width(name, 14), _text_width(kind, 11)) + 30
        nodes[o] = _Node(o, name, kind, org_colour(o), width)
    y, width = MARGIN, 0.0
    edges = []
    for group in _components(linked, links):
        inner = [lk for lk in links if lk["from"] in group]
        layer = dict.fromkeys(group, 0)
        for _ in group:  # longest path from the tails (bounded: a cycle cannot loop forever)
            for lk in inner:
                layer[lk["to"]] = max(layer[lk["to"]], layer[lk["from"]] + 1)
        columns = [[o for o in group if layer[o] == c] for c in range(max(layer.values()) + 1)]
        labels = {id(lk): _link_label(lk, atlas, lang) for lk in inner}
        gaps = [
            max(
                [
                    MIN_COLUMN_GAP,
                    *(_text_width(labels[id(lk)], 11) + 40 for lk in inner if layer[lk["from"]] == c),
                ]
            )
            for c in range(len(columns) - 1)
        ]
        band = max(len(col) for col in columns) * (NODE_H + ROW_GAP) - ROW_GAP
        x = MARGIN
        for c, col in enumerate(columns):
            col_w = max(nodes[o].width for o in col)
            top = y + (band - (len(col) * (NODE_H + ROW_GAP) - ROW_GAP)) / 2
            for i, o in enumerate(col):
                nodes[o].x, nodes[o].y = x + (col_w - nodes[o].width) / 2, top + i * (NODE_H + ROW_GAP)
            x += col_w + (gaps[c] if c < len(gaps) else 0)
        width = max(width, x)
        for lk in inner:
            a, b = nodes[lk["from"]], nodes[lk["to"]]
            x1, y1, x2, y2 = a.x + a.width, a.y + NODE_H / 2, b.x, b.y + NODE_H / 2
            edges.append(
                {
                    "x1": x1,
                    "y1": y1,
                    "x2": x2 - 2,
                    "y2": y2,
                    "lx": (x1 + x2) / 2,
                    "ly": (y1 + y2) / 2 - 6,
                    "label": labels[id(lk)],
                }
            )
        y += band + BAND_GAP
    loose = [nodes[o] for o in order if o not in linked]
    loose_label = None
    if loose:
        loose_label = {"x": MARGIN, "y": y + 4, "text": t("nb_diagram_unlinked", lang)}
        y += 16
        row_w = max(width, 640)
        x = MARGIN
        for node in loose:
            if x > MARGIN and x + node.width > row_w:
                x, y = MARGIN, y + NODE_H + ROW_GAP
            node.x, node.y = x, y
            x += node.width + 16
            width = max(width, x)
        y += NODE_H + MARGIN
    placed = [nodes[o] for o in order if o in linked] + loose
    return {
        "width": round(width + MARGIN),
        "height": round(y),
        "nodes": placed,
        "edges": edges,
        "unlinked": loose_label,
        "node_h": NODE_H,
    }


def relations_diagram(atlas: Atlas, lang: str) -> Html:
    """The organisations and how they are related, as an SVG drawn from ``parent`` and ``relations``."""
    _check_lang(lang)
    layout = relations_layout(atlas, lang)
    svg = render_template("relations.svg.j2", lang=lang, title=t("nb_diagram_title", lang), **layout)
    text = "\n".join(f"{lk['organisation']} -> {lk['related']}: {lk['type']}" for lk in diagram_links(atlas))
    return Html(f'<figure class="atlas-diagram">{svg}</figure>', text)


# ---------------------------------------------------------------------------------- charts
def use_offline_plotly() -> str:
    """Make ``fig.show()`` emit plotly's JSON mime type only (``application/vnd.plotly.v1+json``), and
    let the next chart's HTML rendering carry plotly.js (the later ones use that copy).

    JupyterLab draws the mime type with the plotly.js bundled in its ``jupyterlab-plotly`` extension, so
    nothing is fetched. (The ``notebook`` renderer would add a MathJax ``<script>`` from a CDN to
    every figure; ``notebook_connected`` loads plotly.js itself from one.)
    """
    import plotly.io as pio

    pio.renderers.default = PLOTLY_RENDERER
    _plotlyjs_pending["next chart"] = True
    return PLOTLY_RENDERER


def figure_json(fig: go.Figure) -> dict[str, Any]:
    """The figure as plotly's mime-type JSON (data, layout, config)."""
    import plotly.io as pio

    spec = json.loads(pio.to_json(fig, validate=False))
    spec["config"] = dict(CHART_CONFIG)
    return spec


def figure_html(fig: go.Figure, *, plotlyjs: bool = False) -> str:
    """The figure as HTML for a page where no plotly renderer runs (an export): ``plotlyjs`` inlines
    plotly.js (no CDN, no MathJax); without it the page must have plotly.js already."""
    return fig.to_html(
        full_html=False,
        include_plotlyjs=plotlyjs,
        include_mathjax=False,
        config=CHART_CONFIG,
        default_width=f"{NOTEBOOK_SPACE.width}px",
    )


def figure_bundle(fig: go.Figure, *, html_too: bool = True) -> dict[str, Any]:
    """A display bundle: plotly's mime type (JupyterLab) and, with ``html_too``, the HTML rendering
    (the first one after :func:`use_offline_plotly` with plotly.js inlined)."""
    bundle: dict[str, Any] = {PLOTLY_MIME: figure_json(fig), "text/plain": ""}
    if html_too:
        first = _plotlyjs_pending["next chart"]
        bundle["text/html"] = figure_html(fig, plotlyjs=first)
        _plotlyjs_pending["next chart"] = False
    return bundle


def chart_figures(atlas: Atlas, sel: Selection, lang: str) -> dict[str, go.Figure]:
    """The dashboard's timeline and membership views of a selection (membership as small multiples:
    each organisation its own panel and scale), laid out for the notebook's width."""
    figures = {
        "timeline": timeline_figure(sel, atlas, lang, space=NOTEBOOK_SPACE),
        "membership": membership_figure(sel.membership, atlas, lang, view="panels", space=NOTEBOOK_SPACE),
    }
    for fig in figures.values():
        fig.update_layout(width=NOTEBOOK_SPACE.width, autosize=False)
    return figures


class Chart:
    """A chart as the notebook shows it: its title, the figure, then its units, source and takeaway."""

    def __init__(self, name: str, fig: go.Figure, notes: Html, lang: str) -> None:
        self.name = name
        self.fig = fig
        self.title = prose(f"nb_{name}_chart_title", lang)
        self.notes = notes

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.title)
        display(figure_bundle(self.fig), raw=True)
        display(self.notes)


def _chart_notes(kind: str, lang: str, takeaway: str, in_words: str, **values: Any) -> Html:
    """Under a chart: its units, its sources and what it shows, then the whole chart in words (the
    dashboard's text alternative, dashboard.core.describe) for whoever cannot see it."""
    lines = [
        prose(f"nb_{kind}_units", lang),
        prose(f"nb_{kind}_source", lang, **values),
        prose("nb_takeaway", lang, text=takeaway),
    ]
    words = Html(
        f'<details class="atlas-in-words"><summary>{escape_html(t("nb_in_words", lang))}</summary>'
        f"<p>{escape_html(in_words)}</p></details>",
        in_words,
    )
    return _joined(lines, "ul", "atlas-chart-notes") + words


def _sources_of(df: pd.DataFrame) -> int:
    return df["source"].dropna().nunique() if not df.empty else 0


def timeline_takeaway(atlas: Atlas, sel: Selection, lang: str) -> str:
    """One sentence on the timeline: the oldest and newest organisation, the busiest decade, and the
    rows left empty because no source dates anything for them."""
    orgs = sel.organisations.dropna(subset=["founded_year"])
    parts = []
    if not orgs.empty:
        orgs = orgs.sort_values("founded_year", kind="stable")
        first, last = orgs.iloc[0], orgs.iloc[-1]
        decades = (orgs["founded_year"] // 10 * 10).astype(int).value_counts()
        busiest = int(decades.sort_index().idxmax())
        parts.append(
            t(
                "nb_timeline_takeaway",
                lang,
                oldest=_org(atlas, first["id"], lang),
                first=int(first["founded_year"]),
                newest=_org(atlas, last["id"], lang),
                last=int(last["founded_year"]),
                decade=busiest,
                n=int(decades[busiest]),
            )
        )
    dated = set(sel.events["organisation"].dropna())
    empty = [o for o in sel.org_ids if o not in dated and atlas.org(o).founded is None]
    if empty:
        parts.append(
            t("nb_timeline_empty_rows", lang, names=join((_org(atlas, o, lang) for o in empty), lang))
        )
    return _sentences(parts, lang)


def _sentences(parts: list[str], lang: str) -> str:
    text = parts[0] if parts else ""
    for more in parts[1:]:
        text = t("nb_two_sentences", lang, first=text, second=more)
    return text


def timeline_chart(atlas: Atlas, sel: Selection, lang: str) -> Chart:
    """The dashboard's timeline with its title, units, sources and takeaway."""
    fig = chart_figures(atlas, sel, lang)["timeline"]
    org_events = sel.events[sel.events["organisation"].notna()]
    notes = _chart_notes(
        "timeline",
        lang,
        timeline_takeaway(atlas, sel, lang),
        timeline_summary(sel, atlas, lang),
        n=_sources_of(org_events),
        world=_sources_of(sel.events) - _sources_of(org_events),
    )
    return Chart("timeline", fig, notes, lang)


def membership_takeaway(atlas: Atlas, sel: Selection, lang: str) -> str:
    """One sentence on membership: the largest and the smallest latest count, how far apart they are,
    and how many figures have no date."""
    latest = [(o, latest_membership(atlas, o)) for o in sel.org_ids]
    counted = sorted(((o, m) for o, m in latest if m), key=lambda pair: pair[1]["members"])
    parts = []
    if len(counted) >= 2:
        (small, s), (big, b) = counted[0], counted[-1]
        parts.append(
            t(
                "nb_membership_takeaway",
                lang,
                big=_org(atlas, big, lang),
                big_count=qualifier_text(b["qualifier"], b["members"], atlas, lang),
                small=_org(atlas, small, lang),
                small_count=qualifier_text(s["qualifier"], s["members"], atlas, lang),
                ratio=f"{round(b['members'] / max(s['members'], 1)):,}",
            )
        )
    undated = len(undated_counts(sel.membership))
    if undated:
        parts.append(t("nb_membership_undated", lang, n=undated))
    return _sentences(parts, lang)


def membership_chart(atlas: Atlas, sel: Selection, lang: str) -> Chart:
    """The dashboard's membership chart (a panel per organisation) with its title, units, sources and
    takeaway."""
    fig = chart_figures(atlas, sel, lang)["membership"]
    dated = dated_counts(sel.membership)
    notes = _chart_notes(
        "membership",
        lang,
        membership_takeaway(atlas, sel, lang),
        membership_summary(sel.membership, atlas, lang),
        n=_sources_of(dated),
        counts=len(dated),
    )
    return Chart("membership", fig, notes, lang)


# ---------------------------------------------------------------------------------- the map
def external_assets(text: str) -> list[str]:
    """The addresses of scripts, stylesheets and images ``text`` loads from elsewhere (empty when it
    loads nothing over the network). HTML inside an iframe's ``srcdoc`` is read too."""
    return sorted({m.group(1) for m in _EXTERNAL.finditer(html.unescape(text))})


def notebook_map(points: pd.DataFrame, lang: str = "ja", **kwargs: Any) -> HTML:
    """The atlas map for Jupyter: Leaflet, supercluster, the atlas's map code and the outlines inlined,
    no online basemap (no network at all). Pass ``atlas=`` to show organisations' and sources' names.

    Returns an ``IPython.display.HTML`` (folium's own iframe); ``kwargs`` go to
    :func:`dashboard.atlasmap.builder.build_map`.
    Raises RuntimeError if the page would load anything over the network.
    """
    from IPython.display import HTML

    kwargs.setdefault("basemap", False)
    m = build_map(points, lang=lang, assets="inline", **kwargs)  # type: ignore[arg-type]
    page = m._repr_html_()
    found = external_assets(page)
    if found:
        raise RuntimeError(f"the map would load from the network ({', '.join(found)}); it must be inlined")
    return HTML(page)


def map_caption(sel: Selection, lang: str) -> Html:
    """The map page's caption (how many places of which kinds), then in how many countries, how many
    belong to several networks, and where they come from."""
    pts = sel.points
    return prose(
        "nb_map_caption",
        lang,
        caption=tables.map_caption(pts, lang),
        countries=pts["country"].nunique() if not pts.empty else 0,
        several=count("places", int((pts["n_networks"] >= 2).sum()) if not pts.empty else 0, lang),
    )


# ---------------------------------------------------------------------------------- the explorer
def region_options(atlas: Atlas, lang: str = "ja") -> list[tuple[str, str]]:
    """(label, region id) for every region in the vocabulary, in vocabulary order."""
    return [(atlas.label("regions", r, lang), r) for r in atlas.vocabulary.regions]


def organisation_options(atlas: Atlas, lang: str = "ja") -> list[tuple[str, str]]:
    """(short name — full name, organisation id) for every organisation, in file order."""
    out = []
    for org_id, rec in atlas.organisation_records.items():
        short = _org(atlas, org_id, lang)
        full = pick(rec.name.ja, rec.name.en, lang)
        out.append((short if full == short else f"{short} — {full}", org_id))
    return out


def _display_data(bundle: dict[str, Any]) -> dict[str, Any]:
    return {"output_type": "display_data", "data": bundle, "metadata": {}}


class Explorer:
    """Three pickers and the map, timeline and membership chart they drive, redrawn in place.

    ``Explorer(atlas, "ja")`` then display it (the last expression of a cell). ``selection``,
    ``map_page`` (the map's HTML) and ``figures`` always hold what is shown, so the behaviour can be
    checked without a browser. Where no kernel runs (an exported page), the explorer shows
    :meth:`static_view`: its first view, the same map and charts, with the filters in words.
    """

    def __init__(self, atlas: Atlas, lang: str = "ja") -> None:
        import ipywidgets as widgets

        _check_lang(lang)
        self.atlas = atlas
        self.lang = lang
        self.years = widgets.IntRangeSlider(
            value=(YEAR_MIN, YEAR_MAX),
            min=YEAR_MIN,
            max=YEAR_MAX,
            step=1,
            description=t("founding_years", lang),
            continuous_update=False,  # redraw when the handle is released, not while dragging
            style={"description_width": "initial"},
            layout=widgets.Layout(width="32em"),
        )
        self.regions = widgets.SelectMultiple(
            options=region_options(atlas, lang),
            value=(),
            rows=len(atlas.vocabulary.regions),
            description=t("regions", lang),
            style={"description_width": "initial"},
        )
        self.organisations = widgets.SelectMultiple(
            options=organisation_options(atlas, lang),
            value=(),
            rows=min(len(atlas.organisation_records), 12),
            description=t("organisations", lang),
            style={"description_width": "initial"},
            layout=widgets.Layout(width="34em"),
        )
        self.summary = widgets.HTML()
        self.map_out = widgets.Output()
        self.timeline_out = widgets.Output()
        self.membership_out = widgets.Output()
        lab = _lab(lang)
        tabs = widgets.Tab(children=[self.map_out, self.timeline_out, self.membership_out])
        for i, key in enumerate(("map", "timeline", "membership")):
            tabs.set_title(i, lab[key])
        hint = widgets.HTML("<small>" + escape_html(t("nb_explorer_hint", lang)) + "</small>")
        self.widget = widgets.VBox(
            [self.years, widgets.HBox([self.regions, self.organisations]), hint, self.summary, tabs]
        )
        self.selection: Selection
        self.map_page = ""
        self.figures: dict[str, go.Figure] = {}
        self.updates = 0
        self._paused = False
        for w in (self.years, self.regions, self.organisations):
            w.observe(self._changed, names="value")
        self.update()
        self._first_view = self._static_view()

    # ------------------------------------------------------------ state
    def filters(self) -> Filters:
        """The pickers' values as the dashboard's Filters (empty pickers mean everything)."""
        lo, hi = self.years.value
        return Filters(
            years=(int(lo), int(hi)),
            regions=tuple(self.regions.value),
            organisations=tuple(self.organisations.value),
            lang=self.lang,
        )

    def set(
        self,
        *,
        years: tuple[int, int] | None = None,
        regions: Iterable[str] | None = None,
        organisations: Iterable[str] | None = None,
    ) -> Selection:
        """Change several pickers at once and redraw once (a script's way to drive the explorer)."""
        self._paused = True
        try:
            if years is not None:
                self.years.value = tuple(years)
            if regions is not None:
                self.regions.value = tuple(regions)
            if organisations is not None:
                self.organisations.value = tuple(organisations)
        finally:
            self._paused = False
        return self.update()

    def _changed(self, _change: dict[str, Any]) -> None:
        if not self._paused:
            self.update()

    def summary_text(self) -> str:
        sel = self.selection
        if sel.empty:
            return t("nothing_selected", self.lang)
        return t(
            "nb_summary",
            self.lang,
            orgs=len(sel.organisations),
            points=len(sel.points),
            events=len(sel.events),
        )

    # ------------------------------------------------------------ drawing
    def update(self) -> Selection:
        """Select with the current filters and redraw the summary, map and charts.

        The output widgets get their new content as their ``outputs`` (nothing is captured with
        ``with out:``: see the module's note on headless runs)."""
        atlas, lang = self.atlas, self.lang
        sel = select(atlas, self.filters())
        self.selection = sel
        self.summary.value = f"<b>{escape_html(self.summary_text())}</b>"
        page = notebook_map(sel.points, lang, atlas=atlas)
        self.map_page = page.data
        self.figures = chart_figures(atlas, sel, lang)
        self.map_out.outputs = (_display_data({"text/html": page.data, "text/plain": t("nb_map", lang)}),)
        self.timeline_out.outputs = (_display_data(figure_bundle(self.figures["timeline"], html_too=False)),)
        self.membership_out.outputs = (
            _display_data(figure_bundle(self.figures["membership"], html_too=False)),
        )
        self.updates += 1
        return sel

    def _static_view(self) -> str:
        lab = _lab(self.lang)
        return render_template(
            "explorer.html.j2",
            note=t("nb_explorer_static", self.lang),
            filters=filters_in_words(self.atlas, self.filters(), self.lang),
            summary=self.summary_text(),
            labels={"map": lab["map"], "timeline": lab["timeline"], "membership": lab["membership"]},
            # generated by folium and plotly from text the atlas escaped (see notebook_map, figures)
            map_html=Markup(self.map_page),
            timeline_html=Markup(figure_html(self.figures["timeline"])),
            membership_html=Markup(figure_html(self.figures["membership"])),
        )

    def static_view(self) -> str:
        """The explorer's first view as HTML (all years, regions and organisations): for a page where
        no kernel runs, so its widgets cannot be drawn."""
        return Html(self._first_view).page()

    def _repr_mimebundle_(self, **_kwargs: Any) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_() or {})
        bundle["text/html"] = self.static_view()
        bundle["text/plain"] = self.summary_text()
        return bundle
