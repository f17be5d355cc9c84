"""Mail that never stops: hostile and broken messages, servers that fail or fall
silent, and addresses that would go wrong. Each bad message costs only itself."""
import base64
import email
import email.policy
import io
import json
import mailbox
import os
import re
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT
from mailservers import PASSWORD, USER, Dovecot, SilentServer, SmtpServer
from plans import second_plan, write_plan

from xltool.cli import cli
from xltool.forms.template import write_templates
from xltool.intake.log import LOG_NAME, OLD_LOG_NAME, CollectLog, read_log
from xltool.mail import examine as examine_module
from xltool.mail import sources as sources_module
from xltool.mail.send import prepare
from xltool.mail.sources import imap_folder_name
from xltool.plan import check_plan, load_plan
from xltool.quoting import quote, visible
from xltool.reading.isolation import isolation_enabled, start_method

EXAMPLE = ROOT / "examples" / "kaohsiung-109"
PLAN = EXAMPLE / "plan.xlsx"
WHEN = datetime(2020, 7, 2, 9, 30, tzinfo=timezone.utc)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


@pytest.fixture(scope="module")
def plan():
    return load_plan(PLAN)


def return_of(unit: str) -> tuple[str, bytes]:
    path = next(EXAMPLE.joinpath("returns").glob(f"*_{unit}.*"))
    return path.name, path.read_bytes()


def reply(plan, unit, msg_id, attachments=None, sender=None, subject=None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender or formataddr((unit, plan.unit(unit).email))
    msg["To"] = plan.info.contact_email
    msg["Subject"] = subject or f"Re: {unit} 填報表"
    msg["Date"] = format_datetime(WHEN)
    msg["Message-ID"] = msg_id
    msg.set_content(f"{unit}回傳。")
    for name, data in attachments if attachments is not None else [return_of(unit)]:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg


def with_header(raw: bytes, name: bytes, value: bytes) -> bytes:
    """``raw`` with the first ``name:`` header replaced by ``value`` (bytes, unchecked)."""
    return re.sub(rb"(?m)^" + name + rb": .*\r?\n", lambda m: name + b": " + value + b"\n", raw,
                  count=1)


def deep(levels: int) -> bytes:
    head = (b"From: someone@example.org\nMessage-ID: <deep@x>\n"
            b"Content-Type: multipart/mixed; boundary=b0\n\n")
    body = b"".join(b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i - 1, i)
                    for i in range(1, levels))
    body += b"--b%d\nContent-Type: text/plain\n\nx\n" % (levels - 1)
    body += b"".join(b"--b%d--\n" % i for i in reversed(range(levels)))
    return head + body


def saved_units(out):
    return sorted(p.name.split("_")[0] for p in out.iterdir() if p.is_file() and not p.name.startswith("."))


def write_eml(folder, messages: dict[str, bytes]):
    folder.mkdir(exist_ok=True)
    for name, raw in messages.items():
        (folder / name).write_bytes(raw)
    return folder


def test_each_bad_message_is_one_issue_and_collection_goes_on(plan, tmp_path):
    first = reply(plan, "第一課", "<good@x>").as_bytes()
    forwarded = EmailMessage()
    forwarded["From"] = "helper@kaohsiung.example"
    forwarded["Message-ID"] = "<fwd@x>"
    forwarded["Subject"] = "FW: 第六課"
    forwarded.set_content("轉寄")
    forwarded.add_attachment(reply(plan, "第六課", "<six@x>"), filename="第六課回傳.xlsx")
    broken_return = return_of("澎湖辦事處")
    escape_name = "\x1b[2J\x1b[1;1H清除畫面" + "長" * 100 + ".pdf"
    hostile = {
        "00-good.eml": first,
        "01-from.eml": with_header(reply(plan, "第二課", "<two@x>").as_bytes(), b"From", b'"a" <'),
        "02-subject.eml": with_header(reply(plan, "第三課", "<three@x>").as_bytes(), b"Subject",
                                      b"=?utf-8?q?=E4=B8?= =?x-unknown?b?ZZZ?="),
        "03-msgid.eml": with_header(reply(plan, "第四課", "<four@x>").as_bytes(), b"Message-ID",
                                    b"<>"),
        "04-parens.eml": with_header(reply(plan, "第五課", "<five@x>").as_bytes(), b"From",
                                     b"(" * 1000 + b"section5@kaohsiung.example"),
        "05-deep.eml": deep(3000),
        "06-disposition.eml": with_header(
            reply(plan, "金門辦事處", "<kinmen@x>").as_bytes(), b"Content-Disposition",
            b'attachment; filename="' + b"(" * 1000 + b'x.ods"' + b"; a=(" * 500),
        "07-rfc822-named-xlsx.eml": forwarded.as_bytes(),
        "08-broken.eml": reply(plan, "澎湖辦事處", "<penghu@x>",
                               [(broken_return[0], broken_return[1][:3000])]).as_bytes(),
        "09-escapes.eml": reply(plan, "秘書室", "<esc@x>", [(escape_name, b"%PDF-1.4")]).as_bytes(),
        "10-escape-subject.eml": b"From: x@kaohsiung.example\nSubject: \x1b]0;owned\x07\x1b[2K"
                                 + b"A" * 200 + b"\n\nno attachment\n",
    }
    source = write_eml(tmp_path / "in", hostile)
    out = tmp_path / "out"
    res = run("collect", source, "--plan", PLAN, "-o", out)
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and "internal-error" not in res.output
    assert saved_units(out) == sorted(["第一課", "第二課", "第三課", "第四課", "第五課", "第六課",
                                       "金門辦事處"])
    # Each bad message is named, with its Message-ID where it has a valid one.
    for label in ("01-from.eml", "02-subject.eml", "03-msgid.eml", "04-parens.eml", "05-deep.eml",
                  "08-broken.eml"):
        assert label in res.output, label
    assert "<deep@x>" in res.output and "結構無法解析" in res.output
    assert "標示為轉寄郵件" in res.output
    # Nothing from a message reaches the terminal as a control character, and names are short.
    assert "\x1b" not in res.output and "\x07" not in res.output
    assert "\\x1b[2J" in res.output and "\\x1b]0;owned\\x07" in res.output
    assert "長" * 61 not in res.output and "A" * 61 not in res.output
    # A rerun stops at nothing either, and saves nothing twice.
    again = run("collect", source, "--plan", PLAN, "-o", out)
    assert again.exit_code == 1 and "存入 0 個回傳檔" in again.output
    assert "先前已收過" in again.output


def test_forwarded_single_part_and_strangers_are_collected(plan, tmp_path):
    forwarded = EmailMessage()
    forwarded["From"] = "forwarder@elsewhere.example"
    forwarded["Message-ID"] = "<fwd1@x>"
    forwarded["Subject"] = "FW: 第一課"
    forwarded.set_content("請查收轉寄的回傳檔")
    forwarded.add_attachment(reply(plan, "第一課", "<one@x>"))  # message/rfc822
    twice = EmailMessage()  # forwarded twice over
    twice["From"] = "forwarder@elsewhere.example"
    twice["Message-ID"] = "<fwd2@x>"
    twice.set_content("再轉寄")
    inner = EmailMessage()
    inner["From"] = "someone@elsewhere.example"
    inner.set_content("轉寄")
    inner.add_attachment(reply(plan, "第五課", "<five@x>"))
    twice.add_attachment(inner)

    def single(unit, name):
        data = return_of(unit)[1]
        params = f'; name="{name}"' if name else ""
        return (f"From: {plan.unit(unit).email}\nMessage-ID: <single-{len(name)}@x>\n"
                f"Subject: {unit}\nMIME-Version: 1.0\nContent-Type: {XLSX}{params}\n"
                f"Content-Transfer-Encoding: base64\n\n").encode() + base64.encodebytes(data)

    stranger = reply(plan, "第四課", "<four@x>", sender="Mallory <mallory@free-mail.example>")
    box = mailbox.mbox(str(tmp_path / "in.mbox"))
    for raw in (forwarded.as_bytes(), single("第二課", "return.xlsx"), single("第三課", ""),
                stranger.as_bytes(), twice.as_bytes()):
        box.add(raw)
    box.flush()
    out = tmp_path / "out"
    res = run("collect", tmp_path / "in.mbox", "--plan", PLAN, "-o", out)
    assert res.exit_code == 0, res.output
    assert saved_units(out) == ["第一課", "第三課", "第二課", "第五課", "第四課"]
    warnings = [line for line in res.output.splitlines() if "不是計畫檔中" in line]
    assert len(warnings) == 1, res.output  # forwarded returns keep their author's address
    assert "mallory@free-mail.example" in warnings[0] and "第四課" in warnings[0]
    assert "section4@kaohsiung.example" in warnings[0] and "mbox#4" in warnings[0]


def test_forwarding_deeper_than_the_bound_is_an_error(plan, tmp_path):
    msg = reply(plan, "第一課", "<one@x>")
    for n in range(examine_module.MAX_DEPTH + 2):
        outer = EmailMessage()
        outer["From"] = "relay@elsewhere.example"
        outer["Message-ID"] = f"<relay{n}@x>"
        outer.set_content("轉寄")
        outer.add_attachment(msg)
        msg = outer
    res = run("collect", write_eml(tmp_path / "in", {"deep.eml": msg.as_bytes()}), "--plan", PLAN,
              "-o", tmp_path / "out")
    assert res.exit_code == 1 and "超過 12 層" in res.output and "deep.eml" in res.output


# Their monkeypatches reach the workers only when these are forked (Linux; not Windows,
# nor XLTOOL_START_METHOD=spawn).
forked_workers = pytest.mark.skipif(start_method() != "fork", reason="the patch reaches the workers by fork")


@forked_workers
def test_encrypted_unreadable_and_oversized_attachments_are_errors(plan, tmp_path, monkeypatch):
    from msoffcrypto.format.ooxml import OOXMLFile

    assert examine_module.MAX_ATTACHMENT_BYTES == 50 * 1024 * 1024
    locked = io.BytesIO()
    with (EXAMPLE / "returns" / "109_提升服務效能_第一課.xlsx").open("rb") as src:
        OOXMLFile(src).encrypt("secret", locked)
    name, data = return_of("第二課")
    messages = {
        "a-encrypted.eml": reply(plan, "第一課", "<enc@x>", [("第一課.xlsx", locked.getvalue())]),
        "b-large.eml": reply(plan, "第三課", "<big@x>", [("第三課.xlsx", os.urandom(150_000))]),
        "c-good.eml": reply(plan, "第二課", "<ok@x>", [(name, data)]),
    }
    monkeypatch.setattr(examine_module, "MAX_ATTACHMENT_BYTES", 100_000)  # the workers are forked
    out = tmp_path / "out"
    res = run("collect", write_eml(tmp_path / "in", {k: v.as_bytes() for k, v in messages.items()}),
              "--plan", PLAN, "-o", out)
    assert res.exit_code == 1, res.output
    assert saved_units(out) == ["第二課"]
    lines = res.output.splitlines()
    assert any(line.startswith("[錯誤]") and "a-encrypted.eml" in line and "密碼" in line
               for line in lines), res.output
    assert any(line.startswith("[錯誤]") and "b-large.eml" in line and "超過上限" in line
               for line in lines), res.output


def test_a_message_over_the_cap_is_never_read(plan, tmp_path):
    assert sources_module.MAX_MESSAGE_BYTES == 80 * 1024 * 1024
    source = write_eml(tmp_path / "in", {"a-good.eml": reply(plan, "第一課", "<ok@x>").as_bytes()})
    with (source / "b-huge.eml").open("wb") as fh:  # sparse: costs no disk and no time
        fh.write(b"From: x@y.example\nSubject: huge\n\n")
        fh.truncate(81 * 1024 * 1024)
    huge = tmp_path / "box.mbox"
    with huge.open("wb") as fh:
        fh.write(b"From a@b Thu Jul  2 09:30:00 2020\n" + reply(plan, "第二課", "<two@x>").as_bytes()
                 + b"\nFrom c@d Thu Jul  2 09:31:00 2020\nSubject: huge\n\n")
        fh.truncate(fh.tell() + 81 * 1024 * 1024)
    for src, label, unit in ((source, "b-huge.eml", "第一課"), (huge, "mbox#2", "第二課")):
        out = tmp_path / f"out-{src.name}"
        res = run("collect", src, "--plan", PLAN, "-o", out)
        assert res.exit_code == 1, res.output
        assert saved_units(out) == [unit]
        assert any(label in line and "超過上限 80 MB" in line for line in res.output.splitlines())


@pytest.mark.skipif(not isolation_enabled(), reason="the crash would take the test run with it")
@forked_workers
def test_a_worker_that_dies_costs_only_its_message(plan, tmp_path, monkeypatch):
    real = examine_module.examine

    def examine(plan_, mail, folder, known=frozenset()):
        if mail.label == "b-crash.eml":
            os._exit(3)  # as a native crash would
        return real(plan_, mail, folder, known)

    monkeypatch.setattr(examine_module, "examine", examine)
    source = write_eml(tmp_path / "in", {
        "a.eml": reply(plan, "第一課", "<one@x>").as_bytes(),
        "b-crash.eml": reply(plan, "第二課", "<crash@x>").as_bytes(),
        "c.eml": reply(plan, "第三課", "<three@x>").as_bytes()})
    out = tmp_path / "out"
    res = run("collect", source, "--plan", PLAN, "-o", out)
    assert res.exit_code == 1, res.output
    assert saved_units(out) == ["第一課", "第三課"]
    line = next(line for line in res.output.splitlines() if "b-crash.eml" in line)
    assert line.startswith("[錯誤]") and "<crash@x>" in line and "其他郵件照常收取" in line


def test_the_log_is_appended_and_damage_is_a_warning(plan, tmp_path):
    from xltool.intake.log import senders_of

    source = write_eml(tmp_path / "in", {"a.eml": reply(plan, "第一課", "<one@x>").as_bytes(),
                                         "b.eml": reply(plan, "第二課", "<two@x>").as_bytes()})
    out = tmp_path / "out"
    assert run("collect", source, "--plan", PLAN, "-o", out).exit_code == 0
    log = out / LOG_NAME
    before = log.read_bytes()
    assert len(before.splitlines()) == 2
    with log.open("ab") as fh:
        fh.write(b'{"file": "half-writ')  # a run that stopped mid-line
    (source / "c.eml").write_bytes(reply(plan, "第三課", "<three@x>").as_bytes())
    res = run("collect", source, "--plan", PLAN, "-o", out)
    assert res.exit_code == 0, res.output
    assert "收件紀錄" in res.output and "1 行無法讀取" in res.output
    assert "另有 2 個附件先前已收過" in res.output and "存入 1 個回傳檔" in res.output
    after = log.read_bytes()
    assert after.startswith(before)  # appended, never rewritten
    found = read_log(out)
    assert sorted(r["unit"] for r in found["files"].values()) == ["第一課", "第三課", "第二課"]
    assert len(found["seen"]) == 3 and [i.code for i in found["issues"]] == ["damaged-log"]
    senders, issues = senders_of([out])
    assert len(senders) == 3 and [i.code for i in issues] == ["damaged-log"]
    log.write_bytes(b"\xff\xfe garbage\n{]\n")
    assert read_log(out)["files"] == {} and senders_of([out])[0] == {}
    # merge and status go on without the sender records, and say why
    shutil.copy(EXAMPLE / "returns" / "109_提升服務效能_第一課.xlsx", out)
    res = run("status", PLAN, out)
    assert res.exit_code == 1 and "Traceback" not in res.output


def test_an_old_whole_file_log_is_still_read(plan, tmp_path):
    source = write_eml(tmp_path / "in", {"a.eml": reply(plan, "第一課", "<one@x>").as_bytes()})
    out = tmp_path / "out"
    assert run("collect", source, "--plan", PLAN, "-o", out).exit_code == 0
    record = json.loads((out / LOG_NAME).read_text(encoding="utf-8"))
    name, key = record.pop("file"), record.pop("key")
    (out / LOG_NAME).unlink()
    (out / OLD_LOG_NAME).write_text(json.dumps({"files": {name: record}, "seen": [key]},
                                               ensure_ascii=False), encoding="utf-8")
    again = run("collect", source, "--plan", PLAN, "-o", out)
    assert "存入 0 個回傳檔" in again.output and "另有 1 個附件先前已收過" in again.output
    assert list(read_log(out)["files"]) == [name]
    (out / OLD_LOG_NAME).write_text("{not json", encoding="utf-8")
    assert read_log(out)["issues"][0].code == "damaged-log"


def test_appending_4000_records_is_linear(tmp_path):
    log = CollectLog(tmp_path)
    started = time.perf_counter()
    for n in range(4000):
        log.add(f"第一課_{n}.xlsx", {"unit": "第一課", "sender": "a@b.example", "key": f"<{n}@x>|h"})
    log.close()
    found = read_log(tmp_path)
    assert time.perf_counter() - started < 3
    assert len(found["files"]) == 4000 and len(found["seen"]) == 4000 and not found["issues"]


def test_imap_folder_names_are_modified_utf7():
    assert imap_folder_name("INBOX") == "INBOX"
    assert imap_folder_name("收件匣") == "&ZTZO9lMj-"
    assert imap_folder_name("~peter/mail/台北/日本語") == "~peter/mail/&U,BTFw-/&ZeVnLIqe-"  # RFC 3501
    assert imap_folder_name("A&B") == "A&-B"


@pytest.mark.parametrize("greet_tls", [False, True], ids=["no-greeting", "silent-after-greeting"])
def test_a_silent_imap_server_cannot_hang_collect(tmp_path, greet_tls):
    server = SilentServer(tmp_path, greet_tls=greet_tls)
    try:
        args = ["--cafile", server.cert] if greet_tls else []
        started = time.monotonic()
        res = run("collect", "--plan", PLAN, "--imap", f"127.0.0.1:{server.port}", "--user", USER,
                  "--timeout", 1, "-o", tmp_path / "out", *args,
                  env={"XLTOOL_IMAP_PASSWORD": PASSWORD})
        assert time.monotonic() - started < 8
        assert res.exit_code == 2, res.output
        assert "超過 1 秒沒有回應" in res.output and "Traceback" not in res.output
    finally:
        server.stop()


@pytest.fixture
def imap(tmp_path):
    server = Dovecot(tmp_path)
    yield server
    server.stop()


def test_starttls_against_a_tls_only_port_times_out_plainly(imap, tmp_path):
    res = run("collect", "--plan", PLAN, "--imap", f"127.0.0.1:{imap.port}", "--user", USER,
              "--starttls", "--timeout", 1, "--cafile", imap.cert, "-o", tmp_path / "out",
              env={"XLTOOL_IMAP_PASSWORD": PASSWORD})
    assert res.exit_code == 2, res.output
    assert "沒有回應" in res.output and "只接受 SSL" in res.output


@forked_workers
def test_imap_non_ascii_folder_and_a_message_over_the_cap(plan, imap, tmp_path, monkeypatch):
    import imaplib

    conn = imap.client()
    assert conn.create('"&ZTZO9lMj-"')[0] == "OK"  # 收件匣, written by hand
    for msg in (reply(plan, "第一課", "<one@x>"),
                reply(plan, "第二課", "<big@x>", [("附件.pdf", b"%PDF" + b"x" * 200_000)])):
        conn.append('"&ZTZO9lMj-"', None, imaplib.Time2Internaldate(time.time()), msg.as_bytes())
    conn.logout()
    monkeypatch.setattr(sources_module, "MAX_MESSAGE_BYTES", 150_000)
    spooled = set(Path(tempfile.gettempdir()).glob("xltool-imap-*"))
    out = tmp_path / "out"
    res = run("collect", "--plan", PLAN, "--imap", f"127.0.0.1:{imap.port}", "--user", USER,
              "--folder", "收件匣", "--timeout", 5, "--cafile", imap.cert, "-o", out,
              env={"XLTOOL_IMAP_PASSWORD": PASSWORD})
    assert res.exit_code == 1, res.output
    assert saved_units(out) == ["第一課"]
    assert any("IMAP:收件匣#2" in line and "未讀取" in line for line in res.output.splitlines())
    assert set(Path(tempfile.gettempdir()).glob("xltool-imap-*")) == spooled  # none left behind


# ------------------------------------------------------------------ send


def mixed_plan(tmp_path):
    p = second_plan()
    p["單位"][3][4] = "c@新竹.台灣"  # 丙組: an internationalised domain
    p["單位"][4][4] = "drop@hsinchu.example"  # 資訊中心
    p["單位"][5][4] = "承辦@新竹.台灣"  # 北區服務站: needs SMTPUTF8
    p["單位"][6][4] = "south@hsinchu.example"
    path = write_plan(tmp_path / "plan.xlsx", p)
    write_templates(load_plan(path), tmp_path / "tpl", generated=datetime(2024, 1, 2))
    return path


def test_send_goes_on_after_failures_and_a_rerun_retries_only_those(tmp_path):
    plan_path = mixed_plan(tmp_path)
    behaviour = {"a@hsinchu.example": "reject", "b@hsinchu.example": "refuse",
                 "drop@hsinchu.example": "drop"}
    server = SmtpServer(tmp_path, behaviour)
    env = {"XLTOOL_SMTP_PASSWORD": PASSWORD}
    args = ("send", plan_path, tmp_path / "tpl", "-o", tmp_path / "outbox", "--smtp",
            f"127.0.0.1:{server.port}", "--user", USER, "--cafile", server.cert)
    try:
        res = run(*args, env=env)
        assert res.exit_code == 1, res.output
        got = {tuple(m["to"]) for m in server.received}
        assert got == {("c@xn--efvt78b.xn--kpry57d",), ("south@hsinchu.example",)}
        assert "554" in res.output and "550" in res.output and "連線中斷" in res.output
        assert "SMTPUTF8" in res.output and "北區服務站" in res.output
        assert "未寄出 4 封" in res.output
        log_file = tmp_path / "outbox" / "send-log.json"
        log = json.loads(log_file.read_text(encoding="utf-8"))["sent"]
        assert {u for u, e in log.items() if e["status"] == "failed"} == {
            "甲組", "乙組", "資訊中心", "北區服務站"}
        server.behaviour.clear()  # the server is fixed; run again
        again = run(*args, env=env)
        assert again.exit_code == 1, again.output  # 北區服務站 still needs SMTPUTF8
        assert "已寄出 3 封，略過 2 封" in again.output
        assert sorted(m["to"][0] for m in server.received[2:]) == [
            "a@hsinchu.example", "b@hsinchu.example", "drop@hsinchu.example"]
    finally:
        server.stop()
    (tmp_path / "utf8").mkdir()
    utf8 = SmtpServer(tmp_path / "utf8", smtputf8=True)
    try:
        last = run(*args[:6], f"127.0.0.1:{utf8.port}", "--user", USER, "--cafile", utf8.cert,
                   env=env)
        assert last.exit_code == 0, last.output
        (got,) = utf8.received
        assert got["to"] == ["承辦@xn--efvt78b.xn--kpry57d"] and got["smtputf8"]
        msg = email.message_from_string(got["data"].decode("utf-8"), policy=email.policy.default)
        assert msg["To"].addresses[0].username == "承辦"  # UTF-8 headers (RFC 6532)
    finally:
        utf8.stop()


def test_a_comma_never_makes_two_recipients(tmp_path):
    plan = load_plan(mixed_plan(tmp_path))
    units = [replace(u, email="a@b.example,spy") if u.name == "甲組" else u for u in plan.units]
    plan = replace(plan, units=units)
    outgoing, issues = prepare(plan, tmp_path / "tpl")
    assert "甲組" not in {o.unit for o in outgoing}
    (bad,) = [i for i in issues if i.unit == "甲組"]
    assert bad.code == "bad-address" and "逗號" in bad.message
    assert all(o.rcpt.count("@") == 1 and "," not in o.rcpt for o in outgoing)


def test_drafts_carry_international_addresses(tmp_path):
    plan_path = mixed_plan(tmp_path)
    res = run("send", plan_path, tmp_path / "tpl", "-o", tmp_path / "drafts")
    assert res.exit_code == 0, res.output
    ascii_draft = (tmp_path / "drafts" / "丙組.eml").read_bytes()
    assert ascii_draft.isascii() and b"c@xn--efvt78b.xn--kpry57d" in ascii_draft
    utf8_draft = (tmp_path / "drafts" / "北區服務站.eml").read_bytes()
    assert "承辦@xn--efvt78b.xn--kpry57d".encode() in utf8_draft  # UTF-8 headers (RFC 6532)
    msg = email.message_from_string(utf8_draft.decode("utf-8"), policy=email.policy.default)
    assert msg["To"].addresses[0].username == "承辦"


# ------------------------------------------------------------------ check


def test_check_finds_bad_addresses_and_line_breaks(tmp_path):
    p = second_plan()
    p["單位"][1][4] = "a@hsinchu.example,spy"
    p["單位"][2][4] = "b@hsinchu.example; c@hsinchu.example"
    p["單位"][3][4] = "承辦@新竹.台灣"
    p["單位"][4][0] = "資訊\n中心"
    p["單位"][5][2] = "全體\n各組"  # one group a line: allowed
    p["單位"][6][3] = "南\x1b[2J區"
    p["計畫"][1][1] = "新竹縣政府\r\n112 年度數位轉型推動計畫"
    p["計畫"].append(["簡稱", "數位\n轉型"])
    _, issues = check_plan(write_plan(tmp_path / "p.xlsx", p))
    where = {(i.sheet, i.cell): i for i in issues}
    assert where[("單位", "E2")].is_error and "逗號" in where[("單位", "E2")].message
    assert where[("單位", "E3")].is_error and "逗號或分號" in where[("單位", "E3")].message
    assert not where[("單位", "E4")].is_error and "SMTPUTF8" in where[("單位", "E4")].message
    assert where[("單位", "A5")].code == "control-character" and "換行" in where[("單位", "A5")].message
    assert ("單位", "C6") not in where
    assert where[("單位", "D7")].is_error and "\\x1b[2J" in where[("單位", "D7")].message
    assert where[("計畫", "B2")].code == "control-character"
    assert where[("計畫", "B13")].code == "control-character"
    assert all("\x1b" not in i.message for i in issues)
    for bad in ("a b@x.tw", "a@@x.tw", "a@x", "@x.tw", "a@-x.tw", "a..b@x.tw", "a@x.123",
                "a<b>@x.tw"):
        q = second_plan()
        q["單位"][1][4] = bad
        _, issues = check_plan(write_plan(tmp_path / "q.xlsx", q))
        assert any(i.cell == "E2" and i.is_error for i in issues), bad
    ok = second_plan()
    ok["單位"][1][4] = "first.last+tag@高雄.台灣"
    _, issues = check_plan(write_plan(tmp_path / "ok.xlsx", ok))
    assert not [i for i in issues if i.cell == "E2"]


def test_quote_and_visible():
    assert visible("a\x1b[2Jb\r\n\u202e") == "a\\x1b[2Jb\\x0d\\x0a\\u202e"
    assert quote("長" * 100) == "長" * 60 + "…"
    assert quote("short") == "short"
    assert quote("x\udcff") == "x\ufffd"
    assert len(quote("a" * 10_000_000)) == 61
