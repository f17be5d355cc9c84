"""`xltool collect`: take the returns out of a mailbox.

Sources: a folder of .eml files, an mbox file, a Maildir, or an IMAP mailbox
(TLS, opened read-only and fetched with BODY.PEEK, so nothing is deleted or
flagged). Only spreadsheet attachments that carry this plan's template
metadata are kept; everything else is reported. Each kept file gets a clean,
collision-free name and a record of who sent it, when, and in which message.
"""
from __future__ import annotations

import email
import hashlib
import imaplib
import json
import mailbox
import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from email import policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Callable, Iterator

from .errors import ERROR, WARNING, Issue, XltoolError
from .files import atomic_path, safe_filename
from .intake import read_return
from .plan import Plan
from .reading.workbook import SPREADSHEET_SUFFIXES

LOG_NAME = ".xltool-collect.json"  # beside the returns; merge reads it to say who sent what


@dataclass
class ImapSettings:
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    starttls: bool = False
    cafile: str | None = None
    since: date | None = None
    before: date | None = None


@dataclass
class Saved:
    path: Path
    unit: str
    sender: str
    sent: str
    message_id: str


@dataclass
class CollectResult:
    saved: list[Saved] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def read_log(folder: Path) -> dict:
    path = Path(folder) / LOG_NAME
    if not path.exists():
        return {"files": {}, "seen": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {"files": dict(data.get("files", {})), "seen": list(data.get("seen", []))}
    except (ValueError, AttributeError):
        raise XltoolError(f"收件紀錄「{path}」已損毀；請檢查或移除後再執行。")


def messages_from(source: Path) -> Iterator[tuple[str, bytes]]:
    """(label, raw message) from a folder of .eml, an mbox file or a Maildir."""
    source = Path(source)
    if source.is_dir() and all((source / d).is_dir() for d in ("cur", "new", "tmp")):
        box = mailbox.Maildir(str(source), factory=None, create=False)
        for key in sorted(box.keys()):
            yield f"Maildir:{key}", box.get_bytes(key)
    elif source.is_dir():
        for path in sorted(source.rglob("*.eml")):
            yield path.name, path.read_bytes()
    elif source.is_file():
        box = mailbox.mbox(str(source), create=False)
        for n, key in enumerate(box.keys(), start=1):
            yield f"mbox#{n}", box.get_bytes(key)
    else:
        raise XltoolError(f"找不到郵件來源「{source}」（應為 .eml 資料夾、mbox 檔或 Maildir）。")


def messages_from_imap(s: ImapSettings) -> Iterator[tuple[str, bytes]]:
    """Every message of one IMAP folder, read-only: never deleted, never marked read."""
    context = ssl.create_default_context(cafile=s.cafile)
    try:
        if s.starttls:
            conn = imaplib.IMAP4(s.host, s.port)
            conn.starttls(ssl_context=context)
        else:
            conn = imaplib.IMAP4_SSL(s.host, s.port, ssl_context=context)
    except (ssl.SSLError, ssl.CertificateError) as exc:
        raise XltoolError(f"與郵件伺服器 {s.host} 的加密連線失敗（{exc}）；"
                          "如使用自簽憑證，請以 --cafile 指定憑證。")
    except OSError as exc:
        raise XltoolError(f"無法連線到郵件伺服器 {s.host}:{s.port}（{exc}）。")
    try:
        try:
            conn.login(s.user, s.password)
        except imaplib.IMAP4.error:
            raise XltoolError(f"郵件伺服器 {s.host} 拒絕登入：請確認帳號與密碼。")
        status, _ = conn.select(_quote(s.folder), readonly=True)
        if status != "OK":
            raise XltoolError(f"郵件伺服器上沒有資料夾「{s.folder}」。")
        criteria = []
        if s.since:
            criteria += ["SINCE", s.since.strftime("%d-%b-%Y")]
        if s.before:
            criteria += ["BEFORE", s.before.strftime("%d-%b-%Y")]
        status, data = conn.uid("SEARCH", None, *(criteria or ["ALL"]))
        for uid in (data[0] or b"").split():
            status, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if raw:
                yield f"IMAP:{s.folder}#{uid.decode()}", raw
    finally:
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def collect(plan: Plan, messages: Iterator[tuple[str, bytes]], out_dir: Path,
            progress: Callable[[str], None] | None = None) -> CollectResult:
    """Save this plan's returns from ``messages`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    log = read_log(out_dir)
    seen = set(log["seen"])
    result = CollectResult()
    for label, raw in messages:
        if progress:
            progress(label)
        msg = email.message_from_bytes(raw, policy=policy.default)
        msg_id = str(msg.get("Message-ID", "")).strip() or \
            "sha256:" + hashlib.sha256(raw).hexdigest()
        sender = str(msg.get("From", ""))
        sent = _date(msg)
        where = f"{sender}（{label}）"
        found = False
        for part in msg.iter_attachments():
            name = part.get_filename() or "（未命名附件）"
            try:
                data = part.get_content()
            except (LookupError, ValueError):
                data = part.get_payload(decode=True) or b""
            if isinstance(data, str):
                data = data.encode("utf-8")
            suffix = Path(name).suffix.lower()
            if suffix not in SPREADSHEET_SUFFIXES:
                result.issues.append(Issue("not-a-spreadsheet", f"{where} 的附件「{name}」不是試算表，"
                                           "未存檔。", WARNING, file=name))
                continue
            found = True
            key = f"{msg_id}|{hashlib.sha256(data).hexdigest()}"
            if key in seen:
                result.issues.append(Issue("duplicate-message", f"{where} 的附件「{name}」先前已收過"
                                           "（同一封郵件），未重複存檔。", WARNING, file=name))
                continue
            unit, problem = _identify(plan, name, data)
            if unit is None:
                result.issues.append(Issue(problem[0], f"{where} 的附件「{name}」{problem[1]}，未存檔。",
                                           ERROR if problem[0] == "wrong-plan" else WARNING,
                                           file=name))
                continue
            target = _free_name(out_dir, f"{unit}_{sent.strftime('%Y%m%dT%H%M')}", suffix)
            with atomic_path(target) as tmp:
                tmp.write_bytes(data)
            seen.add(key)
            log["seen"].append(key)
            log["files"][target.name] = {"unit": unit, "sender": sender, "date": sent.isoformat(),
                                         "message_id": msg_id, "subject": str(msg.get("Subject", "")),
                                         "attachment": name}
            _write_log(out_dir, log)
            result.saved.append(Saved(target, unit, sender, sent.isoformat(), msg_id))
        if not found and not list(msg.iter_attachments()):
            result.issues.append(Issue("no-attachment", f"{where} 的郵件「{msg.get('Subject', '')}」"
                                       "沒有附件。", WARNING))
    return result


def _identify(plan: Plan, name: str, data: bytes) -> tuple[str | None, tuple[str, str]]:
    """Which unit's template this attachment is, by its metadata only."""
    with tempfile.TemporaryDirectory(prefix="xltool-collect-") as tmp:
        path = Path(tmp) / ("attachment" + Path(name).suffix.lower())
        path.write_bytes(data)
        ret = read_return(plan, path)
    codes = {i.code for i in ret.issues}
    if ret.unit and "no-metadata" not in codes:
        return ret.unit, ("", "")
    if "wrong-plan" in codes:
        return None, ("wrong-plan", "是其他計畫或其他年度的填報表")
    if "no-metadata" in codes or "unrecognised" in codes:
        return None, ("no-metadata", "沒有本計畫填報表的識別資料")
    first = next((i for i in ret.issues if i.is_error), None)
    return None, (first.code if first else "unreadable", "無法讀取")


def _date(msg) -> datetime:
    try:
        value = parsedate_to_datetime(str(msg.get("Date", "")))
        if value is not None:
            return value
    except (TypeError, ValueError, IndexError):
        pass
    return datetime(1970, 1, 1)


def _free_name(folder: Path, stem: str, suffix: str) -> Path:
    stem = safe_filename(stem)
    candidate = folder / f"{stem}{suffix}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem}_{n}{suffix}"
        n += 1
    return candidate


def _write_log(folder: Path, log: dict) -> None:
    with atomic_path(folder / LOG_NAME) as tmp:
        tmp.write_text(json.dumps(log, ensure_ascii=False, indent=2), encoding="utf-8")
