"""The `xltool` command: a thin click layer over the library.

Only this module talks to the terminal and chooses exit codes:
0 no errors (warnings allowed), 1 errors found, 2 unusable arguments or plan,
3 a bug in xltool (reported as ``internal-error``), 130 interrupted.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import click

from . import cli_text

cli_text.install()  # click's own words in Traditional Chinese

EXIT_ISSUES = 1
EXIT_UNUSABLE = 2
EXIT_INTERNAL = 3

CONTEXT = {"help_option_names": ["-h", "--help"]}
option = partial(click.option, cls=cli_text.Option)  # help ends in （必填）, （預設：…）


class RocDate(click.ParamType):
    """A date as people here type it: 115/07/01, 115-07-01, 115年7月1日 or 2026-07-01."""

    name = "日期"

    def convert(self, value, param, ctx):
        from datetime import date

        from .cells import parse_date

        if isinstance(value, date):
            return value
        try:
            return parse_date(value)
        except (ValueError, OverflowError):
            self.fail(f"「{value}」不是日期；請寫成 115/07/01、115-07-01、115年7月1日或 2026-07-01。",
                      param, ctx)


def say(message: str = "", err: bool = False) -> None:
    """click.echo for text that may carry file content: control characters are
    shown as escapes (see quoting.visible); line breaks stay."""
    from .quoting import visible

    click.echo("\n".join(visible(line) for line in str(message).split("\n")), err=err)


class UserError(click.ClickException):
    """A library error shown as a zh-TW message with exit code 2."""

    exit_code = EXIT_UNUSABLE

    def show(self, file=None):
        say(f"錯誤：{self.message}", err=True)


class Command(click.Command):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[選項]")
        super().__init__(*args, **kwargs)


class Group(click.Group):
    command_class = Command

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Exception as exc:
            from .errors import XltoolError  # here, not at the top: `--help` stays fast

            if isinstance(exc, XltoolError):
                raise UserError(str(exc)) from exc
            raise


@click.group(cls=Group, context_settings=CONTEXT, options_metavar="[選項]",
             subcommand_metavar="指令 [參數]…")
@click.version_option(package_name="xltool", message="xltool %(version)s",
                      help="顯示版本後結束。")
def cli():
    """xltool：計畫檔 → 各單位填報表 → 回收彙整 → 評分總表。

    \b
    常用流程：
      xltool init plan.xlsx                           產生空白計畫檔
      xltool check plan.xlsx                          檢查計畫檔
      xltool template plan.xlsx -o 填報表             產生各單位填報表
      xltool send plan.xlsx 填報表 -o 寄件匣          寄出各單位填報表
      xltool collect 收件匣 --plan plan.xlsx -o 回收  取出回傳檔
      xltool status plan.xlsx 回收                    查看各單位繳交狀態
      xltool merge plan.xlsx 回收 -o 總表.xlsx        彙整評分
      xltool report plan.xlsx 總表.xlsx -o 成果.odt   產生執行成果文件
      xltool rollup 總表*.xlsx -o 附表2.xlsx          彙整各分局的總表
    """


def _arg(path) -> str:
    """A path as it would be typed in a command: quoted when it holds a space."""
    text = str(path)
    return f'"{text}"' if any(ch.isspace() for ch in text) else text


def _next(*steps: str) -> None:
    """What to do next, after a command's last line of results."""
    say("下一步：" + steps[0])
    for step in steps[1:]:
        say("　　　　" + step)


def _exit_for(issues) -> None:
    """Exit 1 when the issues hold errors; 3 when one of them is xltool's own fault
    (an ``internal-error`` while the batch went on); return when there are none."""
    errors = [i for i in issues if i.is_error]
    if any(i.code == "internal-error" for i in errors):
        sys.exit(EXIT_INTERNAL)
    if errors:
        sys.exit(EXIT_ISSUES)


def _plan_or_exit(plan_path: Path):
    from .errors import PlanError
    from .plan import load_plan
    from .render import render_text

    try:
        return load_plan(plan_path)
    except PlanError as exc:
        say(render_text(exc.issues), err=True)
        raise UserError(str(exc))


@cli.command()
@click.argument("plan", metavar="計畫檔", type=click.Path(dir_okay=False, path_type=Path))
@option("--force", is_flag=True, help="檔案已存在時覆寫。")
@option("--from", "document", metavar="計畫文件",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="由計畫文件（.docx、.odt；已安裝 LibreOffice 時也可 .doc）讀入計畫名稱、單位、構面、項目與等第。")
def init(plan: Path, force: bool, document: Path | None):
    """產生空白的計畫檔（.xlsx 或 .ods），內含說明與下拉清單；或由計畫文件產生。"""
    if document is not None:
        _init_from(plan, document, force)
        return
    from .forms.starter import write_starter

    write_starter(plan, overwrite=force)
    say(f"已產生空白計畫檔：{plan}")
    _next(f"開啟計畫檔填寫各工作表，再執行 xltool check {_arg(plan)}")


def _init_from(plan: Path, document: Path, force: bool) -> None:
    from .forms.plan_import import import_plan_document
    from .plan.documents import DocumentRefused
    from .render import render_text

    try:
        done = import_plan_document(document, plan, overwrite=force)
    except DocumentRefused as exc:
        say(render_text([exc.issue]), err=True)
        raise UserError(f"無法由「{document.name}」產生計畫檔。")
    draft = done.draft
    say(f"已由「{document.name}」產生計畫檔：{plan}")
    say(f"  {draft.name or '（未讀到計畫名稱）'}；{len(draft.dimensions)} 個構面、{len(draft.units)} 個單位、"
        f"{len(draft.items)} 個項目、{len(draft.grades)} 級等第")
    if done.notes:
        say("文件未載明、需要補填或確認的內容：")
        say(render_text(done.notes))
    _next(f"依上列工作表與儲存格補填 {plan.name}，再執行 xltool check {_arg(plan)}")


@cli.command()
@click.argument("plan", metavar="計畫檔", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option("--json", "as_json", is_flag=True, help="以 JSON 輸出檢查結果。")
@option("--against", "old_plan", type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="另列出與此舊版計畫檔的差異（項目、欄位、原內容、新內容、受影響單位）。")
def check(plan: Path, as_json: bool, old_plan: Path | None):
    """檢查計畫檔，列出每個問題的工作表與儲存格。"""
    from .plan import check_plan
    from .render import changes_table, issues_json, render_text, summary

    model, issues = check_plan(plan)
    changes = None
    if old_plan is not None and model is not None:
        from .forms.revisions import plan_diff

        changes = plan_diff(_plan_or_exit(old_plan), model)
    if as_json:
        say(issues_json(issues) if changes is None else changes_json(issues, changes))
    else:
        if issues:
            say(render_text(issues))
        if model is not None and not any(i.is_error for i in issues):
            say(f"計畫檔正確：{len(model.dimensions)} 個構面、{len(model.units)} 個單位、"
                       f"{len(model.items)} 個項目，總配分 {model.total_points:g}。")
        say(summary(issues))
        if changes is not None:
            assert old_plan is not None  # changes are made only against an old plan
            say(f"與「{old_plan.name}」相比有 {len(changes)} 處修訂" + ("：" if changes else "。"))
            if changes:
                say(changes_table(changes))
        if any(i.is_error for i in issues) or model is None:
            _next(f"依上列工作表與儲存格修正計畫檔，再執行 xltool check {_arg(plan)}")
        else:
            _next(f"xltool template {_arg(plan)} -o 填報表　產生各單位的填報表")
    _exit_for(issues)


def changes_json(issues, changes) -> str:
    import json

    return json.dumps({"issues": [i.to_dict() for i in issues],
                       "plan_changes": [{"item": c.item, "field": c.field, "old": c.old,
                                         "new": c.new, "units": list(c.units)} for c in changes]},
                      ensure_ascii=False, indent=2)


@cli.command()
@click.argument("plan", metavar="計畫檔", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option("-o", "--output", "out_dir", required=True,
        type=click.Path(file_okay=False, path_type=Path), help="輸出資料夾。")
@option("--unit", "units", multiple=True, metavar="單位", help="只產生這個單位（名稱或別名；可重複）。")
@option("--format", "fmt", type=click.Choice(["xlsx", "ods", "both"]), default="xlsx",
        show_default=True, help="檔案格式。")
@option("--from-returns", "from_returns", type=click.Path(exists=True, path_type=Path),
        help="預先填入各單位在此資料夾中最新的回傳內容（計畫修訂後或下一期填報時使用）。")
def template(plan: Path, out_dir: Path, units: tuple[str, ...], fmt: str, from_returns: Path | None):
    """由計畫檔產生各單位的填報表。"""
    from .forms.template import units_to_write, write_templates
    from .render import render_text

    model = _plan_or_exit(plan)
    formats = ("xlsx", "ods") if fmt == "both" else (fmt,)
    if from_returns:
        from .master.feedback import write_prefilled
        from .master.run import check_outputs

        check_outputs([out_dir], [from_returns], plan)
        done = write_prefilled(model, [from_returns], out_dir, units or None, formats)
        for unit, path in done.written:
            say(f"  {unit}：{path}")
        if done.problems:
            say(render_text(done.problems), err=True)
        say(f"已產生 {len(done.written)} 個預填的填報表，位於 {out_dir}")
        _next(f"xltool send {_arg(plan)} {_arg(out_dir)} -o 寄件匣　寄給各單位補填")
        return
    with _progress_bar("產生填報表", len(units_to_write(model, units or None))) as progress:
        written = write_templates(model, out_dir, units or None, formats, progress=progress)
    for w in written:
        say(f"  {w.unit}：{w.path}")
    say(f"已產生 {len(written)} 個填報表，位於 {out_dir}")
    _next(f"xltool send {_arg(plan)} {_arg(out_dir)} -o 寄件匣　以電子郵件寄給各單位"
          "（或自行將檔案寄出）")


def _returns_option(f):
    return click.argument("returns", nargs=-1, required=True, metavar="回傳檔或資料夾…",
                          type=click.Path(exists=True, path_type=Path))(f)


def _is_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def _progress_bar(label: str, total: int | None):
    """Progress on stderr while a long run works: a bar when the total is known, a
    running count when it is not (mail from a server). Nothing when stderr is not a
    terminal, or for fewer than 10 things."""
    if not _is_terminal() or (total is not None and total < 10):
        yield None
        return
    if total is None:
        count = 0

        def tick(_):
            nonlocal count
            count += 1
            click.echo(f"\r{label}：{count}", nl=False, err=True)

        yield tick
        click.echo("", err=True)
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield lambda _: bar.update(1)


def _progress(returns):
    """The progress bar for reading the returns in ``returns``: their count is needed
    only for a bar on a terminal (finding them twice costs 0.02 s per 1,000 files)."""
    from .intake import discover

    if not _is_terminal():
        return _progress_bar("讀取回傳檔", None)
    files, _ = discover(list(returns))
    return _progress_bar("讀取回傳檔", len(files))


FIRST_SAID = ("no-returns",)  # what explains every line after it (all 未繳: a wrong folder?)


def _first_said(issues) -> list:
    return [i for i in issues if i.code in FIRST_SAID]


def _status_table(result) -> str:
    from .master.statuses import UNUSABLE, listing
    from .render import table

    rows: list[list[str | int]] = [["單位", "狀態", "錯誤", "警告", "檔案"]]
    for entry in listing(result):
        ret = entry.ret
        current = entry.label == entry.status or entry.status == UNUSABLE
        rows.append([entry.unit, entry.label.replace("（未採用）", "") if not current else entry.label,
                     ret.errors if ret and current else "-",
                     ret.warnings if ret and current else "-",
                     (ret.name if current else f"{ret.name}（未採用）") if ret else ""])
    return table(rows)


STATUS_ERRORS_SHOWN = 50  # errors `status` lists; the master's 檢核結果 has them all


@cli.command()
@click.argument("plan", metavar="計畫檔", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_returns_option
@option("--verify", is_flag=True,
        help="改為核對回傳檔是否仍是彙整總表時的檔案（依檔案摘要碼），列出已變更、不見與新增的檔案；"
             "此時第一個參數是總表，例如 xltool status --verify 總表.xlsx 回收。")
def status(plan: Path, returns: tuple[Path, ...], verify: bool):
    """列出各單位的繳交狀態（已繳／未繳／有誤，以及被較新檔案取代的回傳），不寫入任何檔案。"""
    from .master.merge import merge as do_merge
    from .render import render_text

    if verify:
        _verify(plan, returns)
        return
    model = _plan_or_exit(plan)
    with _progress(returns) as progress:
        result = do_merge(model, list(returns), progress=progress)
    if _first_said(result.issues):
        say(render_text(_first_said(result.issues)))
    say(_status_table(result))
    from .master.statuses import choice_issues

    if choice_issues(result):  # why each 已取代 file is not the one used, and doubts on the choice
        say(render_text(choice_issues(result)))
    unusable = [next(i for i in ret.issues if i.is_error) for ret in result.rejected
                if any(i.is_error for i in ret.issues)]
    if unusable:  # why each file that cannot be used cannot be
        say(render_text(unusable))
    errors = [i for s in result.units if s.ret is not None for i in s.ret.issues if i.is_error]
    if errors:  # what to tell each unit whose return 有誤: file, sheet, cell
        say(render_text(errors[:STATUS_ERRORS_SHOWN]))
        if len(errors) > STATUS_ERRORS_SHOWN:
            say(f"…另有 {len(errors) - STATUS_ERRORS_SHOWN} 個錯誤；完整清單見 xltool merge 產生的總表"
                "「檢核結果」工作表。")
    counts: dict[str, int] = {}
    for s in result.units:
        counts[s.status] = counts.get(s.status, 0) + 1
    say("，".join(f"{k} {v}" for k, v in counts.items()))
    steps = [f"xltool merge {_arg(plan)} {' '.join(_arg(r) for r in returns)} -o 總表.xlsx　彙整評分"
             + ("（未繳或有誤的單位可先催繳）" if result.errors or any(not s.ret for s in result.units) else "")]
    if any(not s.ret for s in result.units) and len(returns) == 1:
        steps.append(f"xltool send {_arg(plan)} --remind {_arg(returns[0])} -o 寄件匣　寄催繳信給未繳的單位")
    _next(*steps)
    _exit_for(result.issues)


def _verify(master: Path, returns: tuple[Path, ...]) -> None:
    from .master.audit import SAME, verify
    from .render import render_text, table

    done = verify(master, list(returns))
    rows: list[list[str | int]] = [["檔案", "單位", "核對", "總表記錄的摘要碼", "目前的摘要碼"]]
    rows += [[c.file, c.unit, c.state, c.recorded[:12], c.found[:12]] for c in done.files]
    say(table(rows))
    if done.issues:
        say(render_text(done.issues), err=True)
    same = sum(1 for c in done.files if c.state == SAME)
    say(f"核對 {len(done.files)} 個檔案：{same} 個與彙整「{done.master}」時相同"
        + (f"，{len(done.files) - same} 個不同。" if same < len(done.files) else "。"))
    if same < len(done.files):
        _next(f"確認上列檔案後重新彙整：xltool merge 計畫檔 {' '.join(_arg(r) for r in returns)} -o {_arg(master)}")
    else:
        _next(f"回傳檔與總表一致，不必重新彙整；可開啟 {master.name} 檢視")
    _exit_for(done.issues)


@cli.command()
@click.argument("plan", metavar="計畫檔", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_returns_option
@option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
        help="總表檔（.xlsx）。已存在時保留其中的複評，並將舊檔另存備份。")
@option("--report", type=click.Path(dir_okay=False, path_type=Path),
        help="另存 JSON 報告檔。")
@option("--strict", is_flag=True, help="發現任何錯誤時不寫入任何檔案。")
@option("--pdf", "as_pdf", is_flag=True,
        help="另以 LibreOffice 將總表轉成 PDF（與總表同名，放在同一資料夾）。")
@option("--feedback", "feedback_dir", type=click.Path(file_okay=False, path_type=Path),
        help="為有錯誤的單位產生退件補正檔（紅色標示待修正的儲存格）的資料夾。")
def merge(plan: Path, returns: tuple[Path, ...], output: Path, report: Path | None, strict: bool,
          as_pdf: bool, feedback_dir: Path | None):
    """彙整各單位回傳的填報表，檢核每一格並寫出評分總表。"""
    from .master.run import check_outputs, run_merge

    check_outputs([output] + ([report] if report else []) + ([feedback_dir] if feedback_dir else []),
                  list(returns), plan)
    model = _plan_or_exit(plan)
    with _progress(returns) as progress:
        run = run_merge(model, list(returns), output, report=report, strict=strict, pdf=as_pdf,
                        feedback_dir=feedback_dir, progress=progress,
                        ends_process=_PROCESS_ENDS_WITH_COMMAND)  # not a test's in-process call
    _show_merge(run, output, report)
    _exit_for(run.errors + run.problems)


def _show_merge(run, output: Path, report: Path | None) -> None:
    from .render import render_text

    result = run.result
    errors = run.errors
    shown = _first_said(result.issues) + errors + [i for i in result.issues
                                                  if not i.is_error and i.code not in FIRST_SAID]
    if shown:
        say(render_text(shown[:40]))
        if len(shown) > 40:
            say(f"…其餘 {len(shown) - 40} 筆請見總表「檢核結果」工作表。")
    if not run.written:
        say(f"發現 {len(errors)} 個錯誤；因指定 --strict，未寫入任何檔案。", err=True)
        return
    say(_status_table(result))
    say("")
    for dim, value in result.dimensions:
        say(f"{dim.name}：{value:g} / {dim.points:g}")
    say(f"總分：{result.total:g}　等第：{result.grade}　考核年月：{result.plan.info.review_month}")
    if run.pdf:
        say(f"已產生 PDF：{run.pdf}")
    if run.problems:
        say(render_text(run.problems), err=any(i.is_error for i in run.problems))
    if run.feedback:
        for path in run.feedback.written:
            say(f"退件補正檔：{path}")
        for path in run.feedback.removed:
            say(f"已移除不再需要的退件補正檔（該單位已無錯誤）：{path}")
        if run.feedback.problems:
            say(render_text(run.feedback.problems), err=True)
    if run.review_summary():
        say(run.review_summary())
    say(f"已寫出總表：{output}" + (f"，報告：{report}" if report else ""))
    if errors:
        say(f"發現 {len(errors)} 個錯誤，請見總表「檢核結果」。", err=True)
    steps = [f"開啟 {output.name} 檢視；在「評分」工作表填寫複評後，以同一指令重新彙整（複評會保留）"]
    if errors and not run.feedback:
        steps.append("加上 --feedback 補正 可為有錯誤的單位產生退件補正檔")
    if run.feedback and run.feedback.written and result.plan.source:
        steps.append(f"xltool send {_arg(result.plan.source)} --corrections "
                     f"{_arg(run.feedback.written[0].parent)} -o 寄件匣　把退件補正檔寄回各單位")
    if not run.pdf:
        steps.append(f"xltool print {_arg(output)}　轉成 A4 的 PDF 以便列印")
    _next(*steps)


def _send_batch(model, templates: Path | None, remind: Path | None, corrections: Path | None,
                templates_opt: Path | None, deadline, fmt: str):
    """The messages `send` is to write or send: the first mailing, reminders or
    corrections; with the kind of message and the round it belongs to."""
    from datetime import date

    from .mail.reminders import prepare_corrections, prepare_reminders, round_key
    from .mail.send import prepare

    formats = ("xlsx", "ods") if fmt == "both" else (fmt,)
    if remind and corrections:
        raise click.UsageError("--remind 與 --corrections 請分兩次執行。")
    if not remind and (templates_opt or (deadline and not corrections)):
        raise click.UsageError("--templates 只用於 --remind；--deadline 只用於 --remind 或 --corrections。")
    if corrections:
        if templates:
            raise click.UsageError("寄退件補正檔時不需要填報表資料夾；附件是補正資料夾中的退件補正檔。")
        return prepare_corrections(model, corrections, deadline=deadline), "correct", round_key(date.today())
    if remind:
        from .master.merge import STATUS_MISSING
        from .master.merge import merge as do_merge

        with _progress([remind]) as progress:
            result = do_merge(model, [remind], progress=progress)
        missing = [s.unit for s in result.units if s.status == STATUS_MISSING]
        say(f"未繳 {len(missing)} 個單位" + (f"：{'、'.join(missing)}" if missing else "") +
            "；已繳與有誤的單位不寄催繳（有誤的單位請改用 --corrections 寄退件補正檔）。")
        from .master.statuses import blank_only

        batch = prepare_reminders(model, missing, templates_dir=templates_opt or templates,
                                  deadline=deadline, formats=formats, prefer_one=fmt != "both",
                                  blank=blank_only(result), received=result.received.returns)
        return batch, "remind", round_key(date.today())
    if templates is None:
        raise click.UsageError("缺少參數「填報表資料夾」（或改用 --remind、--corrections）。")
    return prepare(model, templates, formats, prefer_one=fmt != "both"), "first", ""


def _password(env: str, user: str, what: str) -> str:
    """Passwords come from the environment or a prompt, never from the command line."""
    if not user:
        return ""
    return os.environ.get(env) or click.prompt(f"{what}密碼（{user}）", hide_input=True)


@cli.command()
@click.argument("plan", metavar="計畫檔", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("templates", metavar="[填報表資料夾]", required=False,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@option("-o", "--output", "outbox", required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="寄件資料夾：郵件（.eml）與寄送紀錄存放處。")
@option("--remind", "remind", metavar="回傳資料夾", type=click.Path(exists=True, path_type=Path),
        help="寄催繳信給尚未繳交（未繳）的單位，並再附上其填報表（不需要填報表資料夾）。")
@option("--corrections", metavar="補正資料夾", type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="把 merge --feedback 產生的退件補正檔寄回各該單位，內文列出待修正事項。")
@option("--templates", "templates_opt", metavar="填報表資料夾",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="催繳時附上此資料夾中的填報表；未指定時依計畫檔重新產生。")
@option("--deadline", type=RocDate(), help="催繳或補正的新繳交期限，例如 115/07/15；預設為計畫檔的繳交期限。")
@option("--smtp", metavar="主機[:埠]", help="直接以此郵件伺服器寄出（預設只產生 .eml 草稿）。")
@option("--ssl", "use_ssl", is_flag=True, help="以 SSL 連線（通常為 465 埠）；預設為 STARTTLS（587 埠）。")
@option("--user", default="", metavar="帳號", help="郵件伺服器帳號；密碼取自環境變數 XLTOOL_SMTP_PASSWORD 或提示輸入。")
@option("--cafile", type=click.Path(exists=True, dir_okay=False), help="信任的憑證（自簽憑證時使用）。")
@option("--format", "fmt", type=click.Choice(["xlsx", "ods", "both"]), default="xlsx",
        show_default=True, help="附加哪種格式的填報表。")
@option("--timeout", type=float, default=60, show_default=True, metavar="秒數",
        help="連線郵件伺服器及等候每次回覆的逾時秒數（--smtp）。")
@option("--resend", is_flag=True, help="已寄過（或已有草稿）的單位也重新寄出（或重新產生草稿）。")
@option("--resend-uncertain", is_flag=True,
        help="重寄先前記為「可能已寄達」的郵件（請先向該單位確認未收到）。")
@option("--dry-run", is_flag=True,
        help="只列出將寄出的郵件，不寄也不寫檔；使用 --smtp 時會連線並登入郵件伺服器以確認設定。")
def send(plan: Path, templates: Path | None, outbox: Path, remind: Path | None,
         corrections: Path | None, templates_opt: Path | None, deadline, smtp: str | None,
         use_ssl: bool, user: str, cafile: str | None, fmt: str, timeout: float, resend: bool,
         resend_uncertain: bool, dry_run: bool):
    """把各單位的填報表以電子郵件寄出（或先產生 .eml 草稿）；--remind 寄催繳信，--corrections 寄退件補正檔。"""
    from .mail.send import SmtpSettings, parse_hostport, summary
    from .mail.send import send as do_send
    from .render import render_text

    if not timeout > 0:
        raise UserError("--timeout 須為大於 0 的秒數。")
    model = _plan_or_exit(plan)
    batch, kind, round_key = _send_batch(model, templates, remind, corrections, templates_opt,
                                         deadline, fmt)
    settings = None
    if smtp:  # a dry run logs in too: it ends as the real run would
        host, port = parse_hostport(smtp, 465 if use_ssl else 587)
        settings = SmtpSettings(host, port, "ssl" if use_ssl else "starttls", user,
                                _password("XLTOOL_SMTP_PASSWORD", user, "郵件伺服器"), cafile, timeout)
    done = "已寄出" if settings else "已產生草稿"
    result = do_send(batch.outgoing, outbox, settings, resend=resend, dry_run=dry_run,
                     progress=lambda o: say(f"  {done}：{o.unit} <{o.to}>"), kind=kind,
                     round_key=round_key, resend_uncertain=resend_uncertain)
    issues = batch.issues + result.issues
    if dry_run:
        for out in result.sent:
            say(f"  {'將寄給' if settings else '將產生草稿給'} {out.unit} <{out.to}>："
                f"{out.message['Subject']}（附件 {'、'.join(p.name for p in out.attachments)}）")
    if issues:
        say(render_text(issues), err=True)
    for line in summary(result, batch, drafts=settings is None, dry_run=dry_run, kind=kind):
        say(line)
    steps = [f"各單位回覆後：xltool collect 收件匣 --plan {_arg(plan)} -o 回收　取出回傳檔",
             "（收件匣：由郵件軟體匯出的 .eml 資料夾或 mbox；也可改用 --imap 直接讀取信箱）"]
    if kind != "first":
        steps.append(f"收回後：xltool status {_arg(plan)} 回收　確認繳交狀態；仍未繳或有誤者可再執行本指令")
    if (result.failed or result.unsent) and not dry_run:
        steps.insert(0, "處理上列問題後重新執行同一指令，只會再寄未寄出的 "
                        f"{len(result.failed) + len(result.unsent)} 封")
    if result.uncertain and not dry_run:
        steps.insert(0, "向「可能已寄達」的單位確認是否收到；確認未收到時加 --resend-uncertain 重新執行")
    if not settings and (result.sent or "drafted" in result.skipped) and not dry_run:
        say(f"草稿在 {outbox}（每個單位一封 .eml；Outlook 會以待寄出的新郵件開啟）。")
        steps.insert(0, f"以 Outlook 或 Thunderbird 開啟 {_arg(outbox)} 中的草稿，確認收件人與附件後寄出")
    if not batch.outgoing and "no-template" in batch.skipped:
        steps = [f"xltool template {_arg(plan)} -o {_arg(templates or templates_opt)}　先產生各單位的填報表"]
    if dry_run:
        steps = ["確認無誤後，去掉 --dry-run 再執行同一指令" + ("即寄出" if settings else "即產生草稿")]
    _next(*steps)
    _exit_for(issues)


@cli.command()
@click.argument("source", required=False, metavar="[郵件來源]", type=click.Path(exists=True, path_type=Path))
@option("--plan", "plan_path", required=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path), help="計畫檔。")
@option("-o", "--output", "out_dir", required=True,
        type=click.Path(file_okay=False, path_type=Path), help="回收資料夾。")
@option("--imap", metavar="主機[:埠]", help="從 IMAP 信箱收取（TLS，唯讀）。")
@option("--user", default="", metavar="帳號", help="IMAP 帳號；密碼取自環境變數 XLTOOL_IMAP_PASSWORD 或提示輸入。")
@option("--folder", default="INBOX", show_default=True, metavar="資料夾", help="IMAP 資料夾。")
@option("--since", type=RocDate(), help="只收此日（含）之後的郵件，例如 115/07/01。")
@option("--before", type=RocDate(), help="只收此日之前的郵件。")
@option("--starttls", is_flag=True, help="以 STARTTLS 連線（143 埠）；預設為 SSL（993 埠）。")
@option("--cafile", type=click.Path(exists=True, dir_okay=False), help="信任的憑證（自簽憑證時使用）。")
@option("--timeout", type=float, default=60, show_default=True, metavar="秒數",
        help="IMAP 連線與每次讀取的逾時秒數。")
def collect(source: Path | None, plan_path: Path, out_dir: Path, imap: str | None, user: str,
            folder: str, since, before, starttls: bool, cafile: str | None, timeout: float):
    """從 .eml 資料夾、mbox、Maildir 或 IMAP 信箱取出本計畫的回傳檔。"""
    from .intake.log import EVIDENCE_DIR
    from .mail.collect import ImapSettings, messages_from, messages_from_imap, when_shown
    from .mail.collect import collect as do_collect
    from .mail.send import parse_hostport
    from .quoting import quote
    from .render import render_text

    if bool(source) == bool(imap):
        raise UserError("請指定郵件來源：郵件來源（.eml 資料夾、mbox 或 Maildir）或 --imap 主機，二擇一。")
    if not timeout > 0:
        raise UserError("--timeout 須為大於 0 的秒數。")
    model = _plan_or_exit(plan_path)
    if imap:
        host, port = parse_hostport(imap, 143 if starttls else 993)
        messages = messages_from_imap(ImapSettings(
            host, port, user, _password("XLTOOL_IMAP_PASSWORD", user, "IMAP "), folder, starttls,
            cafile, since, before, timeout))
    else:
        assert source is not None  # checked above: SOURCE or --imap, exactly one
        messages = messages_from(source, skip=out_dir)
    with _progress_bar("檢查郵件", None) as progress:
        result = do_collect(model, messages, out_dir, progress=progress)
    for saved in result.saved:
        say(f"  {saved.unit}：{saved.path.name}（{quote(saved.sender)}，{when_shown(saved.sent, model)}）")
    for ev in result.evidence:
        if not ev.duplicate:
            named = "" if ev.attachment == ev.path.name else f"附件「{ev.attachment}」，"
            say(f"  佐證資料（{ev.unit or '未歸屬單位'}）：{ev.path.relative_to(out_dir).as_posix()}"
                f"（{named}{quote(ev.sender)}，{when_shown(ev.sent, model)}）")
    if result.issues:
        say(render_text(result.issues), err=True)
    if result.already:
        say(f"  另有 {result.already} 個附件先前已收過，未重複存檔。")
    stored = sum(1 for ev in result.evidence if not ev.duplicate)
    say(f"存入 {len(result.saved)} 個回傳檔到 {out_dir}"
        + (f"，{stored} 個佐證資料到 {out_dir / EVIDENCE_DIR}" if stored else "")
        + f"；另有 {len(result.issues)} 則說明。")
    _next(f"xltool status {_arg(plan_path)} {_arg(out_dir)}　查看各單位繳交狀態")
    _exit_for(result.issues)


@cli.command()
@click.argument("plan", metavar="計畫檔", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("master", metavar="總表", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option("-o", "--output", "outputs", required=True, multiple=True, metavar="成果檔",
        type=click.Path(dir_okay=False, path_type=Path),
        help="執行成果文件；格式依副檔名：.odt、.docx 或 .html（網頁）。可重複指定。")
def report(plan: Path, master: Path, outputs: tuple[Path, ...]):
    """由總表產生執行成果文件：計畫的表格填入各單位的執行績效與成果，以及附表2。"""
    from .master.documents.content import check_targets, outcome_document, write_document
    from .master.documents.outcome import MasterMismatch, read_outcome
    from .render import render_text

    check_targets(list(outputs), (plan, master))
    model = _plan_or_exit(plan)
    try:
        outcome = read_outcome(model, master)
    except MasterMismatch as exc:
        say(render_text(exc.issues), err=True)
        raise UserError(str(exc))
    if outcome.issues:
        say(render_text(outcome.issues), err=True)
    if any(i.is_error for i in outcome.issues):
        say(f"總表有錯誤，未產生成果文件；請修正「{master.name}」後重新執行。", err=True)
        _exit_for(outcome.issues)
    document = outcome_document(outcome)
    for target in outputs:
        kept = write_document(document, target)
        say(f"已產生執行成果：{target}" + (f"（原有的同名檔案不同，已另存為「{kept.name}」）" if kept else ""))
    for dim, value in outcome.dimensions:
        say(f"{dim.name}：{value:g} / {dim.points:g}")
    say(f"總分：{outcome.total:g}　等第：{outcome.grade}　考核年月：{model.info.review_month}"
        + (f"　未繳：{'、'.join(outcome.missing)}" if outcome.missing else ""))
    web = any(Path(t).suffix.lower() == ".html" for t in outputs)
    _next("開啟成果文件檢閱後陳核" + ("；網頁版（.html）可直接登載於機關網站" if web else ""))


@cli.command()
@click.argument("masters", metavar="總表…", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option("-o", "--output", "outputs", required=True, multiple=True, metavar="彙整檔",
        type=click.Path(dir_okay=False, path_type=Path),
        help="彙整的附表2；格式依副檔名：.xlsx、.odt、.docx 或 .html（網頁）。可重複指定。")
@option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="名冊",
        help="受考核單位名冊（.xlsx 或 .ods）：依名冊順序編號，未送總表的單位列為未繳；可另訂等第。")
@option("--report", type=click.Path(dir_okay=False, path_type=Path), help="另存 JSON 報告檔。")
def rollup(masters: tuple[Path, ...], outputs: tuple[Path, ...], roster: Path | None, report: Path | None):
    """將各單位（例如各分局）的總表彙整為一份附表2：每個單位一列，分數逐一驗證後重新計算。"""
    from .files import real_path
    from .master.rollup import RosterError, read_roster, write_rollup
    from .master.rollup import rollup as do_rollup
    from .master.rollup.report import write_rollup_json
    from .render import render_text

    inputs = {real_path(p) for p in (*masters, *([roster] if roster else []))}
    for target in (*outputs, *([report] if report else [])):
        if target in outputs and target.suffix.lower() not in (".xlsx", ".odt", ".docx", ".html"):
            raise UserError(f"輸出檔須為 .xlsx、.odt、.docx 或 .html：{target.name}")
        if real_path(target) in inputs:
            raise UserError(f"輸出檔「{target}」就是輸入的總表或名冊，寫入會覆蓋它；請改用其他檔名。")
    from .errors import XltoolError
    from .file_locks import check_not_open

    for target in outputs:  # before the long part: an open 附表2 would refuse it at the end
        check_not_open(target)
    try:
        names = read_roster(roster) if roster else None
    except RosterError as exc:
        say(render_text(exc.issues), err=True)
        raise UserError(str(exc))
    with _progress_bar("驗證總表", len(masters)) as progress:
        result = do_rollup(list(masters), names, progress=progress)
    if result.issues:
        say(render_text(result.issues), err=True)
    for row in result.rows:
        figures = "、".join(f"{s:g}" for s in row.scores) if row.branch else ""
        say(f"  {row.number}. {row.name}：" + (f"{figures}，總分 {row.total:g}，等第 {row.grade}" if row.branch
                                              else row.note))
    unwritten = []
    for target in outputs:  # one output that cannot be written does not stop the others
        try:
            kept = write_rollup(result, target)
        except XltoolError as exc:
            say(f"錯誤：{exc}", err=True)
            unwritten.append(target)
            continue
        say(f"已產生彙整的附表2：{target}" + (f"（原有的同名檔案不同，已另存為「{kept.name}」）" if kept else ""))
    if report:
        write_rollup_json(result, report)
        say(f"報告：{report}")
    if unwritten:
        raise UserError(f"{len(unwritten)} 個輸出檔未能寫入（{'、'.join(t.name for t in unwritten)}），"
                        "原因見上方；其他輸出檔已寫入。")
    counted = len(result.counted)
    say(f"採計 {counted} 個單位，共 {len(result.rows)} 列；{len(result.issues)} 則檢核結果。")
    _next(f"開啟 {outputs[0].name} 檢閱附表2、統計與檢核結果後陳核",
          "有總表不採計時，請該單位修正（或重新執行 xltool merge）後再送，並重新執行本指令")
    _exit_for(result.issues)


@cli.command(name="print")
@click.argument("workbook", metavar="活頁簿", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
        help="PDF 檔名（預設與活頁簿同名）。")
def print_(workbook: Path, output: Path | None):
    """以 LibreOffice 將活頁簿（例如總表）轉成 A4 的 PDF。"""
    from .master.printing import to_pdf

    say(f"已產生 PDF：{to_pdf(workbook, output)}")


def _ignore_unraisable(_unraisable) -> None:
    pass


def _stop_cleanly_on_signals() -> None:
    """A terminated run (kill, a closed terminal) stops as Ctrl-C does: temporary files
    and folders are removed and the workers stopped, rather than left behind."""
    import signal

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            try:
                signal.signal(getattr(signal, name), interrupt)
            except (ValueError, OSError):  # not the main thread (an embedding program)
                pass


def _never_fail_on_encoding() -> None:
    """Output redirected to a file on a Traditional Chinese Windows is cp950, which has
    no emoji and no rare characters: one in a unit's file name must not stop the
    command, so such a character is shown as its code (\\U0001f600)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


# The command is the process's last work: main() as the process's entry point (the
# console script, python -m xltool), which reads its arguments from sys.argv; not a
# caller that hands main() its own (a test, in its own long-lived process).
_PROCESS_ENDS_WITH_COMMAND = False


def main(argv=None):
    """Entry point: turn library errors into zh-TW messages and exit codes."""
    global _PROCESS_ENDS_WITH_COMMAND
    _PROCESS_ENDS_WITH_COMMAND = argv is None
    if not os.environ.get("XLTOOL_DEBUG"):
        # An error raised while an object is discarded (a half-written zip closed
        # again on a full disk) is printed as a traceback by default; the error that
        # matters has been reported already.
        sys.unraisablehook = _ignore_unraisable
    _never_fail_on_encoding()
    _stop_cleanly_on_signals()
    try:
        cli.main(args=argv, prog_name="xltool", standalone_mode=False)
    except click.exceptions.Abort:
        say("已中斷。", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_UNUSABLE)
    except KeyboardInterrupt:
        say("已中斷。", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug in xltool: say so plainly, trace only on request
        if os.environ.get("XLTOOL_DEBUG"):
            raise
        from .files import disk_full, out_of_space

        full = disk_full(exc)
        if full is not None:  # e.g. the temporary folder filled up: not a bug
            say(f"錯誤：{out_of_space(None, full)}", err=True)
            sys.exit(EXIT_UNUSABLE)
        say(f"[錯誤] xltool 內部錯誤（internal-error，{type(exc).__name__}: {exc}）。"
            "這不是您的檔案的問題；請設定環境變數 XLTOOL_DEBUG=1 重新執行，"
            "並將訊息回報開發者。", err=True)
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    main()
