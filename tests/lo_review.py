"""Run by the system Python: type 複評 into a master's 評分 sheet in LibreOffice Calc
and save it as .xlsx (or .ods, by the output's name), as a secretariat working in
LibreOffice would.

Usage: python3 lo_review.py MASTER.xlsx OUTPUT.xlsx|OUTPUT.ods PROFILE_DIR 編號=分數 … [編號@欄名=內容 …]
(編號=分數 types into 複評; 編號@複評說明=… into the column of that header.)"""
import os
import sys

import uno
from lo_uno import load, office, prop


def main(path, output, profile, pairs):
    typed = {}  # (編號, column header) → what is typed
    for pair in pairs:
        key, value = pair.split("=", 1)
        item, _, column = key.partition("@")
        typed[(item, column or "複評")] = value
    with office(profile) as (desktop, _):
        doc = load(desktop, path)
        sheet = doc.Sheets.getByName("評分")
        header = {sheet.getCellByPosition(c, 3).String: c for c in range(300)}
        for r in range(4, 20_000):
            item = sheet.getCellByPosition(0, r).String
            if not item:
                break
            for (wanted, column), value in typed.items():
                if wanted == item:
                    sheet.getCellByPosition(header[column], r).setFormula(value)  # as typed
        saved_as = "calc8" if output.lower().endswith(".ods") else "Calc MS Excel 2007 XML"
        doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(output)), (prop("FilterName", saved_as),))
        doc.close(True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
