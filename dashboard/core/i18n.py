"""Interface text in Japanese and English. Streamlit-free.

``t(key, lang)`` returns the text; ``t(key, lang, n=3)`` fills ``{n}``. A key missing in one language
falls back to the other, then to the key itself, so a missing translation never breaks a page.
"""

from __future__ import annotations

from typing import Any

STRINGS: dict[str, dict[str, str]] = {
    # ---------------------------------------------------------------- app and navigation
    "app_title": {"ja": "気候ネットワーク・アトラス", "en": "Climate Networks Atlas"},
    "app_subtitle": {
        "ja": "自治体と気候NGOの国際ネットワーク(1987〜2025年)",
        "en": "International networks of local governments and climate NGOs, 1987–2025",
    },
    "page_overview": {"ja": "概要", "en": "Overview"},
    "page_map": {"ja": "地図", "en": "Map"},
    "page_timeline": {"ja": "年表", "en": "Timeline"},
    "page_membership": {"ja": "会員数の推移", "en": "Membership"},
    "page_compare": {"ja": "比較", "en": "Compare"},
    "page_sources": {"ja": "出典", "en": "Sources"},
    # ---------------------------------------------------------------- sidebar filters
    "filters": {"ja": "絞り込み", "en": "Filters"},
    "filters_after_map": {
        "ja": "地図を先に描いています。絞り込みはこのあとすぐここに表示されます。",
        "en": "Drawing the map first; the filters appear here in a moment.",
    },
    "language": {"ja": "言語 / Language", "en": "Language / 言語"},
    "founding_years": {"ja": "設立年", "en": "Founding year"},
    "regions": {"ja": "地域", "en": "Regions"},
    "kinds": {"ja": "組織の種類", "en": "Kinds of organisation"},
    "organisations": {"ja": "組織", "en": "Organisations"},
    "all": {"ja": "すべて", "en": "All"},
    "reset_filters": {"ja": "絞り込みを解除", "en": "Clear filters"},
    "presentation_mode": {"ja": "プレゼンテーションモード", "en": "Presentation mode"},
    "presentation_help": {
        "ja": "サイドバーを隠し、文字を大きくします(プロジェクター向け)。URLの present=1 でも開けます。",
        "en": "Hides the sidebar and enlarges type for a projector. A link with present=1 opens it too.",
    },
    "exit_presentation": {"ja": "プレゼンテーションモードを終了", "en": "Leave presentation mode"},
    "share_link_hint": {
        "ja": "このページのURLをコピーすると、同じ絞り込みで開けます。",
        "en": "Copy this page's URL to reopen the same view.",
    },
    "year_filter_note": {
        "ja": "設立年が出典にない組織は常に表示されます。",
        "en": "Organisations whose founding date no source gives are always shown.",
    },
    "notice_unknown": {
        "ja": "リンクの中の不明な{what}を無視しました: {values}",
        "en": "Ignored unknown {what} in the link: {values}",
    },
    "what_region": {"ja": "地域", "en": "region"},
    "what_kind": {"ja": "組織の種類", "en": "kind of organisation"},
    "what_org": {"ja": "組織", "en": "organisation"},
    "what_compare": {"ja": "比較する組織", "en": "organisation to compare"},
    "notice_years_adjusted": {
        "ja": "リンクの設立年の範囲を{lo}〜{hi}年に調整しました",
        "en": "Years in the link were adjusted to {lo}–{hi}",
    },
    "notice_years_malformed": {
        "ja": "リンクの設立年の範囲が読み取れないため無視しました: {values}",
        "en": "Ignored a malformed year range in the link: {values}",
    },
    "notice_compare_four": {
        "ja": "比較できるのは4組織までです。リンクの次の組織は除きました: {values}",
        "en": "At most four organisations can be compared; left out from the link: {values}",
    },
    "notice_lang": {
        "ja": "リンクの不明な言語を無視しました: {values}",
        "en": "Ignored unknown language in the link: {values}",
    },
    "notice_present": {
        "ja": "リンクの不明なプレゼンテーション設定を無視しました: {values}",
        "en": "Ignored an unknown presentation setting in the link: {values}",
    },
    "notice_settings": {
        "ja": "リンクの不明な設定を無視しました: {values}",
        "en": "Ignored unknown setting(s) in the link: {values}",
    },
    "nothing_selected": {
        "ja": "この絞り込みに該当する組織はありません。条件を広げてください。",
        "en": "No organisation matches these filters. Widen the years, regions or kinds.",
    },
    "data_error_title": {
        "ja": "データに問題があるため、このページを表示できません。",
        "en": "This page cannot be shown because the data has problems.",
    },
    "data_error_partial": {
        "ja": "データに{n}件の問題があります。該当する行を除いて表示しています。",
        "en": "The data has {n} problem(s); the rows concerned are left out of every page.",
    },
    "data_error_fix": {
        "ja": "次の箇所を修正し、`python -m dashboard validate` で確認してください。",
        "en": "Fix the places below and check with `python -m dashboard validate`.",
    },
    "not_geocoded": {
        "ja": "{n}件の所在地にまだ座標がありません(地図に表示されません)。`python -m geocoding --offline` を実行してください。",
        "en": "{n} place(s) have no coordinates yet and are not on the map. Run `python -m geocoding --offline`.",
    },
    # ---------------------------------------------------------------- overview
    "headline_organisations": {"ja": "組織", "en": "Organisations"},
    "headline_offices": {"ja": "事務所", "en": "Offices"},
    "headline_members": {"ja": "会員都市(出典に名前のあるもの)", "en": "Member cities named in sources"},
    "headline_countries": {"ja": "国・地域", "en": "Countries and territories"},
    "headline_sources": {"ja": "出典", "en": "Sources"},
    "overview_intro": {
        "ja": "このアトラスは、5つの日本語ウェブページと、公開資料で確認した日付入りの事実から作られています。"
        "すべての数値・日付・座標に出典と時点があります。",
        "en": "This atlas is built from five Japanese web pages and dated facts checked against public "
        "sources. Every number, date and coordinate names its source and as-of date.",
    },
    "organisations_table": {"ja": "組織一覧", "en": "The organisations"},
    "col_name": {"ja": "名称", "en": "Name"},
    "col_kind": {"ja": "種類", "en": "Kind"},
    "col_founded": {"ja": "設立", "en": "Founded"},
    "col_secretariat": {"ja": "事務局", "en": "Secretariat"},
    "col_regions": {"ja": "地域", "en": "Regions"},
    "col_status": {"ja": "状況", "en": "Status"},
    "col_latest_members": {"ja": "最新の会員数", "en": "Latest membership"},
    "col_parent": {"ja": "上位組織・関係", "en": "Parent or relation"},
    "download_csv": {"ja": "絞り込んだデータをCSVでダウンロード", "en": "Download the filtered data as CSV"},
    "download_map": {"ja": "地図をHTMLでダウンロード", "en": "Download the map as HTML"},
    "download_briefing": {
        "ja": "ブリーフィング資料(1つのHTMLファイル)をダウンロード",
        "en": "Download the briefing pack (one HTML file)",
    },
    "status_active": {"ja": "活動中", "en": "Active"},
    "status_suspended": {"ja": "活動休止中", "en": "Suspended"},
    "status_merged": {"ja": "統合", "en": "Merged"},
    "status_ended": {"ja": "終了", "en": "Ended"},
    "as_of": {"ja": "時点", "en": "as of"},
    "undated": {"ja": "日付不明", "en": "undated"},
    "source": {"ja": "出典", "en": "Source"},
    # ---------------------------------------------------------------- map
    "map_caption": {
        "ja": "{n}地点(事務所{offices}・会員都市{members})。色は組織を表します。右上で組織ごとに表示を切り替えられます。",
        "en": "{n} places ({offices} offices, {members} member cities), coloured by organisation. "
        "Switch organisations on and off at the top right.",
    },
    "map_offline_note": {
        "ja": "インターネットがない場合は、国境線(Natural Earth)の上に地点を表示します。",
        "en": "With no internet the map shows the points over country outlines (Natural Earth).",
    },
    "map_click_hint": {
        "ja": "地点をクリックすると詳細がここに表示されます。",
        "en": "Click a point to see its details here.",
    },
    "map_no_points": {
        "ja": "この絞り込みでは地図に表示する地点がありません。",
        "en": "No places to show on the map for these filters.",
    },
    "details": {"ja": "詳細", "en": "Details"},
    "field_organisation": {"ja": "組織", "en": "Organisation"},
    "field_kind": {"ja": "種類", "en": "Kind"},
    "field_address": {"ja": "住所(出典の表記)", "en": "Address (as written in the source)"},
    "field_website": {"ja": "ウェブサイト", "en": "Website"},
    "field_founded": {"ja": "組織の設立年", "en": "Organisation founded"},
    "field_precision": {"ja": "座標の精度", "en": "Coordinate precision"},
    "field_source": {"ja": "出典", "en": "Source"},
    "places_table": {"ja": "地点一覧", "en": "All places shown"},
    # ---------------------------------------------------------------- timeline / membership / compare
    "timeline_caption": {
        "ja": "組織ごとの出来事(設立・名称変更・事務所・会員)と、世界の節目(縦線)。",
        "en": "Each organisation's events (founding, renames, offices, membership) and world milestones (lines).",
    },
    "events_table": {"ja": "出来事一覧", "en": "All events shown"},
    "membership_caption": {
        "ja": "日付のある会員数のみを点で示し、段で結んでいます(補間はしていません)。出典が異なる値は並べて表示します。",
        "en": "Only dated counts are drawn, as points joined by steps (nothing interpolated). "
        "Where sources disagree, both values are shown.",
    },
    "log_scale": {"ja": "対数目盛", "en": "Log scale"},
    "undated_counts": {"ja": "日付のない数値(グラフには描かれません)", "en": "Undated figures (not drawn)"},
    "membership_table": {"ja": "会員数の一覧", "en": "All counts"},
    "compare_pick": {"ja": "比較する組織(2〜4)", "en": "Organisations to compare (2 to 4)"},
    "compare_need_two": {"ja": "2つ以上の組織を選んでください。", "en": "Choose at least two organisations."},
    "compare_shared_themes": {"ja": "共通のテーマ", "en": "Shared themes"},
    "download_markdown": {"ja": "Markdownでダウンロード", "en": "Download as Markdown"},
    "download_compare_csv": {"ja": "CSVでダウンロード", "en": "Download as CSV"},
    "sources_caption": {
        "ja": "アトラスのすべての事実はここにある出典に基づきます(絞り込みにかかわらず全出典を表示)。",
        "en": "Every fact in the atlas rests on one of these sources (all of them are listed, whatever the filters).",
    },
    "disagreements": {"ja": "出典間の食い違い", "en": "Where sources disagree"},
    # figures/compare
    "fig_conflicting": {"ja": "⚠ 出典により異なる(食い違いあり)", "en": "⚠ conflicting: sources disagree"},
    "fig_hollow_conflicting": {"ja": "白抜き = 出典により異なる", "en": "hollow = sources disagree"},
    "fig_world": {"ja": "世界", "en": "World"},
    "fig_as_written": {"ja": "出典の表記", "en": "as written"},
    "fig_status": {"ja": "状態", "en": "status"},
    "fig_members_axis": {"ja": "会員数", "en": "Members"},
    "fig_no_dated_counts": {
        "ja": "日付のある会員数がありません。",
        "en": "No dated membership counts to draw.",
    },
    "fig_another_source": {"ja": "別の出典", "en": "another source"},
    "fig_since": {"ja": "から", "en": "since"},
    "status_seed": {"ja": "元ページ", "en": "seed page"},
    "status_confirmed": {"ja": "確認済み", "en": "confirmed"},
    "status_secondary": {"ja": "二次資料", "en": "secondary source"},
    "status_conflicting": {"ja": "出典により異なる", "en": "conflicting"},
    "cmp_attribute": {"ja": "項目", "en": "Attribute"},
    "cmp_name": {"ja": "正式名称", "en": "Full name"},
    "cmp_kind": {"ja": "種類", "en": "Kind"},
    "cmp_founded": {"ja": "設立(時期・場所)", "en": "Founded (when, where)"},
    "cmp_secretariat": {"ja": "事務局", "en": "Secretariat"},
    "cmp_latest_membership": {"ja": "最新の会員数", "en": "Latest membership"},
    "cmp_regions": {"ja": "活動地域", "en": "Regions"},
    "cmp_relations": {"ja": "上位組織・関係", "en": "Parent and relations"},
    "cmp_mission": {"ja": "ミッション", "en": "Mission"},
    "cmp_vision": {"ja": "ビジョン", "en": "Vision"},
    "cmp_goals": {"ja": "目標", "en": "Goals"},
    "cmp_activities": {"ja": "主な活動", "en": "Activities"},
    "cmp_unfccc": {"ja": "国連気候変動枠組条約(UNFCCC)との関係", "en": "Relation to the UNFCCC"},
    "cmp_themes": {"ja": "テーマ", "en": "Themes"},
    "cmp_shared_themes": {"ja": "共通のテーマ", "en": "Shared themes"},
    "cmp_status": {"ja": "状況", "en": "Status"},
    "cmp_website": {"ja": "ウェブサイト", "en": "Website"},
    "cmp_notes": {"ja": "注記(出典間の食い違いなど)", "en": "Notes (disagreements between sources)"},
    "cmp_sources": {"ja": "出典", "en": "Sources"},
    "cmp_atlas_translation": {"ja": "アトラス訳", "en": "atlas translation"},
}


def t(key: str, lang: str = "ja", **values: Any) -> str:
    entry = STRINGS.get(key, {})
    text = entry.get(lang) or entry.get("en" if lang == "ja" else "ja") or key
    return text.format(**values) if values else text


def pick(ja: str | None, en: str | None, lang: str) -> str:
    """The text in the chosen language, else the other one, else ''."""
    first, second = (ja, en) if lang == "ja" else (en, ja)
    return first or second or ""
