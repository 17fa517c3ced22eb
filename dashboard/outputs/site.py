"""The atlas as a static site (``make site``): offline HTML that any web server or CDN serves with no
Python running, and that opens from a folder (``file://``) too. Streamlit-free.

    site/
      index.html                 the way in: both languages, their pages and scenes
      assets/plotly-<v>.min.js   plotly.js, once for every page (a browser keeps it)
      ja/index.html              the whole atlas for the default view (every year, region, kind and
                                 organisation): numbers, organisations, map, timeline, membership,
                                 comparison, sources (the briefing pack's template: outputs.briefing)
      ja/map.html                the map, as large as the window
      ja/map-view.html           the map's own page (dashboard.atlasmap.builder.standalone_html: Leaflet,
                                 the outline and the points inlined), framed by the two pages above
      ja/scenes/index.html       the scenes in order, and one page per scene (its view, prev/next), with
      ja/scenes/<id>.html        the scene's map as ``<id>-map.html`` where the scene shows a map
      en/...                     the same in English (and in any other language of the catalogues)

The scenes are the atlas's own (``atlas.scenes``: the data folder's ``scenes.yaml``, read and checked
by dashboard.core.data as for the app and the scenes pack, README "Presenting"): a scene the app
would leave out is left out here too, and ``python -m dashboard site`` says why, naming the file, the
scene and the field; the other scenes are built.

Every page's Content-Security-Policy lets it load only the site's own files. The site is written
into a new folder beside the target and swapped in at the end: a failed build leaves the old site
as it was.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from dashboard.atlasmap.builder import standalone_html
from dashboard.core import paths
from dashboard.core.data import Atlas
from dashboard.core.filters import YEAR_MAX, YEAR_MIN, Filters, scene_filters, scene_view, select
from dashboard.core.safety import Markup, style_code
from dashboard.core.schema import Scene
from dashboard.core.text import LANGS, language_name, pick, t
from dashboard.outputs.briefing import (
    STYLESHEET,
    Link,
    Linked,
    _environment,
    briefing_html,
    filters_in_words,
)

INDEX_TEMPLATE = "site_index.html.j2"
# What a scene of each page shows (sections of the briefing template).
# (Its filters are said in one line under the scene's title.)
SCENE_SECTIONS: dict[str, tuple[str, ...]] = {
    "overview": ("numbers", "organisations"),
    "map": ("map",),
    "timeline": ("timeline",),
    "membership": ("membership",),
    "compare": ("compare",),
    "sources": ("sources",),
}


@dataclass
class SiteReport:
    out: Path
    pages: list[str] = field(default_factory=list)  # relative paths of the HTML pages written
    files: int = 0
    bytes: int = 0
    scenes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    compressed_bytes: int = 0  # the .gz files beside pages and scripts


# ---------------------------------------------------------------------------------- pages
def plotly_file() -> tuple[str, Path]:
    """(file name in the site, source) of the plotly.js bundled with the plotly package."""
    import plotly

    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return f"plotly-{plotly.__version__}.min.js", source


COMPRESSED = (".html", ".js")  # written beside as .gz too: a server that can (nginx's gzip_static) sends it


@dataclass
class _Writer:
    root: Path
    report: SiteReport
    compress: bool = True

    def write(self, rel: str, text: str) -> None:
        self._bytes(rel, text.encode("utf-8"))
        if rel.endswith(".html"):
            self.report.pages.append(rel)

    def copy(self, rel: str, source: Path) -> None:
        self._bytes(rel, source.read_bytes())

    def _bytes(self, rel: str, data: bytes) -> None:
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.report.files += 1
        self.report.bytes += len(data)
        if self.compress and rel.endswith(COMPRESSED) and len(data) >= 1024:
            packed = gzip.compress(data, compresslevel=9, mtime=0)
            target.with_name(target.name + ".gz").write_bytes(packed)
            self.report.compressed_bytes += len(packed)


def _nav(lang: str, depth: int, current: str, scenes: Sequence[Scene], other: Callable[[str], str],
         extra: Sequence[Link] = ()) -> tuple[Link, ...]:  # fmt: skip
    """The site's links from a page ``depth`` folders below the language's folder."""
    up = "../" * depth
    links = [
        Link(f"{up}../index.html", t("site_home", lang)),
        Link(f"{up}index.html", t("site_atlas", lang), current == "atlas"),
        Link(f"{up}map.html", t("page_map", lang), current == "map"),
    ]
    if scenes:
        links.append(Link(f"{up}scenes/index.html", t("site_scenes", lang), current == "scenes"))
    links += extra
    links += [Link(other(o), language_name(o), rel="alternate", hreflang=o) for o in LANGS if o != lang]
    return tuple(links)


def _scene_list_html(lang: str, scenes: Sequence[Scene], report_today: str, other) -> str:
    env = _environment()
    return env.get_template(INDEX_TEMPLATE).render(
        mode="scenes",
        lang=lang,
        css=Markup(style_code((paths.TEMPLATES_DIR / STYLESHEET).read_text(encoding="utf-8"))),
        title=f"{t('site_scenes', lang)} — {t('app_title', lang)}",
        heading=t("site_scenes", lang),
        intro=t("site_scenes_intro", lang),
        generated=report_today,
        labels={
            "generated": t("briefing_generated", lang),
            "site_nav": t("site_nav", lang),
            "footer": t("briefing_footer", lang),
        },
        nav=_nav(lang, 1, "scenes", scenes, other),
        scenes=[
            {
                "href": f"{s.id}.html",
                "title": pick(s.title_ja, s.title_en, lang),
                "page": t(f"page_{s.page}", lang),
                "number": t("site_scene_number", lang, n=i, total=len(scenes)),
            }
            for i, s in enumerate(scenes, start=1)
        ],
        languages=[],
    )


def _index_html(scenes: Sequence[Scene], today: str) -> str:
    """The site's front page: every language with its pages (each block in its own language)."""
    first = LANGS[0]
    blocks = []
    for lang in LANGS:
        links = [(f"{lang}/index.html", t("site_atlas", lang)), (f"{lang}/map.html", t("page_map", lang))]
        if scenes:
            links.append((f"{lang}/scenes/index.html", t("site_scenes_count", lang, n=len(scenes))))
        blocks.append({"lang": lang, "name": language_name(lang), "title": t("app_title", lang),
                       "subtitle": t("app_subtitle", lang), "intro": t("site_intro", lang),
                       "links": links})  # fmt: skip
    return (
        _environment()
        .get_template(INDEX_TEMPLATE)
        .render(
            mode="index",
            lang=first,
            css=Markup(style_code((paths.TEMPLATES_DIR / STYLESHEET).read_text(encoding="utf-8"))),
            title=" / ".join(dict.fromkeys(t("app_title", lang) for lang in LANGS)),
            heading=None,
            intro=None,
            generated=today,
            labels={
                "generated": t("briefing_generated", first),
                "site_nav": t("site_nav", first),
                "footer": t("briefing_footer", first),
            },
            nav=(),
            scenes=[],
            languages=blocks,
        )
    )


def build_site(
    out: Path,
    atlas: Atlas,
    *,
    scenes: Sequence[Scene] = (),
    today: date | None = None,
    compress: bool = True,
    log: Callable[[str], None] | None = None,
) -> SiteReport:
    """Write the static site into ``out`` (replacing what was there only once all of it is written).
    ``compress``: a ``.gz`` beside every page and script (for servers that send those as they are)."""
    out = Path(out).resolve()
    report = SiteReport(out=out, scenes=[s.id for s in scenes])
    day = (today or date.today()).isoformat()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        w = _Writer(work, report, compress)
        plotly_name, plotly_source = plotly_file()
        w.copy(f"assets/{plotly_name}", plotly_source)
        for lang in LANGS:
            if log:
                log(f"  {lang}: the atlas, the map" + (f" and {len(scenes)} scenes" if scenes else ""))
            sel = select(atlas, Filters(lang=lang))
            base = f"{lang}/"
            w.write(
                base + "map-view.html", standalone_html(sel.points, lang=lang, atlas=atlas, basemap=False)
            )
            for name, current, linked_extra in (
                ("index.html", "atlas", {}),
                ("map.html", "map", {"sections": ("map",), "full_map": True,
                                     "heading": f"{t('page_map', lang)} — {t('app_title', lang)}"}),
            ):  # fmt: skip
                linked = Linked(
                    plotly_src=f"../assets/{plotly_name}",
                    map_src="map-view.html",
                    nav=_nav(lang, 0, current, scenes, lambda o, n=name: f"../{o}/{n}"),
                    **linked_extra,
                )
                w.write(base + name, briefing_html(atlas, sel, lang=lang, today=today, linked=linked))
            if scenes:
                w.write(
                    base + "scenes/index.html",
                    _scene_list_html(lang, scenes, day, lambda o: f"../../{o}/scenes/index.html"),
                )
            for i in range(len(scenes)):
                _write_scene(w, atlas, scenes, i, lang, plotly_name, today)
        w.write("index.html", _index_html(scenes, day))
        _swap_in(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return report


def _write_scene(w: _Writer, atlas: Atlas, scenes: Sequence[Scene], i: int, lang: str, plotly_name: str,
                 today: date | None) -> None:  # fmt: skip
    scene = scenes[i]
    sel = select(atlas, scene_filters(scene, lang, present=False))
    base = f"{lang}/scenes/"
    sections = SCENE_SECTIONS[scene.page]
    map_src = None
    if "map" in sections and not sel.points.empty:
        view = scene_view(scene)
        page = standalone_html(sel.points, lang=lang, atlas=atlas, basemap=False, view=view)
        map_src = f"{scene.id}-map.html"
        w.write(base + map_src, page)
    extra = []
    if i > 0:
        extra.append(Link(f"{scenes[i - 1].id}.html", t("site_prev", lang), rel="prev"))
    if i + 1 < len(scenes):
        extra.append(Link(f"{scenes[i + 1].id}.html", t("site_next", lang), rel="next"))
    counter = t("site_scene_number", lang, n=i + 1, total=len(scenes))
    chosen = [
        t("site_filter_item", lang, what=what, value=value)
        for what, value in filters_in_words(atlas, sel.filters, lang)
        if value not in (t("briefing_all", lang), t("briefing_year_all", lang, lo=YEAR_MIN, hi=YEAR_MAX))
    ]
    linked = Linked(
        plotly_src=f"../../assets/{plotly_name}",
        map_src=map_src,
        nav=_nav(lang, 1, "scene", scenes, lambda o: f"../../{o}/scenes/{scene.id}.html", extra),
        sections=sections,
        heading=pick(scene.title_ja, scene.title_en, lang),
        lead=" — ".join(filter(None, (counter, t("list_sep", lang).join(chosen)))),
        notes=pick(scene.notes_ja, scene.notes_en, lang) or None,
        full_map=scene.page == "map",
    )
    w.write(base + f"{scene.id}.html", briefing_html(atlas, sel, lang=lang, today=today, linked=linked))


def _swap_in(work: Path, out: Path) -> None:
    """Put the finished folder ``work`` where ``out`` is, keeping ``out`` until then."""
    work.chmod(0o755)  # mkdtemp's folder is private; a web server reads the site as another user
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
    try:
        work.rename(out)
    except BaseException:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
