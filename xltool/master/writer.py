"""Write the consolidated master workbook with XlsxWriter.

Every text that came from a return is written with ``write_string``, and the
workbook is opened with ``strings_to_formulas`` and ``strings_to_urls`` off:
nothing a unit typed can become a formula or a link. Scores in 評分 and 附表2
are live formulas carrying the values computed in Python as their cache.
"""
from __future__ import annotations

import shutil
from itertools import groupby
from datetime import date, datetime
from pathlib import Path

from ..forms import fields as F
from ..forms.book import FONT, PAPER_A4, row_height
from ..cells import a1, abs_ref, col_letter, local_text, utc_naive
from ..files import atomic_path
from .merge import (STATUS_DONE, STATUS_ERRORS, STATUS_MISSING, SUPERSEDED,
                    MergeResult)

SCORE_SHEET, SUMMARY_SHEET, DETAIL_SHEET, TABLE2_SHEET = "評分", "總表", "明細", "附表2"
STATUS_SHEET, ISSUE_SHEET, CHART_SHEET = "繳交狀態", "檢核結果", "構面圖"
REVISION_SHEET = "計畫修訂"
REVIEW_HEADER = "複評"
MAX_UNIT_COLUMNS = 250
MAX_CELL_TEXT = F.TEXT_LIMIT  # Excel holds 32,767 characters in a cell
CN_NUMERALS = "一二三四五六七八九十"
STATUS_ORDER = {STATUS_MISSING: 0, STATUS_ERRORS: 1, STATUS_DONE: 2}


def _capped(lines: list[str]) -> str:
    """Join unit results for one cell, stopping before Excel's per-cell limit."""
    out, size = [], 0
    for n, line in enumerate(lines):
        if size + len(line) + 1 > MAX_CELL_TEXT - 40:
            out.append(f"…（其餘 {len(lines) - n} 個單位的內容請見「明細」）")
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二: the numbering plans use for 構面."""
    if n <= 10:
        return CN_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (CN_NUMERALS[tens - 1] if tens > 1 else "") + "十" + (CN_NUMERALS[ones - 1] if ones else "")


def dimension_header(index: int, name: str, points: float) -> str:
    from ..cells import fmt_number

    return f"{cn_number(index)}、{name}({fmt_number(points)} 分)"


def write_master(result: MergeResult, target: Path, created: datetime | None = None) -> Path | None:
    """Write the master atomically; back up an existing one first. Returns the backup."""
    target = Path(target)
    backup = None
    if target.exists():
        stamp = datetime.fromtimestamp(target.stat().st_mtime).strftime("%Y%m%d-%H%M%S")
        backup = target.with_name(f"{target.stem}-備份-{stamp}{target.suffix}")
        with atomic_path(backup) as tmp:
            shutil.copyfile(target, tmp)
    with atomic_path(target) as tmp:
        _Writer(result, tmp, created).write()
    return backup


class _Writer:
    def __init__(self, result: MergeResult, path: Path, created: datetime | None):
        import xlsxwriter

        self.r = result
        self.plan = result.plan
        # constant_memory: rows stream to disk as written, so memory stays flat
        # however many returns there are; every sheet is written in row order.
        self.wb = xlsxwriter.Workbook(str(path), {
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
            "constant_memory": True})
        created = created or result.newest_input or datetime.combine(
            self.plan.info.deadline, datetime.min.time())
        self.wb.set_properties({"title": f"{self.plan.info.name} 彙整總表",
                                "author": self.plan.info.contact_unit or self.plan.info.agency,
                                "created": utc_naive(created)})
        self.f = self._formats()
        self.score_cells: dict[str, str] = {}  # 構面 code → 評分 subtotal cell (absolute)
        self.total_cell = ""

    def _formats(self) -> dict:
        base = {"font_name": FONT, "font_size": 11, "valign": "top"}

        def fmt(**kw):
            return self.wb.add_format({**base, **kw})

        return {
            "title": fmt(bold=True, font_size=14),
            "text": fmt(),
            "wrap": fmt(text_wrap=True, border=1),
            "cell": fmt(border=1),
            "num": fmt(border=1, align="center"),
            "date": fmt(border=1, num_format="yyyy/mm/dd"),
            "time": fmt(border=1, num_format="yyyy/mm/dd hh:mm"),
            "header": fmt(bold=True, text_wrap=True, border=1, bg_color="#D9E1F2",
                          align="center", valign="vcenter"),
            "band": fmt(bold=True, border=1, bg_color="#FCE4D6"),
            "grey": fmt(border=1, bg_color="#EDEDED"),
            "missing": fmt(border=1, bg_color="#F8CBAD", align="center"),
            "invalid": fmt(border=1, bg_color="#FFC7CE", font_color="#9C0006", align="center"),
            "revised": fmt(border=1, bg_color="#FFEB9C", font_color="#9C5700", align="center"),
            "bad": fmt(text_wrap=True, border=1, bg_color="#F8CBAD"),
            "bad_line": fmt(border=1, bg_color="#F8CBAD"),
            "review": fmt(border=1, bg_color="#FFF2CC", locked=False, align="center"),
            "score": fmt(border=1, align="center", bold=True),
            "label": fmt(bold=True, border=1, align="right"),
        }

    def write(self) -> None:
        # Sheets are created in reading order up front (XlsxWriter numbers them as
        # added); 評分 is filled first because the others refer to its cells.
        order = [SUMMARY_SHEET, DETAIL_SHEET, SCORE_SHEET, TABLE2_SHEET, STATUS_SHEET,
                 ISSUE_SHEET, REVISION_SHEET, CHART_SHEET]
        self.ws = {name: self.wb.add_worksheet(name) for name in order}
        self.scores()
        self.summary()
        self.details()
        self.table2()
        self.status()
        self.issue_list()
        self.revisions()
        self.chart()
        self.ws[SUMMARY_SHEET].activate()
        self.wb.close()

    def _print(self, ws, header_row: int, landscape: bool = True) -> None:
        ws.set_paper(PAPER_A4)
        if landscape:
            ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(header_row)
        ws.set_footer("&C&A　第 &P 頁，共 &N 頁")  # the sheet's name: pages stay sortable
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)

    def _header(self, ws, row: int, names: list[str], widths: list[float]) -> None:
        for c, (name, width) in enumerate(zip(names, widths)):
            ws.write_string(row, c, name, self.f["header"])
            ws.set_column(c, c, width)

    # ---------------------------------------------------------------- 評分

    def scores(self) -> None:
        plan, f = self.plan, self.f
        ws = self.ws[SCORE_SHEET]
        # One column per unit while that stays readable (and within Excel's 16,384 columns);
        # beyond, 自評 is written as its value and each unit's score is in 明細.
        units = [u.name for u in plan.units] if len(plan.units) <= MAX_UNIT_COLUMNS else []
        head = ["編號", "構面", "執行方法", "配分", *units, "自評", REVIEW_HEADER, "採計分數"]
        widths = [9, 10, 30, 7, *[8] * len(units), 8, 8, 9]
        ws.write_string(0, 0, f"{plan.info.name}　評分表", f["title"])
        ws.write_string(1, 0, "自評＝主辦單位自評分數的平均（不適用且未評分者不列入，未繳以 0 分計）；"
                              "複評欄（黃色）可由秘書單位填寫；採計分數＝有複評取複評，否則取自評。", f["text"])
        hr = 3
        self._header(ws, hr, head, widths)
        c_points, c_first_unit = 3, 4
        c_self = c_first_unit + len(units)
        c_review, c_adopted = c_self + 1, c_self + 2
        first = hr + 1
        for n, res in enumerate(self.r.items):
            r = first + n
            item = res.item
            ws.write_string(r, 0, item.id, f["cell"])
            ws.write_string(r, 1, plan.dimension(item.dimension).name, f["cell"])
            ws.write_string(r, 2, item.method.split("\n")[-1][:60], f["cell"])
            ws.write_number(r, c_points, item.points, f["num"])
            entries = res.entries if units else {}
            for k, unit in enumerate(units):
                c = c_first_unit + k
                entry = entries.get(unit)
                if entry is None:
                    ws.write_blank(r, c, None, f["grey"])
                elif entry.excluded:
                    ws.write_string(r, c, plan.info.not_applicable, f["num"])
                elif entry.new:
                    ws.write_number(r, c, 0, f["revised"])
                    ws.write_comment(r, c, f"計畫修訂後新增的項目，{unit}尚未填報（見「{REVISION_SHEET}」），"
                                           "暫以 0 分計。", {"font_name": FONT, "x_scale": 2})
                elif entry.capped_from is not None:
                    ws.write_number(r, c, entry.score or 0, f["revised"])
                    ws.write_comment(r, c, f"{unit}依修訂前的配分自評 {entry.capped_from:g} 分，"
                                           f"已依新配分以 {entry.score:g} 分計；請填寫複評確認。",
                                     {"font_name": FONT, "x_scale": 2})
                elif entry.invalid:  # counted 0, but the unit did not give itself 0
                    ws.write_number(r, c, 0, f["invalid"])
                    ws.write_comment(r, c, f"{unit}的自評分數無效或未填（原因見「{ISSUE_SHEET}」），"
                                           "本項以 0 分計入平均。", {"font_name": FONT, "x_scale": 2})
                else:
                    missing = self.r.status_of(unit).ret is None
                    ws.write_number(r, c, entry.score or 0, f["missing"] if missing else f["num"])
            if units:
                span = f"{a1(r, c_first_unit)}:{a1(r, c_self - 1)}"
                ws.write_formula(r, c_self, f"=IFERROR(ROUND(AVERAGE({span}),2),0)", f["num"],
                                 res.self_score)
            else:
                ws.write_number(r, c_self, res.self_score, f["num"])
            if res.review is None:
                ws.write_blank(r, c_review, None, f["review"])
            else:
                ws.write_number(r, c_review, res.review, f["review"])
            ws.write_formula(r, c_adopted, f"=IF(ISNUMBER({a1(r, c_review)}),{a1(r, c_review)},"
                                           f"{a1(r, c_self)})", f["score"], res.adopted)
        last = first + len(self.r.items) - 1
        # 0 … the item's 配分, row by row: one validation per run of equal points.
        n = 0
        for points, run in groupby(res.item.points for res in self.r.items):
            size = len(list(run))
            ws.data_validation(first + n, c_review, first + n + size - 1, c_review, {
                "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": points,
                "input_title": "複評", "input_message": f"秘書單位的複評分數（0 到 {points:g}）；"
                                                        "空白時採計自評。",
                "error_title": "複評", "error_message": f"請輸入 0 到 {points:g} 之間的數字。"})
            n += size

        # 構面 subtotals, total and grade: all formulas over the item rows.
        r = last + 2
        ws.write_string(r, 0, "構面小計", f["header"])
        dim_col = f"${col_letter(1)}${first + 1}:${col_letter(1)}${last + 1}"
        adopted_col = f"${col_letter(c_adopted)}${first + 1}:${col_letter(c_adopted)}${last + 1}"
        for i, (dim, value) in enumerate(self.r.dimensions):
            rr = r + 1 + i
            ws.write_string(rr, 1, dim.name, f["cell"])
            ws.write_string(rr, 2, dimension_header(i + 1, dim.name, dim.points), f["cell"])
            ws.write_number(rr, c_points, dim.points, f["num"])
            ws.write_formula(rr, c_adopted, f"=ROUND(SUMIF({dim_col},{a1(rr, 1)},{adopted_col}),2)",
                             f["score"], value)
            self.score_cells[dim.code] = f"'{SCORE_SHEET}'!{abs_ref(rr, c_adopted)}"
        tr = r + 1 + len(self.r.dimensions)
        subtotals = f"{a1(r + 1, c_adopted)}:{a1(tr - 1, c_adopted)}"
        ws.write_string(tr, 2, "總分", f["label"])
        ws.write_number(tr, c_points, self.plan.total_points, f["num"])
        ws.write_formula(tr, c_adopted, f"=ROUND(SUM({subtotals}),2)", f["score"], self.r.total)
        ws.write_string(tr + 1, 2, "等第", f["label"])
        ws.write_formula(tr + 1, c_adopted, self.grade_formula(a1(tr, c_adopted)), f["score"],
                         self.r.grade)
        self.total_cell = f"'{SCORE_SHEET}'!{abs_ref(tr, c_adopted)}"
        ws.freeze_panes(first, 1)
        ws.autofilter(hr, 0, last, c_adopted)
        ws.protect("", {"autofilter": True, "sort": False, "format_columns": True,
                        "format_rows": True})
        self._print(ws, hr)

    def grade_formula(self, total_ref: str) -> str:
        bands = sorted(self.plan.grades, key=lambda b: -b.minimum)
        formula = '""'
        for band in reversed(bands):
            formula = f'IF({total_ref}>={band.minimum:g},"{band.grade}",{formula})'
        return "=" + formula

    # ---------------------------------------------------------------- 總表

    def summary(self) -> None:
        plan, f = self.plan, self.f
        ws = self.ws[SUMMARY_SHEET]
        head = ["構面", "執行策略", "執行方法", "主辦單位", "具體作法",
                f"執行績效與成果（{plan.info.period}）", "已繳/應繳", "未繳單位"]
        widths = [9, 13, 26, 11, 32, 52, 8, 12]
        ws.write_string(0, 0, f"{plan.info.name}　執行成果彙整", f["title"])
        hr = 2
        self._header(ws, hr, head, widths)
        r = hr + 1
        result_field = F.column("result").name
        for i, dim in enumerate(plan.dimensions, start=1):
            ws.merge_range(r, 0, r, len(head) - 1,
                           f"構面{cn_number(i)}：{dim.name}({dim.points:g} 分)", f["band"])
            r += 1
            for res in (x for x in self.r.items if x.item.dimension == dim.code):
                item = res.item
                lines, missing, returned = [], [], 0
                rows = self.r.rows_of_item(item)
                for unit in item.leads:
                    if self.r.status_of(unit).ret is None:
                        missing.append(unit)
                        continue
                    returned += 1
                    row = rows.get(unit)
                    text = row.values.get(result_field) if row else None
                    if text:
                        lines.append(f"【{unit}】{text}")
                result_text = _capped(lines)
                values = [dim.name, item.strategy, item.method, item.lead_text, item.practice,
                          result_text, f"{returned}/{len(item.leads)}", "、".join(missing)]
                ws.set_row(r, row_height([(str(v), w) for v, w in zip(values, widths)]))
                for c, v in enumerate(values):
                    ws.write_string(r, c, v, f["bad"] if c == 7 and v else f["wrap"])
                r += 1
        ws.freeze_panes(hr + 1, 0)
        self._print(ws, hr)

    # ---------------------------------------------------------------- 明細

    def details(self) -> None:
        """One row per unit and item. The biggest sheet by far (600,000 rows for 10,000
        units), so every cell counts: who filled it in is on 繳交狀態, once per unit.
        Rows keep the default height, one line each, as data sheets for filtering and
        pivot tables do; XlsxWriter would also keep every row height in memory."""
        plan, f = self.plan, self.f
        ws = self.ws[DETAIL_SHEET]
        inputs = [c.name for c in F.INPUT_COLUMNS]
        head = ["單位", "編號", "構面", *inputs, "來源檔案", "工作表列", "檢核"]
        widths = [11, 9, 10, *(c.width for c in F.INPUT_COLUMNS), 30, 10, 18]
        self._header(ws, 0, head, widths)
        dims = {d.code: d.name for d in plan.dimensions}
        r = 1
        for status in self.r.units:
            ret = status.ret
            rows = dict(ret.rows.items()) if ret else {}  # one read per return
            source = ret.name if ret else ""
            removed = list(ret.removed.values()) if ret else []
            for item in plan.items_for(status.unit) + [None] * len(removed):
                if item is None:  # an item the plan took away: kept as the unit wrote it
                    row = removed.pop(0)
                    item_id, dim_name = row.item_id, ""
                else:
                    row = rows.get(item.id)
                    item_id, dim_name = item.id, dims[item.dimension]
                flags = sorted(set(row.flags)) if row else (
                    ["未繳"] if ret is None else
                    ["新增項目未填報"] if item_id in ret.new_items else ["列已刪除"])
                bad = bool(flags)
                ws.write_string(r, 0, status.unit, f["cell"])
                ws.write_string(r, 1, item_id, f["cell"])
                ws.write_string(r, 2, dim_name, f["cell"])
                if row:
                    for k, name in enumerate(inputs):
                        self._value(ws, r, 3 + k, row.values.get(name), bad, wrap=False)
                c = 3 + len(inputs)
                ws.write_string(r, c, source, f["cell"])
                ws.write_string(r, c + 1, f"{ret.sheet}!{row.row + 1}" if row else "", f["cell"])
                ws.write_string(r, c + 2, "、".join(flags), f["bad"] if bad else f["cell"])
                r += 1
        ws.autofilter(0, 0, max(r - 1, 1), len(head) - 1)
        ws.freeze_panes(1, 2)
        self._print(ws, 0)

    def _value(self, ws, r: int, c: int, value, bad: bool, wrap: bool = True) -> None:
        f = self.f
        if value is None:
            return  # nothing to write: a blank cell costs as much as a full one
        elif isinstance(value, bool):
            ws.write_string(r, c, str(value), f["cell"])
        elif isinstance(value, (int, float)):
            ws.write_number(r, c, value, f["num"])
        elif isinstance(value, (date, datetime)):
            ws.write_datetime(r, c, value, f["date"])
        else:
            style = ("bad" if bad else "wrap") if wrap else ("bad_line" if bad else "cell")
            ws.write_string(r, c, str(value), f[style])

    # ---------------------------------------------------------------- 附表2

    def table2(self) -> None:
        plan, f = self.plan, self.f
        ws = self.ws[TABLE2_SHEET]
        dims = self.r.dimensions
        ws.write_string(0, 0, f"{plan.info.name}　自行考核結果統計表", f["title"])
        ws.write_string(1, 0, f"受考核單位：{plan.info.agency}", f["text"])
        bands = sorted(plan.grades, key=lambda b: -b.minimum)
        legend = []
        for i, b in enumerate(bands):
            upper = bands[i - 1].minimum - 1 if i else None
            if i == 0:
                legend.append(f"{b.grade}={b.minimum:g} 分以上")
            elif i == len(bands) - 1 and b.minimum <= 0:
                legend.append(f"{b.grade}={upper:g} 分以下")
            else:
                legend.append(f"{b.grade}={upper:g}-{b.minimum:g} 分")
        ws.write_string(2, 0, "；".join(legend), f["text"])
        hr = 4
        n = len(dims)
        # Two header rows written in row order (the workbook streams rows to disk, so
        # no merge may reach back up); the labels stand in the upper row.
        for c, name in enumerate(["實施考核機關", "編號", "受考核單位名稱"]):
            ws.write_string(hr, c, name, f["header"])
        title = f"考核項目成績（{plan.total_points:g} 分）"
        if n > 1:
            ws.merge_range(hr, 3, hr, 2 + n, title, f["header"])
        else:
            ws.write_string(hr, 3, title, f["header"])
        for k, name in enumerate(["總分", "等第", "考核年月"]):
            ws.write_string(hr, 3 + n + k, name, f["header"])
        # Heights before the rows' cells: the workbook streams each row out as it moves on.
        ws.set_row(hr + 1, 36)
        for c in range(3):
            ws.write_blank(hr + 1, c, None, f["header"])
        for i, (dim, _) in enumerate(dims):
            ws.write_string(hr + 1, 3 + i, dimension_header(i + 1, dim.name, dim.points), f["header"])
        for k in range(3):
            ws.write_blank(hr + 1, 3 + n + k, None, f["header"])
        r = hr + 2
        ws.set_row(r, 36)
        ws.write_string(r, 0, plan.info.agency, f["wrap"])
        ws.write_number(r, 1, 1, f["num"])
        ws.write_string(r, 2, plan.info.agency, f["wrap"])
        for i, (dim, value) in enumerate(dims):
            ws.write_formula(r, 3 + i, f"={self.score_cells[dim.code]}", f["score"], value)
        ws.write_formula(r, 3 + n, f"=ROUND(SUM({a1(r, 3)}:{a1(r, 2 + n)}),2)", f["score"],
                         self.r.total)
        ws.write_formula(r, 4 + n, self.grade_formula(a1(r, 3 + n)), f["score"], self.r.grade)
        ws.write_string(r, 5 + n, plan.info.review_month, f["num"])
        ws.set_column(0, 0, 16)
        ws.set_column(1, 1, 6)
        ws.set_column(2, 2, 18)
        ws.set_column(3, 2 + n, 14)
        ws.set_column(3 + n, 5 + n, 9)
        self._print(ws, hr + 1)

    # ---------------------------------------------------------------- 繳交狀態

    def status(self) -> None:
        f = self.f
        ws = self.ws[STATUS_SHEET]
        fields = [field.name for field in F.FORM_FIELDS]
        head = ["單位", "狀態", "檔案", "存檔時間", *fields, "錯誤數", "警告數", "說明", "寄件者"]
        self._header(ws, 0, head, [12, 8, 36, 19, *[14] * len(fields), 7, 7, 36, 36])
        c_errors = 4 + len(fields)
        c_note, c_sender = c_errors + 2, c_errors + 3
        order = {u.name: i for i, u in enumerate(self.plan.units)}
        rows = sorted(self.r.units, key=lambda s: (STATUS_ORDER[s.status], order[s.unit]))
        r = 1
        note = {STATUS_MISSING: "未收到可用的填報表", STATUS_ERRORS: "請依「檢核結果」通知單位修正"}
        for s in rows:
            entries = [(s.ret, s.status)] + [(old, f"{SUPERSEDED}（未採用）") for old in s.superseded]
            for ret, label in entries:
                style = f["missing"] if s.status in (STATUS_MISSING, STATUS_ERRORS) else f["cell"]
                ws.write_string(r, 0, s.unit, f["cell"])
                ws.write_string(r, 1, label, style)
                ws.write_string(r, 2, ret.name if ret else "", f["cell"])
                ws.write_string(r, 3, local_text(ret.saved, self.plan.zone) if ret else "",
                                f["cell"])
                header = ret.header if ret else {}
                for k, name in enumerate(fields):
                    self._value(ws, r, 4 + k, header.get(name), False)
                ws.write_number(r, c_errors, ret.errors if ret else 0, f["num"])
                ws.write_number(r, c_errors + 1, ret.warnings if ret else 0, f["num"])
                ws.write_string(r, c_note, note.get(label, ""), f["cell"])
                ws.write_string(r, c_sender, self.r.senders.get(ret.name, "") if ret else "", f["cell"])
                r += 1
        for ret in self.r.rejected:
            ws.write_string(r, 0, ret.unit or "（無法辨識）", f["cell"])
            ws.write_string(r, 1, "無法使用", f["missing"])
            ws.write_string(r, 2, ret.name, f["cell"])
            ws.write_blank(r, 3, None, f["cell"])
            ws.write_number(r, c_errors, ret.errors, f["num"])
            ws.write_number(r, c_errors + 1, ret.warnings, f["num"])
            first = next((i.message for i in ret.issues if i.is_error), "")
            ws.write_string(r, c_note, first, f["wrap"])
            ws.write_string(r, c_sender, self.r.senders.get(ret.name, ""), f["cell"])
            r += 1
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(r - 1, 1), len(head) - 1)
        self._print(ws, 0)

    # ---------------------------------------------------------------- 檢核結果

    def issue_list(self) -> None:
        f = self.f
        ws = self.ws[ISSUE_SHEET]
        head = ["嚴重度", "代碼", "單位", "檔案", "工作表", "儲存格", "欄位", "填寫內容", "應為", "說明"]
        self._header(ws, 0, head, [7, 16, 11, 30, 9, 8, 12, 24, 18, 60])
        for r, issue in enumerate(self.r.issues, start=1):
            values = [issue.severity, issue.code, issue.unit, issue.file, issue.sheet, issue.cell,
                      issue.field, issue.value, issue.expected, issue.message]
            for c, v in enumerate(values):
                ws.write_string(r, c, v, f["bad"] if c == 0 and issue.is_error else f["wrap"])
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(self.r.issues), 1), len(head) - 1)
        self._print(ws, 0)

    # ---------------------------------------------------------------- 計畫修訂

    def revisions(self) -> None:
        """What the plan changed since the templates the adopted returns were made from."""
        f = self.f
        ws = self.ws[REVISION_SHEET]
        head = ["填報表產生日", "編號", "欄位", "原內容", "新內容", "受影響單位"]
        self._header(ws, 0, head, [12, 9, 12, 44, 44, 24])
        changes = self.r.changes
        if not changes:
            ws.write_string(1, 0, "所採用的回傳檔都依目前的計畫填寫，沒有計畫修訂。", f["text"])
        for r, change in enumerate(changes, start=1):
            values = [change.generated, change.item, change.field, change.old, change.new,
                      "、".join(change.units)]
            widths = [12, 9, 12, 44, 44, 24]
            ws.set_row(r, row_height([(v, w) for v, w in zip(values, widths)]))
            for c, v in enumerate(values):
                ws.write_string(r, c, v, f["wrap"])
        ws.freeze_panes(1, 0)
        self._print(ws, 0)

    # ---------------------------------------------------------------- chart

    def chart(self) -> None:
        ws = self.ws[CHART_SHEET]
        ws.write_string(0, 0, "構面", self.f["header"])
        ws.write_string(0, 1, "配分", self.f["header"])
        ws.write_string(0, 2, "得分", self.f["header"])
        for i, (dim, value) in enumerate(self.r.dimensions, start=1):
            ws.write_string(i, 0, dim.name, self.f["cell"])
            ws.write_number(i, 1, dim.points, self.f["num"])
            ws.write_formula(i, 2, f"={self.score_cells[dim.code]}", self.f["num"], value)
        n = len(self.r.dimensions)
        chart = self.wb.add_chart({"type": "column"})
        for col, name in ((1, "配分"), (2, "得分")):
            chart.add_series({"name": name,
                              "categories": [CHART_SHEET, 1, 0, n, 0],
                              "values": [CHART_SHEET, 1, col, n, col],
                              "data_labels": {"value": True}})
        chart.set_title({"name": "各構面得分與配分", "name_font": {"name": FONT}})
        chart.set_x_axis({"num_font": {"name": FONT}})
        chart.set_legend({"position": "bottom", "font": {"name": FONT}})
        chart.set_size({"width": 760, "height": 400})
        ws.insert_chart(0, 4, chart)
        ws.set_column(0, 0, 12)
        self._print(ws, 0)

