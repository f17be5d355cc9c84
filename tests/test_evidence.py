"""Evidence files (佐證資料) and the audit record, end to end: mail with evidence
beside a return, evidence alone from a known and from an unknown sender, the
same evidence mailed twice and hostile evidence names, collected from .eml
files, an mbox and IMAP (Dovecot); then merged, and the stored files, the log,
the report, 繳交狀態, 明細 and `status --verify` checked against what the test
computes itself."""
from __future__ import annotations

import hashlib
import imaplib
import json
import mailbox
import re
import unicodedata
import urllib.parse
import zipfile
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from mailservers import PASSWORD, USER, Dovecot
from plans import second_plan, write_plan
from returns import Kit, set_producer, set_saved

from xltool.cli import cli
from xltool.intake import discover
from xltool.intake.log import LOG_NAME

UTC = timezone.utc
PDF_A, JPG_B, PDF_C, PDF_D = (b"%PDF-1.4 minutes " + bytes(range(256)), b"\xff\xd8\xff\xe0 photo",
                              b"%PDF-1.4 signed letter", b"%PDF-1.4 from nobody")
HOSTILE = {  # the name a message gives → bytes
    "../../../../etc/evil.pdf": b"traversal",
    "..\\..\\Windows\\win.ini": b"backslashes",
    "CON.txt": b"console",
    "nul": b"null device",
    "LPT1.pdf": b"printer",
    "長" * 200 + ".pdf": b"very long",
    "\x1b[31m控制\r\n字元\x00.pdf": b"control characters",
    "a\u202egpj.exe": b"bidi override",
}
RESERVED = re.compile(r"(?i)(con|prn|aux|nul|com\d|lpt\d)(\..*)?")


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def mail(sender: str, msg_id: str, when: datetime, attachments: list[tuple[str, bytes]]) -> bytes:
    """A reply; names that a header cannot carry as they are go in RFC 2231 form."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "it@hsinchu.example", "回傳"
    msg["Date"], msg["Message-ID"] = format_datetime(when), msg_id
    msg.set_content("請查收。")
    raw_names = {}
    for n, (name, data) in enumerate(attachments):
        plain = name.isascii() and name.isprintable() and "\\" not in name
        shown = name if plain else f"HOSTILE{n}.bin"
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=shown)
        if not plain:
            raw_names[f'filename="{shown}"'] = "filename*=utf-8''" + urllib.parse.quote(
                name.encode("utf-8"), safe="")
    raw = msg.as_bytes()
    for placeholder, encoded in raw_names.items():
        raw = raw.replace(placeholder.encode(), encoded.encode())
    return raw


@pytest.fixture
def setup(tmp_path):
    """The second plan, its units' returns, and the mail they come in."""
    plan_path = write_plan(tmp_path / "plan.xlsx", second_plan())
    kit = Kit(tmp_path, plan_path)
    a_new = kit.ret("甲組", {"A01": {"佐證資料": "會議紀錄.pdf、活動照片"}}, name="a_new.xlsx")
    set_saved(a_new, datetime(2024, 1, 10, 2, 0))
    set_producer(a_new, "LibreOffice/7.4.7.2$Linux_X86_64")
    a_old = kit.ret("甲組", {"A01": {"執行績效與成果": "舊版"}}, name="a_old.xlsx")
    set_saved(a_old, datetime(2024, 1, 5, 2, 0))
    b_ret = kit.ret("乙組", name="b.xlsx")
    set_saved(b_ret, datetime(2024, 1, 8, 2, 0))
    it_ret = kit.ret("資訊中心", name="it.xlsx")
    set_saved(it_ret, datetime(2024, 1, 9, 2, 0))
    roster = BytesIO()
    openpyxl.Workbook().save(roster)  # a spreadsheet that is not a template: evidence too
    a, b, it = "甲組 <a@hsinchu.example>", formataddr(("乙組", "b@hsinchu.example")), "it@hsinchu.example"
    when = [datetime(2024, 1, d, 10, 0, tzinfo=UTC) for d in range(1, 12)]
    messages = [
        mail(a, "<m1@x>", when[9], [("甲組回傳.xlsx", a_new.read_bytes()), ("會議紀錄.pdf", PDF_A),
                                    ("活動照片.jpg", JPG_B)]),
        mail(b, "<m2@x>", when[3], [("簽呈掃描.pdf", PDF_C), ("參加名冊.xlsx", roster.getvalue())]),
        mail("Stranger <stranger@elsewhere.example>", "<m3@x>", when[4], [("不明來源.pdf", PDF_D)]),
        mail(b, "<m4@x>", when[5], [("簽呈掃描(再寄).pdf", PDF_C)]),  # the same evidence again
        mail(it, "<m5@x>", when[8], [("it.xlsx", it_ret.read_bytes()), *HOSTILE.items()]),
        mail(b, "<m6@x>", when[7], [("乙組.xlsx", b_ret.read_bytes())]),
        mail(a, "<m7@x>", when[4], [("甲組舊版.xlsx", a_old.read_bytes())]),
    ]
    return {"plan": plan_path, "kit": kit, "messages": messages, "roster": roster.getvalue(),
            "files": {"a_new": a_new, "a_old": a_old, "b": b_ret, "it": it_ret}}


def collect_from(kind: str, setup, tmp_path):
    """Collect from a fresh source; also every file the run wrote, anywhere under tmp_path."""
    out = tmp_path / "回收"
    if kind == "imap":
        server = Dovecot(tmp_path)
        try:
            conn = server.client()
            for raw in setup["messages"]:
                conn.append("INBOX", None, imaplib.Time2Internaldate(sent_at(raw)), raw)
            conn.logout()
            before = files_under(tmp_path)
            res = run("collect", "--plan", setup["plan"], "--imap", f"127.0.0.1:{server.port}",
                      "--user", USER, "--cafile", server.cert, "-o", out,
                      env={"XLTOOL_IMAP_PASSWORD": PASSWORD})
            written = files_under(tmp_path) - before - files_under(tmp_path / "state") \
                - files_under(tmp_path / "run") - {tmp_path / "dovecot.log"}
        finally:
            server.stop()
        return out, res, written
    if kind == "eml":
        source = tmp_path / "eml"
        source.mkdir()
        for n, raw in enumerate(setup["messages"]):
            (source / f"{n:02d}.eml").write_bytes(raw)
    else:
        source = tmp_path / "box.mbox"
        box = mailbox.mbox(str(source))
        for raw in setup["messages"]:
            stored = mailbox.mboxMessage(raw)  # the separator line dated when it was sent
            stored.set_from("MAILER-DAEMON", sent_at(raw).timetuple())
            box.add(stored)
        box.flush()
        box.close()
    before = files_under(tmp_path)
    res = run("collect", source, "--plan", setup["plan"], "-o", out)
    return out, res, files_under(tmp_path) - before


def sent_at(raw: bytes) -> datetime:
    """A message's Date: the tests' servers take each message in when it was sent."""
    from email import message_from_bytes
    from email.utils import parsedate_to_datetime

    return parsedate_to_datetime(message_from_bytes(raw)["Date"])


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("kind", ["eml", "mbox", "imap"])
def test_evidence_is_kept_per_unit_and_the_master_is_traced_to_its_files(kind, setup, tmp_path):
    out, res, written = collect_from(kind, setup, tmp_path)
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output and "\x1b" not in res.output and "\r" not in res.output
    # Nothing was written outside the output folder (Dovecot's own files aside).
    assert written and all(out in p.parents for p in written), sorted(written - files_under(out))
    evidence = out / "佐證資料"
    # Evidence beside a return, under that unit; alone from a known sender, under it;
    # from an unknown sender, unassigned; the same bytes twice, stored once.
    assert (evidence / "甲組" / "會議紀錄.pdf").read_bytes() == PDF_A
    assert (evidence / "甲組" / "活動照片.jpg").read_bytes() == JPG_B
    assert [p.name for p in (evidence / "乙組").iterdir()] and \
        sorted(p.read_bytes() for p in (evidence / "乙組").iterdir()) == sorted([PDF_C, setup["roster"]])
    assert [p.read_bytes() for p in (evidence / "（未歸屬單位）").iterdir()] == [PDF_D]
    assert "[警告]" in res.output and "stranger@elsewhere.example" in res.output
    # Hostile names: stored in the unit's folder, under names safe on Windows and Linux.
    hostile = sorted((evidence / "資訊中心").iterdir())
    assert sorted(sha(p.read_bytes()) for p in hostile) == sorted(sha(d) for d in HOSTILE.values())
    for p in hostile:
        assert p.resolve().parent == (evidence / "資訊中心").resolve()
        assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in p.name), p.name
        assert not RESERVED.fullmatch(p.name) and len(p.name.encode("utf-8")) <= 180, p.name
        assert not re.search(r'[<>:"/\\|?*]', p.name) and p.name == p.name.strip(" .")
    assert "\\x1b[31m" in res.output  # the name as sent, shown escaped
    # Returns are still only the returns; evidence is never a candidate, however asked.
    returns = sorted(p.name for p in out.iterdir() if p.is_file() and not p.name.startswith("."))
    assert [n.split("_")[0] for n in returns] == ["乙組", "甲組", "甲組", "資訊中心"]
    assert discover([out])[0] == [out / n for n in returns]
    assert discover([evidence])[0] == []
    from_above = discover([tmp_path])[0]  # a folder above the returns: evidence still passed over
    assert out / returns[0] in from_above and not [p for p in from_above if evidence in p.parents]
    roster_file = next(p for p in (evidence / "乙組").iterdir() if p.suffix == ".xlsx")
    found, notes = discover([roster_file])
    assert found == [] and [i.code for i in notes] == ["not-a-return", "no-returns"]
    # The log: every file's message, sender and SHA-256.
    log = [json.loads(line) for line in (out / LOG_NAME).read_text(encoding="utf-8").splitlines()]
    for rec in log:
        assert rec["sha256"] == sha((out / rec["file"]).read_bytes()), rec
    twice = [r for r in log if r.get("sha256") == sha(PDF_C)]
    assert [(r["message_id"], r["duplicate"]) for r in twice] == [("<m2@x>", False), ("<m4@x>", True)]
    assert {r["file"] for r in twice} == {"佐證資料/乙組/簽呈掃描.pdf"}
    # Collecting again stores nothing twice.
    again = collect_again(kind, setup, tmp_path, out)
    if again is not None:
        assert again.exit_code == 0 and "存入 0 個回傳檔到" in again.output
        assert "佐證資料（" not in again.output
    merged_checks(setup, out, tmp_path)


def collect_again(kind, setup, tmp_path, out):
    if kind == "imap":
        return None  # the server is gone; the .eml and mbox runs cover reruns
    snapshot = {p: p.read_bytes() for p in files_under(out) if p.name != LOG_NAME}
    source = tmp_path / ("eml" if kind == "eml" else "box.mbox")
    res = run("collect", source, "--plan", setup["plan"], "-o", out)
    assert {p: p.read_bytes() for p in files_under(out) if p.name != LOG_NAME} == snapshot
    return res


def merged_checks(setup, out, tmp_path):
    (out / "壞檔.xlsx").write_bytes(b"PK\x03\x04 not a workbook")  # considered, and rejected
    master, report = tmp_path / "總表.xlsx", tmp_path / "報告.json"
    res = run("merge", setup["plan"], out, "-o", master, "--report", report)
    assert res.exit_code == 1 and master.exists(), res.output  # units missing, one file broken
    data = json.loads(report.read_text(encoding="utf-8"))
    check_report(data, out)
    check_status_sheet(master, data, out)
    check_details(master)
    check_verify(master, out)


def check_report(data, out):
    units = {u["unit"]: u for u in data["units"]}
    a = units["甲組"]
    assert a["evidence_folder"] == str(out / "佐證資料" / "甲組")
    assert [(e["file"], e["size"], e["sha256"], e["message"]["message_id"]) for e in a["evidence"]] == [
        ("會議紀錄.pdf", len(PDF_A), sha(PDF_A), "<m1@x>"), ("活動照片.jpg", len(JPG_B), sha(JPG_B), "<m1@x>")]
    b = units["乙組"]["evidence"]
    signed = next(e for e in b if e["sha256"] == sha(PDF_C))
    assert signed["message"]["message_id"] == "<m2@x>" and \
        [m["message_id"] for m in signed["also_in"]] == ["<m4@x>"]
    assert units["丙組"]["evidence"] == [] and units["丙組"]["evidence_folder"] is None
    assert [(e["file"], e["sha256"]) for e in data["unassigned_evidence"]] == [("不明來源.pdf", sha(PDF_D))]
    assert len(units["資訊中心"]["evidence"]) == len(HOSTILE)
    # The audit: every file considered, with its own size, hash, saved time and producer.
    roles = {}
    for rec in data["files"]:
        path = Path(rec["path"])
        raw = path.read_bytes()
        assert (rec["size"], rec["sha256"]) == (len(raw), sha(raw)), rec
        roles[rec["file"]] = (rec["unit"], rec["role"])
        if rec["role"] == "rejected":
            assert rec["saved"] is None and rec["producer"] is None and rec["sender"] is None
            continue
        assert datetime.fromisoformat(rec["saved"]).utcoffset() is not None, rec
        with zipfile.ZipFile(path) as z:
            app = z.read("docProps/app.xml").decode("utf-8")
        assert rec["producer"] == re.search(r"<Application>([^<]*)</Application>", app)[1]
        assert rec["sender"]["message_id"] in {f"<m{n}@x>" for n in (1, 5, 6, 7)}
    by_role = sorted((u or "", r) for u, r in roles.values())
    assert by_role == [("", "rejected"), ("乙組", "adopted"), ("甲組", "adopted"), ("甲組", "superseded"),
                       ("資訊中心", "adopted")]
    adopted_a = next(r for r in data["files"] if r["unit"] == "甲組" and r["role"] == "adopted")
    assert adopted_a["producer"].startswith("LibreOffice") and adopted_a["sender"]["message_id"] == "<m1@x>"
    old_a = next(r for r in data["files"] if r["role"] == "superseded")
    assert datetime.fromisoformat(old_a["saved"]) == datetime(2024, 1, 5, 2, 0, tzinfo=UTC)
    assert a["sha256"] == adopted_a["sha256"]


def check_status_sheet(master, data, out):
    wb = openpyxl.load_workbook(master)
    ws = wb["繳交狀態"]
    head = [c.value for c in ws[1]]
    col = {name: head.index(name) for name in ("單位", "狀態", "檔案", "佐證資料數", "佐證資料夾",
                                               "檔案摘要碼", "SHA-256")}
    letter = openpyxl.utils.get_column_letter(col["SHA-256"] + 1)
    assert ws.column_dimensions[letter].hidden
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    hashes = {rec["file"]: rec["sha256"] for rec in data["files"]}
    seen = set()
    for row in rows:
        if row[col["檔案"]]:
            digest = hashes[row[col["檔案"]]]
            assert row[col["檔案摘要碼"]] == digest[:12] and row[col["SHA-256"]] == digest
            seen.add(row[col["檔案"]])
    assert seen == set(hashes)
    main = {r[col["單位"]]: r for r in rows if r[col["狀態"]] in ("已繳", "有誤", "未繳")}
    assert main["甲組"][col["佐證資料數"]] == 2
    assert main["甲組"][col["佐證資料夾"]] == str(out / "佐證資料" / "甲組")
    assert main["乙組"][col["佐證資料數"]] == 2 and main["丙組"][col["佐證資料數"]] == 0
    assert main["資訊中心"][col["佐證資料數"]] == len(HOSTILE)
    unassigned = next(r for r in rows if r[col["單位"]] == "（未歸屬單位）")
    assert unassigned[col["佐證資料數"]] == 1


def check_details(master):
    ws = openpyxl.load_workbook(master)["明細"]
    head = [c.value for c in ws[1]]
    rows = {(r[0], r[1]): r for r in ws.iter_rows(min_row=2, values_only=True)}
    check = head.index("檢核")
    assert "佐證資料已收到：會議紀錄.pdf、活動照片.jpg" in rows[("甲組", "A01")][check]
    assert "佐證資料已收到" not in (rows[("甲組", "B01")][check] or "")  # its 佐證資料 is empty


def check_verify(master, out):
    res = run("status", "--verify", master, out)
    assert res.exit_code == 0, res.output
    assert "已變更" not in res.output and "5 個與彙整「總表.xlsx」時相同" in res.output
    adopted = next(p for p in sorted(out.glob("甲組_*.xlsx")) if "20240110" in p.name)
    set_saved(adopted, datetime(2024, 1, 11, 2, 0))  # saved again: other bytes
    removed = next(out.glob("乙組_*.xlsx"))
    removed.unlink()
    res = run("status", "--verify", master, out)
    assert res.exit_code == 1, res.output
    lines = res.output.splitlines()
    assert any(adopted.name in line and "已變更" in line for line in lines), res.output
    assert any(removed.name in line and "不見" in line for line in lines), res.output
    assert "[錯誤]" in res.output and "xltool merge" in res.output
    assert sorted(line.split()[0] for line in lines if line.split()[2:3] == ["相同"]) == sorted(
        p.name for p in out.glob("*.xlsx") if p != adopted)


def test_the_example_plan_keeps_evidence_and_verifies_unchanged_returns(example_plan, tmp_path):
    returns = example_plan.parent / "returns"
    first = next(returns.glob("*_第一課.*"))
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.eml").write_bytes(mail(formataddr(("第一課", "section1@kaohsiung.example")), "<k1@x>",
                                       datetime(2020, 7, 6, 9, 0, tzinfo=UTC),
                                       [(first.name, first.read_bytes()), ("成果照片.png", JPG_B)]))
    out = tmp_path / "回收"
    res = run("collect", inbox, "--plan", example_plan, "-o", out)
    assert res.exit_code == 0 and "佐證資料（第一課）：佐證資料/第一課/成果照片.png" in res.output, res.output
    for other in returns.iterdir():  # the other units' returns, as if handed in on disk
        if other != first:
            (out / other.name).write_bytes(other.read_bytes())
    master = tmp_path / "總表.xlsx"
    merged = run("merge", example_plan, out, "-o", master)
    assert merged.exit_code == 0, merged.output
    ws = openpyxl.load_workbook(master)["繳交狀態"]
    head = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "第一課")
    collected = next(out.glob("第一課_*"))
    assert row[head.index("佐證資料數")] == 1
    assert row[head.index("檔案摘要碼")] == sha(collected.read_bytes())[:12]
    verified = run("status", "--verify", master, out)
    assert verified.exit_code == 0 and "12 個與彙整「總表.xlsx」時相同。" in verified.output, verified.output
    assert "不必重新彙整" in verified.output


def test_verify_refuses_a_workbook_that_is_not_a_master(example_plan, tmp_path):
    res = run("status", "--verify", example_plan, example_plan.parent / "returns")
    assert res.exit_code == 2 and "不是含有檔案摘要碼的總表" in res.output


def test_a_message_keeps_at_most_its_share_of_evidence(second_plan_path, tmp_path):
    from xltool.mail.evidence import MAX_EVIDENCE_PER_MESSAGE

    many = [(f"照片{n:03d}.jpg", b"jpeg %d" % n) for n in range(MAX_EVIDENCE_PER_MESSAGE + 3)]
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "many.eml").write_bytes(mail("a@hsinchu.example", "<many@x>", datetime(2024, 1, 3, tzinfo=UTC),
                                          many))
    out = tmp_path / "回收"
    res = run("collect", inbox, "--plan", second_plan_path, "-o", out)
    assert res.exit_code == 1 and f"超過 {MAX_EVIDENCE_PER_MESSAGE} 個" in res.output, res.output
    kept = sorted(p.name for p in (out / "佐證資料" / "甲組").iterdir())
    assert kept == [name for name, _ in many[:MAX_EVIDENCE_PER_MESSAGE]]
