"""The master's identity: what it needs to be verified without its plan file.

One level up (`xltool rollup`) the 局 has the branches' masters but not their
plan files. So the master carries, on a very hidden protected sheet, the plan
facts its scores follow (year, period, 構面 and their points, the grade bands,
the units, each item's 構面, points and lead units) and what the merge found
(each item's 自評 and a digest of its units' contributions). A digest over all
of it is kept on the sheet and in a custom document property; recomputing the
scores from 明細 and 評分 and comparing them with this record tells a master
whose figures were edited (or whose record was) from one that was only reviewed.

Every value is written as text, so that it reads back the same from any
program that saved the file (Excel, LibreOffice, openpyxl).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence

from ...cells import fmt_number
from ...xlsx_text import LiteralWorksheet
from .context import Context
from .xmlrows import rows_for

IDENTITY_SHEET = "總表識別"
VERSION = "1"
DIGEST_PROPERTY = "xltool_master_digest"
KIND_PROPERTY = "xltool_kind"
KIND = "master"
# The first cell of each record says what the record is.
HEAD, INFO, DIMENSION, GRADE, UNIT, ITEM, DIGEST = "總表識別", "計畫", "構面", "等第", "單位", "項目", "摘要碼"
INFO_KEYS = ("計畫名稱", "機關名稱", "年度", "填報期間", "考核年月", "不適用選項")


def entry_key(score: float | None, excluded: bool) -> str:
    """One lead unit's contribution to an item, as text: its score, or - when left out."""
    return "-" if excluded else fmt_number(score or 0)


def entries_digest(entries: Iterable[tuple[str, str]]) -> str:
    """A short digest of an item's (unit, :func:`entry_key`) pairs, in lead order."""
    data = json.dumps([list(e) for e in entries], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


def records_digest(records: Sequence[Sequence[str]]) -> str:
    """The digest of the identity's records (all but the digest's own)."""
    data = json.dumps([list(r) for r in records], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]


def records(result) -> list[list[str]]:
    """The identity of a merge result (:class:`~xltool.master.merge.MergeResult`)."""
    plan = result.plan
    info = plan.info
    out = [[HEAD, VERSION]]
    values = (info.name, info.agency, str(info.year), info.period, info.review_month, info.not_applicable)
    out += [[INFO, key, value] for key, value in zip(INFO_KEYS, values)]
    out += [[DIMENSION, d.code, d.name, fmt_number(d.points)] for d in plan.dimensions]
    out += [[GRADE, g.grade, fmt_number(g.minimum)] for g in plan.grades]
    out += [[UNIT, u.name] for u in plan.units]
    for res in result.items:
        entries = res.entries
        pairs = [(unit, entry_key(entries[unit].score, entries[unit].excluded)) for unit in res.item.leads]
        out.append([ITEM, res.item.id, res.item.dimension, fmt_number(res.item.points),
                    fmt_number(res.self_score), entries_digest(pairs), *res.item.leads])
    return out


def write(ctx: Context) -> None:
    """The identity sheet, last in the book, very hidden and protected; its digest
    also as a custom document property."""
    rows = records(ctx.r)
    digest = records_digest(rows)
    ws = ctx.wb.add_worksheet(IDENTITY_SHEET, LiteralWorksheet)
    out = rows_for(ws, {}, ctx.set_height)  # 60,000 cells for 1,000 units of 60 items
    for r, row in enumerate([*rows, [DIGEST, digest]]):
        out.row(r, [(value, None) for value in row])
    ws.protect("")
    ws.very_hidden()
    ctx.wb.set_custom_property(KIND_PROPERTY, KIND)
    ctx.wb.set_custom_property(DIGEST_PROPERTY, digest)
