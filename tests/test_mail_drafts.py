"""xltool send on real files: every message, draft or sent, parses without a
header defect; the attachment has its exact MIME type and a Chinese name that
every mail program shows, however long; drafts open as drafts (X-Unsent: 1);
the send log tells drafted from sent; the summary gives every count and reason;
and a dry run ends with the exit code of the real run."""
import email
import json
import re
from dataclasses import replace
from datetime import datetime
from email import policy
from email.errors import NonASCIILocalPartDefect
from email.headerregistry import HeaderRegistry

import pytest
from click.testing import CliRunner
from conftest import ROOT
from mailservers import PASSWORD, USER, SmtpServer
from plans import second_plan, write_plan

from xltool.cli import cli
from xltool.forms.template import template_filename, write_templates
from xltool.mail.send import LOG_NAME, prepare, send, summary
from xltool.plan import load_plan

EXAMPLE_PLAN = ROOT / "examples" / "kaohsiung-109" / "plan.xlsx"
TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "ods": "application/vnd.oasis.opendocument.spreadsheet"}
# What CPython's parser notes about any RFC 2047 encoded word inside a quoted string.
# The attachment's name= on Content-Type is one on purpose: it is what Outlook reads
# when it does not know RFC 2231 (Thunderbird writes the same). Nothing else may be.
EW_NOTES = {"encoded word inside quoted string", "missing trailing whitespace after encoded-word"}
LONG_SHORT_NAME = "數位轉型推動暨資通安全強化與智慧政府服務效能提升第一期執行成果"


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def parse(raw: bytes):
    """A message as mail programs read it. UTF-8 headers (RFC 6532, for a local part
    that is not ASCII) are read as text: CPython's byte parser has no RFC 6532 mode."""
    if raw.isascii():
        return email.message_from_bytes(raw, policy=policy.default)
    return email.message_from_string(raw.decode("utf-8"), policy=policy.default)


def checked(raw: bytes):
    """The parsed message, after asserting that nothing in it has a defect: not the
    message, not a part, not a header. Two exceptions, each checked for what it is:
    the encoded name= of an attachment (the rest of that header must be clean), and,
    in a UTF-8 message, an address whose local part is not ASCII."""
    msg = parse(raw)
    found = [f"message: {d!r}" for d in msg.defects]
    for part in msg.walk():
        found += [f"part {part.get_content_type()}: {d!r}" for d in part.defects]
        for (name, header), (_, raw_value) in zip(part.items(), part.raw_items()):
            for defect in header.defects:
                if (not raw.isascii() and name in ("From", "To")
                        and isinstance(defect, NonASCIILocalPartDefect)):
                    continue
                if name == "Content-Type" and part.is_attachment() and str(defect) in EW_NOTES:
                    continue
                found.append(f"{name}: {defect!r}")
            if name == "Content-Type" and part.is_attachment():
                bare = re.sub(r';\s*name="[^"]*"', "", raw_value)  # without the RFC 2047 name
                assert not HeaderRegistry()(name, bare).defects, raw_value
                assert header.params["name"] == part.get_filename()
    assert not found, found
    return msg


def as_written(part) -> str:
    """A part's headers as they were in the file (serialising a parsed part again
    would refold them under the reader's policy)."""
    return "\n".join(f"{name}: {value}" for name, value in part.raw_items())


def header_lines(raw: bytes) -> list[str]:
    """Every header line of every part (the blocks before each blank line)."""
    text = raw.decode("utf-8")
    lines = []
    for block in re.split(r"\r?\n--=+\d+=*(?:--)?\r?\n", text):
        lines += block.split("\n\n" if "\r\n" not in block else "\r\n\r\n", 1)[0].splitlines()
    return lines


def check_attachments(msg, plan, unit: str, formats, templates):
    """Each attachment: exact type, the Chinese name in both forms, the very bytes."""
    parts = list(msg.iter_attachments())
    assert [p.get_content_type() for p in parts] == [TYPES[f] for f in formats]
    for part, fmt in zip(parts, formats):
        name = template_filename(plan, unit, fmt)
        assert part.get_filename() == name  # RFC 2231 filename*= on Content-Disposition
        assert part["Content-Type"].params["name"] == name  # RFC 2047 on Content-Type
        assert part.get_content() == (templates / name).read_bytes()
    return parts


@pytest.fixture
def smtp(tmp_path):
    server = SmtpServer(tmp_path)
    yield server
    server.stop()


def example(tmp_path, formats=("xlsx",)):
    plan = load_plan(EXAMPLE_PLAN)
    write_templates(plan, tmp_path / "tpl", formats=formats, generated=datetime(2020, 6, 20))
    return EXAMPLE_PLAN, plan, tmp_path / "tpl"


def second(tmp_path, short_name: str = "", addresses: dict[int, str] | None = None):
    data = second_plan()
    if short_name:
        data["計畫"].append(["簡稱", short_name])
    for row, address in (addresses or {}).items():
        data["單位"][row][4] = address
    path = write_plan(tmp_path / "plan2.xlsx", data)
    plan = load_plan(path)
    write_templates(plan, tmp_path / "tpl2", formats=("xlsx", "ods"),
                    generated=datetime(2024, 1, 2))
    return path, plan, tmp_path / "tpl2"


# ------------------------------------------------------------------ drafts


@pytest.mark.parametrize("which", ["example", "second"])
def test_every_draft_parses_clean_with_exact_types_and_chinese_names(which, tmp_path):
    plan_path, plan, templates = (example(tmp_path, ("xlsx", "ods")) if which == "example"
                                  else second(tmp_path))
    out = tmp_path / "out"
    res = run("send", plan_path, templates, "-o", out, "--format", "both")
    assert res.exit_code == 0, res.output
    units = [u.name for u in plan.units if u.email and plan.items_for(u.name)]
    assert sorted(p.stem for p in out.glob("*.eml")) == sorted(units)
    for unit in units:
        raw = (out / f"{unit}.eml").read_bytes()
        assert raw.isascii()  # the SMTP policy: every header encoded for any mail program
        msg = checked(raw)
        assert msg["X-Unsent"] == "1"  # Outlook opens it as a message to send
        parts = check_attachments(msg, plan, unit, ("xlsx", "ods"), templates)
        for part in parts:
            raw_part = as_written(part)
            assert re.search(r"filename\*(0\*)?=utf-8''", raw_part)  # RFC 2231
            assert re.search(r'name="=\?utf-8\?b\?', raw_part)  # RFC 2047 beside it
            assert "filename=" not in raw_part  # one form a header: no duplicate parameter
        body = msg.get_body(("plain",)).get_content()
        assert f"貴單位主辦項目共 {len(plan.items_for(unit))} 項" in body and "本單位" not in body
        assert all(len(line) <= 78 for line in header_lines(raw)
                   if not line.startswith(f"Content-Type: {TYPES['xlsx']};"))


def test_long_chinese_file_names_fold_within_78_columns(tmp_path):
    plan_path, plan, templates = second(tmp_path, LONG_SHORT_NAME)
    out = tmp_path / "out"
    res = run("send", plan_path, templates, "-o", out, "--format", "ods")
    assert res.exit_code == 0, res.output
    raw = (out / "甲組.eml").read_bytes()
    msg = checked(raw)
    (part,) = check_attachments(msg, plan, "甲組", ("ods",), templates)
    assert len(part.get_filename()) > 40
    text = raw.decode("ascii")
    assert "filename*0*=utf-8''" in text and "filename*3*=" in text  # RFC 2231 continuations
    assert len(re.findall(r"=\?utf-8\?b\?", as_written(part))) >= 3  # several encoded words
    lines = header_lines(raw)
    assert max(len(line) for line in lines) <= 78, max(lines, key=len)
    assert str(msg["Subject"]).startswith(f"[112 {LONG_SHORT_NAME}] 甲組 填報表")


def test_an_international_draft_keeps_utf8_addresses_and_encoded_names(tmp_path):
    # 北區服務站 has a local part that is not ASCII: that message takes the SMTPUTF8
    # policy (RFC 6532), while its attachment's headers stay ASCII.
    plan_path, plan, templates = second(tmp_path, addresses={5: "承辦@新竹.台灣", 3: "c@新竹.台灣"})
    out = tmp_path / "out"
    assert run("send", plan_path, templates, "-o", out).exit_code == 0
    utf8 = (out / "北區服務站.eml").read_bytes()
    assert not utf8.isascii()
    msg = checked(utf8)
    assert msg["To"].addresses[0].username == "承辦" and msg["X-Unsent"] == "1"
    (part,) = check_attachments(msg, plan, "北區服務站", ("xlsx",), templates)
    assert as_written(part).isascii()
    ascii_only = (out / "丙組.eml").read_bytes()
    assert ascii_only.isascii() and b"c@xn--efvt78b.xn--kpry57d" in ascii_only
    checked(ascii_only)


# ------------------------------------------------------------------ SMTP


def test_mail_sent_over_smtp_is_clean_and_not_marked_unsent(smtp, tmp_path):
    plan_path, plan, templates = example(tmp_path)
    out = tmp_path / "out"
    res = run("send", plan_path, templates, "-o", out, "--smtp", f"127.0.0.1:{smtp.port}",
              "--user", USER, "--cafile", smtp.cert, env={"XLTOOL_SMTP_PASSWORD": PASSWORD})
    assert res.exit_code == 0, res.output
    assert len(smtp.received) == 12
    for got in smtp.received:
        assert got["data"].isascii()
        msg = checked(got["data"])
        assert "X-Unsent" not in msg
        unit = msg["To"].addresses[0].display_name
        check_attachments(msg, plan, unit, ("xlsx",), templates)
        copy = (out / f"{unit}.eml").read_bytes()  # the record of what went: not a draft
        assert "X-Unsent" not in checked(copy)
    assert "已寄出 12 封，略過 0 封。" in res.output
    assert "下一步：各單位回覆後：xltool collect 收件匣 --plan" in res.output


def test_the_smtputf8_path_delivers_clean_mail(tmp_path):
    plan_path, plan, templates = second(tmp_path, addresses={5: "承辦@新竹.台灣"})
    server = SmtpServer(tmp_path, smtputf8=True)
    try:
        res = run("send", plan_path, templates, "-o", tmp_path / "out", "--smtp",
                  f"127.0.0.1:{server.port}", "--user", USER, "--cafile", server.cert,
                  env={"XLTOOL_SMTP_PASSWORD": PASSWORD})
    finally:
        server.stop()
    assert res.exit_code == 0, res.output
    by_rcpt = {got["to"][0]: got for got in server.received}
    got = by_rcpt["承辦@xn--efvt78b.xn--kpry57d"]
    assert got["smtputf8"] and not got["data"].isascii()
    msg = checked(got["data"])
    assert msg["To"].addresses[0].username == "承辦" and "X-Unsent" not in msg
    check_attachments(msg, plan, "北區服務站", ("xlsx",), templates)
    plain = by_rcpt["a@hsinchu.example"]
    assert not plain["smtputf8"] and plain["data"].isascii()
    checked(plain["data"])


# ------------------------------------------------------------------ the log


def test_drafts_are_not_sent_mail(smtp, tmp_path):
    plan_path, plan, templates = example(tmp_path)
    out = tmp_path / "out"
    smtp_args = ("--smtp", f"127.0.0.1:{smtp.port}", "--user", USER, "--cafile", smtp.cert)
    env = {"XLTOOL_SMTP_PASSWORD": PASSWORD}
    first = run("send", plan_path, templates, "-o", out)
    assert first.exit_code == 0, first.output
    assert "已產生草稿 12 封，略過 0 封。" in first.output
    assert f"下一步：以 Outlook 或 Thunderbird 開啟 {out} 中的草稿" in first.output
    assert "xltool collect 收件匣 --plan" in first.output
    drafts = {p.name: p.read_bytes() for p in out.glob("*.eml")}

    again = run("send", plan_path, templates, "-o", out)  # the same drafts: left alone
    assert again.exit_code == 0, again.output
    assert "已產生草稿 0 封，略過 12 封（已有草稿 12 封：第一課、" in again.output
    assert "已有的草稿與這次的內容相同，沒有重寫；要全部重新產生請加 --resend。" in again.output
    assert "已寄過" not in again.output and "先前已寄出" not in again.output
    assert {p.name: p.read_bytes() for p in out.glob("*.eml")} == drafts

    write_templates(plan, templates, units=["第一課"], generated=datetime(2020, 6, 21))
    changed = run("send", plan_path, templates, "-o", out)  # a new template: a new draft
    assert "已產生草稿 1 封（其中 1 封取代內容已不同的舊草稿：第一課），略過 11 封" in changed.output
    assert (out / "第一課.eml").read_bytes() != drafts["第一課.eml"]

    sent = run("send", plan_path, templates, "-o", out, *smtp_args, env=env)
    assert sent.exit_code == 0, sent.output
    assert len(smtp.received) == 12 and "已寄出 12 封，略過 0 封。" in sent.output
    log = json.loads((out / LOG_NAME).read_text(encoding="utf-8"))
    assert {e["status"] for e in log["sent"].values()} == {"sent"} and len(log["sent"]) == 12
    assert {e["status"] for e in log["drafts"].values()} == {"drafted"}

    after = run("send", plan_path, templates, "-o", out)  # no drafts of mail already sent
    assert "已產生草稿 0 封，略過 12 封（先前已寄出 12 封：" in after.output
    assert "先前已寄出的單位不再產生草稿；要重新產生請加 --resend。" in after.output
    assert all("X-Unsent" not in parse(p.read_bytes()) for p in out.glob("*.eml"))
    twice = run("send", plan_path, templates, "-o", out, *smtp_args, env=env)
    assert len(smtp.received) == 12
    assert "已寄出 0 封，略過 12 封（先前已寄出 12 封：" in twice.output
    assert "先前已寄出的單位這次不再寄；要重寄請加 --resend。" in twice.output


def test_an_old_log_is_still_read(smtp, tmp_path):
    # Before drafts and sent mail were told apart, both were under "sent", drafts
    # marked "via": "eml", without a content digest.
    plan_path, plan, templates = example(tmp_path)
    out = tmp_path / "out"
    assert run("send", plan_path, templates, "-o", out).exit_code == 0
    log = json.loads((out / LOG_NAME).read_text(encoding="utf-8"))
    old = {unit: {**{k: v for k, v in e.items() if k != "content"}, "status": "sent"}
           for unit, e in log["drafts"].items()}
    old["政風室"]["via"] = "smtp:mail.example"
    (out / LOG_NAME).write_text(json.dumps({"sent": old}, ensure_ascii=False), encoding="utf-8")
    drafts = run("send", plan_path, templates, "-o", out)
    assert "略過 12 封（先前已寄出 1 封：政風室；已有草稿 11 封：" in drafts.output
    res = run("send", plan_path, templates, "-o", out, "--smtp", f"127.0.0.1:{smtp.port}",
              "--user", USER, "--cafile", smtp.cert, env={"XLTOOL_SMTP_PASSWORD": PASSWORD})
    assert res.exit_code == 0, res.output
    assert "已寄出 11 封，略過 1 封（先前已寄出 1 封：政風室）" in res.output
    assert "ethics@kaohsiung.example" not in {got["to"][0] for got in smtp.received}


# ------------------------------------------------------------------ counts, reasons, exits


def test_the_summary_counts_every_skip_with_its_reason(tmp_path):
    # The second plan: 丙組 and both 服務站 have no address; 乙組's template is gone.
    plan_path, plan, templates = second(tmp_path)
    (templates / template_filename(plan, "乙組", "xlsx")).unlink()
    res = run("send", plan_path, templates, "-o", tmp_path / "out")
    assert res.exit_code == 1, res.output  # a missing template is an error
    assert ("已產生草稿 2 封，略過 4 封（沒有電子郵件 3 封：丙組、北區服務站、南區服務站；"
            "沒有可用的填報表 1 封：乙組）。") in res.output
    assert sorted(p.stem for p in (tmp_path / "out").glob("*.eml")) == ["甲組", "資訊中心"]
    # A bad address cannot pass xltool check; given one anyway, it is counted too.
    units = [replace(u, email="a@b.example,spy") if u.name == "甲組" else u for u in plan.units]
    batch = prepare(replace(plan, units=units), templates, ("xlsx",))
    result = send(batch.outgoing, tmp_path / "out2")
    (line,) = summary(result, batch, drafts=True, dry_run=False)
    assert line == ("已產生草稿 1 封，略過 5 封（沒有電子郵件 3 封：丙組、北區服務站、南區服務站；"
                    "電子郵件不正確 1 封：甲組；沒有可用的填報表 1 封：乙組）。")


def test_a_template_of_another_plan_is_a_skip_with_its_reason(tmp_path):
    plan_path, plan, templates = second(tmp_path)
    other_path, other, other_templates = example(tmp_path)
    wrong = templates / template_filename(plan, "甲組", "xlsx")
    wrong.write_bytes((other_templates / template_filename(other, "第一課", "xlsx")).read_bytes())
    res = run("send", plan_path, templates, "-o", tmp_path / "out")
    assert res.exit_code == 1 and "不是本計畫「甲組」的填報表" in res.output
    assert "沒有可用的填報表 1 封：甲組）" in res.output


PLANS = {  # which units have an address: the second plan leaves three without
    "drafts-warning": {}, "drafts-error": {},
    "smtp-ok": {3: "c@hsinchu.example"},
    "smtp-no-smtputf8": {3: "c@hsinchu.example", 5: "承辦@新竹.台灣", 6: "south@hsinchu.example"},
    "smtp-wrong-password": {3: "c@hsinchu.example"},
}


@pytest.mark.parametrize("case, code", [
    ("drafts-warning", 0), ("drafts-error", 1), ("smtp-ok", 0), ("smtp-no-smtputf8", 1),
    ("smtp-wrong-password", 2)])
def test_a_dry_run_exits_as_the_real_run(case, code, smtp, tmp_path):
    plan_path, plan, templates = second(tmp_path, addresses=PLANS[case])
    if case == "drafts-error":
        (templates / template_filename(plan, "乙組", "xlsx")).unlink()
    args = ["send", plan_path, templates, "-o", tmp_path / "out"]
    if case.startswith("smtp"):
        args += ["--smtp", f"127.0.0.1:{smtp.port}", "--user", USER, "--cafile", smtp.cert]
    env = {"XLTOOL_SMTP_PASSWORD": "wrong" if case == "smtp-wrong-password" else PASSWORD}
    dry = run(*args, "--dry-run", env=env)
    assert not (tmp_path / "out").exists() and smtp.received == []  # nothing written or sent
    real = run(*args, env=env)
    assert (dry.exit_code, real.exit_code) == (code, code), (dry.output, real.output)
    if case == "smtp-no-smtputf8":  # the dry run asks the server, as the real run does
        assert "「北區服務站」的郵件將無法寄出" in dry.output and "將無法寄出 1 封" in dry.output
        assert "將寄出 5 封，略過 0 封" in dry.output
        assert "已寄出 5 封，略過 0 封，未寄出 1 封（寄送失敗：北區服務站" in real.output
        assert len(smtp.received) == 5
    if case == "drafts-warning":
        assert "將產生草稿 3 封，略過 3 封（沒有電子郵件 3 封：" in dry.output
        assert "已產生草稿 3 封，略過 3 封（沒有電子郵件 3 封：" in real.output
    if case == "smtp-wrong-password":
        assert "拒絕登入" in dry.output and "拒絕登入" in real.output
