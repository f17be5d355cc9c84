"""Click's own words (usage, help, argument errors) in Traditional Chinese.

Click translates through gettext, but ships no catalogues; a catalogue would have
to be compiled and found through the user's locale settings, which Windows users
rarely have. So the few messages a user can meet are looked up here instead, by
replacing the `_` and `ngettext` that click's modules imported from gettext.
Unknown messages (a newer click) stay in English rather than break.

Help screens also get full-width punctuation (用法：, 選項：, （必填）) and columns
aligned by display width, since click counts a CJK character as one column.
"""
from __future__ import annotations

import re
import sys
from typing import Any

import click


class _Punctuated(str):
    """An error template whose filled-in text gets zh-TW punctuation: click's
    messages end with '.' and quote names as 'x'."""

    def format(self, *args: Any, **kwargs: Any) -> str:
        return zh_punctuation(str.format(self, *args, **kwargs))


def zh_punctuation(text: str) -> str:
    text = re.sub(r"'([^'\n]*)'", r"「\1」", text)
    text = text.replace("」 / 「", "」／「").replace("」, 「", "」、「").replace("」,「", "」、「")
    text = re.sub(r" *「", "「", re.sub(r"」 *", "」", text))  # no spaces around full-width quotes
    return text[:-1] + "。" if text.endswith(".") else text


TEXT = {
    "Usage:": "用法：",
    "Options": "選項",
    "Commands": "指令",
    "Positional arguments": "參數",
    "Show this message and exit.": "顯示本說明後結束。",
    "Show the version and exit.": "顯示版本後結束。",
    "Error: {message}": _Punctuated("錯誤：{message}"),
    "required": "必填",
    "(dynamic)": "（依情況而定）",
    "Try '{command} {option}' for help.": "請執行「{command} {option}」查看說明。",
    "Missing argument": "缺少參數",
    "Missing option": "缺少選項",
    "Missing parameter": "缺少參數",
    "Missing parameter: {param_name}": "缺少參數：{param_name}",
    "Missing {param_type}": "缺少{param_type}",
    "Missing command.": "缺少指令。",
    "No such command {name!r}.": "沒有 {name!r} 這個指令。",
    "No such option {name!r}.": "沒有 {name!r} 這個選項。",
    "No such option: {name}": "沒有這個選項：{name}",
    "Option {name!r} does not take a value.": "選項 {name!r} 不需要值。",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值不正確：{message}",
    "Invalid value: {message}": "值不正確：{message}",
    "Aborted!": "已中斷。",
    "default: {default}": "預設：{default}",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是資料夾，不是檔案。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是檔案，不是資料夾。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 無法讀取。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 無法寫入。",
    "file": "檔案",
    "directory": "資料夾",
    "path": "路徑",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的數字。",
    "{value} is not in the range {range}.": "{value} 不在範圍 {range} 內。",
    "Choose from:\n\t{choices}": "可選：\n\t{choices}",
    "Could not open file {filename!r}: {message}": "無法開啟檔案 {filename!r}：{message}",
}

PLURAL = {
    "Got unexpected extra argument ({args})": "多了參數（{args}）",
    "Option {name!r} requires an argument.": "選項 {name!r} 需要一個值。",
    "{value!r} is not {choice}.": "{value!r} 不是可用的值（{choices}）。",
    "{value!r} does not match the format {format}.": "{value!r} 不符合格式 {format}。",
    "Did you mean {possibility}?": "您是指 {possibility} 嗎？",
}


def _(message: str) -> str:
    return TEXT.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    if singular in PLURAL:
        return PLURAL[singular]
    return singular if n == 1 else plural


class HelpFormatter(click.HelpFormatter):
    """click's help layout with full-width punctuation."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")


class Option(click.Option):
    """An option whose help ends in （必填） or （預設：…） rather than [required]."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        if record is None:
            return None
        spec, help_text = record
        extra = re.search(r" *\[([^\[\]]*)\]$", help_text)
        if extra:
            help_text = f"{help_text[:extra.start()]}（{extra.group(1).replace('; ', '；')}）"
        return spec, help_text


def _display_width(x: str) -> int:  # click's term_len(x), by display width
    from click._compat import strip_ansi

    from .display import text_width

    return text_width(strip_ansi(x))


def install() -> None:
    """Point click's gettext names at the tables above (once; cheap)."""
    import click.formatting

    click.formatting.term_len = _display_width  # columns line up under CJK text
    click.Context.formatter_class = HelpFormatter
    module: Any  # a click module: `_` and `ngettext` are read and replaced by name
    for name, module in list(sys.modules.items()):
        if name == "click" or name.startswith("click."):
            if getattr(module, "_", None) is not None and getattr(module._, "__module__", "") == "gettext":
                module._ = _
            if getattr(module, "ngettext", None) is not None and \
                    getattr(module.ngettext, "__module__", "") == "gettext":
                module.ngettext = ngettext
