"""`xltool send`: one message per unit with its template attached.

Messages are built with the standard library's ``email`` package. The
attachment's headers are written here, not by the policy's folder (which
splits the long spreadsheet MIME type into encoded words): the exact MIME
type, the file name in RFC 2231 form (``filename*=``, the standard, on
Content-Disposition) and in RFC 2047 form (``name="=?utf-8?b?…?="`` on
Content-Type, which Outlook reads), both folded within 78 columns.

By default the messages are written as .eml drafts marked ``X-Unsent: 1``, so
that Outlook opens them as mail to send; with an SMTP server they are sent,
STARTTLS or SSL. A log in the output folder tells drafted from sent: a second
run sends only what has not gone yet (drafts are not sent mail), leaves drafts
that have not changed alone, and one refused or failed message is logged as
failed while the batch goes on; a rerun retries it. A message whose data went
to the server but whose reply never came (dropped, or not within the timeout)
may have been stored: it is logged as "maybe-sent" (可能已寄達), never tried
again by itself, and a rerun leaves it alone unless asked (--resend-uncertain).
A server that does not answer within the timeout once is not asked again: the
batch stops there ("smtp-stopped", naming what went, what may have gone and
what did not), rather than waiting the timeout out for every unit in turn.
Each message has exactly one recipient, given to the server explicitly (never
taken from the To header); international domains go out IDNA-encoded, and a
non-ASCII local part only to a server offering SMTPUTF8. The To and From
headers are written here, each display name as one encoded word, and read back
before anything is drafted or sent: a unit whose headers would not name
exactly its address and the sender's gets nothing ("unsafe-header").

Three kinds of message share all of this: the first mailing (``first``), the
reminders (``remind``) and the correction copies (``correct``), composed in
reminders.py. The log keeps each kind apart, the reminders and corrections in
rounds (one a day), so that a second round is sent and recorded; their .eml
files are named by kind, and their drafts for units no longer due are removed.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from email import message_from_bytes, message_from_string, policy
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import NamedTuple

from ..cells import roc_date
from ..errors import ERROR, Issue, XltoolError
from ..files import atomic_path
from ..forms.identity import KEYS
from ..forms.template import short_name, template_filename
from ..plan import Plan
from ..plan.addresses import BadAddress, needs_smtputf8, smtp_address
from ..plan.filenames import unit_stem
from ..quoting import quote
from ..reading.workbook import Rejected, read_workbook
from ..resources import load_json

LOG_NAME = "send-log.json"
MIME = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".ods": "application/vnd.oasis.opendocument.spreadsheet"}
# The attachment's headers arrive already folded (see _attachment); "none" keeps
# them as written. Headers set by the program are folded by the policy as usual.
ASCII_POLICY = policy.SMTP.clone(refold_source="none")
UTF8_POLICY = policy.SMTPUTF8.clone(refold_source="none")  # RFC 6532: UTF-8 addresses
# Why a unit got no message this run, in the order the summary gives them.
REASONS = {"sent": "先前已寄出", "drafted": "已有草稿", "no-address": "沒有電子郵件",
           "bad-address": "電子郵件不正確", "unsafe-header": "名稱無法正確寫入收件人或寄件人",
           "no-template": "沒有可用的填報表", "uncertain": "先前可能已寄達"}
FIRST, REMIND, CORRECT = "first", "remind", "correct"  # the kinds of message
# How an SMTP attempt ended, in the log. MAYBE_SENT (可能已寄達): the whole message
# reached the server, which never confirmed it; a rerun does not send it again
# unless asked (--resend-uncertain), so that no unit gets it twice.
SENT, FAILED, MAYBE_SENT = "sent", "failed", "maybe-sent"
SECTIONS = {REMIND: "reminders", CORRECT: "corrections"}  # where the log keeps their rounds
TEXTS = {FIRST: None, REMIND: "reminder", CORRECT: "correction"}  # their texts in mail.json
EML_SUFFIX = {FIRST: "", REMIND: "_催繳", CORRECT: "_補正"}  # their .eml file names


@dataclass
class Outgoing:
    unit: str
    to: str  # as the plan gives it
    message: EmailMessage
    attachments: list[Path]
    digest: str
    rcpt: str = ""  # the one envelope recipient: ``to`` with its domain IDNA-encoded
    sender: str = ""  # the envelope sender, encoded the same way
    kind: str = FIRST

    @property
    def filename(self) -> str:
        """The .eml file of this message in the output folder."""
        return eml_name(self.unit, self.kind)

    @property
    def utf8(self) -> bool:
        """Needs SMTPUTF8: a local part that is not ASCII."""
        return needs_smtputf8(self.rcpt) or needs_smtputf8(self.sender)

    @property
    def content(self) -> str:
        """What the recipient reads, as a digest: address, subject, body and
        attachments (not the date), to tell a changed draft from the same one."""
        body = self.message.get_body(("plain",))
        text = body.get_content() if isinstance(body, EmailMessage) else ""
        data = [self.to, str(self.message["Subject"]), text, [p.name for p in self.attachments],
                self.digest]
        return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode("utf-8")).hexdigest()


class Batch(NamedTuple):
    """What :func:`prepare` found: the messages, and the problems of the units
    that get none."""

    outgoing: list[Outgoing]
    issues: list[Issue]

    @property
    def skipped(self) -> dict[str, list[str]]:
        """Why each unit with a problem got no message: reason (see REASONS) → units."""
        going = {o.unit for o in self.outgoing}
        found: dict[str, list[str]] = {}
        for issue in self.issues:
            if not issue.unit or issue.unit in going:
                continue
            reason = issue.code if issue.code in ("no-address", "bad-address", "unsafe-header") \
                else "no-template"
            units = found.setdefault(reason, [])
            if issue.unit not in units:
                units.append(issue.unit)
        return found


@dataclass
class SendResult:
    sent: list[Outgoing] = field(default_factory=list)  # sent or drafted now (dry run: would be)
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason → units, from the log
    failed: list[str] = field(default_factory=list)  # units whose message did not go
    uncertain: list[str] = field(default_factory=list)  # 可能已寄達: sent, never confirmed
    unsent: list[str] = field(default_factory=list)  # not tried: the server had stopped answering
    issues: list[Issue] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # drafts written again: content changed
    changed: list[str] = field(default_factory=list)  # sent before, different content now
    removed: list[str] = field(default_factory=list)  # units whose draft was no longer due


@dataclass
class SmtpSettings:
    host: str
    port: int
    mode: str = "starttls"  # "starttls" | "ssl" | "plain" (loopback testing only)
    user: str = ""
    password: str = ""
    cafile: str | None = None
    timeout: float = 60.0  # seconds: connecting, and waiting for each reply


def _sender(plan: Plan) -> tuple[str, str]:
    """The From header's display name and address (the address may be empty)."""
    return plan.info.contact_unit or plan.info.agency, _smtp_or_empty(plan.info.contact_email)


def _smtp_or_empty(address: str) -> str:
    try:
        return smtp_address(address) if address else ""
    except BadAddress:
        return ""


# A display name written as it is: ASCII words of atext (RFC 5322), one space
# apart, that no parser can read as anything but a name.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+( [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def _display_name(name: str) -> str:
    """A display name as a header holds it: plain ASCII words as they are, any
    other name as one RFC 2047 encoded word (base64 UTF-8) holding the whole of
    it, so that nothing in it (``<>``, ``@``, ``,``, ``"``, ASCII words beside
    Chinese) is ever read as part of the address. One word, not several: CPython
    reads the space between two encoded words of a name as part of the name."""
    if _PLAIN_NAME.fullmatch(name) and "=?" not in name:
        return name
    return _encoded_word(name)


def _header_line(header: str, name: str, address: str) -> str:
    """A whole From/To header as it is written, folded between its words within
    78 columns where they allow: ``field: name <address>``. A non-ASCII local part
    is written as it is (the message then goes out with UTF-8 headers, RFC 6532).
    Written here, not by the policy's folder, which encodes only the non-ASCII
    words of a name and leaves ASCII ones bare: ``第一課 <x>`` would be read as
    the address x. :func:`header_problem` checks what is written."""
    words = [_display_name(name), f"<{address}>"] if name else [address]
    lines = [f"{header}:"]
    for word in words:
        if len(lines[-1]) + 1 + len(word) > _WIDTH and lines[-1] != f"{header}:":
            lines.append("")
        lines[-1] += " " + word
    return "\r\n".join(lines)


def header_problem(msg: EmailMessage, unit: str, to: str, sender: tuple[str, str]
                   ) -> Issue | None:
    """Why ``msg`` may not go, or None: its headers as they will be written, parsed
    back as mail programs read them, must name exactly one recipient, ``to`` with
    ``unit`` as its name, and exactly one sender, ``sender`` (name, address); no
    Cc or Bcc, no line over 998 characters (RFC 5322)."""
    try:
        head = b"".join(msg.policy.fold_binary(name, value) for name, value in msg.raw_items())
    except UnicodeError:  # cannot be written at all under its policy
        head = b"\0" * 999
    for header, (name, address), where in (("To", (unit, to), "單位"),
                                           ("From", sender, "計畫")):
        if not _reads_as(head, header, name, address):
            what = (f"單位名稱「{quote(unit)}」寫成的收件人（To）標頭，郵件軟體讀到的收件人不會恰為 {to}"
                    "；請修改計畫檔「單位」工作表的名稱" if header == "To" else
                    f"承辦單位「{quote(name)}」寫成的寄件人（From）標頭，郵件軟體讀到的寄件人不會恰為 "
                    f"{address or '（空白）'}；請修改計畫檔「計畫」工作表的承辦單位")
            return Issue("unsafe-header", f"「{unit}」的郵件未寄出：以{what}後再執行。", unit=unit,
                         sheet=where, field="名稱" if header == "To" else "承辦單位",
                         value=quote(unit if header == "To" else name))
    return None


def _reads_as(head: bytes, header: str, name: str, address: str) -> bool:
    """Whether the header block ``head`` holds one ``header`` naming exactly
    one mailbox, ``name`` <``address``> (runs of spaces in the name count as one),
    and no Cc or Bcc."""
    if any(len(line) > 998 for line in head.split(b"\r\n")):
        return False
    try:
        text = head.decode("utf-8")  # UTF-8 headers (RFC 6532) are read as text
        parsed = message_from_string(text + "\r\n", policy=policy.default)
        values = parsed.get_all(header) or []
        if len(values) != 1 or parsed.get_all("Cc") or parsed.get_all("Bcc"):
            return False
        found = [(a.display_name, a.addr_spec if a.username or a.domain else "")
                 for a in values[0].addresses]
    except (ValueError, TypeError, IndexError, AttributeError, UnicodeError):
        return False
    if len(found) != 1:
        return False
    shown, addr = found[0]
    return addr == address and " ".join(shown.split()) == " ".join(name.split())


def eml_name(unit: str, kind: str = FIRST) -> str:
    """A unit's draft: its name as the plan check vouches it is a file name of its own
    (made safe, cut to fit, no device name such as CON)."""
    return unit_stem(unit) + EML_SUFFIX[kind] + ".eml"


def compose(plan: Plan, unit: str, attachments: list[Path], kind: str = FIRST,
            extra: Mapping[str, object] | None = None, tag: str = "") -> EmailMessage:
    """The message for one unit: zh-TW subject and body (mail.json, by kind, with
    ``extra`` values), files attached. ``tag`` tells this message's Message-ID from
    another kind's or round's with the same files. The unit's address must be
    valid (see :func:`prepare`)."""
    text = load_json("mail.json")
    key = TEXTS[kind]
    if key:
        text = text[key]
    info = plan.info
    values = {
        "year": info.year, "short_name": short_name(plan), "unit": unit, "plan_name": info.name,
        "period": info.period, "deadline": roc_date(info.deadline),
        "attachment": "、".join(p.name for p in attachments),
        "item_count": len(plan.items_for(unit)), "contact_unit": info.contact_unit,
        "contact_person": info.contact_person, "contact_phone": info.contact_phone,
        "contact_email": info.contact_email, "agency": info.agency, **(extra or {}),
    }
    to = smtp_address(plan.unit(unit).email)
    name, sender = _sender(plan)
    pol = UTF8_POLICY if needs_smtputf8(to) or needs_smtputf8(sender) else ASCII_POLICY
    # From and To as written here (see _header_line), kept so: source headers are
    # not refolded under these policies.
    head = "\r\n".join([_header_line("From", name, sender), _header_line("To", unit, to)])
    msg = message_from_string(head + "\r\n\r\n", policy=pol)
    assert isinstance(msg, EmailMessage)  # the policy's message factory
    msg["Subject"] = text["subject"].format(**values)
    msg["Date"] = formatdate(localtime=True)
    digest = _digest(attachments)
    domain = sender.rpartition("@")[2] or "xltool.invalid"  # IDNA: a Message-ID is ASCII
    # Stable per plan, unit and attachment, so a resend of the same file is recognisable.
    tag = f"{tag}." if tag else ""
    msg["Message-ID"] = f"<xltool.{plan.plan_id}.{tag}{_unit_key(unit)}.{digest[:12]}@{domain}>"
    msg.set_content("\n".join(text["body"]).format(**values))
    msg.make_mixed()
    for path in attachments:
        msg.attach(_attachment(path, pol))
    return msg


def _attachment(path: Path, pol: policy.EmailPolicy[EmailMessage]) -> EmailMessage:
    """The part for one file, its headers written out and folded here: the exact
    MIME type, and the name as RFC 2231 ``filename*=`` on Content-Disposition (the
    standard, which Thunderbird and webmail read) and as RFC 2047 ``name=`` on
    Content-Type (which Outlook reads when it does not know RFC 2231)."""
    mime = MIME.get(path.suffix.lower(), "application/octet-stream")
    head = [f"Content-Type: {mime};", *_rfc2047_param("name", path.name),
            "Content-Transfer-Encoding: base64",
            "Content-Disposition: attachment;", *_rfc2231_param("filename", path.name)]
    raw = "\r\n".join([*head, "", ""]).encode("ascii") + base64.encodebytes(path.read_bytes())
    part = message_from_bytes(raw, policy=pol)
    assert isinstance(part, EmailMessage)  # the policy's message factory
    return part


_PLAIN = re.compile(r"[A-Za-z0-9 !#$%&'()*+,\-./:;<=>@\[\]^_`{|}~]*")  # no quote, backslash, ?
_ATTR_CHAR = re.compile(r"[A-Za-z0-9!#$&+\-.^_`|~]")  # RFC 2231 attribute-char, less * ' %
_WIDTH = 78  # RFC 5322: lines of at most 78 characters


def _rfc2047_param(param: str, value: str) -> list[str]:
    """The continuation lines of ``param="…"``: as it is when short and ASCII, else
    in RFC 2047 encoded words (base64 UTF-8), whole characters each, one a line."""
    if _PLAIN.fullmatch(value) and len(f' {param}="{value}"') <= _WIDTH:
        return [f' {param}="{value}"']
    words, chunk = [], ""
    for ch in value:
        if chunk and len(_encoded_word(chunk + ch)) > _WIDTH - len(f' {param}="') - 1:
            words.append(_encoded_word(chunk))
            chunk = ""
        chunk += ch
    words.append(_encoded_word(chunk))
    lines = [f" {word}" for word in words]
    lines[0] = f' {param}="{words[0]}'
    lines[-1] += '"'
    return lines


def _encoded_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def _rfc2231_param(param: str, value: str) -> list[str]:
    """The continuation lines of ``param*=utf-8''…`` (RFC 2231), split between
    characters as ``param*0*=``, ``param*1*=`` … when one line would be too long;
    ``param="…"`` when the value is short and ASCII."""
    if _PLAIN.fullmatch(value) and len(f' {param}="{value}"') <= _WIDTH:
        return [f' {param}="{value}"']
    encoded = [ch if _ATTR_CHAR.fullmatch(ch) else
               "".join(f"%{b:02X}" for b in ch.encode("utf-8")) for ch in value]
    whole = "utf-8''" + "".join(encoded)
    if len(f" {param}*={whole}") <= _WIDTH:
        return [f" {param}*={whole}"]
    segments: list[str] = []
    chunk = "utf-8''"
    for piece in encoded:
        name = f" {param}*{len(segments)}*="
        if chunk and len(name + chunk + piece) > _WIDTH - 1:  # room for the ";"
            segments.append(chunk)
            chunk = ""
        chunk += piece
    segments.append(chunk)
    return [f" {param}*{n}*={seg}" + (";" if n < len(segments) - 1 else "")
            for n, seg in enumerate(segments)]


def _unit_key(unit: str) -> str:
    return hashlib.sha256(unit.encode("utf-8")).hexdigest()[:8]


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


def find_templates(plan: Plan, templates_dir: Path, unit: str, formats: tuple[str, ...]
                   ) -> tuple[list[Path], list[Issue]]:
    """The unit's template files, checked to belong to this plan and unit."""
    found, issues = [], []
    for fmt in formats:
        path = templates_dir / template_filename(plan, unit, fmt)
        if not path.exists():
            continue
        try:
            props = read_workbook(path).properties
        except Rejected as exc:
            issues.append(replace(exc.issue, unit=unit))
            continue
        if props.get(KEYS["plan_id"]) != plan.plan_id or props.get(KEYS["unit"]) != unit:
            issues.append(Issue("wrong-plan", f"「{path.name}」不是本計畫「{unit}」的填報表，未寄出；"
                                "請重新執行 xltool template。", file=path.name, unit=unit))
            continue
        found.append(path)
    return found, issues


def prepare(plan: Plan, templates_dir: Path, formats: tuple[str, ...] = ("xlsx", "ods"),
            prefer_one: bool = True) -> Batch:
    """Messages for every unit that leads items; problems for the others."""
    return prepare_for(
        plan, [u.name for u in plan.units],
        lambda unit: find_templates(plan, Path(templates_dir), unit, formats),
        lambda unit, paths: compose(plan, unit, paths), formats=formats, prefer_one=prefer_one)


def prepare_for(plan: Plan, units: list[str],
                attachments: Callable[[str], tuple[list[Path], list[Issue]]],
                message: Callable[[str, list[Path]], EmailMessage], kind: str = FIRST,
                formats: tuple[str, ...] = ("xlsx",), prefer_one: bool = True) -> Batch:
    """Messages for ``units`` that lead items: ``attachments(unit)`` finds the
    unit's files (and their problems), ``message(unit, files)`` composes; problems
    for the units that get none."""
    outgoing, issues = [], []
    wanted = set(units)
    for unit in plan.units:
        if unit.name not in wanted or not plan.items_for(unit.name):
            continue
        if not unit.email:
            issues.append(Issue("no-address", f"「{unit.name}」在計畫檔「單位」工作表沒有電子郵件，"
                                "未寄出；請補上後再執行。", unit=unit.name, sheet="單位",
                                field="電子郵件"))
            continue
        try:
            rcpt = smtp_address(unit.email)
        except BadAddress as exc:
            issues.append(Issue("bad-address", f"「{unit.name}」的電子郵件不正確：{exc}；未寄出，"
                                "請以 xltool check 檢查計畫檔。", unit=unit.name, sheet="單位",
                                field="電子郵件", value=quote(unit.email)))
            continue
        paths, problems = attachments(unit.name)
        issues.extend(problems)
        if prefer_one:
            paths = paths[:1]
        if not paths:
            if not problems:
                issues.append(Issue("no-template", f"找不到「{unit.name}」的填報表（"
                                    f"{template_filename(plan, unit.name, formats[0])}），未寄出；"
                                    "請先執行 xltool template。", unit=unit.name))
            continue
        msg = message(unit.name, paths)
        unsafe = header_problem(msg, unit.name, rcpt, _sender(plan))
        if unsafe:  # checked before any draft is written or any mail sent
            issues.append(unsafe)
            continue
        outgoing.append(Outgoing(unit.name, unit.email, msg, paths, _digest(paths), rcpt,
                                 _smtp_or_empty(plan.info.contact_email), kind))
    return Batch(outgoing, issues)


class SendLog:
    """What was drafted, what was sent and what failed, kept in the output folder
    and written after every message. ``sent`` holds the SMTP attempts (a unit
    whose last attempt failed is tried again by the next run), ``drafts`` the .eml
    drafts, which are not sent mail. Logs written before drafts were told apart
    kept both under ``sent``, drafts with ``"via": "eml"``; they are read so.

    The first mailing is kept at the top; reminders and corrections under their
    own section, by round (``round_key``, the day of the run), so that a reminder
    never counts as the first mailing, and a second round of reminders is sent
    and recorded beside the first. A correction copy already sent to the unit (the
    same file) is not sent again in any round."""

    def __init__(self, folder: Path, kind: str = FIRST, round_key: str = ""):
        self.path = Path(folder) / LOG_NAME
        self.kind = kind
        self.data: dict = {"sent": {}, "drafts": {}}
        if self.path.exists():
            try:
                self.data = self._read()
            except (ValueError, KeyError, TypeError, AttributeError):
                raise XltoolError(f"寄送紀錄「{self.path}」已損毀；請檢查或移除後再執行。")
        if kind == FIRST:
            self.sent: dict[str, dict] = self.data["sent"]
            self.drafts: dict[str, dict] = self.data["drafts"]
        else:
            rounds = self.data.setdefault(SECTIONS[kind], {})
            current = rounds.setdefault(round_key, {"sent": {}, "drafts": {}})
            self.sent, self.drafts = current["sent"], current["drafts"]

    def _read(self) -> dict:
        data = json.loads(self.path.read_text(encoding="utf-8"))
        sent: dict[str, dict] = {}
        drafts: dict[str, dict] = {}
        for unit, entry in data["sent"].items():
            (drafts if entry.get("via") == "eml" else sent)[unit] = entry
        drafts.update(data.get("drafts", {}))
        data["sent"], data["drafts"] = sent, drafts
        for section in SECTIONS.values():
            for rnd in data.get(section, {}).values():
                if not isinstance(rnd.get("sent"), dict) or not isinstance(rnd.get("drafts"), dict):
                    raise ValueError(section)
        return data

    def rounds(self) -> dict[str, dict[str, dict[str, dict]]]:
        """This kind's rounds, by key ({} for the first mailing)."""
        return self.data.get(SECTIONS[self.kind], {}) if self.kind != FIRST else {}

    def was_sent(self, unit: str, out: Outgoing | None = None, status: str = SENT) -> bool:
        """Whether the unit's last SMTP attempt (for a correction: of this very copy,
        in any round) ended with ``status``: sent, or (MAYBE_SENT) may have reached
        the server."""
        if self.kind == CORRECT and out is not None:  # this very copy, in any round
            return any(entry.get("status", SENT) == status and entry.get("sha256") == out.digest
                       for rnd in self.rounds().values()
                       for name, entry in rnd["sent"].items() if name == unit)
        entry = self.sent.get(unit)
        return entry is not None and entry.get("status", SENT) == status

    def skip_reason(self, out: Outgoing, drafting: bool, resend_uncertain: bool = False
                    ) -> str | None:
        """"sent" when the unit's mail went earlier; "uncertain" when it may have
        (the server took the message but never confirmed it), unless
        ``resend_uncertain``; "drafted" when this is a draft run and the unit's
        draft is there with the same content; else None."""
        if self.was_sent(out.unit, out):
            return "sent"
        if not resend_uncertain and self.was_sent(out.unit, out, MAYBE_SENT):
            return "uncertain"
        if drafting and self.same(self.drafts.get(out.unit), out):
            return "drafted"
        return None

    @staticmethod
    def same(entry: dict | None, out: Outgoing) -> bool:
        """Whether ``entry`` logged this very message (older logs: same address,
        subject and attachments)."""
        if not entry:
            return False
        if "content" in entry:
            return entry["content"] == out.content
        return (entry.get("to"), entry.get("subject"), entry.get("sha256")) == (
            out.to, str(out.message["Subject"]), out.digest)

    def drafted_units(self) -> set[str]:
        """Units that got a draft of this kind in some round."""
        if self.kind == FIRST:
            return set(self.drafts)
        return {unit for rnd in self.rounds().values() for unit in rnd["drafts"]}

    def record(self, out: Outgoing, via: str, status: str, failure: str = "") -> None:
        """Log ``out`` as "drafted", "sent", "failed" or "maybe-sent" (with the reason)."""
        entry = {
            "to": out.to, "subject": str(out.message["Subject"]),
            "message_id": str(out.message["Message-ID"]),
            "attachments": [p.name for p in out.attachments], "sha256": out.digest,
            "content": out.content, "via": via,
            "at": datetime.now().replace(microsecond=0).isoformat(), "status": status}
        if failure:
            entry["error"] = failure
        (self.drafts if status == "drafted" else self.sent)[out.unit] = entry
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps(self.data, ensure_ascii=False, indent=2), encoding="utf-8")


def send(outgoing: list[Outgoing], outbox: Path, smtp: SmtpSettings | None = None,
         resend: bool = False, dry_run: bool = False,
         progress: Callable[[Outgoing], None] | None = None, kind: str = FIRST,
         round_key: str = "", resend_uncertain: bool = False) -> SendResult:
    """Write drafts (default) or send over SMTP; skip what the log says has gone,
    or may have gone (可能已寄達: unless ``resend_uncertain``, or ``resend``, which
    sends everything), and, for drafts, the drafts already there unchanged. A dry run writes nothing
    and sends nothing, but with SMTP it connects and logs in as the real run
    would, and asks the server what the real run would ask (SMTPUTF8), so that
    it ends as the real run would. Reminders and corrections (``kind``) are
    logged in their round (``round_key``); their drafts for units that are no
    longer due are removed."""
    outbox = Path(outbox)
    log = SendLog(outbox, kind, round_key)
    result = SendResult()
    todo: list[Outgoing] = []
    for out in outgoing:
        reason = None if resend else log.skip_reason(out, smtp is None, resend_uncertain)
        if reason:
            result.skipped.setdefault(reason, []).append(out.unit)
            earlier = log.sent.get(out.unit)
            if reason == "sent" and earlier is not None and not SendLog.same(earlier, out):
                result.changed.append(out.unit)
            continue
        todo.append(out)
        if smtp is None and out.unit in log.drafts and not SendLog.same(log.drafts[out.unit], out):
            result.replaced.append(out.unit)
    if kind != FIRST and not dry_run:
        result.removed = _remove_stale_drafts(outbox, log, {o.unit for o in outgoing}, kind)
    if not todo or (dry_run and smtp is None):
        result.sent = todo
        return result
    if smtp is None:
        for out in todo:
            _keep_copy(outbox, out, draft=True)
            log.record(out, "eml", "drafted")
            result.sent.append(out)
            if progress:
                progress(out)
        return result
    _over_smtp(todo, smtp, outbox, log, result, dry_run, progress)
    return result


def _remove_stale_drafts(outbox: Path, log: SendLog, due: set[str], kind: str) -> list[str]:
    """Remove this kind's drafts (marked X-Unsent) of units no longer due, so that
    no one sends a reminder to a unit that has returned, or an outdated correction."""
    removed = []
    for unit in sorted(log.drafted_units() - due):
        path = outbox / eml_name(unit, kind)
        try:
            head = path.read_bytes()[:8192].split(b"\r\n\r\n", 1)[0]
        except OSError:
            continue
        if re.search(rb"(?im)^X-Unsent: *1\s*$", head):
            path.unlink()
            removed.append(unit)
    return removed


def _over_smtp(todo: list[Outgoing], smtp: SmtpSettings, outbox: Path, log: SendLog,
               result: SendResult, dry_run: bool,
               progress: Callable[[Outgoing], None] | None) -> None:
    via = f"smtp:{smtp.host}"

    def sending(out: Outgoing) -> None:
        # Logged before the message data goes: should the run end before the
        # server's reply (interrupted, killed), the rerun does not send it twice.
        log.record(out, via, MAYBE_SENT, failure=INTERRUPTED)

    with _Session(smtp) as session:
        for n, out in enumerate(todo):
            if session.silent:  # it did not answer once: it would not for the others either
                result.unsent = [o.unit for o in todo[n:]]
                result.issues.append(_stopped(smtp, session.silent, result, dry_run))
                return
            try:
                problem = session.deliver(out, dry_run, None if dry_run else sending)
            except XltoolError as exc:  # the server went away and cannot be reached again
                if dry_run:
                    raise
                maybe = (f"，{len(result.uncertain)} 封可能已寄達（重新執行時不會再寄）"
                         if result.uncertain else "")
                raise XltoolError(f"{exc} 已寄出 {len(result.sent)} 封{maybe}，並記錄在 "
                                  f"{log.path.name}；重新執行時只會寄出尚未寄出的郵件。") from exc
            if problem:
                result.issues.append(problem)
                uncertain = problem.code == "maybe-sent"
                (result.uncertain if uncertain else result.failed).append(out.unit)
                if not dry_run:
                    log.record(out, via, MAYBE_SENT if uncertain else FAILED,
                               failure=problem.message)
                continue
            result.sent.append(out)
            if dry_run:
                continue
            _keep_copy(outbox, out, draft=False)  # what went, for the record
            log.record(out, via, SENT)
            if progress:
                progress(out)


INTERRUPTED = "寄送中斷：郵件已開始送往郵件伺服器，不確定伺服器是否已收下"


def _stopped(s: SmtpSettings, unit: str, result: SendResult, dry_run: bool) -> Issue:
    """Why the batch stopped after the server fell silent (on ``unit``'s message),
    with what went, what may have gone and what did not, and how to go on."""
    where = f"郵件伺服器 {s.host}:{s.port} 處理「{unit}」的郵件時超過 {s.timeout:g} 秒沒有回應"
    if dry_run:
        return Issue("smtp-stopped", f"{where}，已停止檢查；其餘 {len(result.unsent)} 個單位"
                     f"（{_names(result.unsent)}）未檢查。請確認郵件伺服器正常後再執行。", unit=unit)
    missing = result.failed + result.unsent
    parts = [f"本次已寄出 {len(result.sent)} 封" + (f"（{_names([o.unit for o in result.sent])}）"
                                                 if result.sent else "")]
    if result.uncertain:
        parts.append(f"可能已寄達 {len(result.uncertain)} 封（{_names(result.uncertain)}）")
    parts.append(f"未寄出 {len(missing)} 封（{_names(missing)}）")
    uncertain = ("；「可能已寄達」的單位不會再寄，請先向該單位確認是否收到，確認未收到時再加 "
                 "--resend-uncertain" if result.uncertain else "")
    return Issue("smtp-stopped", f"{where}，已停止寄送，以免每個單位各等 {s.timeout:g} 秒。"
                 f"{'；'.join(parts)}。請確認郵件伺服器正常（或以 --timeout 延長等候秒數）後重新執行同一指令："
                 f"只會寄出未寄出的 {len(missing)} 封{uncertain}。", unit=unit)


SENT_LABEL = {FIRST: "先前已寄出", REMIND: "今天已寄過催繳", CORRECT: "同一份退件補正檔先前已寄出"}
SENT_AGAIN = {REMIND: "今天已寄過催繳的單位{again}請加 --resend；之後（另一天）再執行即為下一輪催繳",
              CORRECT: "已寄過同一份退件補正檔的單位{again}請加 --resend；補正檔更新後會再寄"}


def summary(result: SendResult, batch: Batch, drafts: bool, dry_run: bool,
            kind: str = FIRST) -> list[str]:
    """What the run did, for people: how many messages went (or were drafted),
    how many units were skipped and why, and how many failed."""
    reasons = {**REASONS, "sent": SENT_LABEL[kind]}
    verb = "產生草稿" if drafts else "寄出"
    line = f"{'將' if dry_run else '已'}{verb} {len(result.sent)} 封"
    if result.replaced:
        line += f"（其中 {len(result.replaced)} 封取代內容已不同的舊草稿：{_names(result.replaced)}）"
    skipped = {**batch.skipped, **result.skipped}
    count = sum(len(units) for units in skipped.values())
    line += f"，略過 {count} 封"
    if count:
        line += "（" + "；".join(f"{label} {len(skipped[reason])} 封：{_names(skipped[reason])}"
                                for reason, label in reasons.items() if reason in skipped) + "）"
    if result.failed:
        line += (f"，將無法寄出 {len(result.failed)} 封（{_names(result.failed)}）" if dry_run else
                 f"，未寄出 {len(result.failed)} 封（寄送失敗：{_names(result.failed)}；"
                 "已記錄，重新執行時會再寄）")
    if result.uncertain:
        line += (f"，可能已寄達 {len(result.uncertain)} 封（{_names(result.uncertain)}："
                 "郵件已送到郵件伺服器，但沒有收到伺服器的確認）")
    if result.unsent:
        line += (f"，{'未檢查' if dry_run else '未寄出'} {len(result.unsent)} 封（郵件伺服器沒有回應，"
                 f"已停止{'檢查' if dry_run else '寄送'}：{_names(result.unsent)}"
                 f"{'' if dry_run else '；重新執行時會再寄'}）")
    lines = [line + "。"]
    uncertain = result.uncertain + result.skipped.get("uncertain", [])
    if uncertain:
        lines.append(f"「可能已寄達」的單位（{_names(uncertain)}）為免重複收到，重新執行時不會再寄；"
                     "請先向這些單位確認是否收到，確認未收到時再加 --resend-uncertain 重新執行。")
    if "drafted" in result.skipped:
        lines.append("已有的草稿與這次的內容相同，沒有重寫；要全部重新產生請加 --resend。")
    if "sent" in result.skipped:
        again = "不再產生草稿；要重新產生" if drafts else "這次不再寄；要重寄"
        changed = f"（{_names(result.changed)}的郵件內容在寄出後已有更動）" if result.changed else ""
        if kind == FIRST:
            lines.append(f"先前已寄出的單位{again}請加 --resend{changed}。")
        else:
            lines.append(SENT_AGAIN[kind].format(again=again) + "。")
    if result.removed:
        lines.append(f"已移除不再需要的草稿（{_names(result.removed)}）。")
    return lines


def _names(units: list[str], most: int = 10) -> str:
    shown = "、".join(units[:most])
    return shown + (f"等 {len(units)} 個單位" if len(units) > most else "")


class _Session:
    """One SMTP connection for the batch, opened again after the server drops it
    (the message tried once more only when its data had not gone yet)."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.server: smtplib.SMTP | None = _connect(settings)
        self.data_sent = False  # the message data of the current attempt has gone
        self.silent = ""  # the unit whose message the server did not answer within the timeout

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def deliver(self, out: Outgoing, dry_run: bool = False,
                sending: Callable[[Outgoing], None] | None = None) -> Issue | None:
        """Send one message; the issue when it did not go (the batch goes on).
        A connection dropped before the message data went is opened again and
        the message tried once more: servers close idle connections. Once the
        data has gone, never again: the server may have stored the message and
        lost only its reply, so a connection dropped or a reply not come within
        the timeout is a "maybe-sent" issue (可能已寄達), not a failure.
        ``sending(out)`` is called just before the data goes. A dry run only asks
        whether the server could take the message (SMTPUTF8) and sends nothing.
        A server that does not answer within the timeout is not tried again:
        ``silent`` names the unit, and the batch stops (see _over_smtp)."""
        for attempt in (1, 2):
            if self.server is None:
                self.server = _connect(self.settings)
            self.data_sent = False
            try:
                return self._send(out, dry_run, sending)
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self._close()
                if _timed_out(exc):
                    self.silent = out.unit
                if self.data_sent:
                    return _maybe_sent(out, exc, self.settings)
                if self.silent:
                    return _failed(out, f"郵件伺服器超過 {self.settings.timeout:g} 秒沒有回應",
                                   dry_run=dry_run)
                if attempt == 2:
                    return _failed(out, f"與郵件伺服器的連線中斷（{quote(exc) or '無回應'}）",
                                   dry_run=dry_run)
        return None

    def _send(self, out: Outgoing, dry_run: bool,
              sending: Callable[[Outgoing], None] | None) -> Issue | None:
        assert self.server is not None  # deliver() connects first
        try:
            self.server.ehlo_or_helo_if_needed()  # after STARTTLS the extensions are asked again
            if out.utf8 and not self.server.has_extn("smtputf8"):
                return _failed(out, f"電子郵件 {out.to} 的帳號含有非英數字元，但郵件伺服器 "
                                    f"{self.settings.host} 不支援 SMTPUTF8，無法寄送；請改用英數帳號"
                                    "（或改寄 .eml 草稿，以郵件軟體寄出）", "needs-smtputf8", dry_run)
            if not dry_run:
                self._transmit(out, sending)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (0, b""))
            return _failed(out, f"郵件伺服器拒收收件人 {out.to}（{code} {_reply(text)}）")
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421:  # the server is closing this connection
                self._close()
            return _failed(out, f"郵件伺服器拒收（{exc.smtp_code} {_reply(exc.smtp_error)}）",
                           dry_run=dry_run)
        except smtplib.SMTPServerDisconnected:
            raise
        except smtplib.SMTPException as exc:
            return _failed(out, f"寄送失敗（{quote(exc)}）", dry_run=dry_run)
        return None

    def _transmit(self, out: Outgoing, sending: Callable[[Outgoing], None] | None) -> None:
        """One SMTP transaction for ``out``, as smtplib's send_message would do it,
        to the one envelope recipient; ``data_sent`` tells when the whole message
        has gone and only the server's reply is awaited."""
        server = self.server
        assert server is not None
        with io.BytesIO() as buffer:
            BytesGenerator(buffer, policy=out.message.policy).flatten(out.message, linesep="\r\n")
            data = buffer.getvalue()
        options = ["SMTPUTF8", "BODY=8BITMIME"] if out.utf8 else []
        if server.does_esmtp and server.has_extn("size"):
            options.append(f"size={len(data)}")
        code, text = server.mail(out.sender, options)
        if code != 250:
            self._reset(code)
            raise smtplib.SMTPSenderRefused(code, text, out.sender)
        code, text = server.rcpt(out.rcpt)
        if code not in (250, 251):
            self._reset(code)
            raise smtplib.SMTPRecipientsRefused({out.rcpt: (code, text)})
        code, text = server.docmd("data")
        if code != 354:
            self._reset(code)
            raise smtplib.SMTPDataError(code, text)
        data = re.sub(rb"(?m)^\.", b"..", data)  # dot-stuffing (RFC 5321 4.5.2)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        if sending:
            sending(out)
        server.send(data + b".\r\n")
        self.data_sent = True  # from here on the server may have stored it
        code, text = server.getreply()
        if code != 250:
            self._reset(code)
            raise smtplib.SMTPDataError(code, text)

    def _reset(self, code: int) -> None:
        """After a refusal: a new transaction (RSET), or none when the server is
        closing the connection (421)."""
        if code == 421 or self.server is None:
            self._close()
            return
        try:
            self.server.rset()
        except smtplib.SMTPServerDisconnected:
            pass

    def _close(self) -> None:
        if self.server is None:
            return
        try:
            self.server.quit()
        except (smtplib.SMTPException, OSError):
            self.server.close()
        self.server = None


def _failed(out: Outgoing, why: str, code: str = "send-failed", dry_run: bool = False) -> Issue:
    # Always an error, whatever the code's usual level: this unit did not get its mail.
    message = (f"「{out.unit}」的郵件將無法寄出：{why}。" if dry_run else
               f"「{out.unit}」的郵件未寄出：{why}；重新執行 xltool send 時會再寄一次。")
    return Issue(code, message, ERROR, unit=out.unit, value=quote(out.to))


def _maybe_sent(out: Outgoing, exc: BaseException, s: SmtpSettings) -> Issue:
    """The message went but the server's reply did not come: it may have been
    stored (可能已寄達). Not tried again, in this run or the next."""
    if _timed_out(exc):
        why = f"在 {s.timeout:g} 秒內沒有回覆（可用 --timeout 延長）"
    else:
        why = f"的連線隨即中斷（{quote(exc) or '無回應'}）"
    return Issue("maybe-sent", f"「{out.unit}」的郵件可能已寄達：郵件已全部送到郵件伺服器，但伺服器{why}，"
                 "不確定是否已收下；為免重複收到，重新執行時不會再寄。請向該單位確認是否收到，"
                 "確認未收到時請加 --resend-uncertain 重新執行。", unit=out.unit, value=quote(out.to))


def _timed_out(exc: BaseException) -> bool:
    """Whether ``exc`` is (or was raised while handling) a timeout: smtplib rewords
    one as SMTPServerDisconnected, "timed out" in its text or as its context."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, TimeoutError) or "timed out" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reply(text: bytes | str) -> str:
    """A server's reply text, short and printable."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return quote(text, 120)


def _keep_copy(outbox: Path, out: Outgoing, draft: bool) -> None:
    """The message as a .eml file: a draft carries ``X-Unsent: 1``, so that Outlook
    opens it as mail to send; the copy of mail sent over SMTP does not."""
    msg = out.message
    if draft:
        msg["X-Unsent"] = "1"
    try:
        data = msg.as_bytes(policy=msg.policy)
    finally:
        del msg["X-Unsent"]
    with atomic_path(outbox / out.filename) as tmp:
        tmp.write_bytes(data)


def _connect(s: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=s.cafile)
    server: smtplib.SMTP
    try:
        if s.mode == "ssl":
            server = smtplib.SMTP_SSL(s.host, s.port, context=context, timeout=s.timeout)
        else:
            server = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.mode == "starttls":
                server.starttls(context=context)
        if s.user:
            server.login(s.user, s.password)
        return server
    except smtplib.SMTPAuthenticationError:
        raise XltoolError(f"郵件伺服器 {s.host} 拒絕登入：請確認帳號與密碼。")
    except (ssl.SSLError, ssl.CertificateError) as exc:
        raise XltoolError(f"與郵件伺服器 {s.host} 的加密連線失敗（{exc}）；"
                          "如使用自簽憑證，請以 --cafile 指定憑證。")
    except (OSError, smtplib.SMTPException) as exc:
        raise XltoolError(f"無法連線到郵件伺服器 {s.host}:{s.port}（{exc}）。")


def parse_hostport(text: str, default_port: int) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[ipv6]:port`` → (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or (":" in host and not host.endswith("]")):
        return text.strip("[]"), default_port  # no port, or a bare IPv6 address
    if not port.isdigit():
        raise XltoolError(f"伺服器位址「{text}」格式不正確，應為 主機 或 主機:連接埠。")
    return host.strip("[]"), int(port)

