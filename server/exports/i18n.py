"""The export formats' own words in English, French and Arabic (headers, PDF titles, status names).

Category names come from the shared taxonomy, not from here. This small catalogue exists because
``peacewatch.common.i18n`` has no export strings yet; when it gains them, `text` is the one place
to point at it. Arabic strings are logical-order Unicode: shaping and right-to-left ordering are
done by the PDF writer (`peacewatch.server.exports.pdf_text`), spreadsheets handle it themselves.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["en", "fr", "ar"]
LANGS: tuple[Lang, ...] = ("en", "fr", "ar")

__all__ = ["LANGS", "Lang", "check_lang", "text"]

_CATALOG: dict[str, tuple[str, str, str]] = {
    # column headers (en, fr, ar)
    "col.id": ("Report ID", "ID du rapport", "معرّف التقرير"),
    "col.kind": ("Kind", "Type de rapport", "نوع التقرير"),
    "col.category": ("Category", "Catégorie", "الفئة"),
    "col.category_code": ("Category code", "Code de catégorie", "رمز الفئة"),
    "col.event_time": ("Event time (UTC)", "Heure de l'événement (UTC)", "وقت الحدث (UTC)"),
    "col.dtg": ("DTG", "GDH", "مجموعة التاريخ والوقت"),
    "col.received_at": ("Received (UTC)", "Reçu (UTC)", "وقت الاستلام (UTC)"),
    "col.lat": ("Latitude", "Latitude", "خط العرض"),
    "col.lon": ("Longitude", "Longitude", "خط الطول"),
    "col.mgrs": ("MGRS", "MGRS", "MGRS"),
    "col.precision_m": ("Precision (m)", "Précision (m)", "الدقة (م)"),
    "col.place": ("Place", "Lieu", "المكان"),
    "col.title": ("Title", "Titre", "العنوان"),
    "col.description": ("Description", "Description", "الوصف"),
    "col.severity": ("Severity", "Gravité", "الخطورة"),
    "col.killed": ("Killed", "Tués", "القتلى"),
    "col.injured": ("Injured", "Blessés", "الجرحى"),
    "col.abducted": ("Abducted", "Enlevés", "المختطفون"),
    "col.displaced": ("Displaced", "Déplacés", "النازحون"),
    "col.contingent": ("Contingent", "Contingent", "الوحدة"),
    "col.reporter": ("Reporter (pseudonym)", "Rapporteur (pseudonyme)", "المُبلِّغ (اسم مستعار)"),
    "col.perpetrator": ("Perpetrator", "Auteur présumé", "الجاني"),
    "col.patrol_type": ("Patrol type", "Type de patrouille", "نوع الدورية"),
    "col.start_time": ("Start (UTC)", "Début (UTC)", "البداية (UTC)"),
    "col.end_time": ("End (UTC)", "Fin (UTC)", "النهاية (UTC)"),
    "col.route_points": ("Route points", "Points d'itinéraire", "نقاط المسار"),
    "col.nil_report": ("Nil report", "Rapport néant", "تقرير لا شيء"),
    "col.observations": ("Observations", "Observations", "الملاحظات"),
    "col.victims": ("Victims", "Victimes", "الضحايا"),
    "col.witnesses": ("Witnesses", "Témoins", "الشهود"),
    "col.alleged_perpetrators": ("Alleged perpetrators", "Auteurs présumés", "الجناة المزعومون"),
    "col.review_status": ("Review status", "Statut de vérification", "حالة المراجعة"),
    "col.confidentiality": ("Confidentiality", "Confidentialité", "السرية"),
    "col.in_conflict": ("In conflict", "En conflit", "متعارض"),
    "col.version_id": ("Version", "Version", "الإصدار"),
    "col.attachments": ("Attachments", "Pièces jointes", "المرفقات"),
    "col.language": ("Language", "Langue", "اللغة"),
    # kinds
    "kind.incident": ("Incident", "Incident", "حادث"),
    "kind.patrol": ("Patrol", "Patrouille", "دورية"),
    "kind.hr_concern": ("Human-rights concern", "Préoccupation droits de l'homme", "قضية حقوق الإنسان"),
    # review statuses
    "status.unreviewed": ("Unreviewed", "Non vérifié", "غير مُراجَع"),
    "status.verified": ("Verified", "Vérifié", "مُتحقَّق منه"),
    "status.rejected": ("Rejected", "Rejeté", "مرفوض"),
    "status.needs_information": ("Needs information", "Informations requises", "يحتاج معلومات"),
    # confidentiality
    "conf.public": ("Public", "Public", "عام"),
    "conf.mission": ("Mission", "Mission", "البعثة"),
    "conf.restricted": ("Restricted", "Restreint", "مقيّد"),
    # summary and PDF
    "doc.title": ("Protection of civilians: report summary", "Protection des civils : synthèse des rapports",
                  "حماية المدنيين: ملخص التقارير"),
    "doc.generated": ("Generated", "Généré le", "أُنشئ في"),
    "doc.period": ("Period", "Période", "الفترة"),
    "doc.filters": ("Filters", "Filtres", "عوامل التصفية"),
    "doc.no_filters": ("none (everything you may see)", "aucun (tout ce que vous pouvez voir)",
                       "لا شيء (كل ما يمكنك رؤيته)"),
    "doc.total": ("Reports", "Rapports", "التقارير"),
    "doc.by_category": ("By category", "Par catégorie", "حسب الفئة"),
    "doc.by_contingent": ("By contingent", "Par contingent", "حسب الوحدة"),
    "doc.by_severity": ("By severity", "Par gravité", "حسب الخطورة"),
    "doc.by_kind": ("By kind", "Par type", "حسب النوع"),
    "doc.count": ("Count", "Nombre", "العدد"),
    "doc.trend": ("Reports per week", "Rapports par semaine", "التقارير أسبوعيًا"),
    "doc.week": ("Week starting", "Semaine du", "الأسبوع الذي يبدأ"),
    "doc.map": ("Map of reports and hotspots", "Carte des rapports et points chauds",
                "خريطة التقارير والبؤر الساخنة"),
    "doc.map_reports": ("Map of reports", "Carte des rapports", "خريطة التقارير"),
    "doc.casualties": ("Casualties in the period", "Victimes sur la période", "الضحايا خلال الفترة"),
    "doc.hotspot_bins": ("Hotspot confidence", "Confiance du point chaud", "ثقة البؤرة"),
    "doc.reports_table": ("Reports", "Rapports", "التقارير"),
    "doc.table_truncated": ("Showing the {shown} most recent of {total} reports; the XLSX or CSV export has them all.",
                            "Affichage des {shown} rapports les plus récents sur {total} ; l'export XLSX ou CSV les contient tous.",
                            "عرض أحدث {shown} من أصل {total} تقريرًا؛ تصدير XLSX أو CSV يحتويها كلها."),
    "doc.no_reports": ("No reports match these filters.", "Aucun rapport ne correspond à ces filtres.",
                       "لا توجد تقارير مطابقة لعوامل التصفية هذه."),
    "doc.page": ("Page", "Page", "صفحة"),
    "doc.unknown": ("unknown", "inconnu", "غير معروف"),
    "doc.none": ("(none)", "(aucun)", "(لا شيء)"),
    "doc.summary": ("Summary", "Synthèse", "ملخص"),
    "doc.hot": ("hot", "chaud", "ساخن"),
    "doc.cold": ("cold", "froid", "بارد"),
    "doc.response": ("Alert response times", "Délais de réponse aux alertes", "أزمنة الاستجابة للإنذارات"),
    "doc.response_note": ("Minutes from an alert being raised to its acknowledgement and to its first action "
                          "(median and 90th percentile), over the alerts you may see raised since {since}.",
                          "Minutes entre la levée d'une alerte et son accusé de réception, puis sa première action "
                          "(médiane et 90e centile), pour les alertes que vous pouvez voir levées depuis {since}.",
                          "الدقائق من إطلاق الإنذار حتى تأكيد استلامه وحتى أول إجراء (الوسيط والمئين التسعون)، "
                          "للإنذارات التي يمكنك رؤيتها والمطلقة منذ {since}."),
    "doc.response_all_time": ("the first alert", "la première alerte", "أول إنذار"),
    "doc.response_by_rule": ("By rule", "Par règle", "حسب القاعدة"),
    "doc.response_by_contingent": ("By contingent", "Par contingent", "حسب الوحدة"),
    "doc.no_alerts": ("No alert you may see was raised in the period.",
                      "Aucune alerte visible pour vous n'a été levée sur la période.",
                      "لم يُطلق خلال الفترة أي إنذار يمكنك رؤيته."),
    "col.rule": ("Rule", "Règle", "القاعدة"),
    "col.alerts": ("Alerts", "Alertes", "الإنذارات"),
    "col.unacknowledged": ("Unacknowledged", "Sans accusé", "غير مؤكَّدة"),
    "col.ack_median": ("To acknowledge, median (min)", "Accusé, médiane (min)", "حتى التأكيد، الوسيط (دقيقة)"),
    "col.ack_p90": ("To acknowledge, p90 (min)", "Accusé, 90e centile (min)", "حتى التأكيد، المئين 90 (دقيقة)"),
    "col.action_median": ("To first action, median (min)", "Première action, médiane (min)",
                          "حتى أول إجراء، الوسيط (دقيقة)"),
    "col.action_p90": ("To first action, p90 (min)", "Première action, 90e centile (min)",
                       "حتى أول إجراء، المئين 90 (دقيقة)"),
    "doc.yes": ("yes", "oui", "نعم"),
    "doc.no": ("no", "non", "لا"),
}

_INDEX = {"en": 0, "fr": 1, "ar": 2}


def check_lang(lang: str) -> Lang:
    """The language code if exports speak it, else a ValueError naming the field."""
    if lang not in _INDEX:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang  # type: ignore[return-value]


def text(key: str, lang: str = "en", **values: object) -> str:
    """The string for `key` in `lang`, with ``{name}`` placeholders filled from `values`."""
    template = _CATALOG[key][_INDEX[check_lang(lang)]]
    return template.format(**values) if values else template
