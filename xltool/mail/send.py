"""`xltool send`: one message per unit with its template attached.

Messages are built with the standard library's ``email`` package under its
modern policy, which encodes Chinese subjects (RFC 2047) and attachment names
(RFC 2231) so that every mail client shows them. By default they are written
as .eml drafts; with an SMTP server they are sent, STARTTLS or SSL. A log in
the output folder makes a second run send only what has not gone yet: one
refused or failed message is logged as failed and the batch goes on, and a
rerun retries it. Each message has exactly one recipient, given to the server
explicitly (never taken from the To header); international domains go out
IDNA-encoded, and a non-ASCII local part only to a server offering SMTPUTF8.
"""
from __future__ import annotations

import hashlib
import json
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path

from ..cells import roc_date
from ..errors import ERROR, Issue, XltoolError
from ..files import atomic_path, safe_filename
from ..forms.identity import KEYS
from ..forms.template import short_name, template_filename
from ..plan import Plan
from ..plan.addresses import BadAddress, needs_smtputf8, smtp_address
from ..quoting import quote
from ..reading.workbook import Rejected, read_workbook
from ..resources import load_json

LOG_NAME = "send-log.json"
MIME = {".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ".ods": ("application", "vnd.oasis.opendocument.spreadsheet")}


@dataclass
class Outgoing:
    unit: str
    to: str  # as the plan gives it
    message: EmailMessage
    attachments: list[Path]
    digest: str
    rcpt: str = ""  # the one envelope recipient: ``to`` with its domain IDNA-encoded
    sender: str = ""  # the envelope sender, encoded the same way

    @property
    def utf8(self) -> bool:
        """Needs SMTPUTF8: a local part that is not ASCII."""
        return needs_smtputf8(self.rcpt) or needs_smtputf8(self.sender)


@dataclass
class SendResult:
    sent: list[Outgoing] = field(default_factory=list)  # sent or drafted now
    skipped: list[Outgoing] = field(default_factory=list)  # already in the log
    issues: list[Issue] = field(default_factory=list)


@dataclass
class SmtpSettings:
    host: str
    port: int
    mode: str = "starttls"  # "starttls" | "ssl" | "plain" (loopback testing only)
    user: str = ""
    password: str = ""
    cafile: str | None = None


def sender_address(plan: Plan) -> str:
    return _header_address(plan.info.contact_unit or plan.info.agency,
                           _smtp_or_empty(plan.info.contact_email))


def _smtp_or_empty(address: str) -> str:
    try:
        return smtp_address(address) if address else ""
    except BadAddress:
        return ""


def _header_address(name: str, address: str) -> str:
    """A To/From value. A non-ASCII local part is written as it is (the message
    then goes out with UTF-8 headers, RFC 6532); formataddr would encode it."""
    if address and needs_smtputf8(address):
        shown = formataddr((name, "@")).removesuffix(" <@>") if name else ""
        return f"{shown} <{address}>" if shown else address
    return formataddr((name, address))


def compose(plan: Plan, unit: str, attachments: list[Path]) -> EmailMessage:
    """The message for one unit: zh-TW subject and body, templates attached.
    The unit's address must be valid (see :func:`prepare`)."""
    text = load_json("mail.json")
    info = plan.info
    values = {
        "year": info.year, "short_name": short_name(plan), "unit": unit, "plan_name": info.name,
        "period": info.period, "deadline": roc_date(info.deadline),
        "attachment": "、".join(p.name for p in attachments),
        "item_count": len(plan.items_for(unit)), "contact_unit": info.contact_unit,
        "contact_person": info.contact_person, "contact_phone": info.contact_phone,
        "contact_email": info.contact_email, "agency": info.agency,
    }
    to = smtp_address(plan.unit(unit).email)
    utf8 = needs_smtputf8(to) or needs_smtputf8(_smtp_or_empty(info.contact_email))
    msg = EmailMessage(policy=policy.SMTPUTF8 if utf8 else policy.SMTP)
    msg["From"] = sender_address(plan)
    msg["To"] = _header_address(unit, to)
    msg["Subject"] = text["subject"].format(**values)
    msg["Date"] = formatdate(localtime=True)
    digest = _digest(attachments)
    domain = (info.contact_email.split("@")[-1] if "@" in info.contact_email else "xltool.invalid")
    # Stable per plan, unit and attachment, so a resend of the same file is recognisable.
    msg["Message-ID"] = f"<xltool.{plan.plan_id}.{_unit_key(unit)}.{digest[:12]}@{domain}>"
    msg.set_content("\n".join(text["body"]).format(**values))
    for path in attachments:
        maintype, subtype = MIME.get(path.suffix.lower(), ("application", "octet-stream"))
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype,
                           filename=path.name)
        # RFC 2231 (filename*=) is the standard; older Outlook reads only an RFC 2047
        # encoded name= on Content-Type, so give both.
        parts = msg.get_payload()
        assert isinstance(parts, list)  # add_attachment made the message multipart
        part = parts[-1]
        assert isinstance(part, EmailMessage)  # the attachment just added
        part.set_param("name", Header(path.name, "utf-8").encode(maxlinelen=998),
                       header="Content-Type")
    return msg


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
            issues.append(exc.issue)
            continue
        if props.get(KEYS["plan_id"]) != plan.plan_id or props.get(KEYS["unit"]) != unit:
            issues.append(Issue("wrong-plan", f"「{path.name}」不是本計畫「{unit}」的填報表，未寄出；"
                                "請重新執行 xltool template。", file=path.name, unit=unit))
            continue
        found.append(path)
    return found, issues


def prepare(plan: Plan, templates_dir: Path, formats: tuple[str, ...] = ("xlsx", "ods"),
            prefer_one: bool = True) -> tuple[list[Outgoing], list[Issue]]:
    """Messages for every unit that leads items; problems for the others."""
    outgoing, issues = [], []
    for unit in plan.units:
        if not plan.items_for(unit.name):
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
        paths, problems = find_templates(plan, Path(templates_dir), unit.name, formats)
        issues.extend(problems)
        if prefer_one:
            paths = paths[:1]
        if not paths:
            if not problems:
                issues.append(Issue("no-template", f"找不到「{unit.name}」的填報表（"
                                    f"{template_filename(plan, unit.name, formats[0])}），未寄出；"
                                    "請先執行 xltool template。", unit=unit.name))
            continue
        msg = compose(plan, unit.name, paths)
        outgoing.append(Outgoing(unit.name, unit.email, msg, paths, _digest(paths), rcpt,
                                 _smtp_or_empty(plan.info.contact_email)))
    return outgoing, issues


class SendLog:
    """What went (and what failed), kept in the output folder; written after every
    message. A unit whose last attempt failed is tried again by the next run."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOG_NAME
        self.entries: dict[str, dict] = {}
        if self.path.exists():
            try:
                self.entries = json.loads(self.path.read_text(encoding="utf-8"))["sent"]
            except (ValueError, KeyError, TypeError):
                raise XltoolError(f"寄送紀錄「{self.path}」已損毀；請檢查或移除後再執行。")

    def has(self, out: Outgoing, via: str) -> bool:
        entry = self.entries.get(out.unit)
        if not entry:
            return False
        return entry.get("via") == via and entry.get("status", "sent") == "sent"

    def record(self, out: Outgoing, via: str, failure: str = "") -> None:
        entry = {
            "to": out.to, "subject": str(out.message["Subject"]),
            "message_id": str(out.message["Message-ID"]),
            "attachments": [p.name for p in out.attachments], "sha256": out.digest,
            "via": via, "at": datetime.now().replace(microsecond=0).isoformat(),
            "status": "failed" if failure else "sent"}
        if failure:
            entry["error"] = failure
        self.entries[out.unit] = entry
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps({"sent": self.entries}, ensure_ascii=False, indent=2),
                           encoding="utf-8")


def send(outgoing: list[Outgoing], outbox: Path, smtp: SmtpSettings | None = None,
         resend: bool = False, dry_run: bool = False,
         progress: Callable[[Outgoing], None] | None = None) -> SendResult:
    """Write drafts (default) or send over SMTP; skip what the log says has gone."""
    outbox = Path(outbox)
    log = SendLog(outbox)
    via = f"smtp:{smtp.host}" if smtp else "eml"
    result = SendResult()
    todo: list[Outgoing] = []
    for out in outgoing:
        (result.skipped if log.has(out, via) and not resend else todo).append(out)
    if dry_run or not todo:
        result.sent = todo if dry_run else []
        return result
    outbox.mkdir(parents=True, exist_ok=True)
    if smtp is None:
        for out in todo:
            _keep_copy(outbox, out)
            log.record(out, via)
            result.sent.append(out)
            if progress:
                progress(out)
        return result
    with _Session(smtp) as session:
        for out in todo:
            try:
                problem = session.deliver(out)
            except XltoolError as exc:  # the server went away and cannot be reached again
                raise XltoolError(f"{exc} 已寄出 {len(result.sent)} 封並記錄在 {log.path.name}；"
                                  "重新執行時只會寄出尚未寄出的郵件。") from exc
            if problem:
                result.issues.append(problem)
                log.record(out, via, failure=problem.message)
                continue
            _keep_copy(outbox, out)  # what went, for the record
            log.record(out, via)
            result.sent.append(out)
            if progress:
                progress(out)
    return result


class _Session:
    """One SMTP connection for the batch, opened again after the server drops it."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.server: smtplib.SMTP | None = _connect(settings)

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def deliver(self, out: Outgoing) -> Issue | None:
        """Send one message; the issue when it did not go (the batch goes on).
        A dropped connection is opened again and the message tried once more:
        servers close idle connections."""
        for attempt in (1, 2):
            if self.server is None:
                self.server = _connect(self.settings)
            try:
                return self._send(out)
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self._close()
                if attempt == 2:
                    return _failed(out, f"與郵件伺服器的連線中斷（{quote(exc) or '無回應'}）")
        return None

    def _send(self, out: Outgoing) -> Issue | None:
        assert self.server is not None  # deliver() connects first
        try:
            self.server.ehlo_or_helo_if_needed()  # after STARTTLS the extensions are asked again
            if out.utf8 and not self.server.has_extn("smtputf8"):
                return _failed(out, f"電子郵件 {out.to} 的帳號含有非英數字元，但郵件伺服器 "
                                    f"{self.settings.host} 不支援 SMTPUTF8，無法寄送；請改用英數帳號"
                                    "（或改寄 .eml 草稿，以郵件軟體寄出）", "needs-smtputf8")
            self.server.send_message(out.message, from_addr=out.sender, to_addrs=[out.rcpt])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (0, b""))
            return _failed(out, f"郵件伺服器拒收收件人 {out.to}（{code} {_reply(text)}）")
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421:  # the server is closing this connection
                self._close()
            return _failed(out, f"郵件伺服器拒收（{exc.smtp_code} {_reply(exc.smtp_error)}）")
        except smtplib.SMTPServerDisconnected:
            raise
        except smtplib.SMTPException as exc:
            return _failed(out, f"寄送失敗（{quote(exc)}）")
        return None

    def _close(self) -> None:
        if self.server is None:
            return
        try:
            self.server.quit()
        except (smtplib.SMTPException, OSError):
            self.server.close()
        self.server = None


def _failed(out: Outgoing, why: str, code: str = "send-failed") -> Issue:
    # Always an error, whatever the code's usual level: this unit did not get its mail.
    return Issue(code, f"「{out.unit}」的郵件未寄出：{why}；重新執行 xltool send 時會再寄一次。",
                 ERROR, unit=out.unit, value=quote(out.to))


def _reply(text: bytes | str) -> str:
    """A server's reply text, short and printable."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return quote(text, 120)


def _keep_copy(outbox: Path, out: Outgoing) -> None:
    with atomic_path(outbox / (safe_filename(out.unit) + ".eml")) as tmp:
        tmp.write_bytes(out.message.as_bytes(policy=out.message.policy))


def _connect(s: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=s.cafile)
    server: smtplib.SMTP
    try:
        if s.mode == "ssl":
            server = smtplib.SMTP_SSL(s.host, s.port, context=context, timeout=60)
        else:
            server = smtplib.SMTP(s.host, s.port, timeout=60)
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

