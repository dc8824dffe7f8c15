"""PLACEHOLDER (replaced by part A at merge): the overview as CSV and XLSX, one row a cell."""

from __future__ import annotations

import csv
import io

import xlsxwriter  # type: ignore[import-untyped]

from core.overview_model import Overview


def _rows(overview: Overview) -> list[list[str]]:
    rows = [["period", "unit", "figure", "series", "category", "value"]]
    for unit in overview.units:
        for figure in unit.figures:
            for series in figure.series:
                for category, cell in zip(figure.categories, series.cells, strict=True):
                    value = "" if cell.suppressed or cell.value is None else f"{cell.value:g}"
                    rows.append(
                        [
                            overview.period.key,
                            unit.label,
                            figure.title,
                            series.label,
                            category,
                            value,
                        ]
                    )
    return rows


def overview_csv(overview: Overview) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(_rows(overview))
    return out.getvalue().encode("utf-8-sig")


def overview_xlsx(overview: Overview) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("APV")
    for r, row in enumerate(_rows(overview)):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return out.getvalue()
