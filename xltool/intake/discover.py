"""Finding the candidate returns in the folders and files given.

Evidence files that ``xltool collect`` keeps (佐證資料, see log.py) are never
candidates: a folder marked as an evidence folder, or the 佐證資料 folder beside
a collect log, is passed over, whichever folder the walk started from."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import WARNING, Issue
from ..files import display_name
from ..reading.gate import SPREADSHEET_SUFFIXES
from .log import EVIDENCE_DIR, EVIDENCE_MARKER, LOG_NAME, OLD_LOG_NAME


def discover(paths: list[Path]) -> tuple[list[Path], list[Issue]]:
    """Expand files and folders into candidate returns, in a stable order."""
    files, issues, seen = [], [], set()
    evidence = _EvidenceFolders()
    for p in paths:
        p = Path(p)
        found = sorted((f for f in p.rglob("*") if f.is_file()), key=lambda f: str(f)) \
            if p.is_dir() else [p]
        for f in found:
            key = os.path.realpath(f)  # what Path.resolve gives, without a Path per step
            if key in seen:
                continue
            seen.add(key)
            if evidence.holds(f):
                if f == p:  # named on its own: say why it is not read
                    issues.append(Issue("not-a-return", f"「{display_name(f)}」是收取郵件時保存的佐證資料，"
                                        "不是回傳檔，已略過。", file=display_name(f)))
            elif f.name.startswith("~$") or f.name.startswith(".~lock."):
                issues.append(Issue("lock-file", f"「{display_name(f)}」是 Office／LibreOffice 的暫存鎖定檔，"
                                    "已略過。", file=display_name(f)))
            elif f.name.startswith(".xltool-"):
                continue  # xltool's own records (who sent which file), not a return
            elif f.name.startswith(".~xltool-"):
                issues.append(Issue("lock-file", f"「{display_name(f)}」是 xltool 中斷時留下的暫存檔，"
                                    "已略過，可刪除。", file=display_name(f)))
            elif f.suffix.lower() not in SPREADSHEET_SUFFIXES:
                issues.append(Issue("not-a-return", f"「{display_name(f)}」不是試算表檔，已略過。",
                                    file=display_name(f)))
            else:
                files.append(f)
    if not files:  # every unit will be 未繳: say why at once (a wrong folder, say)
        where = "、".join(f"「{display_name(Path(p))}」" for p in paths) or "指定的位置"
        issues.append(Issue("no-returns", f"{where}中沒有找到任何試算表檔（.xlsx、.xlsm、.xls、.ods），"
                            "所有單位都將列為未繳；請確認回收資料夾是否正確。", WARNING))
    return files, issues


class _EvidenceFolders:
    """Whether a file lies in an evidence folder, each folder looked at once."""

    def __init__(self) -> None:
        self._known: dict[Path, bool] = {}
        self._within: dict[Path, bool] = {}  # a folder → whether it or one above is evidence

    def holds(self, path: Path) -> bool:
        folder = Path(path).parent
        answer = self._within.get(folder)
        if answer is None:  # asked once per folder, not once per file in it
            answer = self._within[folder] = any(
                self._is_evidence(f) for f in Path(path).absolute().parents)
        return answer

    def _is_evidence(self, folder: Path) -> bool:
        answer = self._known.get(folder)
        if answer is None:
            answer = (folder / EVIDENCE_MARKER).is_file() or (
                folder.name == EVIDENCE_DIR and any((folder.parent / n).is_file()
                                                    for n in (LOG_NAME, OLD_LOG_NAME)))
            self._known[folder] = answer
        return answer
