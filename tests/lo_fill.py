"""Run by the system Python: fill templates in LibreOffice Calc the way a person does.

Usage: python3 lo_fill.py JOBS.json PROFILE_DIR  →  prints results as JSON.

Each job: {"template", "output", "filter", "type": [[cell, text], …],
"locked": cell, "paste": [[cell, text], …], "area": [rows, cols]}.

- Values are entered with setFormula(), which LibreOffice parses exactly as keyboard
  input (numbers, dates, text). Keyboard entry proper (the dispatcher's EnterString)
  makes LibreOffice 7.4 headless abort on its next idle cycle, so it is used only
  for the one thing that needs it: typing into the "locked" cell, in a fresh office,
  to prove that protection refuses it.
- The cells LibreOffice holds unlocked within "area" are reported.
- "paste" sets text over a validated cell, as a paste does.
- LibreOffice's own validity check (Tools ▸ Detective ▸ Mark Invalid Data) then
  reports which cells it holds invalid.
"""
import json
import sys

from lo_uno import load, office, prop


def fill(desktop, ctx, job):
    doc = load(desktop, job["template"])
    sheet = doc.Sheets.getByName("填報表")
    controller = doc.getCurrentController()
    controller.setActiveSheet(sheet)
    for ref, text in job["type"]:
        sheet.getCellRangeByName(ref).setFormula(text)
    rows, cols = job["area"]
    unlocked = [[r, c] for r in range(rows) for c in range(cols)
                if not sheet.getCellByPosition(c, r).CellProtection.IsLocked]
    for ref, text in job.get("paste", []):
        sheet.getCellRangeByName(ref).setString(text)
    sheet.showInvalid()
    invalid = sorted(shape.Anchor.AbsoluteName.replace("$", "").split(".")[-1]
                     for shape in sheet.DrawPage if shape.ShapeType.endswith("EllipseShape"))
    sheet.clearArrows()
    protected = sheet.isProtected()
    import uno
    doc.storeToURL(uno.systemPathToFileUrl(job["output"]), (prop("FilterName", job["filter"]),))
    doc.close(True)
    return {"invalid": invalid, "protected": protected, "unlocked": unlocked}


def refuses(desktop, ctx, path, ref):
    """Type into a locked cell of the saved file; True when nothing changed. LibreOffice
    7.4 headless dies on the next call after such a refusal, so this runs last, alone."""
    doc = load(desktop, path)
    sheet = doc.Sheets.getByName("填報表")
    controller = doc.getCurrentController()
    controller.setActiveSheet(sheet)
    before = sheet.getCellRangeByName(ref).String
    controller.select(sheet.getCellRangeByName(ref))
    dispatch = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.DispatchHelper", ctx)
    dispatch.executeDispatch(controller.getFrame(), ".uno:EnterString", "", 0,
                             (prop("StringName", "這裡不該能輸入"),))
    return sheet.getCellRangeByName(ref).String == before


def main(jobs_path, profile):
    with open(jobs_path, encoding="utf-8") as fh:
        jobs = json.load(fh)
    with office(profile) as (desktop, ctx):
        results = [fill(desktop, ctx, job) for job in jobs]
    for job, result in zip(jobs, results):
        for attempt in (1, 2):  # the abort that follows a refusal can, rarely, come first
            try:
                with office(profile) as (desktop, ctx):
                    result["refused"] = refuses(desktop, ctx, job["output"], job["locked"])
                break
            except Exception:
                if attempt == 2:
                    raise
        # the office may abort as it shuts down after the refusal: that is expected
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
