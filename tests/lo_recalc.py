"""Run by the system Python (which has LibreOffice's `uno`): open a workbook in
LibreOffice headless, recalculate everything, and print every formula cell's
value as JSON: {"sheet!A1": value}. Usage: python3 lo_recalc.py BOOK.xlsx PROFILE_DIR"""
import json
import os
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.table.CellContentType import FORMULA


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main(path, profile):
    pipe = f"xltool{os.getpid()}"
    office = subprocess.Popen(["soffice", "--headless", "--invisible", "--norestore",
                               "--nologo", f"-env:UserInstallation=file://{profile}",
                               f"--accept=pipe,name={pipe};urp;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(240):
            try:
                ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.25)
        else:
            raise SystemExit("LibreOffice did not start")
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(path)),
                                           "_blank", 0, (prop("Hidden", True),))
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
    finally:
        try:
            desktop.terminate()
        except Exception:
            pass
        try:
            office.wait(timeout=30)
        except subprocess.TimeoutExpired:
            office.kill()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
