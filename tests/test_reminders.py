"""xltool send --remind and --corrections, with the second plan: after a merge with
two units missing and one in error, the reminders go to exactly the two missing
units (their templates attached again, generated afresh or from a folder) and the
correction to exactly the unit in error (its own copy attached, what to fix in the
body); a unit that returned, or whose fixed copy came back, gets nothing; the log
keeps reminders and corrections apart from the first mailing, in rounds. Drafts
and SMTP (the aiosmtpd server of the other mail tests) alike."""
import json
import shutil
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from click.testing import CliRunner
from mailservers import PASSWORD, USER, SmtpServer
from plans import second_plan, write_plan
from returns import Kit, set_saved
from test_mail_drafts import checked, parse

from xltool.cells import roc_date
from xltool.cli import cli
from xltool.forms import fields as F
from xltool.forms.template import template_filename
from xltool.mail.reminders import prepare_reminders, round_key
from xltool.mail.send import LOG_NAME, send
from xltool.reading.workbook import read_stamps

ADDRESSES = {"甲組": "a@hsinchu.example", "乙組": "b@hsinchu.example", "丙組": "c@hsinchu.example",
             "資訊中心": "it@hsinchu.example", "北區服務站": "north@hsinchu.example",
             "南區服務站": "south@hsinchu.example"}
MISSING = ["北區服務站", "南區服務站"]
DEADLINE = date.today() + timedelta(days=10)


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


@pytest.fixture
def cycle(tmp_path):
    """The second plan with every unit's address; 甲組 returned with an error, 北區服務站
    and 南區服務站 returned nothing, the others returned clean; merged with --feedback."""
    data = second_plan()
    for row in data["單位"][1:]:
        row[4] = ADDRESSES[row[0]]
    kit = Kit(tmp_path, write_plan(tmp_path / "plan2.xlsx", data))
    set_saved(kit.ret("甲組", {"A01": {"自評分數": 99}}), datetime(2024, 1, 10, 1, 0))
    for unit in ("乙組", "丙組", "資訊中心"):
        set_saved(kit.ret(unit), datetime(2024, 1, 10, 1, 0))
    kit.feedback = tmp_path / "補正"
    kit.master = tmp_path / "總表.xlsx"
    remerge(kit, 1)
    return kit


def remerge(kit, code):
    res = run("merge", kit.plan.source, kit.inbox, "-o", kit.master, "--feedback", kit.feedback)
    assert res.exit_code == code, res.output
    return res


def emls(folder, suffix):
    return {p.name.removesuffix(f"{suffix}.eml"): checked(p.read_bytes())
            for p in sorted(folder.glob(f"*{suffix}.eml"))}


def attached(msg, tmp_path):
    """Each attachment, saved: (file name, path)."""
    out = []
    for n, part in enumerate(msg.iter_attachments()):
        path = tmp_path / f"att{n}_{part.get_filename()}"
        path.write_bytes(part.get_content())
        out.append((part.get_filename(), path))
    return out


def log_of(folder):
    return json.loads((folder / LOG_NAME).read_text(encoding="utf-8"))


def test_reminders_go_to_exactly_the_missing_units_with_their_templates(cycle, tmp_path):
    out = tmp_path / "寄件匣"
    res = run("send", cycle.plan.source, "-o", out, "--remind", cycle.inbox, "--deadline", roc_date(DEADLINE))
    assert res.exit_code == 0, res.output
    drafts = emls(out, "_催繳")
    assert sorted(drafts) == sorted(MISSING)
    assert not list(out.glob("*_補正.eml")) and not (out / "甲組.eml").exists()
    for unit, msg in drafts.items():
        assert msg["X-Unsent"] == "1"
        assert msg["To"].addresses[0].addr_spec == ADDRESSES[unit]
        assert "催繳" in str(msg["Subject"]) and roc_date(DEADLINE) in str(msg["Subject"])
        body = msg.get_body(("plain",)).get_content()
        assert f"請於 {roc_date(DEADLINE)} 前" in body and "原訂繳交期限為 113/01/15" in body
        assert f"主辦項目共 {len(cycle.plan.items_for(unit))} 項" in body
        ((name, path),) = attached(msg, tmp_path)
        assert name == template_filename(cycle.plan, unit, "xlsx")
        ((props, _saved),) = read_stamps([path])
        assert props["xltool_unit"] == unit and props["xltool_plan_id"] == cycle.plan.plan_id
        assert "xltool_feedback" not in props
        # Drawn afresh from the plan, stating the new deadline.
        guide = openpyxl.load_workbook(path)[F.GUIDE_SHEET]
        assert any(roc_date(DEADLINE) in str(c.value) for row in guide.iter_rows() for c in row if c.value)
    log = log_of(out)
    assert log["sent"] == {} and log["drafts"] == {}  # the first mailing is untouched
    assert sorted(log["reminders"][round_key(date.today())]["drafts"]) == sorted(MISSING)

    # The same day again: the very same drafts, not rewritten.
    res = run("send", cycle.plan.source, "-o", out, "--remind", cycle.inbox, "--deadline", roc_date(DEADLINE))
    assert res.exit_code == 0 and "已有草稿 2 封" in res.output, res.output

    # 北區服務站 returns: only 南區服務站 is reminded, and 北區服務站's draft is gone.
    cycle.ret("北區服務站")
    res = run("send", cycle.plan.source, "-o", out, "--remind", cycle.inbox, "--deadline", roc_date(DEADLINE))
    assert res.exit_code == 0, res.output
    assert sorted(emls(out, "_催繳")) == ["南區服務站"]
    assert "已移除不再需要的草稿（北區服務站）" in res.output


def test_reminders_attach_the_templates_of_a_folder_when_given(cycle, tmp_path):
    out = tmp_path / "寄件匣"
    res = run("send", cycle.plan.source, "-o", out, "--remind", cycle.inbox, "--templates", cycle.tpl,
              "--format", "xlsx")
    assert res.exit_code == 0, res.output
    assert "繳交期限 113/01/15 已過" in res.output and "--deadline" in res.output  # a warning
    for unit, msg in emls(out, "_催繳").items():
        ((name, path),) = attached(msg, tmp_path)
        assert path.read_bytes() == cycle.template(unit).read_bytes()


def test_the_correction_goes_to_exactly_the_unit_in_error_with_its_copy_and_its_fixes(cycle, tmp_path):
    out = tmp_path / "寄件匣"
    (copy,) = cycle.feedback.iterdir()
    res = run("send", cycle.plan.source, "-o", out, "--corrections", cycle.feedback,
              "--deadline", roc_date(DEADLINE))
    assert res.exit_code == 0, res.output
    drafts = emls(out, "_補正")
    assert list(drafts) == ["甲組"] and not list(out.glob("*_催繳.eml"))
    msg = drafts["甲組"]
    assert msg["X-Unsent"] == "1" and msg["To"].addresses[0].addr_spec == ADDRESSES["甲組"]
    assert "退件補正" in str(msg["Subject"]) and roc_date(DEADLINE) in str(msg["Subject"])
    ((name, path),) = attached(msg, tmp_path)
    assert name == copy.name and path.read_bytes() == copy.read_bytes()
    body = msg.get_body(("plain",)).get_content()
    (fix,) = [line for line in body.splitlines() if line.startswith("1. ")]
    assert "工作表「填報表」儲存格 L6（自評分數）" in fix
    assert "目前填寫：99" in fix and "應為：0～20.25" in fix and "A01" in fix
    assert "尚有下列 1 處需要修正" in body and f"於 {roc_date(DEADLINE)} 前" in body
    log = log_of(out)
    assert log["sent"] == {} and "reminders" not in log
    assert list(log["corrections"][round_key(date.today())]["drafts"]) == ["甲組"]

    # 甲組 sends back its fixed copy: the re-merge removes the copy, and no correction goes.
    wb = openpyxl.load_workbook(copy)
    wb[F.FORM_SHEET].cell(F.FIRST_ITEM_ROW + 1, 12).value = 18
    fixed = cycle.inbox / copy.name
    wb.save(fixed)
    set_saved(fixed, datetime(2024, 1, 12, 2, 0))
    remerge(cycle, 1)  # 北區服務站 and 南區服務站 are still missing
    assert list(cycle.feedback.iterdir()) == []
    res = run("send", cycle.plan.source, "-o", out, "--corrections", cycle.feedback,
              "--deadline", roc_date(DEADLINE))
    assert res.exit_code == 0, res.output
    assert emls(out, "_補正") == {} and "已產生草稿 0 封" in res.output
    assert "已移除不再需要的草稿（甲組）" in res.output


def test_a_copy_goes_to_the_unit_its_identity_names_whatever_its_file_name(cycle, tmp_path):
    (copy,) = cycle.feedback.iterdir()
    copy.rename(cycle.feedback / "乙組_待修正.xlsx")  # named after another unit
    shutil.copy(cycle.template("丙組"), cycle.feedback / "丙組_待修正.xlsx")  # not a correction copy
    (cycle.feedback / "說明.txt").write_text("備忘", encoding="utf-8")
    out = tmp_path / "寄件匣"
    res = run("send", cycle.plan.source, "-o", out, "--corrections", cycle.feedback,
              "--deadline", roc_date(DEADLINE))
    assert res.exit_code == 0, res.output
    drafts = emls(out, "_補正")
    assert list(drafts) == ["甲組"]
    ((name, _),) = attached(drafts["甲組"], tmp_path)
    assert name == "乙組_待修正.xlsx"
    assert "[警告]" in res.output and "乙組_待修正.xlsx" in res.output  # the name is not the unit's


def test_the_forms_of_send_are_told_apart(cycle, tmp_path):
    out = tmp_path / "寄件匣"
    for args, words in [([], "缺少參數「填報表資料夾」"),
                        (["--remind", cycle.inbox, "--corrections", cycle.feedback], "分兩次執行"),
                        (["--deadline", "115/07/01", cycle.tpl], "--deadline 只用於"),
                        (["--corrections", cycle.feedback, cycle.tpl], "不需要填報表資料夾")]:
        res = run("send", cycle.plan.source, "-o", out, *args)
        assert res.exit_code == 2 and words in res.output, res.output
        assert res.output.splitlines()[-1].startswith("錯誤：")


# ------------------------------------------------------------------ SMTP


@pytest.fixture
def smtp(tmp_path):
    server = SmtpServer(tmp_path, behaviour={"north@hsinchu.example": "refuse"})
    yield server
    server.stop()


def over_smtp(smtp, *args):
    return run(*args, "--smtp", f"127.0.0.1:{smtp.port}", "--user", USER, "--cafile", smtp.cert,
               env={"XLTOOL_SMTP_PASSWORD": PASSWORD})


def received(smtp):
    return {tuple(got["to"]): parse(got["data"]) for got in smtp.received}


def test_reminders_and_corrections_over_smtp_in_rounds(cycle, smtp, tmp_path):
    out = tmp_path / "寄件匣"
    plan = cycle.plan.source
    # 北區服務站's address is refused: a failure, and 南區服務站's reminder still goes.
    res = over_smtp(smtp, "send", plan, "-o", out, "--remind", cycle.inbox, "--deadline", roc_date(DEADLINE))
    assert res.exit_code == 1 and "北區服務站" in res.output and "550" in res.output, res.output
    got = received(smtp)
    assert list(got) == [("south@hsinchu.example",)]
    msg = got[("south@hsinchu.example",)]
    assert "X-Unsent" not in msg and "催繳" in str(msg["Subject"])
    checked(smtp.received[0]["data"])
    today = log_of(out)["reminders"][round_key(date.today())]["sent"]
    assert today["南區服務站"]["status"] == "sent" and today["北區服務站"]["status"] == "failed"

    # A rerun the same day retries only the failure (now accepted).
    smtp.behaviour.clear()
    res = over_smtp(smtp, "send", plan, "-o", out, "--remind", cycle.inbox, "--deadline", roc_date(DEADLINE))
    assert res.exit_code == 0, res.output
    assert [tuple(g["to"]) for g in smtp.received[1:]] == [("north@hsinchu.example",)]
    assert "今天已寄過催繳 1 封：南區服務站" in res.output

    # The corrections: exactly 甲組, its copy attached; once.
    res = over_smtp(smtp, "send", plan, "-o", out, "--corrections", cycle.feedback, "--deadline",
                    roc_date(DEADLINE))
    assert res.exit_code == 0, res.output
    (got,) = smtp.received[2:]
    assert got["to"] == ["a@hsinchu.example"]
    msg = checked(got["data"])
    assert [p.get_filename() for p in msg.iter_attachments()] == [p.name for p in cycle.feedback.iterdir()]
    assert "L6" in msg.get_body(("plain",)).get_content()
    res = over_smtp(smtp, "send", plan, "-o", out, "--corrections", cycle.feedback, "--deadline",
                    roc_date(DEADLINE))
    assert res.exit_code == 0 and len(smtp.received) == 3, res.output
    assert "同一份退件補正檔先前已寄出 1 封：甲組" in res.output

    # A second round of reminders, another day: both are reminded again, and recorded apart.
    later = date.today() + timedelta(days=3)
    batch = prepare_reminders(cycle.plan, MISSING, deadline=DEADLINE + timedelta(days=7), today=later)
    from xltool.mail.send import SmtpSettings
    settings = SmtpSettings("127.0.0.1", smtp.port, "starttls", USER, PASSWORD, str(smtp.cert))
    result = send(batch.outgoing, out, settings, kind="remind", round_key=round_key(later))
    assert sorted(o.unit for o in result.sent) == sorted(MISSING) and not result.failed
    assert len(smtp.received) == 5
    log = log_of(out)
    assert sorted(log["reminders"]) == sorted([round_key(date.today()), round_key(later)])
    assert sorted(log["reminders"][round_key(later)]["sent"]) == sorted(MISSING)
    assert log["sent"] == {} and list(log["corrections"][round_key(date.today())]["sent"]) == ["甲組"]
