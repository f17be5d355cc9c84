"""Read a plan document (.docx, .odt; .doc through LibreOffice) into a
:class:`~.document_plan.PlanDraft`: what `xltool init --from` turns into a plan
workbook.

The file is gated and parsed in an isolated worker (the reading layer's
:class:`~xltool.reading.isolation.Pool`), like every file from outside: a
document that crashes, hangs or swells its parser costs only that worker, and
every refusal is one :class:`DocumentRefused` with a plain zh-TW message.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ...errors import Issue, XltoolError
from ...files import display_name, find_soffice
from ...reading.gate import Rejected
from ...reading.isolation import Failure, Limits, Pool
from .draft import NoPlanTable, PlanDraft, no_table_issue, read_draft

SUFFIXES = (".docx", ".odt", ".doc")
CONVERT_HINT = ("「{name}」是舊版 Word 文件（.doc），需要 LibreOffice 才能讀取，但找不到 soffice。"
                "請以 Word 或 LibreOffice Writer 開啟後「另存新檔」為 .docx 或 .odt 再執行；"
                "或安裝 LibreOffice（https://zh-tw.libreoffice.org/；Debian／Ubuntu："
                "sudo apt-get install libreoffice-writer-nogui）。")


class DocumentRefused(XltoolError):
    """The document cannot be used; ``issue`` says why, in the user's terms."""

    def __init__(self, issue: Issue):
        self.issue = issue
        super().__init__(issue.message)


def read_plan_document(path: Path, limits: Limits | None = None) -> PlanDraft:
    """The plan a document sets out. Raises :class:`DocumentRefused`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentRefused(Issue("wrong-format", f"「{display_name(path)}」不是計畫文件；"
                                    "可讀取 .docx、.odt，安裝 LibreOffice 時也可讀取 .doc。",
                                    file=display_name(path)))
    if suffix == ".doc":
        with tempfile.TemporaryDirectory(prefix="xltool-doc-") as tmp:
            converted = convert_doc(path, Path(tmp))
            draft = _read(converted, limits)
        draft.source = display_name(path)
        return draft
    return _read(path, limits)


def _read(path: Path, limits: Limits | None) -> PlanDraft:
    with Pool(_job, limits=limits) as pool:
        answer = pool.call(path)
    name = display_name(path)
    if isinstance(answer, Failure):
        from ...reading.workbook import failure_issue

        raise DocumentRefused(failure_issue(path, answer, pool.limits))
    status, value = answer
    if status == "rejected":
        raise DocumentRefused(value)
    if status == "no-table":
        raise DocumentRefused(no_table_issue(name))
    return value


def _job(_context: Any, path: Path) -> tuple[str, Any]:
    from .files import read_document_here

    try:
        blocks = read_document_here(path)
        return "ok", read_draft(blocks, display_name(path))
    except Rejected as exc:
        return "rejected", exc.issue
    except NoPlanTable:
        return "no-table", None



def convert_doc(path: Path, out_dir: Path, timeout: int = 180) -> Path:
    """A .doc converted to .docx by LibreOffice headless (its own process, a private
    profile, a time limit), in ``out_dir``."""
    name = display_name(path)
    exe = find_soffice()
    if exe is None:
        raise DocumentRefused(Issue("needs-libreoffice", CONVERT_HINT.format(name=name), file=name))
    with path.open("rb") as fh:
        if fh.read(8) != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise DocumentRefused(Issue("wrong-format", f"「{name}」的內容不是 .doc 格式（可能是改了副檔名的"
                                        "其他檔案），請以文書處理程式重新存檔。", file=name))
    source = out_dir / "document.doc"  # a plain name: soffice and the shell need no quoting
    shutil.copyfile(path, source)
    profile = (out_dir / "profile").resolve().as_uri()
    try:
        proc = subprocess.run([exe, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                               "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(out_dir),
                               str(source)], capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DocumentRefused(Issue("timeout", f"LibreOffice 轉換「{name}」逾時（{timeout} 秒）；"
                                    "請以文書處理程式另存為 .docx 或 .odt 後再執行。", file=name))
    produced = out_dir / "document.docx"
    if proc.returncode != 0 or not produced.exists():
        raise DocumentRefused(Issue("unreadable", f"LibreOffice 無法轉換「{name}」；檔案可能已損毀，"
                                    "請以文書處理程式另存為 .docx 或 .odt 後再執行。", file=name))
    return produced
