"""The collect log: who sent each return, when and in which message, and the
evidence files (佐證資料) kept with them.

``xltool collect`` appends one JSON line per saved file beside the returns
(never rewriting the file); the merge reads it to show who sent what, and which
evidence each unit sent. A damaged or half-written log is a warning, never a
failure. Evidence is kept in :data:`EVIDENCE_DIR` under the returns folder, one
folder per unit, marked with :data:`EVIDENCE_MARKER` so that no stage ever takes
an evidence file for a return (see discover.py).
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from ..errors import WARNING, Issue

LOG_NAME = ".xltool-collect.jsonl"  # beside the returns
OLD_LOG_NAME = ".xltool-collect.json"  # the whole-file log of earlier versions, still read
EVIDENCE_DIR = "佐證資料"  # under the returns folder: one folder per unit
UNASSIGNED_DIR = "（未歸屬單位）"  # evidence whose unit could not be told
EVIDENCE_MARKER = ".xltool-evidence"  # marks an evidence folder: never read for returns
EVIDENCE = "evidence"  # the kind of a log record of an evidence file


def read_log(folder: Path) -> dict:
    """Who sent each saved file: ``{"files": {name: record}, "evidence": [record, …],
    "seen": [key, …], "issues": [Issue, …]}``. Reads the JSON Lines log and an older
    whole-file log; a damaged or half-written log is a warning, and what can be read
    is used. An evidence record's ``file`` is its path under the folder (posix)."""
    folder = Path(folder)
    found: dict = {"files": {}, "evidence": [], "seen": [], "issues": []}
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
                key = record.get("key")
                if record.get("kind") == EVIDENCE:
                    found["evidence"].append(record)
                else:
                    found["files"][record.pop("file")] = record
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


@dataclass
class EvidenceFile:
    """One evidence file kept by collect, and every message that carried it."""

    unit: str  # "" when no unit could be told (the unassigned folder)
    path: str  # as people find it: the returns folder given, then 佐證資料/…
    name: str  # the stored file's name
    attachment: str  # the attachment's name in the message, as shown
    size: int | None
    sha256: str
    messages: list[dict] = field(default_factory=list)  # message_id, sender, date, subject


@dataclass
class Received:
    """What the collect logs beside the returns say: the message of each return
    (file name → record) and the evidence kept, by unit ("" for unassigned)."""

    returns: dict[str, dict] = field(default_factory=dict)
    evidence: dict[str, list[EvidenceFile]] = field(default_factory=dict)
    folders: dict[str, str] = field(default_factory=dict)  # unit → its evidence folder

    def sender(self, name: str) -> str:
        """Who sent the return ``name``, and when: "寄件者（2020-07-08 10:12）"."""
        rec = self.returns.get(name)
        if rec is None:
            return ""
        return f"{rec.get('sender', '')}（{str(rec.get('date', ''))[:16].replace('T', ' ')}）"


SENT_NAME_CHARS = 80  # of an attachment's name as a mail gave it, where it is quoted


def as_mailed(record: Mapping | None, name: str) -> tuple[str, datetime | None] | None:
    """The attachment a collected file ``name`` came as, and when it arrived (None where
    the log has no time), where the collect log's ``record`` names one other than the
    file's own name; else None (a file put in the folder by hand, or kept as sent)."""
    sent = str((record or {}).get("attachment") or "")
    if not sent or sent == name:
        return None
    try:
        return sent, datetime.fromisoformat(str((record or {}).get("date", "")))
    except ValueError:
        return sent, None


def received_from(paths: list[Path]) -> tuple[Received, list[Issue]]:
    """The collect logs of the folders in ``paths``; a damaged log is a warning, and
    the merge goes on without what could not be read."""
    got, issues = Received(), []
    for folder in (Path(p) for p in paths):
        if not folder.is_dir():
            continue
        log = read_log(folder)
        issues.extend(log["issues"])
        got.returns.update(log["files"])
        by_path: dict[str, EvidenceFile] = {}
        for rec in log["evidence"]:
            _add_evidence(got, by_path, folder, rec)
    return got, issues


def _add_evidence(got: Received, by_path: dict[str, EvidenceFile], folder: Path, rec: dict) -> None:
    rel = str(rec.get("file", ""))
    parts = Path(rel).parts
    if len(parts) < 3 or parts[0] != EVIDENCE_DIR or ".." in parts:
        return  # not a path collect writes: never followed
    message = {k: str(rec.get(k, "")) for k in ("message_id", "sender", "date", "subject")}
    known = by_path.get(rel)
    if known is not None:
        known.messages.append(message)
        return
    unit = str(rec.get("unit", ""))
    size = rec.get("size")
    ev = EvidenceFile(unit, _text(folder.joinpath(*parts)), parts[-1], str(rec.get("attachment", "")),
                      size if isinstance(size, int) else None, str(rec.get("sha256", "")), [message])
    by_path[rel] = ev
    got.evidence.setdefault(unit, []).append(ev)
    got.folders.setdefault(unit, _text(folder.joinpath(*parts[:-1])))


def _text(path: Path) -> str:
    """A path as text that any writer takes: undecodable bytes (a Big5 folder name
    on Linux) replaced."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def senders_of(paths: list[Path]) -> tuple[dict[str, str], list[Issue]]:
    """Who sent each file, from the logs beside the returns; a damaged log is a
    warning, and the merge goes on without it."""
    got, issues = received_from(paths)
    return {name: got.sender(name) for name in got.returns}, issues
