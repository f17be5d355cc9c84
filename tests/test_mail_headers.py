"""The To and From headers name exactly the unit's address and the secretariat's,
whatever the names hold: a unit named ``人事室 <hr@evil.example>`` still gets a
draft that every mail program sends to the unit's own address, with the name as
typed; and a header that would not read back so is never written or sent."""
import email
import json
from datetime import datetime
from email import policy
from email.headerregistry import Address

import pytest
from click.testing import CliRunner
from mailservers import PASSWORD, USER, SmtpServer
from plans import second_plan, write_plan

from xltool.cli import cli
from xltool.forms.template import write_templates
from xltool.mail import send as send_module
from xltool.plan import load_plan

HOSTILE = ["人事室 <hr@evil.example>", "第一課 <x>", "秘書室 a@b.c", '甲組 "A"', "研考 (RDEC) 組",
           "秘書室, ABC", "第一課;第二課 B", "=?utf-8?b?5Lq65LqL5a6k?=", "IT <hr@evil.example>",
           "數位轉型推動暨資通安全強化與智慧政府服務效能提升辦公室"]
CONTACT = "資訊中心 <boss@evil.example>"
ROW = 4  # 資訊中心 in second_plan(): it leads items through its alias 資訊室 and 全體


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def parse(raw: bytes):
    """A message as mail programs read it (UTF-8 headers, RFC 6532, as text)."""
    if raw.isascii():
        return email.message_from_bytes(raw, policy=policy.default)
    return email.message_from_string(raw.decode("utf-8"), policy=policy.default)


def plan_with(tmp_path, name: str, address: str = "it@hsinchu.example", contact: str = CONTACT):
    data = second_plan()
    data["單位"][ROW][0] = name
    data["單位"][ROW][4] = address
    data["計畫"][7][1] = contact  # 承辦單位
    path = write_plan(tmp_path / "plan.xlsx", data)
    write_templates(load_plan(path), tmp_path / "tpl", generated=datetime(2024, 1, 2))
    return path


def drafts(out):
    """The .eml files written, by file, parsed."""
    return {p: parse(p.read_bytes()) for p in out.glob("*.eml")}


def draft_of(out, name):
    """The one draft whose To names ``name``, and its file."""
    (found,) = [(p, m) for p, m in drafts(out).items() if m["To"].addresses[0].display_name == name]
    return found


@pytest.mark.parametrize("name", HOSTILE)
def test_a_name_never_sets_where_a_draft_goes(name, tmp_path):
    path = plan_with(tmp_path, name)
    out = tmp_path / "out"
    res = run("send", path, tmp_path / "tpl", "-o", out)
    assert res.exit_code == 0, res.output
    eml, msg = draft_of(out, name)
    assert msg["To"].addresses == (Address(display_name=name, addr_spec="it@hsinchu.example"),)
    assert msg["From"].addresses == (Address(display_name=CONTACT, addr_spec="it@hsinchu.example"),)
    assert not msg.get_all("Cc") and not msg.get_all("Bcc") and len(msg.get_all("To")) == 1
    log = json.loads((out / "send-log.json").read_text(encoding="utf-8"))
    assert log["drafts"][name]["to"] == "it@hsinchu.example"
    assert all(len(line) <= 998 for line in eml.read_bytes().split(b"\r\n"))


def test_the_smtputf8_draft_keeps_the_name_apart_from_the_address(tmp_path):
    name = "人事室 <hr@evil.example>"
    path = plan_with(tmp_path, name, address="承辦@新竹.台灣")
    out = tmp_path / "out"
    res = run("send", path, tmp_path / "tpl", "-o", out)
    assert res.exit_code == 0, res.output
    _, msg = draft_of(out, name)
    (to,) = msg["To"].addresses
    assert (to.display_name, to.username, to.domain) == (name, "承辦", "xn--efvt78b.xn--kpry57d")


def test_mail_sent_over_smtp_names_only_the_unit(tmp_path):
    name = "人事室 <hr@evil.example>"
    path = plan_with(tmp_path, name)
    server = SmtpServer(tmp_path)
    try:
        res = run("send", path, tmp_path / "tpl", "-o", tmp_path / "out", "--smtp",
                  f"127.0.0.1:{server.port}", "--user", USER, "--cafile", server.cert,
                  env={"XLTOOL_SMTP_PASSWORD": PASSWORD})
    finally:
        server.stop()
    assert res.exit_code == 0, res.output
    (got,) = [g for g in server.received if g["to"] == ["it@hsinchu.example"]]
    msg = parse(got["data"])
    assert msg["To"].addresses == (Address(display_name=name, addr_spec="it@hsinchu.example"),)
    assert msg["From"].addresses == (Address(display_name=CONTACT, addr_spec="it@hsinchu.example"),)


def test_a_header_that_does_not_read_back_is_refused_and_the_others_go(tmp_path, monkeypatch):
    # The check itself: were a name ever written so that it reads as an address,
    # that unit gets no draft and no mail; every other unit gets its own.
    name = "人事室 <hr@evil.example>"
    path = plan_with(tmp_path, name, contact="資訊中心")
    written = send_module._display_name
    monkeypatch.setattr(send_module, "_display_name",
                        lambda n: "HR <hr@evil.example>" if n == name else written(n))
    out = tmp_path / "out"
    res = run("send", path, tmp_path / "tpl", "-o", out)
    assert res.exit_code == 1, res.output
    assert f"「{name}」的郵件未寄出" in res.output and "it@hsinchu.example" in res.output
    sent_to = sorted(m["To"].addresses[0].addr_spec for m in drafts(out).values())
    assert sent_to == ["a@hsinchu.example", "b@hsinchu.example"]
    log = json.loads((out / "send-log.json").read_text(encoding="utf-8"))
    assert name not in log["drafts"]
    assert "名稱無法正確寫入收件人或寄件人 1 封" in res.output


def test_a_sender_that_does_not_read_back_is_refused(tmp_path, monkeypatch):
    path = plan_with(tmp_path, "資訊中心", contact=CONTACT)
    written = send_module._display_name
    monkeypatch.setattr(send_module, "_display_name",
                        lambda n: "Boss <boss@evil.example>" if n == CONTACT else written(n))
    out = tmp_path / "out"
    res = run("send", path, tmp_path / "tpl", "-o", out)
    assert res.exit_code == 1, res.output
    assert "寄件人（From）" in res.output and not list(out.glob("*.eml"))
