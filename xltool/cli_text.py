"""Click's own words (usage, help, argument errors) in Traditional Chinese.

Click translates through gettext, but ships no catalogues; a catalogue would have
to be compiled and found through the user's locale settings, which Windows users
rarely have. So the few messages a user can meet are looked up here instead, by
replacing the `_` and `ngettext` that click's modules imported from gettext.
Unknown messages (a newer click) stay in English rather than break.
"""
from __future__ import annotations

import sys
from typing import Any

TEXT = {
    "Usage:": "用法：",
    "Options": "選項",
    "Commands": "指令",
    "Positional arguments": "參數",
    "Show this message and exit.": "顯示本說明後結束。",
    "Show the version and exit.": "顯示版本後結束。",
    "Error: {message}": "錯誤：{message}",
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
    "{value!r} is not {choice}.": "{value!r} 不是 {choice}。",
    "{value!r} does not match the format {format}.": "{value!r} 不符合格式 {format}。",
    "Did you mean {possibility}?": "您是指 {possibility} 嗎？",
}


def _(message: str) -> str:
    return TEXT.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    if singular in PLURAL:
        return PLURAL[singular]
    return singular if n == 1 else plural


def install() -> None:
    """Point click's gettext names at the tables above (once; cheap)."""
    module: Any  # a click module: `_` and `ngettext` are read and replaced by name
    for name, module in list(sys.modules.items()):
        if name == "click" or name.startswith("click."):
            if getattr(module, "_", None) is not None and getattr(module._, "__module__", "") == "gettext":
                module._ = _
            if getattr(module, "ngettext", None) is not None and \
                    getattr(module.ngettext, "__module__", "") == "gettext":
                module.ngettext = ngettext
