"""collect and what mail says of itself: the same return in several messages is
stored once; a return is named and logged by when the server took it in, not by
the sender's clock; attachment names in Big5 (raw 8-bit, RFC 2231 or encoded words
with a wrong or missing charset) are read; mboxrd's quoted ">From " lines come out
of text attachments as they were sent."""
from __future__ import annotations

import base64
import imaplib
import json
import re
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailservers import PASSWORD, USER, Dovecot
from plans import second_plan, write_plan
from returns import Kit, set_producer, set_saved

from xltool.cli import cli
from xltool.intake.log import LOG_NAME, read_log
from xltool.master.merge import merge

TAIPEI = timezone(timedelta(hours=8))
WRONG_CLOCK = datetime(2031, 3, 4, 5, 6, tzinfo=TAIPEI)  # the sender's PC says 2031


@pytest.fixture
def kit(tmp_path):
    """The second plan's templates, and returns filled from them."""
    return Kit(tmp_path, write_plan(tmp_path / "plan.xlsx", second_plan()))


def plan_of(kit) -> Path:
    return kit.tpl.parent / "plan.xlsx"


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def reply(msg_id: str, attachments: list[tuple[str, bytes]], date: datetime = WRONG_CLOCK,
          received: datetime | None = None, sender: str = "a@hsinchu.example",
          unit: str = "甲組") -> EmailMessage:
    msg = EmailMessage()
    if received is not None:  # the receiving server's, on top of the others
        msg["Received"] = f"from relay.hsinchu.example by mx.example.gov.tw; {format_datetime(received)}"
        msg["Received"] = "from pc.hsinchu.example by relay.hsinchu.example; Mon, 1 Jan 2035 00:00:00 +0000"
    msg["From"] = formataddr((unit, sender))
    msg["To"] = "it@hsinchu.example"
    msg["Subject"] = f"{unit} 回傳"
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = msg_id
    msg.set_content("請查收。")
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / LOG_NAME).read_text(encoding="utf-8").splitlines()]


def returns_in(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_file() and p.suffix == ".xlsx")


def write_eml(folder: Path, messages: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, raw in messages.items():
        (folder / name).write_bytes(raw)
    return folder


# ------------------------------------------------------------------ the same return again


def test_the_same_return_in_several_messages_is_stored_once(kit, tmp_path):
    data = kit.ret("甲組").read_bytes()
    first = datetime(2024, 1, 10, 9, 0, tzinfo=TAIPEI)
    inbox = write_eml(tmp_path / "inbox", {
        "1.eml": reply("<first@x>", [("甲組.xlsx", data)], first, first).as_bytes(),
        "2.eml": reply("<again@x>", [("甲組(再寄).xlsx", data)], first + timedelta(days=1),
                       first + timedelta(days=1)).as_bytes()})
    out = tmp_path / "out"
    res = run("collect", inbox, "--plan", plan_of(kit), "-o", out)
    assert res.exit_code == 0, res.output
    assert returns_in(out) == ["甲組_20240110T0900.xlsx"], res.output
    line = next(x for x in res.output.splitlines() if "內容完全相同" in x)
    assert "2.eml" in line and "甲組(再寄).xlsx" in line and "甲組_20240110T0900.xlsx" in line
    assert "未重複存檔" in line

    # The unit copied a second address, collected from another folder into the same place.
    cc = write_eml(tmp_path / "cc", {"3.eml": reply("<cc@x>", [("甲組.xlsx", data)], first,
                                                    first + timedelta(hours=2)).as_bytes()})
    res = run("collect", cc, "--plan", plan_of(kit), "-o", out)
    assert res.exit_code == 0 and returns_in(out) == ["甲組_20240110T0900.xlsx"], res.output
    # The log's last word on the file is still the message it was saved from, and names
    # every message that carried it again; the merge reads it so.
    last = read_log(out)["files"]["甲組_20240110T0900.xlsx"]
    assert last["message_id"] == "<first@x>" and last["date"] == first.isoformat()
    assert [m["message_id"] for m in last["also_in"]] == ["<again@x>", "<cc@x>"]
    assert last["also_in"][0]["attachment"] == "甲組(再寄).xlsx"
    # Run again: nothing new, nothing logged again.
    lines = len(records(out))
    res = run("collect", inbox, "--plan", plan_of(kit), "-o", out)
    assert "存入 0 個回傳檔" in res.output and "另有 2 個附件先前已收過" in res.output, res.output
    assert len(records(out)) == lines and returns_in(out) == ["甲組_20240110T0900.xlsx"]
    # A stored copy taken out by hand is stored again when the bytes come once more.
    (out / "甲組_20240110T0900.xlsx").unlink()
    later = first + timedelta(days=3)
    more = write_eml(tmp_path / "more", {"4.eml": reply("<4@x>", [("甲組.xlsx", data)], later,
                                                        later).as_bytes()})
    res = run("collect", more, "--plan", plan_of(kit), "-o", out)
    assert res.exit_code == 0 and returns_in(out) == ["甲組_20240113T0900.xlsx"], res.output


# ------------------------------------------------------------------ when it arrived


def mbox_of(path: Path, messages: list[tuple[str, bytes]]) -> Path:
    """An mbox file: each message after its separator line (given: "From who date")."""
    with path.open("wb") as fh:
        for separator, raw in messages:
            body = re.sub(rb"(?m)^(>*From )", rb">\1", raw.replace(b"\r\n", b"\n"))  # mboxrd
            fh.write(separator.encode("ascii") + b"\n" + body + b"\n")
    return path


def test_a_return_is_named_and_logged_by_when_the_server_took_it_in(kit, tmp_path):
    data = kit.ret("甲組").read_bytes()
    took_in = datetime(2024, 1, 12, 8, 15, tzinfo=TAIPEI)
    plan = plan_of(kit)
    eml = write_eml(tmp_path / "eml", {"r.eml": reply("<r@x>", [("a.xlsx", data)],
                                                      received=took_in).as_bytes()})
    box = mbox_of(tmp_path / "in.mbox", [("From a@hsinchu.example Fri Jan 12 08:15:00 2024",
                                          reply("<m@x>", [("a.xlsx", data)]).as_bytes())])
    for source, how in ((eml, "received"), (box, "mbox")):
        out = tmp_path / f"out-{source.name}"
        res = run("collect", source, "--plan", plan, "-o", out)
        assert res.exit_code == 0, res.output
        assert returns_in(out) == ["甲組_20240112T0815.xlsx"], res.output  # not 2031's
        (rec,) = records(out)
        assert rec["date_source"] == how and rec["sent"] == WRONG_CLOCK.isoformat()
        when = datetime.fromisoformat(rec["date"])
        assert when.tzinfo is not None  # the merge compares instants
        assert when.replace(tzinfo=None) == datetime(2024, 1, 12, 8, 15)
        if how == "received":
            assert when == took_in  # the topmost Received header: the one the sender did not write
        assert "甲組：甲組_20240112T0815.xlsx" in res.output and "2031" not in res.output


def test_over_imap_the_servers_internaldate_is_used(kit, tmp_path):
    data = kit.ret("甲組").read_bytes()
    took_in = datetime(2024, 1, 11, 15, 45, tzinfo=TAIPEI)
    server = Dovecot(tmp_path)
    out = tmp_path / "out"
    try:
        conn = server.client()
        conn.append("INBOX", None, imaplib.Time2Internaldate(took_in),
                    reply("<i@x>", [("a.xlsx", data)]).as_bytes())
        conn.logout()
        res = run("collect", "--plan", plan_of(kit), "--imap", f"127.0.0.1:{server.port}", "--user", USER,
                  "--cafile", server.cert, "-o", out, env={"XLTOOL_IMAP_PASSWORD": PASSWORD})
    finally:
        server.stop()
    assert res.exit_code == 0, res.output
    (rec,) = records(out)
    when = datetime.fromisoformat(rec["date"])
    assert rec["date_source"] == "imap" and when == took_in
    assert returns_in(out) == [f"甲組_{when.strftime('%Y%m%dT%H%M')}.xlsx"]


def test_the_merge_takes_the_return_the_server_took_in_last(kit, tmp_path):
    # Two returns saved at the same instant (the save time cannot tell), the later one
    # sent from a PC whose clock is days slow: its Date header says it came first.
    saved = datetime(2024, 1, 9, 2, 0)
    early = kit.ret("甲組", {"A01": {"執行績效與成果": "初稿"}}, name="early.xlsx")
    late = kit.ret("甲組", {"A01": {"執行績效與成果": "定稿"}}, name="late.xlsx")
    for path in (early, late):
        set_saved(path, saved)
        set_producer(path, "Microsoft Excel")
    day = datetime(2024, 1, 10, 9, 0, tzinfo=TAIPEI)
    inbox = write_eml(tmp_path / "inbox", {
        "1.eml": reply("<early@x>", [("甲組.xlsx", early.read_bytes())], date=day, received=day).as_bytes(),
        "2.eml": reply("<late@x>", [("甲組.xlsx", late.read_bytes())], date=day - timedelta(days=3),
                       received=day + timedelta(hours=5)).as_bytes()})
    out = tmp_path / "out"
    res = run("collect", inbox, "--plan", plan_of(kit), "-o", out)
    assert res.exit_code == 0, res.output
    assert returns_in(out) == ["甲組_20240110T0900.xlsx", "甲組_20240110T1400.xlsx"]
    result = merge(kit.plan, [out])
    (status,) = [s for s in result.units if s.unit == "甲組"]
    assert status.ret is not None and status.ret.name == "甲組_20240110T1400.xlsx"
    assert status.ret.rows["A01"].values["執行績效與成果"] == "定稿"
    # The report tells both times apart: the sender's Date header and the server's.
    from xltool.master.audit import file_records
    (late_rec,) = [r for r in file_records(result) if r["file"] == status.ret.name]
    assert datetime.fromisoformat(late_rec["sender"]["sent"]) == day - timedelta(days=3)
    assert datetime.fromisoformat(late_rec["sender"]["received"]) == day + timedelta(hours=5)


def test_without_a_receipt_time_the_date_header_is_used_with_a_note(kit, tmp_path):
    one = kit.ret("甲組", {"A01": {"執行績效與成果": "一"}}, name="one.xlsx").read_bytes()
    two = kit.ret("甲組", {"A01": {"執行績效與成果": "二"}}, name="two.xlsx").read_bytes()
    b = kit.ret("乙組", name="b.xlsx").read_bytes()
    day = datetime(2024, 1, 10, 9, 0, tzinfo=TAIPEI)
    inbox = write_eml(tmp_path / "inbox", {
        "1.eml": reply("<1@x>", [("a.xlsx", one)], date=day).as_bytes(),
        "2.eml": reply("<2@x>", [("a.xlsx", two)], date=day + timedelta(hours=1)).as_bytes(),
        "3.eml": reply("<3@x>", [("b.xlsx", b)], date=day, sender="b@hsinchu.example",
                       unit="乙組").as_bytes()})
    out = tmp_path / "out"
    res = run("collect", inbox, "--plan", plan_of(kit), "-o", out)
    assert res.exit_code == 0, res.output
    assert returns_in(out) == ["乙組_20240110T0900.xlsx", "甲組_20240110T0900.xlsx",
                               "甲組_20240110T1000.xlsx"]
    assert {r["date_source"] for r in records(out)} == {"header"}
    notes = [x for x in res.output.splitlines() if "Date 標頭" in x]
    assert len(notes) == 1, res.output  # 乙組 has one file: nothing to choose between
    assert notes[0].startswith("[說明]") and "「甲組」" in notes[0] and "2 份回傳檔" in notes[0]
    assert "甲組_20240110T0900.xlsx" in notes[0] and "存檔時間" in notes[0]


# ------------------------------------------------------------------ names in Big5


def part(headers: list[bytes], data: bytes) -> bytes:
    return b"\r\n".join([*headers, b"Content-Transfer-Encoding: base64", b"",
                         base64.encodebytes(data).replace(b"\n", b"\r\n")])


def test_attachment_names_in_big5_are_read_whatever_their_form(kit, tmp_path):
    big5 = lambda text: text.encode("cp950")  # noqa: E731
    percent = lambda data: "".join(f"%{b:02X}" for b in data).encode()  # noqa: E731
    ret = kit.ret("甲組").read_bytes()
    parts = [
        part([b'Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name="'
              + big5("甲組填報表.xlsx") + b'"',
              b'Content-Disposition: attachment; filename="' + big5("甲組填報表.xlsx") + b'"'], ret),
        part([b"Content-Type: application/pdf",  # raw 8-bit, as old Outlook writes it
              b'Content-Disposition: attachment; filename="' + big5("會議紀錄.pdf") + b'"'], b"%PDF-1 a"),
        part([b"Content-Type: image/jpeg",  # RFC 2231 without a charset
              b"Content-Disposition: attachment; filename*=''" + percent(big5("活動照片.jpg"))], b"\xff\xd8b"),
        part([b"Content-Type: application/pdf",  # an encoded word that says UTF-8 and is Big5
              b'Content-Disposition: attachment; filename="=?utf-8?B?'
              + base64.b64encode(big5("簽到表.pdf")) + b'?="'], b"%PDF-1 c"),
        part([b"Content-Type: application/pdf",  # RFC 2231 that says UTF-8 and is Big5
              b"Content-Disposition: attachment; filename*=utf-8''" + percent(big5("成果報告.pdf"))],
             b"%PDF-1 d"),
        part([b"Content-Type: text/plain",  # and real UTF-8, raw, as newer programs send it
              b'Content-Disposition: attachment; filename="' + "說明.txt".encode() + b'"'], b"ok"),
    ]
    raw = b"\r\n".join([
        b"From: a@hsinchu.example", b"To: it@hsinchu.example", b"Subject: big5",
        b"Date: Wed, 10 Jan 2024 09:00:00 +0800", b"Message-ID: <big5@x>", b"MIME-Version: 1.0",
        b'Content-Type: multipart/mixed; boundary="XX"', b"", b"--XX",
        b"Content-Type: text/plain; charset=big5", b"", big5("請查收。"),
        *[b"--XX\r\n" + p for p in parts], b"--XX--", b""])
    inbox = write_eml(tmp_path / "inbox", {"big5.eml": raw})
    out = tmp_path / "out"
    res = run("collect", inbox, "--plan", plan_of(kit), "-o", out)
    assert res.exit_code == 0, res.output
    assert "\ufffd" not in res.output and "¥" not in res.output
    assert sorted(p.name for p in (out / "佐證資料" / "甲組").iterdir()) == [
        "成果報告.pdf", "會議紀錄.pdf", "活動照片.jpg", "簽到表.pdf", "說明.txt"]
    (ret_rec,) = [r for r in records(out) if r.get("kind") != "evidence"]
    assert ret_rec["attachment"] == "甲組填報表.xlsx" and ret_rec["unit"] == "甲組"


# ------------------------------------------------------------------ mboxrd


def test_quoted_from_lines_of_an_mbox_come_out_of_text_attachments_as_sent(kit, tmp_path):
    minutes = "會議紀錄\nFrom the chair: 通過。\n>From a quoted reply\n>>From deeper\nFrom\n"
    notes = "備註\nFrom here on, quoted-printable = 喔\n"
    msg = reply("<q@x>", [("a.xlsx", kit.ret("甲組").read_bytes())],
                received=datetime(2024, 1, 10, 9, 0, tzinfo=TAIPEI))
    msg.add_attachment(minutes, subtype="plain", filename="紀錄.txt", cte="8bit")
    msg.add_attachment(notes, subtype="plain", filename="備註.txt", cte="quoted-printable")
    raw = msg.as_bytes()
    assert b"\nFrom the chair" in raw and b"\nFrom here on" in raw  # as sent: not encoded away
    box = mbox_of(tmp_path / "in.mbox", [("From a@hsinchu.example Wed Jan 10 09:00:00 2024", raw)])
    assert b"\n>From the chair" in box.read_bytes() and b"\n>>From a quoted" in box.read_bytes()
    out = tmp_path / "out"
    res = run("collect", box, "--plan", plan_of(kit), "-o", out)
    assert res.exit_code == 0, res.output
    folder = out / "佐證資料" / "甲組"
    assert (folder / "紀錄.txt").read_bytes() == minutes.encode("utf-8")
    assert (folder / "備註.txt").read_bytes() == notes.encode("utf-8")


def test_a_correction_copy_names_the_file_the_unit_sent(kit, tmp_path):
    """The unit never saw the name collect stored its return under: the 待修正事項 sheet
    names the attachment it mailed, and when it came."""
    import openpyxl

    bad = kit.ret("甲組", {"A01": {"自評分數": 99}}, name="bad.xlsx").read_bytes()
    day = datetime(2024, 1, 10, 9, 0, tzinfo=TAIPEI)
    inbox = write_eml(tmp_path / "inbox", {
        "1.eml": reply("<1@x>", [("甲組成果-修正版.xlsx", bad)], date=day, received=day).as_bytes()})
    out = tmp_path / "out"
    assert run("collect", inbox, "--plan", plan_of(kit), "-o", out).exit_code == 0
    feedback = tmp_path / "補正"
    res = run("merge", plan_of(kit), out, "-o", tmp_path / "總表.xlsx", "--feedback", feedback)
    assert res.exit_code == 1, res.output
    (copy,) = feedback.iterdir()
    said = openpyxl.load_workbook(copy)["待修正事項"]["A2"].value
    assert "寄來的「甲組成果-修正版.xlsx」" in said and "113/01/10 09:00" in said, said
