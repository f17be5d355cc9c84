"""Once a message's data has gone to the SMTP server it is never sent again by
itself: when the server stores it but its reply is lost (the connection drops,
or the reply never comes within --timeout), the unit is logged 「可能已寄達」,
neither sent nor failed, and a rerun leaves it alone unless --resend-uncertain.
A connection dropped before the data went is still tried once more."""
import asyncio
import json
import smtplib
import ssl
import time
from collections import Counter
from datetime import datetime

import pytest
from click.testing import CliRunner
from mailservers import PASSWORD, USER, free_port, make_certificate
from plans import second_plan, write_plan

from xltool.cli import cli
from xltool.forms.template import write_templates
from xltool.mail.send import SmtpSettings, prepare, send
from xltool.plan import load_plan

ADDRESSES = {1: "a@hsinchu.example", 2: "b@hsinchu.example", 3: "c@hsinchu.example",
             4: "it@hsinchu.example", 5: "north@hsinchu.example", 6: "south@hsinchu.example"}
UNITS = {"甲組": "a@hsinchu.example", "乙組": "b@hsinchu.example", "丙組": "c@hsinchu.example",
         "資訊中心": "it@hsinchu.example", "北區服務站": "north@hsinchu.example",
         "南區服務站": "south@hsinchu.example"}


class Server:
    """aiosmtpd with STARTTLS and AUTH whose end of DATA is scripted: "ok" (250),
    "drop" (the message is stored, then the connection closed before the 250),
    "hang" (stored, never answered), or "drop-mail" (the connection closed at
    the next MAIL FROM, before anything is stored: a server closing an idle
    connection), once."""

    def __init__(self, folder, mode="ok"):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.cert, key = make_certificate(folder)
        self.received: list[dict] = []
        self.mode = mode
        outer = self

        class Handler:
            async def handle_MAIL(self, server, session, envelope, address, options):
                if outer.mode == "drop-mail":
                    outer.mode = "ok"
                    server.transport.close()
                envelope.mail_from = address
                envelope.mail_options.extend(options)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                outer.received.append({"to": list(envelope.rcpt_tos), "data": envelope.content})
                if outer.mode == "drop":
                    server.transport.close()
                elif outer.mode == "hang":
                    await asyncio.sleep(3600)
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
            return AuthResult(success=ok, handled=False)

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                     tls_context=context, require_starttls=True,
                                     authenticator=authenticator, auth_require_tls=True,
                                     auth_exclude_mechanism=["LOGIN"])
        self.controller.start()

    def copies(self) -> Counter:
        return Counter(got["to"][0] for got in self.received)

    def stop(self):
        self.controller.stop()


@pytest.fixture
def plan_path(tmp_path):
    data = second_plan()
    for row, address in ADDRESSES.items():
        data["單位"][row][4] = address
    path = write_plan(tmp_path / "plan.xlsx", data)
    write_templates(load_plan(path), tmp_path / "tpl", generated=datetime(2024, 1, 2))
    return path


def run(server, plan_path, tmp_path, *extra):
    return CliRunner().invoke(cli, [str(a) for a in (
        "send", plan_path, tmp_path / "tpl", "-o", tmp_path / "out", "--smtp",
        f"127.0.0.1:{server.port}", "--user", USER, "--cafile", server.cert, *extra)],
        env={"XLTOOL_SMTP_PASSWORD": PASSWORD})


def statuses(tmp_path) -> dict[str, str]:
    log = json.loads((tmp_path / "out" / "send-log.json").read_text(encoding="utf-8"))
    return {unit: entry["status"] for unit, entry in log["sent"].items()}


def test_a_lost_reply_is_maybe_sent_and_a_rerun_sends_no_second_copy(plan_path, tmp_path):
    server = Server(tmp_path, "drop")
    try:
        res = run(server, plan_path, tmp_path)
        assert server.copies() == Counter(UNITS.values()), res.output  # one each, no retry
        assert res.exit_code == 0, res.output  # warnings: nothing is known to have failed
        assert "可能已寄達 6 封" in res.output and "--resend-uncertain" in res.output
        assert "寄送失敗" not in res.output and "會再寄" not in res.output.replace("不會再寄", "")
        assert statuses(tmp_path) == {unit: "maybe-sent" for unit in UNITS}
        assert not list((tmp_path / "out").glob("*.eml"))  # no copy of mail "sent"

        again = run(server, plan_path, tmp_path)
        assert again.exit_code == 0, again.output
        assert server.copies() == Counter(UNITS.values()), again.output  # still one each
        assert "已寄出 0 封" in again.output and "先前可能已寄達 6 封" in again.output
        assert "--resend-uncertain" in again.output

        server.mode = "ok"  # the units say they got nothing: the user asks for it
        asked = run(server, plan_path, tmp_path, "--resend-uncertain")
        assert asked.exit_code == 0, asked.output
        assert server.copies() == Counter({a: 2 for a in UNITS.values()})
        assert statuses(tmp_path) == {unit: "sent" for unit in UNITS}
        last = run(server, plan_path, tmp_path, "--resend-uncertain")
        assert len(server.received) == 12 and "先前已寄出 6 封" in last.output
    finally:
        server.stop()


def test_a_reply_that_never_comes_costs_one_timeout_and_one_copy(plan_path, tmp_path):
    server = Server(tmp_path, "hang")
    try:
        start = time.monotonic()
        res = run(server, plan_path, tmp_path, "--timeout", "1")
        took = time.monotonic() - start
        assert server.copies() == Counter(UNITS.values()), res.output
        assert took < 6 * 1 + 10, took  # one timeout per unit, no retry
        assert "1 秒內沒有回覆" in res.output and "可能已寄達 6 封" in res.output
        assert statuses(tmp_path) == {unit: "maybe-sent" for unit in UNITS}
        again = run(server, plan_path, tmp_path, "--timeout", "1")
        assert server.copies() == Counter(UNITS.values()), again.output
    finally:
        server.stop()


def test_a_connection_dropped_before_the_data_is_tried_again(plan_path, tmp_path):
    server = Server(tmp_path, "drop-mail")
    try:
        res = run(server, plan_path, tmp_path)
        assert res.exit_code == 0, res.output
        assert server.copies() == Counter(UNITS.values())
        assert statuses(tmp_path) == {unit: "sent" for unit in UNITS}
    finally:
        server.stop()


def test_a_run_ended_while_awaiting_the_reply_is_maybe_sent(plan_path, tmp_path, monkeypatch):
    # Interrupted (Ctrl+C) after the data went, before the server's reply came:
    # the log already says 可能已寄達, and the rerun sends that unit nothing.
    server = Server(tmp_path, "ok")
    plan = load_plan(plan_path)
    batch = prepare(plan, tmp_path / "tpl", ("xlsx",))
    settings = SmtpSettings("127.0.0.1", server.port, "starttls", USER, PASSWORD, str(server.cert),
                            timeout=5)
    getreply = smtplib.SMTP.getreply
    state = {"data": False}

    def sent(self, data):
        state["data"] = isinstance(data, bytes) and data.endswith(b"\r\n.\r\n")
        return original_send(self, data)

    def reply(self):
        if state["data"]:
            raise KeyboardInterrupt
        return getreply(self)

    original_send = smtplib.SMTP.send
    monkeypatch.setattr(smtplib.SMTP, "send", sent)
    monkeypatch.setattr(smtplib.SMTP, "getreply", reply)
    try:
        with pytest.raises(KeyboardInterrupt):
            send(batch.outgoing, tmp_path / "out", settings)
        monkeypatch.undo()
        first = batch.outgoing[0].unit
        assert statuses(tmp_path) == {first: "maybe-sent"}
        assert len(server.received) == 1
        result = send(batch.outgoing, tmp_path / "out", settings)
        assert result.skipped == {"uncertain": [first]}
        assert server.copies() == Counter(UNITS.values())
    finally:
        server.stop()


def test_the_timeout_must_be_positive(plan_path, tmp_path):
    res = CliRunner().invoke(cli, ["send", str(plan_path), str(tmp_path / "tpl"), "-o",
                                   str(tmp_path / "out"), "--timeout", "0"])
    assert res.exit_code != 0 and "--timeout" in res.output and not (tmp_path / "out").exists()


def test_a_reminder_that_may_have_gone_is_not_sent_again_the_same_day(plan_path, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()  # nothing returned: every unit is due a reminder
    server = Server(tmp_path, "drop")
    args = ["send", str(plan_path), "--remind", str(inbox), "-o", str(tmp_path / "out"), "--smtp",
            f"127.0.0.1:{server.port}", "--user", USER, "--cafile", str(server.cert)]
    env = {"XLTOOL_SMTP_PASSWORD": PASSWORD}
    try:
        res = CliRunner().invoke(cli, args, env=env)
        assert server.copies() == Counter(UNITS.values()), res.output
        again = CliRunner().invoke(cli, args, env=env)
        assert server.copies() == Counter(UNITS.values()), again.output
        assert "先前可能已寄達 6 封" in again.output
        log = json.loads((tmp_path / "out" / "send-log.json").read_text(encoding="utf-8"))
        (today,) = log["reminders"].values()
        assert {e["status"] for e in today["sent"].values()} == {"maybe-sent"} and not log["sent"]
    finally:
        server.stop()
