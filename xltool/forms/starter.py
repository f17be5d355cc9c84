"""`xltool init`: a blank plan workbook with instructions and drop-down lists."""
from __future__ import annotations

from pathlib import Path

from ..errors import XltoolError
from ..plan import INFO_SHEET
from ..resources import load_json
from .book import Book, Sheet, Validation
from .fields import TEXT_LIMIT

RULES = {
    "positive": ("decimal", 0.000001, None, "請輸入大於 0 的數字。"),
    "non_negative": ("decimal", 0, None, "請輸入 0 以上的數字。"),
}


def build_starter() -> Book:
    spec = load_json("plan_starter.json")
    n = spec["rows"]
    info = Sheet(INFO_SHEET, widths=[w for _, w in spec["info"]["columns"]], freeze=(1, 0))
    for c, (name, _) in enumerate(spec["info"]["columns"]):
        info.put(0, c, name, "header")
    for r, (label, note, kind) in enumerate(spec["info"]["rows"], start=1):
        info.put(r, 0, label, "locked")
        info.put(r, 1, None, {"date": "input_date", "number": "input_number"}.get(kind, "input_text"))
        info.put(r, 2, note, "wrap")
    sheets = [info]
    for s in spec["sheets"]:
        sheet = Sheet(s["name"], widths=[col[1] for col in s["columns"]], freeze=(1, 0))
        for c, col in enumerate(s["columns"]):
            name, prompt = col[0], col[2]
            sheet.put(0, c, name, "header")
            for r, value in enumerate(s.get("values", {}).get(name, []), start=1):
                sheet.put(r, c, value, "text")
            kind = col[3] if len(col) > 3 else ""
            first, last = (1, c), (n, c)
            if kind in RULES:
                vkind, lo, hi, error = RULES[kind]
                sheet.validations.append(Validation(first, last, vkind, minimum=lo, maximum=hi,
                                                    title=name, prompt=prompt, error=error))
            elif kind in ("dimension", "unit"):
                # A suggestion list only: codes, groups and lists of units stay allowed.
                source = "構面名稱" if kind == "dimension" else "單位名稱"
                error = ("不在構面名稱清單中；若填的是構面代碼可按「確定」保留。" if kind == "dimension"
                         else "不在清單中；若為群組、別名或多個單位可按「確定」保留。")
                sheet.validations.append(Validation(first, last, "list", source=source,
                                                    title=name, prompt=prompt, error_type="information",
                                                    error=error))
            else:
                sheet.validations.append(Validation(first, last, "length", maximum=TEXT_LIMIT,
                                                    title=name, prompt=prompt,
                                                    error="文字過長。"))
        sheets.append(sheet)
    names = {"構面名稱": ("構面", 1, 1, n, 1), "單位名稱": ("單位", 1, 0, n, 0)}
    return Book(sheets=sheets, names=names, title=spec["title"], active=INFO_SHEET)


def write_starter(target: Path, overwrite: bool = False) -> Path:
    from .ods_writer import write_ods
    from .xlsx_writer import write_xlsx

    target = Path(target)
    suffix = target.suffix.lower()
    if suffix not in (".xlsx", ".ods"):
        raise XltoolError(f"計畫檔須為 .xlsx 或 .ods：{target.name}")
    if target.exists() and not overwrite:
        raise XltoolError(f"「{target}」已存在；若要覆寫請加上 --force。")
    (write_xlsx if suffix == ".xlsx" else write_ods)(build_starter(), target)
    return target
