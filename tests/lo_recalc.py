"""Run by the system Python (which has LibreOffice's `uno`): open a workbook in
LibreOffice headless, recalculate everything, and print every formula cell's
value as JSON: {"sheet!A1": value}. Usage: python3 lo_recalc.py BOOK.xlsx PROFILE_DIR"""
import json
import sys

from lo_uno import load, office  # isort: skip  (first: importing uno enables com.sun.star)

from com.sun.star.table.CellContentType import FORMULA  # noqa: E402  # isort: skip


def main(path, profile):
    with office(profile) as (desktop, _):
        doc = load(desktop, path)
        doc.calculateAll()
        out = {}
        for sheet in doc.Sheets:
            cursor = sheet.createCursor()
            cursor.gotoEndOfUsedArea(False)
            end = cursor.RangeAddress
            for r in range(end.EndRow + 1):
                for c in range(end.EndColumn + 1):
                    cell = sheet.getCellByPosition(c, r)
                    if cell.Type == FORMULA:
                        key = f"{sheet.Name}!{r},{c}"
                        out[key] = cell.String if cell.FormulaResultType2 == 2 else cell.Value
        doc.close(True)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
