"""Evidence files (佐證資料): the attachments of a unit's mail that are not returns.

Each is kept under the returns folder, in :data:`~xltool.intake.log.EVIDENCE_DIR`,
one folder per unit: the unit whose return came in the same message, else the
unit whose address in the plan sent it, else :data:`~xltool.intake.log.UNASSIGNED_DIR`.
An evidence file is only stored: never opened, never executed, never read by any
stage (the folder is marked so that discovery passes it over). Its name is made
safe for Windows and Linux (no folders, no reserved names, no control
characters, a bounded length) and unique in its folder; the same bytes from the
same unit are stored once, and the log records every message that carried them.

A message with no return whose attachment is a wrapping a return may be inside
(Outlook's winmail.dat, a .zip) gets a warning naming it and the unit: xltool
does not open them, so the unit is asked to attach the spreadsheet itself.
"""
from __future__ import annotations

import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import WARNING, Issue
from ..files import atomic_path, safe_filename
from ..intake.log import EVIDENCE, EVIDENCE_DIR, EVIDENCE_MARKER, UNASSIGNED_DIR, CollectLog
from ..plan import Plan
from ..plan.addresses import same_address
from ..plan.filenames import unit_stem
from ..quoting import quote

MAX_EVIDENCE_PER_MESSAGE = 100  # attachments kept from one message; the rest are refused
MAX_NAME_BYTES = 150  # of a stored name, in UTF-8: room for the folders and a _2
UNNAMED = "（未命名附件）"  # as UNASSIGNED_DIR is written
# Names Windows keeps for devices, with any extension (CON.txt is the console too).
_RESERVED = re.compile(r"(?i)(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)[ .]*(\..*)?")
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}$")
_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
          "image/tiff": ".tif", "text/plain": ".txt", "application/zip": ".zip",
          "application/msword": ".doc", "application/vnd.oasis.opendocument.text": ".odt",
          "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx"}
MARKER_TEXT = ("這個資料夾存放 xltool collect 從郵件取出的佐證資料（每個單位一個資料夾）。\n"
               "xltool merge 與 xltool status 不會把這裡的檔案當成回傳檔。\n")


@dataclass
class Evidence:
    """An evidence attachment as the worker found it (written to a scratch file)."""

    name: str  # the attachment's name, as shown: short and printable
    path: str  # the scratch copy
    size: int
    digest: str  # SHA-256 of its bytes
    stored: str  # the safe name to store it under
    senders: tuple[str, ...] = ()  # authors of the forwarded messages that carried it
    wrapped: str = ""  # "tnef" (winmail.dat) or "archive" (.zip…): a return may be inside


@dataclass
class SavedEvidence:
    path: Path  # where it is stored (an earlier copy, for a duplicate)
    unit: str  # "" when unassigned
    sender: str
    sent: str
    message_id: str
    attachment: str = ""  # the attachment's name in the message, as shown
    duplicate: bool = False  # the same bytes were stored before: not stored again


def evidence_name(name: str, content_type: str = "") -> str:
    """A file name that is safe on Windows and Linux, whatever the message said: one
    component, no control or invisible characters, no device name, at most
    :data:`MAX_NAME_BYTES` bytes, keeping its extension."""
    text = "".join("_" if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") else ch
                   for ch in name[:1000])
    text = safe_filename(text)
    if text == "_":
        text = UNNAMED
    stem, suffix = text, ""
    found = _SUFFIX.search(text)
    if found and len(text) > len(found.group()):
        suffix = found.group()
        stem = text[:-len(suffix)]
    elif content_type in _TYPES:
        suffix = _TYPES[content_type]
    if _RESERVED.fullmatch(stem) or _RESERVED.fullmatch(stem + suffix):
        stem = "_" + stem
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(" .") or "_"
    return stem + suffix


def place(plan: Plan, sender: str, evidence: Evidence, units: set[str]) -> tuple[str, str]:
    """Which unit an evidence file belongs to, and how that was told: ("第一課",
    "return") for the one unit whose return came with it, ("第一課", "sender") by
    the address of whoever attached it (the innermost author of a forwarded
    message first), ("", "unassigned") when neither tells."""
    if len(units) == 1:
        return next(iter(units)), "return"
    for address in (*reversed(evidence.senders), sender):
        if not address:
            continue
        matches = [u.name for u in plan.units if u.email and same_address(address, u.email)]
        if units:
            matches = [m for m in matches if m in units]
        if len(matches) == 1:
            return matches[0], "sender"
    return "", "unassigned"


class EvidenceStore:
    """Stores evidence files under ``out_dir``/佐證資料 and records each in the log."""

    def __init__(self, plan: Plan, out_dir: Path, log: CollectLog, records: list[dict],
                 seen: set[str]):
        self.plan = plan
        self.seen = seen  # message id | SHA-256 of every attachment kept, returns too
        self.out_dir = Path(out_dir)
        self.root = self.out_dir / EVIDENCE_DIR
        self.log = log
        self.stored: dict[tuple[str, str], str] = {}  # (folder, SHA-256) → path under out_dir
        for rec in records:
            parts = Path(str(rec.get("file", ""))).parts
            if len(parts) == 3 and parts[0] == EVIDENCE_DIR:
                self.stored.setdefault((parts[1], str(rec.get("sha256", ""))), "/".join(parts))
        self._taken: dict[str, set[str]] = {}  # folder → its names, casefolded (Windows)

    def keep(self, ex, units: set[str], saved: list[SavedEvidence], issues: list[Issue]) -> int:
        """Store the evidence of one examined message (see examine.Examined); the
        number of attachments skipped because the same message was kept before."""
        skipped = 0
        for ev in ex.evidence:
            key = f"{ex.msg_id}|{ev.digest}"
            if key in self.seen:
                skipped += 1
                continue
            self.seen.add(key)
            unit, how = place(self.plan, ex.sender_address, ev, units)
            folder = unit_stem(unit) if unit else UNASSIGNED_DIR  # as the plan check vouches: unique
            earlier = self.stored.get((folder, ev.digest))
            duplicate = earlier is not None and (self.out_dir / earlier).is_file()
            if duplicate:
                assert earlier is not None
                rel = earlier
                issues.append(Issue("duplicate-message", f"{ex.where} 的附件「{ev.name}」與先前收到的佐證資料"
                                    f"「{earlier}」相同，未重複存檔。", file=ev.name, unit=unit))
            else:
                rel = self._store(folder, ev)
                self.stored[(folder, ev.digest)] = rel
            self.log.add(rel, {"kind": EVIDENCE, "unit": unit, "placed": how, "sender": ex.sender,
                               "date": ex.arrived, "message_id": ex.msg_id, "subject": ex.subject,
                               "attachment": ev.name, "size": ev.size, "sha256": ev.digest,
                               "duplicate": duplicate, "key": key})
            saved.append(SavedEvidence(self.out_dir / rel, unit, ex.sender, ex.arrived, ex.msg_id,
                                       ev.name, duplicate))
            if how == "unassigned":
                issues.append(_unassigned(ex, ev, rel))
            if ev.wrapped and not units:
                issues.append(_wrapped(ex, ev, unit, rel))
        return skipped

    def _store(self, folder: str, ev: Evidence) -> str:
        """Copy the scratch file into ``folder`` under a free name; its path under out_dir."""
        target = self._free_name(folder, ev.stored)
        root = self.root.resolve()
        if root not in target.resolve().parents:  # the names are safe; this is a second lock
            raise AssertionError(f"evidence outside its folder: {target}")
        if not (self.root / EVIDENCE_MARKER).exists():
            with atomic_path(self.root / EVIDENCE_MARKER) as tmp:
                tmp.write_text(MARKER_TEXT, encoding="utf-8")
        with atomic_path(target) as tmp:
            shutil.copyfile(ev.path, tmp)
        return f"{EVIDENCE_DIR}/{folder}/{target.name}"

    def _free_name(self, folder: str, name: str) -> Path:
        where = self.root / folder
        taken = self._taken.get(folder)
        if taken is None:
            taken = {p.name.casefold() for p in where.iterdir()} if where.is_dir() else set()
            self._taken[folder] = taken
        stem, suffix = name, ""
        if "." in name[1:]:
            stem, suffix = name.rsplit(".", 1)
            suffix = "." + suffix
        candidate, n = name, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{stem}_{n}{suffix}"
        taken.add(candidate.casefold())
        return where / candidate


def _unassigned(ex, ev: Evidence, rel: str) -> Issue:
    who = quote(ex.sender_address or ex.sender) if (ex.sender_address or ex.sender) else "（寄件者不明）"
    return Issue("unassigned-evidence", f"{ex.where} 的附件「{ev.name}」不是回傳檔，寄件者 {who} 也不是計畫檔中"
                 f"任何單位的電子郵件，已存為未歸屬單位的佐證資料「{rel}」；請確認是哪個單位的資料。",
                 WARNING, file=ev.name, value=who)


def _wrapped(ex, ev: Evidence, unit: str, rel: str) -> Issue:
    """The warning for a winmail.dat or an archive in a message that had no return."""
    what = ("是 Outlook 的 winmail.dat（TNEF 格式，郵件以 RTF 格式寄出時產生）" if ev.wrapped == "tnef"
            else "是壓縮檔")
    who = f"「{unit}」" if unit else "寄件單位"
    return Issue("wrapped-return", f"{ex.where} 沒有回傳檔，但附件「{ev.name}」{what}，回傳檔可能在其中；"
                 f"xltool 不開啟這類檔案，已存為佐證資料「{rel}」。請{who}將填報表直接附加在郵件中"
                 "（不要壓縮，並以 HTML 或純文字格式寄出）重寄。", WARNING, file=ev.name, unit=unit)
