"""The overview as CSV and XLSX for the APV: one line per unit, figure, series and category,
with the same suppression as the page (the export only writes what the Overview holds, and
a suppressed cell has no value there). A hidden figure is written as "–" with "ja" in the
column "Skjult", and a legend line says why; the headers are in the viewer's language.

CSV is UTF-8 with a byte order mark (so Excel shows æøå) and ``;`` between fields, as Danish
Excel expects; Danish numbers have a decimal comma.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import xlsxwriter

from core.overview_model import Cell, Overview
from core.texts import Texts, texts_for

_COLUMNS = ("unit", "figure", "series", "category", "value", "measure", "hidden")


def _lines(overview: Overview, t: Texts) -> Iterator[tuple[str, str, str, str, Cell, str]]:
    """(unit, figure, series, category, cell, measure) for every published cell."""
    for unit in overview.units:
        yield (
            unit.label,
            t("overview.export.people"),
            "",
            "",
            unit.people,
            t("overview.export.count"),
        )
        for figure in unit.figures:
            measure = t(f"overview.export.{figure.measure}")
            for series in figure.series:
                for category, cell in zip(figure.categories, series.cells, strict=True):
                    yield unit.label, figure.title, series.label, category, cell, measure


def _head(overview: Overview, t: Texts) -> list[list[str]]:
    return [
        [t("overview.export.title")],
        [t("overview.export.period"), overview.period.label],
        [t("overview.export.legend", k=overview.k)],
        [],
        [t(f"overview.export.{c}") for c in _COLUMNS],
    ]


def _number(value: float, locale: str) -> str:
    text = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
    return text.replace(".", ",") if locale == "da-DK" else text


def overview_csv(overview: Overview) -> bytes:
    t = texts_for(overview.locale)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows(_head(overview, t))
    for unit, figure, series, category, cell, measure in _lines(overview, t):
        shown = (
            t("overview.export.mark")
            if cell.value is None
            else _number(cell.value, overview.locale)
        )
        hidden = t("overview.export.hidden_yes" if cell.suppressed else "overview.export.hidden_no")
        writer.writerow([unit, figure, series, category, shown, measure, hidden])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def overview_xlsx(overview: Overview) -> bytes:
    t = texts_for(overview.locale)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(t("overview.export.sheet"))
    bold = book.add_format({"bold": True})
    number = book.add_format({"num_format": "0.0"})  # Excel shows its own decimal sign
    whole = book.add_format({"num_format": "0"})
    row = 0
    for n, line in enumerate(_head(overview, t)):
        sheet.write_row(row, 0, line, bold if n in (0, 4) else None)
        row += 1
    for unit, figure, series, category, cell, measure in _lines(overview, t):
        sheet.write_row(row, 0, [unit, figure, series, category])
        if cell.value is None:
            sheet.write_string(row, 4, t("overview.export.mark"))
        else:
            sheet.write_number(
                row, 4, cell.value, whole if cell.value == int(cell.value) else number
            )
        hidden = t("overview.export.hidden_yes" if cell.suppressed else "overview.export.hidden_no")
        sheet.write_row(row, 5, [measure, hidden])
        row += 1
    sheet.set_column(0, 3, 28)
    sheet.set_column(4, 6, 14)
    book.close()
    return out.getvalue()
