"""Finding the candidate returns in the folders and files given."""
from __future__ import annotations

from pathlib import Path

from ..errors import Issue
from ..files import display_name
from ..reading.gate import SPREADSHEET_SUFFIXES


def discover(paths: list[Path]) -> tuple[list[Path], list[Issue]]:
    """Expand files and folders into candidate returns, in a stable order."""
    files, issues, seen = [], [], set()
    for p in paths:
        p = Path(p)
        found = sorted((f for f in p.rglob("*") if f.is_file()), key=lambda f: str(f)) \
            if p.is_dir() else [p]
        for f in found:
            key = f.resolve()
            if key in seen:
                continue
            seen.add(key)
            if f.name.startswith("~$") or f.name.startswith(".~lock."):
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
    return files, issues
