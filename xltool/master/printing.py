"""Print a workbook to PDF with LibreOffice headless, when it is installed."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import Issue, XltoolError
from ..files import atomic_path, display_name, find_soffice

INSTALL_HINT = ("需要 LibreOffice 才能產生 PDF，但找不到 soffice。安裝方式："
                "Windows 或 macOS 請至 https://zh-tw.libreoffice.org/ 下載安裝；"
                "Debian／Ubuntu 請執行 sudo apt-get install libreoffice-calc-nogui fonts-noto-cjk。")


def to_pdf(workbook: Path, target: Path | None = None, timeout: int = 300) -> Path:
    """Convert ``workbook`` to PDF (default: beside it, same name) and return the PDF."""
    workbook = Path(workbook)
    target = Path(target) if target else workbook.with_suffix(".pdf")
    exe = find_soffice()
    if exe is None:
        raise XltoolError(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="xltool-pdf-") as tmp:
        tmp_dir = Path(tmp)
        # A private profile: never disturbs, or waits for, a LibreOffice the user has open.
        profile = (tmp_dir / "profile").resolve().as_uri()
        try:
            proc = subprocess.run([exe, f"-env:UserInstallation={profile}", "--headless",
                                   "--norestore", "--convert-to", "pdf", "--outdir", str(tmp_dir),
                                   str(workbook.resolve())], capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise XltoolError(f"LibreOffice 轉換「{workbook.name}」逾時（{timeout} 秒）。")
        produced = tmp_dir / (workbook.stem + ".pdf")
        if proc.returncode != 0 or not produced.exists():
            raise XltoolError(f"LibreOffice 無法將「{workbook.name}」轉成 PDF。")
        with atomic_path(target) as out:
            shutil.copyfile(produced, out)
    return target


def print_master(master: Path) -> tuple[Path | None, list[Issue]]:
    """The PDF of the master just written, beside it. Where LibreOffice cannot make it the
    master stands all the same: the reason is returned, and the PDF of an earlier master
    is set aside (:func:`set_aside_stale_pdf`) so that it cannot pass for this one."""
    try:
        return to_pdf(master), []
    except XltoolError as exc:
        failed = Issue("pdf-failed", f"總表已寫出，但未能轉成 PDF：{exc}", file=display_name(master))
        return None, [failed] + set_aside_stale_pdf(master)


def set_aside_stale_pdf(master: Path) -> list[Issue]:
    """Rename the PDF beside ``master`` (an earlier ``merge --pdf``'s, showing the old
    scores) the way the master's backups are named, 總表-備份-YYYYMMDD-HHMMSS.pdf from
    its own time saved, so that it no longer looks current. Nothing is deleted: the
    file may not be xltool's. Returns what was done, for the person to read."""
    from .writer import backup_path

    master = Path(master)
    pdf = master.with_suffix(".pdf")
    if not pdf.is_file():
        return []
    again = "需要 PDF 時請加上 --pdf 重新彙整，或以 xltool print 將總表轉成 PDF。"
    try:
        backup = backup_path(pdf)
        if backup is None:  # gone since: nothing left to set aside
            return []
        os.replace(pdf, backup)  # a backup already of that name holds these very bytes
    except OSError as exc:
        return [Issue("stale-pdf", f"先前的總表轉出的 PDF，不是本次彙整的結果，但無法改名"
                                   f"（{exc.strerror or exc}）；請勿採用，關閉該檔後改名或刪除。{again}",
                      file=display_name(pdf))]
    return [Issue("stale-pdf-moved", f"先前的總表轉出的 PDF，不是本次彙整的結果，已改名為"
                                     f"「{display_name(backup)}」。{again}", file=display_name(pdf))]
