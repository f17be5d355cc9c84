"""Run by the system Python: for each row of the given sheets, the height the file
sets and the height LibreOffice Calc finds optimal for the row's wrapped text.

Usage: python3 lo_heights.py WORKBOOK PROFILE_DIR SHEET… → JSON
{sheet: [[row (1-based), height, optimal], …]} in 1/100 mm, rows whose text is shorter
than the row left out."""
import json
import sys

from lo_uno import load, office


def heights(sheet):
    cursor = sheet.createCursor()
    cursor.gotoEndOfUsedArea(False)
    rows = sheet.getRows()
    short = []
    for r in range(cursor.getRangeAddress().EndRow + 1):
        row = rows.getByIndex(r)
        if not row.IsVisible:
            continue
        height = row.Height
        row.OptimalHeight = True
        optimal = row.Height
        if optimal > height:
            short.append([r + 1, height, optimal])
    return short


def main(path, profile, names):
    with office(profile) as (desktop, _):
        doc = load(desktop, path)
        out = {name: heights(doc.Sheets.getByName(name)) for name in names}
        doc.close(True)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
