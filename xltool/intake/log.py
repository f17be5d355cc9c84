"""The collect log: who sent each return, when and in which message.

``xltool collect`` appends one JSON line per saved file beside the returns
(never rewriting the file); the merge reads it to show who sent what. A damaged
or half-written log is a warning, never a failure.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TextIO

from ..errors import WARNING, Issue

LOG_NAME = ".xltool-collect.jsonl"  # beside the returns
OLD_LOG_NAME = ".xltool-collect.json"  # the whole-file log of earlier versions, still read


def read_log(folder: Path) -> dict:
    """Who sent each saved file: ``{"files": {name: record}, "seen": [key, …],
    "issues": [Issue, …]}``. Reads the JSON Lines log and an older whole-file log;
    a damaged or half-written log is a warning, and what can be read is used."""
    folder = Path(folder)
    found: dict = {"files": {}, "seen": [], "issues": []}
    if (folder / OLD_LOG_NAME).exists():
        _read_old_log(folder / OLD_LOG_NAME, found)
    if (folder / LOG_NAME).exists():
        _read_log_lines(folder / LOG_NAME, found)
    return found


def _read_old_log(path: Path, found: dict) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        found["files"].update({str(k): dict(v) for k, v in dict(data.get("files", {})).items()})
        found["seen"].extend(str(k) for k in data.get("seen", []))
    except (OSError, ValueError, TypeError, AttributeError):
        found["issues"].append(_damaged_log(path, "無法讀取"))


def _read_log_lines(path: Path, found: dict) -> None:
    bad = 0
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if not isinstance(record, dict) or not isinstance(record.get("file"), str):
                    bad += 1
                    continue
                name, key = record.pop("file"), record.pop("key", None)
                found["files"][name] = record
                if isinstance(key, str):
                    found["seen"].append(key)
    except OSError:
        found["issues"].append(_damaged_log(path, "無法讀取"))
        return
    if bad:
        found["issues"].append(_damaged_log(path, f"有 {bad} 行無法讀取（可能在寫入時中斷）"))


def _damaged_log(path: Path, what: str) -> Issue:
    return Issue("damaged-log", f"收件紀錄「{path.name}」{what}，已略過無法讀取的部分；其餘紀錄照常"
                                "使用，先前收過的郵件可能會再存一次。", WARNING, file=path.name)


class CollectLog:
    """The collect log, appended one line per saved file (never rewritten)."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOG_NAME
        self._fh: TextIO | None = None

    def add(self, name: str, record: dict) -> None:
        if self._fh is None:
            self._fh = self._open()
        self._fh.write(json.dumps({"file": name, **record}, ensure_ascii=False) + "\n")
        self._fh.flush()  # a crash loses at most the line being written

    def _open(self) -> TextIO:
        ends_mid_line = False
        if self.path.exists() and self.path.stat().st_size:
            with self.path.open("rb") as existing:
                existing.seek(-1, os.SEEK_END)
                ends_mid_line = existing.read(1) != b"\n"
        fh = self.path.open("a", encoding="utf-8", newline="\n")
        if ends_mid_line:  # an interrupted write: keep it on a line of its own
            fh.write("\n")
        return fh

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def senders_of(paths: list[Path]) -> tuple[dict[str, str], list[Issue]]:
    """Who sent each file, from the logs beside the returns; a damaged log is a
    warning, and the merge goes on without it."""
    found, issues = {}, []
    for folder in (Path(p) for p in paths):
        if folder.is_dir():
            log = read_log(folder)
            issues.extend(log["issues"])
            for name, rec in log["files"].items():
                found[name] = f"{rec.get('sender', '')}（{rec.get('date', '')[:16].replace('T', ' ')}）"
    return found, issues
