"""The audit record: exactly which file every figure came from, and the evidence
each unit sent.

For every file the merge considered (adopted, superseded, rejected) the report
gives its size, SHA-256, the time it says it was saved (with its offset), the
program that saved it and, when ``xltool collect`` fetched it, the message it
came in; 繳交狀態 shows the first digits of the hash and keeps the whole hash in
a hidden column. :func:`verify` reads that column back and tells whether the
returns on disk are still the files the master was built from.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..cells import header_name
from ..errors import ERROR, WARNING, Issue, XltoolError
from ..files import display_name
from ..forms import fields as F
from ..intake import Return, Row, discover
from ..intake.audit import file_digest
from ..intake.log import EvidenceFile
from .layout import STATUS_SHEET
from .merge import MergeResult

SHORT_HASH = 12  # hex digits of SHA-256 shown on 繳交狀態
HASH_HEADER = "SHA-256"  # 繳交狀態's hidden column: the whole hash, for --verify
SHORT_HEADER = "檔案摘要碼"
FILE_HEADER = "檔案"
EVIDENCE_FIELD = F.column("evidence").name
ADOPTED, SUPERSEDED, REJECTED = "adopted", "superseded", "rejected"
SAME, CHANGED, MISSING, ADDED = "相同", "已變更", "不見", "新增"


def short_hash(ret: Return | None) -> str:
    return ret.sha256[:SHORT_HASH] if ret is not None else ""


def considered(result: MergeResult) -> Iterator[tuple[Return, str, str]]:
    """Every file the merge considered: (return, unit, role), unit by unit in plan
    order, the files that could not be used last."""
    for s in result.units:
        if s.ret is not None:
            yield s.ret, s.unit, ADOPTED
        for old in s.superseded:
            yield old, s.unit, SUPERSEDED
    for ret in result.rejected:
        yield ret, ret.unit or "", REJECTED


def file_records(result: MergeResult) -> Iterator[dict]:
    """The report's ``files``: one audit record per file considered."""
    zone = result.plan.zone
    for ret, unit, role in considered(result):
        rec = result.received.returns.get(ret.name)
        yield {"file": ret.name, "path": shown_path(ret.path), "unit": unit or None, "role": role,
               "size": ret.size, "sha256": ret.sha256 or None,
               "saved": ret.stated.astimezone(zone).isoformat() if ret.stated else None,
               "producer": ret.producer or None,
               "sender": None if rec is None else {
                   "sender": rec.get("sender", ""),
                   # sent: the sender's Date header; received: when the server took it in
                   # (logs written before collect read the server's time have only date)
                   "sent": rec.get("sent", rec.get("date", "")), "received": rec.get("date", ""),
                   "message_id": rec.get("message_id", ""), "subject": rec.get("subject", "")}}


def shown_path(path: Path) -> str:
    """A path as text that can always be written out: the file's name as people see
    it (see files.display_name), undecodable bytes in its folders replaced."""
    folder = str(Path(path).parent).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return str(Path(folder) / display_name(path))


def evidence_records(files: list[EvidenceFile]) -> list[dict]:
    """The report's list of evidence files: each with the message it came with, and
    any later messages that carried the same bytes."""
    return [{"file": ev.name, "path": ev.path, "attachment": ev.attachment, "size": ev.size,
             "sha256": ev.sha256, "message": ev.messages[0], "also_in": ev.messages[1:]}
            for ev in files]


def unit_evidence(result: MergeResult, unit: str) -> dict:
    """The report's evidence fields of one unit."""
    files = result.received.evidence.get(unit, [])
    return {"evidence_folder": result.received.folders.get(unit), "evidence": evidence_records(files)}


def evidence_words(result: MergeResult, unit: str, row: Row | None) -> list[str]:
    """What 明細 says when a row's 佐證資料 names files the unit sent: the stored names."""
    files = result.received.evidence.get(unit)
    if not files or row is None:
        return []
    text = row.values.get(EVIDENCE_FIELD)
    if not isinstance(text, str) or not text.strip():
        return []
    said = _fold(text)
    named = [ev.name for ev in files if any(n in said for n in _names(ev))]
    return [f"佐證資料已收到：{'、'.join(named)}"] if named else []


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _names(ev: EvidenceFile) -> set[str]:
    """The names a unit may write for a file: as attached or stored, with or without
    the extension (a bare stem of one character says nothing)."""
    out = set()
    for name in (ev.attachment, ev.name):
        name = _fold(name).strip()
        stem = name.rsplit(".", 1)[0] if "." in name[1:] else name
        out |= {n for n in (name, stem.strip()) if len(n) >= 2}
    return out


# ------------------------------------------------------------------ --verify


@dataclass
class Checked:
    file: str
    unit: str
    state: str  # SAME, CHANGED, MISSING or ADDED
    recorded: str = ""  # the hash the master holds
    found: str = ""  # the hash of the file on disk


@dataclass
class Verified:
    master: str
    files: list[Checked] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def verify(master: Path, returns: list[Path]) -> Verified:
    """Whether the returns in ``returns`` are still those ``master`` was built from.
    Raises :class:`XltoolError` for a master that cannot be read or holds no hashes."""
    recorded = _recorded(Path(master))
    done = Verified(display_name(master))
    files, _ = discover(returns)
    on_disk: dict[str, list[tuple[Path, str]]] = {}
    for path in files:
        on_disk.setdefault(display_name(path), []).append((path, file_digest(path)[1]))
    used: set[Path] = set()
    for name, unit, digest in recorded:
        candidates = [(p, h) for p, h in on_disk.get(name, []) if p not in used]
        same = next(((p, h) for p, h in candidates if h == digest), None)
        if same is not None:
            used.add(same[0])
            done.files.append(Checked(name, unit, SAME, digest, digest))
        elif candidates:
            path, found = candidates[0]
            used.add(path)
            done.files.append(Checked(name, unit, CHANGED, digest, found))
            done.issues.append(Issue("return-changed", f"「{name}」的內容與彙整「{done.master}」時不同（摘要碼由 "
                                     f"{digest[:SHORT_HASH]} 變為 {found[:SHORT_HASH]}）；總表已不代表這個檔案，"
                                     "請確認後重新執行 xltool merge。", ERROR, file=name, unit=unit))
        else:
            done.files.append(Checked(name, unit, MISSING, digest))
            done.issues.append(_missing(name, unit, digest, done.master, on_disk))
    for name, found_files in on_disk.items():
        for path, found in found_files:
            if path not in used:
                done.files.append(Checked(name, "", ADDED, "", found))
                done.issues.append(Issue("return-added", f"「{name}」不在彙整「{done.master}」時的檔案中；"
                                         "重新執行 xltool merge 才會納入總表。", WARNING, file=name))
    return done


def _missing(name: str, unit: str, digest: str, master: str,
             on_disk: dict[str, list[tuple[Path, str]]]) -> Issue:
    renamed = [n for n, found in on_disk.items() if any(h == digest for _, h in found)]
    also = f"（內容相同的檔案現名為「{'、'.join(renamed)}」）" if renamed else ""
    return Issue("return-missing", f"彙整「{master}」時的「{name}」已不在回傳資料夾中{also}；"
                 "請找回檔案，或重新執行 xltool merge。", ERROR, file=name, unit=unit)


def _recorded(master: Path) -> list[tuple[str, str, str]]:
    """(file name, unit, SHA-256) of every file 繳交狀態 lists with a hash."""
    from ..reading.workbook import Rejected, read_workbook

    try:
        wb = read_workbook(master, only={STATUS_SHEET})
    except Rejected as exc:
        raise XltoolError(f"無法讀取總表「{display_name(master)}」：{exc.issue.message}") from None
    sheet = wb.sheets.get(STATUS_SHEET)
    names = [header_name(v) for v in sheet.rows[0]] if sheet is not None and sheet.rows else []
    if FILE_HEADER not in names or HASH_HEADER not in names or "單位" not in names:
        raise XltoolError(f"「{display_name(master)}」不是含有檔案摘要碼的總表（沒有「{STATUS_SHEET}」工作表的"
                          f"「{HASH_HEADER}」欄）；請指定 xltool merge 產生的總表，或以新版 xltool 重新彙整。")
    assert sheet is not None
    file_col, hash_col, unit_col = (names.index(n) for n in (FILE_HEADER, HASH_HEADER, "單位"))
    out = []
    for r in range(1, len(sheet.rows)):
        name, digest = _text(sheet.cell(r, file_col)), _text(sheet.cell(r, hash_col)).lower()
        if name and re.fullmatch(r"[0-9a-f]{64}", digest):
            out.append((name, _text(sheet.cell(r, unit_col)), digest))
    return out


def _text(value) -> str:
    """A cell's text as written: file names keep their full-width characters."""
    return value.strip() if isinstance(value, str) else ""
