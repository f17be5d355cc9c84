"""Print a workbook to PDF with LibreOffice headless, when it is installed."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import XltoolError
from ..files import atomic_path, find_soffice

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
