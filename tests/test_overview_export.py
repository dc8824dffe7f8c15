"""The APV export: CSV that Danish Excel opens (BOM, semicolons) and XLSX, both with exactly
the overview's cells, the hidden ones marked "–" with a legend, headers in the viewer's
language."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime
from xml.etree import ElementTree

import pytest

from core.overview import Counts, build_overview, parse_period, weeks_in
from core.overview_export import overview_csv, overview_xlsx

TODAY = date(2026, 12, 2)
NS = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def overview(locale: str = "da-DK"):
    counts = Counts(
        unit_names={"ældreplejen": "Ældreplejen", "lille": "Lille", "hjemmeplejen": "Hjemmeplejen"}
    )
    for unit, people, approved, conditions in (
        ("ældreplejen", 40, 30, 10),
        ("hjemmeplejen", 25, 21, 4),  # 4 is below k
        ("lille", 2, 2, 0),
    ):
        counts.people[unit] = people
        counts.decisions[(unit, "approved")] = approved
        counts.decisions[(unit, "approved_with_conditions")] = conditions
        counts.self_checks[unit] = people
        counts.self_check_problems[(unit, "T3")] = people // 4
    period = parse_period("2026-11", locale)
    return build_overview(
        counts,
        period=period,
        weeks=weeks_in(period, TODAY),
        visible=None,
        locale=locale,
        k=5,
        generated_at=datetime(2026, 12, 2, tzinfo=UTC),
    )


def cells(result):
    return [
        (u.label, f.title, s.label, c, cell)
        for u in result.units
        for f in u.figures
        for s in f.series
        for c, cell in zip(f.categories, s.cells, strict=True)
    ]


def test_the_csv_opens_in_danish_excel_and_holds_exactly_the_overviews_cells():
    result = overview()
    data = overview_csv(result)
    assert data.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == ["Hjemmearbejde: anonymt overblik til APV'en"]
    assert lines[1] == ["Periode", "november 2026"]
    assert "færre end 5 personer" in lines[2][0] and lines[2][0].startswith("–")
    assert lines[4] == ["Enhed", "Figur", "Serie", "Kategori", "Tal", "Enhed for tallet", "Skjult"]
    body = lines[5:]
    people = [row for row in body if row[1] == "Medarbejdere"]
    assert [(r[0], r[4], r[6]) for r in people] == [
        # The smallest other unit is hidden too, or 67 - 40 would give Lille's 2.
        ("Hjemmeplejen", "–", "ja"),
        ("Lille", "–", "ja"),
        ("Ældreplejen", "40", "nej"),
        ("Hele kommunen", "67", "nej"),
    ]
    figures = [row for row in body if row[1] != "Medarbejdere"]
    expected = cells(result)
    assert len(figures) == len(expected)
    for row, (unit, title, series, category, cell) in zip(figures, expected, strict=True):
        assert row[:4] == [unit, title, series, category]
        if cell.suppressed:
            assert row[4:] == ["–", row[5], "ja"]
        else:
            assert row[6] == "nej" and float(row[4].replace(",", ".")) == cell.value
    hidden = [r for r in figures if r[6] == "ja"]
    assert len(hidden) == sum(c[4].suppressed for c in expected) > 0
    # A Danish share has a decimal comma.
    share = next(r for r in figures if r[0] == "Hele kommunen" and r[3] == "Teknik")
    assert share[4] == "23,9" and share[5] == "procent"
    assert not any("Lille" == r[0] for r in figures), "a unit below k has no figures at all"


def test_an_english_viewer_gets_english_headers():
    lines = list(
        csv.reader(io.StringIO(overview_csv(overview("en-US")).decode("utf-8-sig")), delimiter=";")
    )
    assert lines[4] == [
        "Unit",
        "Figure",
        "Series",
        "Category",
        "Figure value",
        "Measured as",
        "Hidden",
    ]
    assert lines[1] == ["Period", "November 2026"]
    assert any(r[4] == "–" and r[6] == "yes" for r in lines[5:])
    share = next(r for r in lines[5:] if r[0] == "The whole municipality" and r[3] == "Technology")
    assert share[4] == "23.9"


def sheet_rows(data: bytes) -> list[list[str]]:
    """The first sheet's rows as text, shared strings resolved."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        assert book.testzip() is None
        shared = [
            "".join(t.text or "" for t in si.iter(f"{{{NS['x']}}}t"))
            for si in ElementTree.fromstring(book.read("xl/sharedStrings.xml")).findall("x:si", NS)
        ]
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
        names = ElementTree.fromstring(book.read("xl/workbook.xml"))
        assert [s.get("name") for s in names.iter(f"{{{NS['x']}}}sheet")] == ["Overblik"]
    out = []
    for row in sheet.iter(f"{{{NS['x']}}}row"):
        values = {}
        for c in row.findall("x:c", NS):
            column = re.match(r"[A-Z]+", c.get("r", "")).group(0)
            v = c.find("x:v", NS)
            text = "" if v is None else v.text or ""
            values[column] = shared[int(text)] if c.get("t") == "s" else text
        out.append([values.get(col, "") for col in "ABCDEFG"])
    return out


def test_the_xlsx_opens_and_its_sheet_marks_the_hidden_cells():
    result = overview()
    rows = sheet_rows(overview_xlsx(result))
    assert rows[0][0] == "Hjemmearbejde: anonymt overblik til APV'en"
    assert rows[3] == ["Enhed", "Figur", "Serie", "Kategori", "Tal", "Enhed for tallet", "Skjult"]
    body = rows[4:]
    expected = cells(result)
    figures = [r for r in body if r[1] != "Medarbejdere"]
    assert len(figures) == len(expected)
    for row, (unit, _title, _series, _category, cell) in zip(figures, expected, strict=True):
        assert row[0] == unit
        if cell.suppressed:
            assert (row[4], row[6]) == ("–", "ja")
        else:
            assert (float(row[4]), row[6]) == (cell.value, "nej")
    assert sum(r[6] == "ja" for r in figures) == sum(c[4].suppressed for c in expected)


@pytest.mark.parametrize("export", [overview_csv, overview_xlsx])
def test_the_export_holds_no_hidden_value_anywhere(export):
    result = overview()
    data = export(result)
    # "Lille" has 2 people; the figure 4 (Hjemmeplejen's conditions) is below k: neither
    # number may appear as a value in any form.
    text = (
        data.decode("utf-8-sig")
        if export is overview_csv
        else "\n".join(";".join(r) for r in sheet_rows(data))
    )
    values = [
        line.split(";")[4] for line in text.splitlines()[5 if export is overview_csv else 4 :]
    ]
    assert "2" not in values and "4" not in values
