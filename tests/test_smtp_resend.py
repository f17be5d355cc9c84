"""Once a message's data has gone to the SMTP server it is never sent again by
itself: when the server stores it but its reply is lost (the connection drops,
or the reply never comes within --timeout), the unit is logged 「可能已寄達」,
neither sent nor failed, and a rerun leaves it alone unless --resend-uncertain.
A connection dropped before the data went is still tried once more."""
import json
import smtplib
from collections import Counter
from datetime import datetime

import pytest
from click.testing import CliRunner
from mailservers import PASSWORD, USER, SmtpServer
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
    server = SmtpServer(tmp_path, after_data="drop")
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

        server.after_data = "ok"  # the units say they got nothing: the user asks for it
        asked = run(server, plan_path, tmp_path, "--resend-uncertain")
        assert asked.exit_code == 0, asked.output
        assert server.copies() == Counter({a: 2 for a in UNITS.values()})
        assert statuses(tmp_path) == {unit: "sent" for unit in UNITS}
        last = run(server, plan_path, tmp_path, "--resend-uncertain")
        assert len(server.received) == 12 and "先前已寄出 6 封" in last.output
    finally:
        server.stop()


def test_a_server_that_stops_answering_is_not_asked_again_for_every_unit(plan_path, tmp_path):
    # The first message is stored and never answered: waiting --timeout for each of the
    # six units in turn would gain nothing. The batch stops, saying what went where.
    server = SmtpServer(tmp_path, after_data="hang")
    try:
        res = run(server, plan_path, tmp_path, "--timeout", "1")
        first = next(iter(UNITS))
        assert server.copies() == Counter({UNITS[first]: 1}), res.output  # asked once, no more
        assert res.exit_code == 1, res.output
        assert statuses(tmp_path) == {first: "maybe-sent"}  # the others were not tried: not logged
        (stop,) = [x for x in res.output.splitlines() if "已停止寄送" in x and x.startswith("[錯誤]")]
        rest = [u for u in UNITS if u != first]
        assert "超過 1 秒沒有回應" in stop and f"「{first}」的郵件" in stop
        assert f"可能已寄達 1 封（{first}）" in stop and f"未寄出 5 封（{'、'.join(rest)}）" in stop
        assert "本次已寄出 0 封" in stop and "重新執行同一指令" in stop and "--resend-uncertain" in stop
        assert "只會再寄未寄出的 5 封" in res.output and "Traceback" not in res.output

        server.after_data = "ok"  # the server is back: the rerun sends the five, not the first
        again = run(server, plan_path, tmp_path, "--timeout", "5")
        assert again.exit_code == 0, again.output
        assert server.copies() == Counter(UNITS.values()), again.output
        assert statuses(tmp_path) == {u: "maybe-sent" if u == first else "sent" for u in UNITS}
    finally:
        server.stop()


def test_a_server_silent_before_the_data_stops_the_batch_too(plan_path, tmp_path, monkeypatch):
    # Silent at MAIL FROM (nothing sent yet): the unit is not sent, not retried, and
    # nobody after it is tried; one line says so, listing what went and what did not.
    server = SmtpServer(tmp_path)
    plan = load_plan(plan_path)
    batch = prepare(plan, tmp_path / "tpl", ("xlsx",))
    settings = SmtpSettings("127.0.0.1", server.port, "starttls", USER, PASSWORD, str(server.cert),
                            timeout=5)
    mail = smtplib.SMTP.mail
    calls = []

    def silent_on_the_third(self, sender, options=()):
        calls.append(sender)
        if len(calls) == 3:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed: timed out")
        return mail(self, sender, options)

    monkeypatch.setattr(smtplib.SMTP, "mail", silent_on_the_third)
    try:
        result = send(batch.outgoing, tmp_path / "out", settings)
    finally:
        server.stop()
    units = [o.unit for o in batch.outgoing]
    assert len(calls) == 3 and len(server.received) == 2  # no second try of the third
    assert [o.unit for o in result.sent] == units[:2] and result.failed == [units[2]]
    assert result.unsent == units[3:] and not result.uncertain
    assert statuses(tmp_path) == {units[0]: "sent", units[1]: "sent", units[2]: "failed"}
    stop = next(i for i in result.issues if i.code == "smtp-stopped")
    assert f"本次已寄出 2 封（{units[0]}、{units[1]}）" in stop.message
    assert f"未寄出 {len(units) - 2} 封（{'、'.join(units[2:])}）" in stop.message
    assert "可能已寄達" not in stop.message


def test_a_connection_dropped_before_the_data_is_tried_again(plan_path, tmp_path):
    server = SmtpServer(tmp_path, drop_next_mail=True)
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
    server = SmtpServer(tmp_path)
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
    server = SmtpServer(tmp_path, after_data="drop")
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
