"""Exports: the reports a caller may see, filtered, as PDF summary, XLSX, CSV (with HXL), GeoJSON, KML.

Modules: `filters` (the one filter model), `records` (typed rows and their HXL columns),
`summary` (running totals), one writer per format (`csv_hxl`, `geojson`, `kml`, `xlsx`, `pdf`
with `pdf_charts` and `pdf_text`), `formats` (name -> writer), `i18n` (the formats' words),
Generated records for benchmarks and tests live in ``tests/synthetic_reports.py``. Writers take an iterable of report
records that the access policy has already filtered and redacted; they never query anything.
Import from the modules themselves (``from peacewatch.server.exports.formats import render``):
this package file imports nothing, so loading the CLI or the server does not load the writers.
"""
