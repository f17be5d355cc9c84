"""collect against what the tester found: IMAP servers that fail part way, lie about
sizes or drip, pipes and links in the mail folder, mbox bodies with "From " lines,
returns wrapped in winmail.dat or a .zip, an output folder inside the source, and
xltool's own drafts in the folder read. Each costs at most one issue, never a return."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakeimap import FakeImap
from plans import second_plan, write_plan

from xltool.cli import cli
from xltool.forms.template import write_templates
from xltool.intake.log import LOG_NAME
from xltool.mail.examine import examine
from xltool.mail.sources import Mail, messages_from
from xltool.plan import load_plan

WHEN = datetime(2024, 1, 10, 9, 30, tzinfo=timezone.utc)
XLTOOL = Path(sys.executable).with_name("xltool")
ENV = {"XLTOOL_IMAP_PASSWORD": "secret"}


@pytest.fixture(scope="module")
def hsinchu(tmp_path_factory):
    """The second plan, and each unit's template: a file that identifies as its return."""
    folder = tmp_path_factory.mktemp("hsinchu")
    path = write_plan(folder / "plan.xlsx", second_plan())
    plan = load_plan(path)
    written = write_templates(plan, folder / "tpl", generated=datetime(2024, 1, 2))
    files = {w.unit: w.path for w in written}
    return path, plan, files


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def reply(plan, files, unit, msg_id, attachments=None, body=None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((unit, plan.unit(unit).email or "someone@hsinchu.example"))
    msg["To"] = plan.info.contact_email
    msg["Subject"] = f"Re: {unit} 填報表"
    msg["Date"] = format_datetime(WHEN)
    msg["Message-ID"] = msg_id
    msg.set_content(body or f"{unit}回傳。")
    if attachments is None:
        attachments = [(files[unit].name, files[unit].read_bytes())]
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg


def saved(out: Path) -> list[str]:
    """The unit of every return really saved in ``out``, sorted."""
    return sorted(p.name.split("_")[0] for p in out.iterdir() if p.is_file() and p.suffix == ".xlsx")


def imap_args(server, out, timeout=2):
    return ("--imap", f"127.0.0.1:{server.port}", "--user", "u", "--cafile", server.cert,
            "-o", out, "--timeout", timeout)


UNITS = ["甲組", "乙組", "丙組", "資訊中心", "北區服務站", "南區服務站"]


# ------------------------------------------------------------------ IMAP


def test_a_message_the_server_always_drops_costs_only_itself(hsinchu, tmp_path):
    plan_path, plan, files = hsinchu
    msgs = [reply(plan, files, u, f"<{i}@x>").as_bytes() for i, u in enumerate(UNITS)]
    server = FakeImap(tmp_path, msgs, {3: "drop"})  # 丙組's, every time
    out = tmp_path / "out"
    try:
        for _ in (1, 2):
            res = run("collect", "--plan", plan_path, *imap_args(server, out), env=ENV)
            assert res.exit_code == 1, res.output
            assert saved(out) == sorted(u for u in UNITS if u != "丙組"), res.output
            line = next(x for x in res.output.splitlines() if "IMAP:INBOX#3" in x)
            assert line.startswith("[錯誤]") and "已略過" in line and "重新執行時會再試" in line
            assert "Traceback" not in res.output
        assert "存入 0 個回傳檔" in res.output and "另有 5 個附件先前已收過" in res.output
    finally:
        server.stop()


def test_a_server_that_gives_out_part_way_still_gets_everything_before_saved(hsinchu, tmp_path):
    plan_path, plan, files = hsinchu
    msgs = [reply(plan, files, UNITS[i % 6], f"<{i}@x>").as_bytes() for i in range(10)]
    server = FakeImap(tmp_path, msgs, {5: "drop", 6: "drop", 7: "drop"})
    out = tmp_path / "out"
    try:
        res = run("collect", "--plan", plan_path, *imap_args(server, out), env=ENV)
    finally:
        server.stop()
    assert res.exit_code == 1, res.output
    assert saved(out) == sorted(UNITS[:4]), res.output  # the four fetched before the failures
    assert 8 not in server.fetched  # the server was given up after three in a row
    assert "連續 3 封郵件無法下載，已停止收取" in res.output
    assert sum(1 for x in res.output.splitlines() if "下載時連線中斷" in x) == 3


def test_a_literal_larger_than_announced_is_refused_unread(hsinchu, tmp_path):
    plan_path, plan, files = hsinchu
    msgs = [reply(plan, files, "甲組", "<a@x>").as_bytes(), reply(plan, files, "乙組", "<b@x>").as_bytes()]
    server = FakeImap(tmp_path, msgs, {1: "huge"}, lie_size=100)  # "100 bytes", then 3 GB
    out = tmp_path / "out"
    started = time.monotonic()
    try:
        res = run("collect", "--plan", plan_path, *imap_args(server, out, timeout=1), env=ENV)
    finally:
        server.stop()
    assert time.monotonic() - started < 10
    assert res.exit_code == 1, res.output
    assert saved(out) == ["乙組"]
    line = next(x for x in res.output.splitlines() if "IMAP:INBOX#1" in x)
    assert "3072 MB" in line and "超過上限 80 MB" in line and "未讀取" in line


def test_a_server_that_drips_meets_a_deadline_per_message(hsinchu, tmp_path):
    plan_path, plan, files = hsinchu
    msgs = [reply(plan, files, "甲組", "<a@x>").as_bytes(), reply(plan, files, "乙組", "<b@x>").as_bytes()]
    server = FakeImap(tmp_path, msgs, {1: "drip"}, drip_seconds=0.02)  # each read well in time
    out = tmp_path / "out"
    started = time.monotonic()
    try:  # a process of its own: without a deadline it would never end
        proc = subprocess.run([str(XLTOOL), "collect", "--plan", str(plan_path),
                               *map(str, imap_args(server, out, timeout=0.3))],
                              capture_output=True, text=True, timeout=60, env={**os.environ, **ENV})
    finally:
        server.stop()
    output = proc.stdout + proc.stderr
    assert time.monotonic() - started < 30
    assert proc.returncode == 1, output
    assert saved(out) == ["乙組"]
    line = next(x for x in output.splitlines() if "IMAP:INBOX#1" in x)
    assert "超過 3 秒仍未下載完成" in line  # 10 × --timeout


# ------------------------------------------------------------------ files


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX pipes")
def test_only_regular_files_inside_the_folder_are_read(hsinchu, tmp_path):
    plan_path, plan, files = hsinchu
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    (inbox / "a.eml").write_bytes(reply(plan, files, "甲組", "<a@x>").as_bytes())
    os.mkfifo(inbox / "b-pipe.eml")
    (inbox / "sub" / "c.EML").write_bytes(reply(plan, files, "乙組", "<c@x>").as_bytes())
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "d.eml").write_bytes(reply(plan, files, "丙組", "<d@x>").as_bytes())
    os.symlink(outside / "d.eml", inbox / "d-link.eml")
    os.symlink(outside, inbox / "linked-folder")
    os.symlink("/dev/zero", inbox / "zero.eml")
    maildir = tmp_path / "Maildir"
    for d in ("cur", "new", "tmp"):
        (maildir / d).mkdir(parents=True)
    (maildir / "new" / "1.host").write_bytes(reply(plan, files, "甲組", "<m1@x>").as_bytes())
    os.mkfifo(maildir / "new" / "2.host")
    (maildir / "cur" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1" + b"\0" * 100)
    for source, units in ((inbox, ["乙組", "甲組"]), (maildir, ["甲組"])):
        out = tmp_path / f"out-{source.name}"
        proc = subprocess.run([str(XLTOOL), "collect", str(source), "--plan", str(plan_path), "-o", str(out)],
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, "XLTOOL_WORKER_SECONDS": "3"})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert saved(out) == units
        assert "另有 0 則說明" in proc.stdout  # neither the pipe, the links nor .DS_Store


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX pipes")
def test_a_pipe_put_in_place_of_a_message_is_refused_not_waited_on(hsinchu, tmp_path):
    plan = hsinchu[1]
    pipe = tmp_path / "swapped.eml"
    os.mkfifo(pipe)
    answer = []
    worker = threading.Thread(target=lambda: answer.append(
        examine(plan, Mail("swapped.eml", 100, pipe), tmp_path / "scratch")), daemon=True)
    worker.start()
    worker.join(5)
    if worker.is_alive():  # let the thread go before failing
        with open(pipe, "wb"):
            pass
        pytest.fail("examine waited on a pipe")
    (issue,) = answer[0].issues
    assert issue.code == "unreadable" and "swapped.eml" in issue.message


def test_mbox_splits_only_at_separator_lines(hsinchu, tmp_path):
    plan_path, plan, files = hsinchu
    first = reply(plan, files, "甲組", "<from@x>",
                  body="甲組回傳。\nFrom now on please write to our new address.\n"
                       "From 10:00 to 12:00 on Mon Jan 15 we are out.\n謝謝")
    raw = first.as_bytes()
    assert b"\nFrom now on" in raw and b"\nFrom 10:00" in raw
    mbox = tmp_path / "in.mbox"
    mbox.write_bytes(b"From a@hsinchu.example Wed Jan 10 09:30:00 2024\n" + raw + b"\n"
                     b"From - Wed Jan 10 09:31:00 2024\n"
                     + reply(plan, files, "乙組", "<b@x>").as_bytes() + b"\n")
    assert [m.label for m in messages_from(mbox)] == ["mbox#1", "mbox#2"]
    res = run("collect", mbox, "--plan", plan_path, "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert saved(tmp_path / "out") == ["乙組", "甲組"]


def test_returns_in_winmail_dat_or_a_zip_are_named_with_their_unit(hsinchu, tmp_path):
    plan_path, plan, files = hsinchu
    data = files["甲組"].read_bytes()
    tnef = (0x223E9F78).to_bytes(4, "little") + b"\x01\x00" + data
    with_tnef = reply(plan, files, "甲組", "<tnef@x>", attachments=[])
    with_tnef.add_attachment(tnef, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as z:
        z.writestr(files["乙組"].name, files["乙組"].read_bytes())
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "tnef.eml").write_bytes(with_tnef.as_bytes())
    (inbox / "zip.eml").write_bytes(reply(plan, files, "乙組", "<zip@x>",
                                          attachments=[("回傳.zip", packed.getvalue())]).as_bytes())
    # beside a return, a .zip is just evidence: no warning
    (inbox / "both.eml").write_bytes(reply(plan, files, "資訊中心", "<both@x>", attachments=[
        (files["資訊中心"].name, files["資訊中心"].read_bytes()), ("照片.zip", b"PK\x05\x06" + b"\0" * 18)]).as_bytes())
    out = tmp_path / "out"
    res = run("collect", inbox, "--plan", plan_path, "-o", out)
    assert res.exit_code == 0, res.output
    assert saved(out) == ["資訊中心"]
    warnings = [x for x in res.output.splitlines() if "回傳檔可能在其中" in x]
    assert len(warnings) == 2, res.output
    tnef_line = next(x for x in warnings if "winmail.dat" in x)
    assert tnef_line.startswith("[警告]") and "tnef.eml" in tnef_line and "請「甲組」" in tnef_line
    zip_line = next(x for x in warnings if "回傳.zip" in x)
    assert "zip.eml" in zip_line and "請「乙組」" in zip_line and "不要壓縮" in zip_line
    assert (out / "佐證資料" / "甲組" / "winmail.dat").is_file()
    assert (out / "佐證資料" / "乙組" / "回傳.zip").is_file()


def test_an_output_folder_inside_the_source_is_never_read_as_mail(hsinchu, tmp_path):
    plan_path, plan, files = hsinchu
    inner = reply(plan, files, "乙組", "<inner@x>")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.eml").write_bytes(reply(plan, files, "甲組", "<outer@x>", attachments=[
        (files["甲組"].name, files["甲組"].read_bytes()), ("轉寄.eml", inner.as_bytes())]).as_bytes())
    out = inbox / "回收"
    for _ in (1, 2):
        res = run("collect", inbox, "--plan", plan_path, "-o", out)
        assert res.exit_code == 0, res.output
        assert saved(out) == ["甲組"], res.output  # 乙組's, inside the evidence, is never collected
    assert (out / "佐證資料" / "甲組" / "轉寄.eml").is_file()
    assert "回收/" not in res.output.replace(str(out), "")
    # another run's output folder is passed over too, even when not the one written now
    res = run("collect", inbox, "--plan", plan_path, "-o", tmp_path / "elsewhere")
    assert res.exit_code == 0 and saved(tmp_path / "elsewhere") == ["甲組"], res.output
    assert len((tmp_path / "elsewhere" / LOG_NAME).read_text(encoding="utf-8").splitlines()) == 2


def test_xltools_own_drafts_and_sent_copies_are_passed_over(hsinchu, tmp_path):
    plan_path, plan, files = hsinchu
    outbox = tmp_path / "outbox"
    res = run("send", plan_path, files["甲組"].parent, "-o", outbox)
    assert res.exit_code == 0, res.output
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    drafts = sorted(outbox.glob("*.eml"))
    assert len(drafts) >= 3
    for draft in drafts:
        (inbox / draft.name).write_bytes(draft.read_bytes())
    sent = drafts[0].read_bytes().replace(b"X-Unsent: 1\n", b"").replace(b"X-Unsent: 1\r\n", b"")
    assert b"X-Unsent" not in sent
    (inbox / "sent-copy.eml").write_bytes(sent)  # what Sent holds: the Message-ID tells
    forwarded = reply(plan, files, "乙組", "<fw@x>", attachments=[])  # a unit forwards our mail back
    forwarded.add_attachment(email_from(sent))
    (inbox / "forward.eml").write_bytes(forwarded.as_bytes())
    (inbox / "reply.eml").write_bytes(reply(plan, files, "甲組", "<real@x>").as_bytes())
    out = tmp_path / "out"
    res = run("collect", inbox, "--plan", plan_path, "-o", out)
    assert res.exit_code == 0, res.output
    assert saved(out) == ["甲組"], res.output
    notes = [x for x in res.output.splitlines() if "xltool 產生的郵件" in x]
    assert len(notes) == 1 and f"略過 {len(drafts) + 1} 封" in notes[0], res.output
    records = [json.loads(x) for x in (out / LOG_NAME).read_text(encoding="utf-8").splitlines()]
    assert [r.get("message_id") for r in records if r.get("kind") != "evidence"] == ["<real@x>"]


def email_from(raw: bytes):
    import email
    from email import policy

    return email.message_from_bytes(raw, policy=policy.default)
