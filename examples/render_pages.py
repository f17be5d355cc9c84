"""Render the first printed page of each master sheet, of the 執行成果
document and of the roll-up's 附表2, to docs/images/ (`make pictures`).

Needs LibreOffice and poppler-utils. The pictures in the README show what the
secretariat sees when it prints the master and the document.
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from xltool.cli import main as xltool

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "kaohsiung-109"
OUT = ROOT / "docs" / "images"
NAMES = {"總表": "summary", "明細": "details", "評分": "scores", "附表2": "table2",
         "繳交狀態": "status", "檢核結果": "issues", "構面圖": "chart"}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        master = Path(tmp) / "master.xlsx"
        try:
            xltool(["merge", str(EXAMPLE / "plan.xlsx"), str(EXAMPLE / "returns"), "-o",
                    str(master), "--pdf"])
        except SystemExit as exc:
            if exc.code:
                return exc.code
        pdf = master.with_suffix(".pdf")
        count = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
            ["pdfinfo", str(pdf)], capture_output=True, text=True).stdout).group(1))
        done = set()
        OUT.mkdir(parents=True, exist_ok=True)
        for n in range(1, count + 1):
            text = subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"],
                                  capture_output=True, text=True).stdout
            m = re.search(r"(\S+)\s+第 \d+ 頁", text)
            if not m or m.group(1) in done or m.group(1) not in NAMES:
                continue
            done.add(m.group(1))
            target = OUT / f"master-{NAMES[m.group(1)]}"
            subprocess.run(["pdftoppm", "-f", str(n), "-l", str(n), "-r", "60", "-png",
                            "-singlefile", str(pdf), str(target)], check=True)
            print(f"wrote {target}.png")
        return _report_page(master, Path(tmp)) or _rollup_page(master, Path(tmp))


def _report_page(master: Path, tmp: Path) -> int:
    """The 執行成果 document's first page, as Writer prints it."""
    document = tmp / "成果.docx"
    try:
        xltool(["report", str(EXAMPLE / "plan.xlsx"), str(master), "-o", str(document)])
    except SystemExit as exc:
        if exc.code:
            return exc.code
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp),
                    str(document)], check=True, capture_output=True)
    target = OUT / "report-first-page"
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "60", "-png", "-singlefile",
                    str(document.with_suffix(".pdf")), str(target)], check=True)
    print(f"wrote {target}.png")
    return 0


def _rollup_page(master: Path, tmp: Path) -> int:
    """The first page of the roll-up's 附表2: the three example branches' masters in one table."""
    masters = [master]
    for name in ("taichung-109", "tainan-109"):
        target = tmp / f"{name}.xlsx"
        try:
            xltool(["merge", str(ROOT / "examples" / name / "plan.xlsx"), str(ROOT / "examples" / name / "returns"),
                    "-o", str(target)])
        except SystemExit as exc:
            if exc.code:
                return exc.code
        masters.append(target)
    rolled = tmp / "rollup.xlsx"
    try:
        xltool(["rollup", *map(str, masters), "-o", str(rolled)])
    except SystemExit as exc:
        if exc.code:
            return exc.code
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp), str(rolled)],
                   check=True, capture_output=True)
    target = OUT / "rollup-table2"
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "60", "-png", "-singlefile",
                    str(rolled.with_suffix(".pdf")), str(target)], check=True)
    print(f"wrote {target}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
