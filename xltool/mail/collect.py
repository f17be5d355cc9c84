"""`xltool collect`: take the returns out of a mailbox.

Sources: a folder of .eml files, an mbox file, a Maildir, or an IMAP mailbox
(TLS, opened read-only and fetched with BODY.PEEK, so nothing is deleted or
flagged). Only spreadsheet attachments that carry this plan's template
metadata are kept as returns. Every other attachment is evidence (佐證資料),
stored under the unit it belongs to, never opened (see :mod:`.evidence`). Each
kept file gets a clean, collision-free name and a record of who sent it, when,
in which message, and its SHA-256. "When" is the server's receipt time (IMAP's
INTERNALDATE, the mbox separator line, the topmost Received header), the sender's
Date header only when there is none: a sender's clock may be wrong. A return
whose very bytes were saved before (a unit that sends again, a copy to a second
address) is not saved again: the log names the message beside the first.

Mail is untrusted. Each message is parsed and examined on its own in an
isolated worker (see :mod:`.reading.isolation`): the worker parses it, writes
each spreadsheet attachment to a scratch file and identifies it; only a small
summary comes back. A message that cannot be parsed, or whose worker dies,
becomes one issue naming it, and collection goes on. Sizes are checked before
anything is read, so no message over :data:`MAX_MESSAGE_BYTES` is ever held in
memory. Returns forwarded as an attached message, and messages whose whole
body is the spreadsheet, are collected too.

A source that fails part way (an IMAP server that drops the connection for good)
stops only the reading: every message read before it is still examined and its
returns saved, then the failure is one error. The main process never opens a
message: what it says of a message whose worker died comes from the worker.
xltool's own messages (drafts, copies of what it sent) are passed over, with one
note for them all.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..cells import local_text
from ..errors import INFO, WARNING, Issue, XltoolError
from ..files import atomic_path, safe_filename
from ..intake.log import CollectLog, read_log
from ..plan import Plan
from ..plan.addresses import same_address
from ..plan.filenames import unit_stem
from ..quoting import quote
from ..reading.isolation import Failure, Limits, Pool
from .evidence import EvidenceStore, SavedEvidence
from .examine import Examined, Found, _examine_job, noted_message_id
from .sources import ImapSettings, Mail, label_of, messages_from, messages_from_imap  # noqa: F401


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
    evidence: list[SavedEvidence] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    already: int = 0  # attachments saved by an earlier run, not saved again


# ------------------------------------------------------------------ collecting


def collect(plan: Plan, messages: Iterable[Mail], out_dir: Path,
            progress: Callable[[str], None] | None = None,
            workers: int | None = None) -> CollectResult:
    """Save this plan's returns from ``messages`` into ``out_dir``. Each message is
    examined in an isolated worker; what it found is saved here, in message order."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    known = read_log(out_dir)
    saver = _Saver(plan, out_dir, known)
    saver.result.issues.extend(known["issues"])
    pending: deque[Mail] = deque()
    stopped: list[Exception] = []  # why the source stopped part way, if it did
    own: list[str] = []  # labels of xltool's own messages, passed over

    def jobs() -> Iterator[tuple[int, Mail]]:
        """The messages, numbered. A source that fails before its first message stops
        the run (nothing to save: a wrong host, say); one that fails later ends the
        messages here, so that those already handed out are still saved."""
        source = iter(messages)
        index = 0
        while True:
            try:
                mail = next(source)
            except StopIteration:
                return
            except (XltoolError, OSError) as exc:
                if index == 0:
                    raise
                stopped.append(exc)
                return
            pending.append(mail)
            yield index, mail
            index += 1

    workers = workers or min(os.cpu_count() or 1, 4)
    with tempfile.TemporaryDirectory(prefix="xltool-collect-") as scratch:
        try:
            context = (plan, frozenset(known["seen"]), scratch)
            with Pool(_examine_job, context, workers=workers) as pool:
                for index, answer in enumerate(pool.map(jobs())):
                    mail = pending.popleft()
                    if progress:
                        progress(mail.label)
                    if isinstance(answer, Failure):
                        saver.result.issues.append(_failure_issue(
                            mail, answer, pool.limits, noted_message_id(Path(scratch) / str(index))))
                    elif answer.own:
                        own.append(answer.label)
                    else:
                        saver.keep(answer)
                    _discard(mail)
                    shutil.rmtree(Path(scratch) / str(index), ignore_errors=True)
        finally:
            saver.log.close()
            while pending:
                _discard(pending.popleft())
    saver.result.issues.extend(saver.clock_notes())
    if own:
        saver.result.issues.append(Issue(
            "own-message", f"略過 {len(own)} 封 xltool 產生的郵件（草稿或寄出郵件的副本，例如 {own[0]}），"
            "不是各單位的回覆，其中的填報表不是回傳檔。", INFO))
    for exc in stopped:
        text = str(exc) if isinstance(exc, XltoolError) else \
            f"讀取郵件來源時發生錯誤（{quote(exc, 200)}），已停止收取；在此之前取得的郵件都已處理並記錄。"
        saver.result.issues.append(Issue("mail-stopped", text))
    return saver.result


class _Saver:
    """Saves the returns found in examined messages and records each in the log."""

    def __init__(self, plan: Plan, out_dir: Path, known: dict):
        self.plan = plan
        self.out_dir = out_dir
        self.seen = set(known["seen"])  # message id | attachment hash, of every file saved
        self.log = CollectLog(out_dir)
        self.result = CollectResult()
        self.evidence = EvidenceStore(plan, out_dir, self.log, known["evidence"], self.seen)
        self.unit_of_key = {str(rec["key"]): str(rec.get("unit", "")) for rec in known["files"].values()
                            if isinstance(rec.get("key"), str)}
        self.records: dict[str, dict] = dict(known["files"])  # saved file → its last log record
        self.by_digest: dict[str, str] = {}  # SHA-256 → the file saved with those bytes
        for name, rec in self.records.items():
            self.by_digest.setdefault(str(rec.get("sha256", "")), name)
        self.header_dated: dict[str, list[str]] = {}  # unit → files dated by the Date header
        self._next: dict[str, int] = {}  # stem → next number to try: no rescans

    def keep(self, ex: Examined) -> None:
        """Save the identified returns of one examined message; record its issues."""
        self.result.issues.extend(ex.issues)
        self.result.already += ex.already
        self._save_returns(ex)
        units = {f.unit for f in ex.found} | {self.unit_of_key[k] for k in ex.known_keys
                                             if self.unit_of_key.get(k)}
        self.result.already += self.evidence.keep(ex, units, self.result.evidence, self.result.issues)

    def _save_returns(self, ex: Examined) -> None:
        """Save each return found in ``ex``, named and logged by when the message
        arrived (the server's receipt time, else its Date header). The same bytes
        saved before (a unit that sends again, or a copy to a second address) are not
        saved again: the log records the message beside the first."""
        arrived = _parse_iso(ex.arrived)
        for found in ex.found:
            key = f"{ex.msg_id}|{found.digest}"
            if key in self.seen:
                self.result.issues.append(Issue(
                    "duplicate-message", f"{ex.where} 的附件「{found.name}」先前已收過（同一封郵件），"
                    "未重複存檔。", file=found.name))
                continue
            earlier = self._saved_copy(found.digest)
            if earlier is not None:
                self._note_copy(ex, found, key, earlier, arrived)
                continue
            target = self._free_name(f"{unit_stem(found.unit)}_{arrived.strftime('%Y%m%dT%H%M')}",
                                     found.suffix)
            with atomic_path(target) as tmp:
                shutil.copyfile(found.path, tmp)
            self.seen.add(key)
            record = {"unit": found.unit, "sender": ex.sender, "date": arrived.isoformat(),
                      "date_source": ex.received_from or "header", "sent": ex.sent,
                      "message_id": ex.msg_id, "subject": ex.subject, "attachment": found.name,
                      "size": found.size, "sha256": found.digest, "key": key}
            self.log.add(target.name, record)
            self.records[target.name] = record
            self.by_digest.setdefault(found.digest, target.name)
            if not ex.received:
                self.header_dated.setdefault(found.unit, []).append(target.name)
            self.result.saved.append(Saved(target, found.unit, ex.sender, arrived.isoformat(),
                                           ex.msg_id))
            sender_issue = _sender_issue(self.plan, ex, found)
            if sender_issue:
                self.result.issues.append(sender_issue)

    def _saved_copy(self, digest: str) -> str | None:
        """The file saved earlier with these bytes, if it is still in the folder (one
        taken out by hand is saved again when it comes again)."""
        name = self.by_digest.get(digest)
        return name if name is not None and (self.out_dir / name).is_file() else None

    def _note_copy(self, ex: Examined, found: Found, key: str, name: str, arrived: datetime) -> None:
        """Record that ``ex`` carried again the bytes saved as ``name``. The log's record
        of the file keeps the message it was saved from (its name and the merge's
        reading of when it arrived are that message's), and lists every later one."""
        first = {k: v for k, v in self.records.get(name, {}).items() if k not in ("key", "also_in")}
        also = list(self.records.get(name, {}).get("also_in") or [])
        also.append({"message_id": ex.msg_id, "sender": ex.sender, "date": arrived.isoformat(),
                     "subject": ex.subject, "attachment": found.name})
        record = {**first, "key": key, "also_in": also}
        self.log.add(name, record)
        self.records[name] = record
        self.seen.add(key)
        came = when_shown(first.get("date"), self.plan)
        who = quote(str(first.get("sender") or "")) or "（寄件者不明）"
        self.result.issues.append(Issue(
            "duplicate-message", f"{ex.where} 的附件「{found.name}」與先前收到的回傳檔「{name}」"
            f"（{who}{'，' + came if came else ''}）內容完全相同，未重複存檔；已記入收件紀錄。",
            file=found.name, unit=found.unit))

    def clock_notes(self) -> list[Issue]:
        """A note for each unit with several returns, one of them dated by its sender's
        Date header (no server receipt time): the sender's clock may be wrong."""
        notes = []
        for unit, names in self.header_dated.items():
            files = {n for n, rec in self.records.items()
                     if rec.get("unit") == unit and (self.out_dir / n).is_file()}
            if len(files) < 2:
                continue
            notes.append(Issue(
                "sender-date", f"「{unit}」的回收資料夾有 {len(files)} 份回傳檔，其中"
                f"「{'」「'.join(names[:5])}」的郵件沒有郵件伺服器的收件時間（IMAP 收件時間、mbox 分隔行"
                "或 Received 標頭），檔名與收件紀錄的時間取自寄件者電腦寫的 Date 標頭，可能不準；"
                "彙整時先依各檔的存檔時間判斷哪一份較新。", INFO, unit=unit, file=names[0]))
        return notes

    def _free_name(self, stem: str, suffix: str) -> Path:
        """``stem.suffix``, or ``stem_2.suffix`` and on, whichever does not exist yet."""
        stem = safe_filename(stem)
        n = self._next.get(stem + suffix, 1)
        candidate = self.out_dir / (f"{stem}{suffix}" if n == 1 else f"{stem}_{n}{suffix}")
        while candidate.exists():
            n += 1
            candidate = self.out_dir / f"{stem}_{n}{suffix}"
        self._next[stem + suffix] = n + 1
        return candidate


def _sender_issue(plan: Plan, ex: Examined, found: Found) -> Issue | None:
    """A warning when neither the sender nor the author of a forwarded message
    is the unit's own address: the file may not come from that unit."""
    expected = plan.unit(found.unit).email
    senders = [a for a in (ex.sender_address, *found.senders) if a]
    if not expected or any(same_address(a, expected) for a in senders):
        return None
    who = quote(senders[0]) if senders else "（寄件者不明）"
    return Issue("unexpected-sender", f"「{found.unit}」的回傳檔「{found.name}」由 {who} 寄出（{ex.label}），"
                 f"不是計畫檔中「{found.unit}」的電子郵件 {expected}；已存檔，如非代為轉寄，請向該單位確認。",
                 WARNING, file=found.name, unit=found.unit, value=who, expected=expected)


def _failure_issue(mail: Mail, failure: Failure, limits: Limits, message_id: str = "") -> Issue:
    """The issue for a message whose worker died, ran out of memory or of time.
    ``message_id`` is what the worker noted before it read the message: the
    message itself is not opened here (it might be a pipe that never answers)."""
    named = label_of(mail.label, message_id)
    if failure.kind == "memory":
        return Issue("too-large", f"{named} 處理時需要的記憶體超過上限（{limits.memory_mb} MB），"
                                  "已略過；其他郵件照常收取。", file=mail.label)
    if failure.kind == "timeout":
        return Issue("timeout", f"{named} 處理超過時間上限（{limits.wall_seconds:g} 秒），已略過；"
                                "其他郵件照常收取。", file=mail.label)
    return Issue("unreadable", f"{named} 無法處理（解析程式異常結束），已略過；其他郵件照常收取。",
                 file=mail.label)


def _discard(mail: Mail) -> None:
    if mail.spooled and mail.path is not None:
        try:
            mail.path.unlink()
        except OSError:
            pass


def when_shown(text, plan: Plan) -> str:
    """An ISO time from the log (or a :class:`Saved`'s ``sent``) as every screen shows
    times (:func:`~xltool.cells.local_text`: ROC date, the plan's zone), or ""."""
    try:
        return local_text(datetime.fromisoformat(str(text)), plan.zone) if text else ""
    except ValueError:
        return ""


def _parse_iso(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime(1970, 1, 1)

