"""Run by the system Python: type into cells of the 填報表 as Calc's keyboard input does,
and report what Calc shows. Usage: python3 lo_cells.py JOBS.json PROFILE_DIR → JSON.

Each job: {"path", "sheet" (default 填報表), "type": [[cell, text], …], "read": [cell, …],
"output", "filter"}.
For each job the result is {"shown": {cell: text shown}, "values": {cell: number or
null when text}, "invalid": [cells Calc's validity check marks]}.

Typing: Calc reads what is typed with the number formatter of the cell's own format
(its language decides, e.g. zh-TW reads 115/07/01 as year/month/day), which is
``XNumberFormatter.convertStringToNumber`` with the cell's format key; what it cannot
read as a number stays text. (setFormula, which lo_fill.py uses, reads as en-US
whatever the cell's format; the dispatcher's EnterString, the keyboard itself, gives
the same results as this for the dates tested here, but makes LibreOffice 7.4
headless abort on its next idle cycle, see lo_fill.py.)
"""
import json
import sys

import uno
from lo_uno import load, office, prop


def typed(formatter, cell, text):
    try:
        cell.setValue(formatter.convertStringToNumber(cell.NumberFormat, text))
    except Exception:  # not a number in this cell's format: Calc keeps the text
        cell.setString(text)


def run(desktop, ctx, job):
    formatter = ctx.ServiceManager.createInstanceWithContext("com.sun.star.util.NumberFormatter", ctx)
    doc = load(desktop, job["path"])
    formatter.attachNumberFormatsSupplier(doc)
    sheet = doc.Sheets.getByName(job.get("sheet", "填報表"))
    doc.getCurrentController().setActiveSheet(sheet)
    for ref, text in job.get("type", []):
        typed(formatter, sheet.getCellRangeByName(ref), text)
    cells = [ref for ref, _ in job.get("type", [])] + job.get("read", [])
    shown = {ref: sheet.getCellRangeByName(ref).String for ref in cells}
    values = {ref: (sheet.getCellRangeByName(ref).Value
                    if sheet.getCellRangeByName(ref).Type.value == "VALUE" else None)
              for ref in cells}
    sheet.showInvalid()
    invalid = sorted(shape.Anchor.AbsoluteName.replace("$", "").split(".")[-1]
                     for shape in sheet.DrawPage if shape.ShapeType.endswith("EllipseShape"))
    sheet.clearArrows()
    if job.get("output"):
        doc.storeToURL(uno.systemPathToFileUrl(job["output"]), (prop("FilterName", job["filter"]),))
    doc.close(True)
    return {"shown": shown, "values": values, "invalid": invalid}


def main(jobs_path, profile):
    with open(jobs_path, encoding="utf-8") as fh:
        jobs = json.load(fh)
    with office(profile) as (desktop, ctx):
        results = [run(desktop, ctx, job) for job in jobs]
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
