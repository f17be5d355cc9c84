"""The `xltool` command: a thin click layer over the library.

Only this module talks to the terminal and chooses exit codes:
0 clean, 1 issues found, 2 unusable arguments or plan.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .errors import XltoolError

EXIT_ISSUES = 1
EXIT_UNUSABLE = 2

CONTEXT = {"help_option_names": ["-h", "--help"]}


class UserError(click.ClickException):
    """A library error shown as a zh-TW message with exit code 2."""

    exit_code = EXIT_UNUSABLE

    def show(self, file=None):
        click.echo(f"錯誤：{self.message}", err=True)


class Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except XltoolError as exc:
            raise UserError(str(exc)) from exc


@click.group(cls=Group, context_settings=CONTEXT)
@click.version_option(package_name="xltool", message="xltool %(version)s")
def cli():
    """xltool：計畫檔 → 各單位填報表 → 回收彙整 → 評分總表。

    \b
    常用流程：
      xltool init plan.xlsx              產生空白計畫檔
      xltool check plan.xlsx             檢查計畫檔
      xltool template plan.xlsx -o 填報表  產生各單位填報表
    """


def _plan_or_exit(plan_path: Path):
    from .errors import PlanError
    from .plan import load_plan
    from .report import render_text

    try:
        return load_plan(plan_path)
    except PlanError as exc:
        click.echo(render_text(exc.issues), err=True)
        raise XltoolError(str(exc))


@cli.command()
@click.argument("plan", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="檔案已存在時覆寫。")
def init(plan: Path, force: bool):
    """產生空白計畫檔 PLAN（.xlsx 或 .ods），內含說明與下拉清單。"""
    from .starter import write_starter

    write_starter(plan, overwrite=force)
    click.echo(f"已產生空白計畫檔：{plan}")
    click.echo(f"請填妥後執行：xltool check {plan}")


@cli.command()
@click.argument("plan", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 輸出檢查結果。")
def check(plan: Path, as_json: bool):
    """檢查計畫檔 PLAN，列出每個問題的工作表與儲存格。"""
    from .plan import check_plan
    from .report import issues_json, render_text, summary

    model, issues = check_plan(plan)
    if as_json:
        click.echo(issues_json(issues))
    else:
        if issues:
            click.echo(render_text(issues))
        if model is not None and not any(i.is_error for i in issues):
            click.echo(f"計畫檔正確：{len(model.dimensions)} 個構面、{len(model.units)} 個單位、"
                       f"{len(model.items)} 個項目，總配分 {model.total_points:g}。")
        click.echo(summary(issues))
    if any(i.is_error for i in issues):
        sys.exit(EXIT_ISSUES)


@cli.command()
@click.argument("plan", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path), help="輸出資料夾。")
@click.option("--unit", "units", multiple=True, metavar="NAME", help="只產生這個單位（可重複）。")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "ods", "both"]), default="xlsx",
              show_default=True, help="檔案格式。")
def template(plan: Path, out_dir: Path, units: tuple[str, ...], fmt: str):
    """由計畫檔 PLAN 產生各單位的填報表。"""
    from .template import write_templates

    model = _plan_or_exit(plan)
    formats = ("xlsx", "ods") if fmt == "both" else (fmt,)
    written = write_templates(model, out_dir, units or None, formats)
    for w in written:
        click.echo(f"  {w.unit}：{w.path}")
    click.echo(f"已產生 {len(written)} 個填報表，位於 {out_dir}")


def main(argv=None):
    """Entry point: turn library errors into zh-TW messages and exit codes."""
    try:
        cli.main(args=argv, prog_name="xltool", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("已中斷。", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_UNUSABLE)
    except KeyboardInterrupt:
        click.echo("已中斷。", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # a bug in xltool: say so plainly, trace only on request
        if os.environ.get("XLTOOL_DEBUG"):
            raise
        click.echo(f"xltool 發生未預期的錯誤（{type(exc).__name__}: {exc}）。"
                   "請設定環境變數 XLTOOL_DEBUG=1 重新執行，並將訊息回報開發者。", err=True)
        sys.exit(EXIT_UNUSABLE)


if __name__ == "__main__":
    main()
