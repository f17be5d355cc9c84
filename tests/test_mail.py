"""xltool send and xltool collect: drafts, SMTP and IMAP against real servers on loopback."""
import email
import imaplib
import mailbox
import re
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

import pytest
from click.testing import CliRunner
from conftest import ROOT
from mailservers import PASSWORD, USER, Dovecot, SmtpServer

from xltool.cli import cli
from xltool.forms.template import template_filename, write_templates
from xltool.plan import load_plan

EXAMPLE = ROOT / "examples" / "kaohsiung-109"
PLAN = EXAMPLE / "plan.xlsx"


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


@pytest.fixture(scope="module")
def plan():
    return load_plan(PLAN)


@pytest.fixture
def templates(plan, tmp_path):
    write_templates(plan, tmp_path / "templates", generated=datetime(2020, 6, 20))
    return tmp_path / "templates"


@pytest.fixture
def smtp(tmp_path):
    server = SmtpServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def imap(tmp_path):
    server = Dovecot(tmp_path)
    yield server
    server.stop()


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def test_drafts_with_encoded_chinese_and_a_log_that_makes_reruns_safe(plan, templates, tmp_path):
    outbox = tmp_path / "outbox"
    res = run("send", PLAN, templates, "-o", outbox)
    assert res.exit_code == 0, res.output
    drafts = sorted(outbox.glob("*.eml"))
    assert len(drafts) == 12
    raw = (outbox / "第一課.eml").read_bytes()
    assert raw.isascii()  # every header and name is encoded for any mail client
    assert b"=?utf-8?" in raw  # RFC 2047 in headers and in the older name= parameter
    assert re.search(rb"filename\*(0\*)?=utf-8''", raw)  # RFC 2231
    msg = parse(raw)
    assert msg["Subject"] == "[109 提升服務效能] 第一課 填報表（請於 109/07/10 前回傳）"
    assert parseaddr(str(msg["To"]))[1] == "section1@kaohsiung.example"
    body = msg.get_body(("plain",)).get_content()
    assert "109/07/10" in body and "秘書室" in body and "填報表" in body
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename() == "109_提升服務效能_第一課.xlsx"
    assert attachment.get_content() == (templates / "109_提升服務效能_第一課.xlsx").read_bytes()
    again = run("send", PLAN, templates, "-o", outbox)
    assert "已產生草稿 0 封，略過 12 封" in again.output
    forced = run("send", PLAN, templates, "-o", outbox, "--resend")
    assert "已產生草稿 12 封" in forced.output


def test_a_unit_without_an_address_is_reported(tmp_path):
    from plans import second_plan, write_plan

    p = second_plan()
    p["單位"][3][4] = ""  # 丙組 has no e-mail
    plan_path = write_plan(tmp_path / "p.xlsx", p)
    write_templates(load_plan(plan_path), tmp_path / "tpl")
    res = run("send", plan_path, tmp_path / "tpl", "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output  # a warning: send exits 1 on errors only
    assert "[警告]" in res.output and "丙組" in res.output and "電子郵件" in res.output
    assert "略過 3 封（沒有電子郵件 3 封：丙組、北區服務站、南區服務站）" in res.output
    assert not (tmp_path / "out" / "丙組.eml").exists()
    assert (tmp_path / "out" / "甲組.eml").exists()


def test_send_over_smtp_with_starttls_and_auth(plan, templates, smtp, tmp_path):
    outbox = tmp_path / "outbox"
    env = {"XLTOOL_SMTP_PASSWORD": PASSWORD}
    dry = run("send", PLAN, templates, "-o", outbox, "--smtp", f"127.0.0.1:{smtp.port}",
              "--user", USER, "--cafile", smtp.cert, "--dry-run", env=env)
    assert dry.exit_code == 0 and "將寄給 第一課" in dry.output and smtp.received == []
    res = run("send", PLAN, templates, "-o", outbox, "--smtp", f"127.0.0.1:{smtp.port}",
              "--user", USER, "--cafile", smtp.cert, env=env)
    assert res.exit_code == 0, res.output
    assert len(smtp.received) == 12
    by_unit = {}
    for got in smtp.received:
        msg = parse(got["data"])
        by_unit[str(msg["To"].addresses[0].display_name)] = (got, msg)
    assert set(by_unit) == {u.name for u in plan.units}
    for u in plan.units:
        got, msg = by_unit[u.name]
        assert got["to"] == [u.email]
        assert got["from"] == plan.info.contact_email
        assert msg["Subject"].startswith(f"[109 提升服務效能] {u.name} 填報表")
        (attachment,) = list(msg.iter_attachments())
        name = template_filename(plan, u.name, "xlsx")
        assert attachment.get_filename() == name
        assert attachment.get_content() == (templates / name).read_bytes()  # byte for byte
    again = run("send", PLAN, templates, "-o", outbox, "--smtp", f"127.0.0.1:{smtp.port}",
                "--user", USER, "--cafile", smtp.cert, env=env)
    assert len(smtp.received) == 12 and "已寄出 0 封，略過 12 封" in again.output


def test_wrong_password_is_a_plain_message(templates, smtp, tmp_path):
    res = run("send", PLAN, templates, "-o", tmp_path / "o", "--smtp", f"127.0.0.1:{smtp.port}",
              "--user", USER, "--cafile", smtp.cert, env={"XLTOOL_SMTP_PASSWORD": "wrong"})
    assert res.exit_code == 2 and "拒絕登入" in res.output and "Traceback" not in res.output


def reply(plan, unit, attachments, msg_id, when):
    msg = EmailMessage()
    msg["From"] = formataddr((unit, plan.unit(unit).email))
    msg["To"] = plan.info.contact_email
    msg["Subject"] = f"Re: [109 提升服務效能] {unit} 填報表"
    msg["Date"] = email.utils.format_datetime(when)
    msg["Message-ID"] = msg_id
    msg.set_content(f"{unit}回傳，請查收。")
    for name, data in attachments:
        maintype, subtype = ("application", "octet-stream")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def returns_mail(plan):
    """One reply per unit with its filled return, a resent duplicate and a stray PDF."""
    msgs = []
    for n, unit in enumerate(u.name for u in plan.units):
        path = next(EXAMPLE.joinpath("returns").glob(f"*_{unit}.*"))
        when = datetime(2020, 7, 1 + n % 8, 10, 12, tzinfo=datetime.now().astimezone().tzinfo)
        msgs.append(reply(plan, unit, [(path.name, path.read_bytes())], f"<r{n}@kaohsiung.example>",
                          when))
    msgs.append(msgs[3])  # the same message twice in the mailbox
    msgs.append(reply(plan, "第二課", [("說明.pdf", b"%PDF-1.4 not a workbook")], "<pdf@x>",
                      datetime(2020, 7, 2, 9, 0, tzinfo=datetime.now().astimezone().tzinfo)))
    return msgs


def check_collected(plan, out, res):
    files = sorted(p.name for p in out.iterdir() if p.is_file() and not p.name.startswith("."))
    assert len(files) == 12, files
    assert {f.split("_")[0] for f in files} == {u.name for u in plan.units}
    assert any(f.startswith("第一課_20200701T1012") for f in files)
    # The stray PDF is 第二課's evidence (佐證資料), kept beside the returns, not among them.
    assert "先前已收過" in res.output and "佐證資料（第二課）：佐證資料/第二課/說明.pdf" in res.output


def test_collect_through_imap_then_merge(plan, imap, tmp_path):
    conn = imap.client()
    for msg in returns_mail(plan):
        # taken in by the server when it was sent: collect names returns by the server's time
        arrived = email.utils.parsedate_to_datetime(msg["Date"])
        conn.append("INBOX", None, imaplib.Time2Internaldate(arrived), msg.as_bytes())
    conn.logout()
    out = tmp_path / "returns"
    res = run("collect", "--plan", PLAN, "--imap", f"127.0.0.1:{imap.port}", "--user", USER,
              "--cafile", imap.cert, "-o", out, env={"XLTOOL_IMAP_PASSWORD": PASSWORD})
    assert res.exit_code == 0, res.output
    check_collected(plan, out, res)
    # Read-only: nothing deleted, nothing marked as read.
    conn = imap.client()
    conn.select("INBOX", readonly=True)
    typ, data = conn.search(None, "ALL")
    assert len(data[0].split()) == 14
    typ, data = conn.search(None, "SEEN")
    assert data[0] == b""
    conn.logout()
    # Collecting again saves nothing new.
    again = run("collect", "--plan", PLAN, "--imap", f"127.0.0.1:{imap.port}", "--user", USER,
                "--cafile", imap.cert, "-o", out, env={"XLTOOL_IMAP_PASSWORD": PASSWORD})
    assert "存入 0 個回傳檔" in again.output
    assert len([p for p in out.iterdir() if p.is_file() and not p.name.startswith(".")]) == 12
    master, report = tmp_path / "master.xlsx", tmp_path / "r.json"
    merged = run("merge", PLAN, out, "-o", master, "--report", report)
    assert merged.exit_code == 0, merged.output
    import json
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [d["score"] for d in data["dimensions"]] + [data["total"], data["grade"]] == [
        180, 275, 185, 180, 90, 910, "優"]
    senders = {u["unit"]: u["sender"] for u in data["units"]}
    assert "section1@kaohsiung.example" in senders["第一課"]


def test_collect_from_eml_folder_mbox_and_maildir(plan, tmp_path):
    msgs = returns_mail(plan)
    eml = tmp_path / "eml"
    eml.mkdir()
    for n, msg in enumerate(msgs):
        (eml / f"{n:02d}.eml").write_bytes(msg.as_bytes())
    box = mailbox.mbox(str(tmp_path / "box.mbox"))
    maildir = mailbox.Maildir(str(tmp_path / "Maildir"))
    for msg in msgs:
        stored = mailbox.mboxMessage(msg)  # the separator line dated when it was sent
        stored.set_from("MAILER-DAEMON", email.utils.parsedate_to_datetime(msg["Date"]).timetuple())
        box.add(stored)
        maildir.add(msg)
    box.flush()
    for source in (eml, tmp_path / "box.mbox", tmp_path / "Maildir"):
        out = tmp_path / f"out-{source.name}"
        res = run("collect", source, "--plan", PLAN, "-o", out)
        assert res.exit_code == 0, res.output
        check_collected(plan, out, res)


def test_collect_reports_another_plans_template(plan, tmp_path):
    from plans import second_plan, write_plan

    other = load_plan(write_plan(tmp_path / "other.xlsx", second_plan()))
    write_templates(other, tmp_path / "tpl", units=["甲組"])
    name = template_filename(other, "甲組", "xlsx")
    msg = reply(plan, "第一課", [(name, (tmp_path / "tpl" / name).read_bytes())], "<o@x>",
                datetime(2020, 7, 1, tzinfo=datetime.now().astimezone().tzinfo))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.eml").write_bytes(msg.as_bytes())
    res = run("collect", tmp_path / "in", "--plan", PLAN, "-o", tmp_path / "out")
    assert res.exit_code == 1 and "其他計畫" in res.output
    assert not [p for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")]
