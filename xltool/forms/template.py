"""Describe each unit's return workbook and write it as .xlsx and/or .ods."""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from ..cells import norm_text, roc_date
from ..errors import XltoolError
from ..plan import Plan
from ..plan.filenames import file_name_twins, plan_short_name, template_stem
from ..plan.rules import LIST_NAME_PREFIX
from ..resources import load_json
from . import fields as F
from .book import Book, PrintSetup, Sheet, Validation, row_height
from .identity import CELL_KEY, KEYS, fingerprint, locked_digests, plan_cell_value

FORMATS = ("xlsx", "ods")
MIN_ITEM_ROW_POINTS = 48  # leaves room to type in the input cells
# Points per line of wrapped 11 pt text: LibreOffice's Noto Sans CJK (1.45 em) is the
# tallest of the fonts that stand in for 標楷體, so rows fit there and in Excel alike.
LINE_POINTS = 16


def list_name(name: str, index: int) -> str:
    """A defined name for a plan list; Unicode letters are fine in Excel and Calc."""
    # The plan check holds a list's name to what leaves room for this prefix.
    return f"{LIST_NAME_PREFIX}{name}" if re.fullmatch(r"\w+", name) else f"{LIST_NAME_PREFIX}{index + 1}"


def short_name(plan: Plan) -> str:
    """The plan's short name for file names: 簡稱, else the name without agency/year."""
    return plan_short_name(plan.info.name, plan.info.agency, plan.info.short_name)


def template_filename(plan: Plan, unit: str, fmt: str) -> str:
    """年度_簡稱_單位.fmt, safe on Windows and Linux and shortened like the correction
    copies' names (``xltool check`` refuses units whose names would be one file)."""
    return template_stem(plan.info.year, short_name(plan), unit) + f".{fmt}"


def generation_time() -> datetime:
    """Now (aware, UTC), or SOURCE_DATE_EPOCH when set, so builds can be reproduced."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(timezone.utc).replace(microsecond=0)


def build_template(plan: Plan, unit: str, generated: datetime) -> Book:
    """The whole return workbook for one unit, format-neutral."""
    items = plan.items_for(unit)
    digests = locked_digests(plan, unit)
    meta = {
        KEYS["plan_id"]: plan.plan_id,
        KEYS["plan_name"]: plan.info.name,
        KEYS["year"]: str(plan.info.year),
        KEYS["unit"]: unit,
        KEYS["version"]: F.TEMPLATE_VERSION,
        KEYS["generated"]: generated.isoformat(),
        KEYS["fingerprint"]: fingerprint([d for _, d in digests]),
        KEYS["items"]: ",".join(i.id for i in items),
    }
    sheet_only = {f"{CELL_KEY}{item_id}": ",".join(d) for item_id, d in digests}
    lists = Sheet(F.LIST_SHEET, state="hidden", protect=True)
    names = {}
    for c, (name, values) in enumerate(plan.lists.items()):
        lists.put(0, c, name)
        for r, value in enumerate(values, start=1):
            lists.put(r, c, value)
        names[list_name(name, c)] = (F.LIST_SHEET, 1, c, len(values), c)
        lists.widths.append(12)
    meta_sheet = Sheet(F.META_SHEET, state="veryhidden", protect=True, widths=[28, 60])
    for r, (key, value) in enumerate({**meta, **sheet_only}.items()):
        meta_sheet.put(r, 0, key)
        meta_sheet.put(r, 1, value)
    list_names = {name: list_name(name, c) for c, name in enumerate(plan.lists)}
    return Book(
        sheets=[_guide_sheet(plan, unit, len(items)),
                _form_sheet(plan, unit, items, list_names), lists, meta_sheet],
        # The item list can pass Excel's 255-character property limit: sheet only.
        names=names, custom={k: v for k, v in meta.items() if k != KEYS["items"]}, title=f"{plan.info.name}－{unit}",
        author=plan.info.contact_unit or plan.info.agency, created=generated,
        protect_structure=True, active=F.FORM_SHEET, footer_label=unit)


def _guide_sheet(plan: Plan, unit: str, item_count: int) -> Sheet:
    text = load_json("return_guide.json")
    info = plan.info
    values = {
        "plan_name": info.name, "agency": info.agency, "unit": unit, "year": info.year,
        "period": info.period, "deadline": roc_date(info.deadline),
        "contact_unit": info.contact_unit, "contact_person": info.contact_person,
        "contact_phone": info.contact_phone, "contact_email": info.contact_email,
        "item_count": item_count, "not_applicable": info.not_applicable,
    }
    sheet = Sheet(F.GUIDE_SHEET, widths=[14, 90], protect=True,
                  print_setup=PrintSetup(fit_height=True))
    sheet.put(0, 0, text["title"].format(**values), "title")
    r = 2
    for label, template in text["facts"]:
        sheet.put(r, 0, label, "label")
        sheet.put(r, 1, template.format(**values), "wrap")
        r += 1
    for heading, lines in (("填寫方式", text["how_to"]), ("請勿變更", text["do_not"])):
        r += 1
        sheet.put(r, 0, heading, "title")
        r += 1
        for n, line in enumerate(lines, start=1):
            body = line.format(**values)
            sheet.put(r, 0, f"{n}.", "label")
            sheet.put(r, 1, body, "wrap")
            sheet.heights[r] = row_height([(body, 90)])
            r += 1
    return sheet


def _form_sheet(plan: Plan, unit: str, items, list_names: dict[str, str]) -> Sheet:
    info = plan.info
    sheet = Sheet(F.FORM_SHEET, widths=[c.template_width for c in F.COLUMNS], protect=True,
                  freeze=(F.FIRST_ITEM_ROW, 1),
                  print_setup=PrintSetup(repeat_rows=(F.HEADER_ROW, F.HEADER_ROW)))
    sheet.put(F.TITLE_ROW, 0, f"{info.name}　{unit}　填報表（{info.period}，"
                              f"請於 {roc_date(info.deadline)} 前回傳）", "title")
    sheet.heights[F.TITLE_ROW] = 24
    for field, label_col in zip(F.FORM_FIELDS, F.FORM_LABEL_COLS):
        sheet.put(F.FORM_ROW, label_col, field.name, "label")
        sheet.put(F.FORM_ROW, label_col + 1, None, F.form_field_style(field))
        cell = (F.FORM_ROW, label_col + 1)
        sheet.validations.append(_date_rule(field, cell, info.deadline)
                                 if field.kind == "date" else
                                 _length_rule(field, cell, cell, limit=100))
    for c, col in enumerate(F.COLUMNS):
        sheet.put(F.HEADER_ROW, c, col.header, "header")
    sheet.heights[F.HEADER_ROW] = max(col.header.count("\n") + 1 for col in F.COLUMNS) \
        * LINE_POINTS + 4

    for offset, item in enumerate(items):
        r = F.FIRST_ITEM_ROW + offset
        texts = []
        for c, col in enumerate(F.COLUMNS):
            if col.input:
                sheet.put(r, c, None, col.input_style)
                continue
            value = plan_cell_value(plan, item, col.attr)
            sheet.put(r, c, value, col.locked_style)
            texts.append((norm_text(value), col.template_width))
        sheet.heights[r] = max(row_height(texts, LINE_POINTS), MIN_ITEM_ROW_POINTS)

    if items:
        first, last = F.FIRST_ITEM_ROW, F.FIRST_ITEM_ROW + len(items) - 1
        for c, col in enumerate(F.COLUMNS):
            if not col.input:
                continue
            if col.kind == "list":
                values = plan.lists.get(col.list_name, [])
                sheet.validations.append(Validation(
                    (first, c), (last, c), "list", source=list_names[col.list_name],
                    title=col.name, prompt=col.prompt,
                    error=f"請由清單選擇：{'、'.join(values)}。"))
            elif col.kind == "number" and col.maximum_attr:
                # Each item has its own maximum; one validation per run of equal maxima.
                for (start, end), maximum in _runs(items, col.maximum_attr):
                    sheet.validations.append(Validation(
                        (first + start, c), (first + end, c), "decimal", minimum=col.minimum,
                        maximum=maximum, title=col.name, prompt=col.prompt,
                        error=f"請輸入 {col.minimum:g} 到 {maximum:g} 之間的數字。"))
            elif col.kind == "number":
                sheet.validations.append(Validation(
                    (first, c), (last, c), "decimal", minimum=col.minimum, title=col.name,
                    prompt=col.prompt, error=f"請輸入 {col.minimum:g} 以上的數字。"))
            else:
                sheet.validations.append(_length_rule(col, (first, c), (last, c)))
    return sheet


def _date_rule(field: F.Column, cell: tuple[int, int], example: date) -> Validation:
    """填報日期: a date, or text such as 115/07/01 (Excel keeps ROC typing as text; the
    merge reads it as the date it says). The example is a date of the plan's own."""
    roc, gregorian = roc_date(example), f"{example.year}/{example.month}/{example.day}"
    return Validation(
        cell, cell, "date", minimum=F.EARLIEST_DATE, maximum=F.LATEST_DATE, title=field.name,
        prompt=field.prompt.format(roc=roc, gregorian=gregorian),
        error=f"請輸入日期，例如 {roc}（民國年）或 {gregorian}。若以 LibreOffice 開啟 .xlsx 檔，"
              f"民國日期請在前面加上半形單引號，例如 '{roc}。")


def _length_rule(col: F.Column, first, last, limit: int = F.TEXT_LIMIT) -> Validation:
    return Validation(first, last, "length", maximum=limit, title=col.name, prompt=col.prompt,
                      error=f"文字不可超過 {limit} 個字元。")


def _runs(items, attr: str):
    """Group consecutive items by an attribute: [((start, end), value), …]."""
    runs: list[tuple[tuple[int, int], object]] = []
    for i, item in enumerate(items):
        value = getattr(item, attr)
        if runs and runs[-1][1] == value and runs[-1][0][1] == i - 1:
            runs[-1] = ((runs[-1][0][0], i), value)
        else:
            runs.append(((i, i), value))
    return runs


@dataclass
class Written:
    unit: str
    path: Path


def write_templates(plan: Plan, out_dir: Path, units: Iterable[str] | None = None,
                    formats: Iterable[str] = ("xlsx",), generated: datetime | None = None,
                    progress: Callable[[str], None] | None = None) -> list[Written]:
    """Write one workbook per unit (and per format) into ``out_dir``."""
    chosen = units_to_write(plan, units)
    _refuse_shared_names(plan, chosen)
    generated = generated or generation_time()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    formats = tuple(formats)
    jobs = [(unit, out_dir, formats, generated) for unit in chosen]
    workers = min(os.cpu_count() or 1, 8)
    written = []
    with ExitStack() as stack:
        if workers < 2 or len(jobs) < PARALLEL_FROM:
            results: Iterator[list[tuple[str, Path]]] = (_write_unit(plan, job) for job in jobs)
        else:  # many units: one process per core, each writing whole workbooks
            from concurrent.futures import ProcessPoolExecutor

            pool = stack.enter_context(ProcessPoolExecutor(
                max_workers=workers, initializer=_init_worker, initargs=(plan,)))
            results = pool.map(_write_unit_in_worker, jobs,
                               chunksize=max(1, len(jobs) // (workers * 8)))
        for paths in results:
            for unit, path in paths:
                written.append(Written(unit, path))
                if progress:
                    progress(unit)
    return written


def units_to_write(plan: Plan, units: Iterable[str] | None) -> list[str]:
    """The units asked for (names or aliases), or every unit that leads items."""
    known = [u.name for u in plan.units]
    if not units:
        return [u for u in known if plan.items_for(u)]
    aliases = {a: u.name for u in plan.units for a in u.aliases}
    chosen = [u if u in known else aliases.get(u, u) for u in units]
    unknown = [u for u in chosen if u not in known]
    if unknown:
        raise XltoolError(f"計畫中沒有這些單位：{'、'.join(unknown)}。"
                          f"可用的單位：{'、'.join(known)}。")
    empty = [u for u in chosen if not plan.items_for(u)]
    if empty:
        raise XltoolError(f"這些單位沒有主辦任何項目，不產生填報表：{'、'.join(empty)}。")
    return list(dict.fromkeys(chosen))


def _refuse_shared_names(plan: Plan, units: list[str]) -> None:
    """No template may overwrite another (a plan ``xltool check`` has passed has none)."""
    twins = file_name_twins((u, template_filename(plan, u, "xlsx")) for u in units)
    if twins:
        pairs = "；".join(f"「{a}」與「{b}」都是「{name}」" for a, b, name in twins)
        raise XltoolError(f"有單位的填報表檔名相同，會互相覆蓋：{pairs}。請修改計畫檔「單位」工作表中"
                          "其中一個單位名稱（執行 xltool check 會列出儲存格）。")


PARALLEL_FROM = 24  # units; below this a process pool costs more than it saves
_worker_plan: Plan | None = None


def _init_worker(plan: Plan) -> None:
    global _worker_plan
    _worker_plan = plan


def _write_unit_in_worker(job) -> list[tuple[str, Path]]:
    assert _worker_plan is not None  # set by _init_worker, the pool's initializer
    return _write_unit(_worker_plan, job)


def _write_unit(plan: Plan, job) -> list[tuple[str, Path]]:
    from .ods_writer import write_ods
    from .xlsx_writer import write_xlsx

    unit, out_dir, formats, generated = job
    book = build_template(plan, unit, generated)
    out = []
    for fmt in formats:
        path = out_dir / template_filename(plan, unit, fmt)
        (write_xlsx if fmt == "xlsx" else write_ods)(book, path)
        out.append((unit, path))
    return out
