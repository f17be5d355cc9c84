"""Print a workbook to PDF with LibreOffice headless, when it is installed."""
from __future__ import annotations

import os
import re
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
    if _exists(target) and not is_ours(target):
        raise XltoolError(f"「{display_name(target)}」已存在，且不是 xltool 轉出的 PDF（或由舊版 xltool 轉出），"
                          "為免覆蓋而未寫入；請以 -o 指定其他檔名，或將該檔改名、移走後重新執行。")
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
        mark_as_ours(produced, workbook.name)
        with atomic_path(target) as out:
            shutil.copyfile(produced, out)
    return target


def print_master(master: Path) -> tuple[Path | None, list[Issue]]:
    """The PDF of the master just written, beside it. Where LibreOffice cannot make it the
    master stands all the same: the reason is returned, and the PDF of an earlier master
    is set aside (:func:`set_aside_stale_pdf`) so that it cannot pass for this one. A PDF
    of that name that xltool did not write is someone's own: it is never overwritten."""
    pdf = Path(master).with_suffix(".pdf")
    if _exists(pdf) and not is_ours(pdf):
        return None, [Issue("pdf-name-taken", f"總表已寫出，但未轉成 PDF：「{display_name(pdf)}」已存在，"
                            "且不是 xltool 轉出的檔案，為免覆蓋而未寫入；請將該檔改名或移到其他資料夾後，"
                            f"執行 xltool print {display_name(master)} 轉成 PDF。", file=display_name(pdf))]
    try:
        return to_pdf(master), []
    except XltoolError as exc:
        failed = Issue("pdf-failed", f"總表已寫出，但未能轉成 PDF：{exc}", file=display_name(master))
        return None, [failed] + set_aside_stale_pdf(master)


def set_aside_stale_pdf(master: Path) -> list[Issue]:
    """Rename the PDF beside ``master`` that xltool printed (an earlier ``merge --pdf``'s
    or ``xltool print``'s, showing the old scores) the way the master's backups are
    named, 總表-備份-YYYYMMDD-HHMMSS.pdf from its own time saved, so that it no longer
    looks current. A PDF of that name xltool did not write (see :func:`is_ours`) is
    left as it is, and said. Nothing is deleted. Returns what was done, for the person
    to read."""
    from .writer import backup_path

    master = Path(master)
    pdf = master.with_suffix(".pdf")
    if not _exists(pdf):
        return []
    again = "需要 PDF 時請加上 --pdf 重新彙整，或以 xltool print 將總表轉成 PDF。"
    if not is_ours(pdf):
        return [Issue("pdf-not-ours", f"與總表同名的 PDF 不是 xltool 轉出的檔案（或由舊版 xltool 轉出），未改名；"
                                      "它不是本次彙整的結果，若其中是先前總表的分數，請勿採用。"
                                      f"{again}（須先將該檔改名或移走）", file=display_name(pdf))]
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


def _exists(pdf: Path) -> bool:
    """A file (or a link to one) is there; a folder of that name is not a PDF to set aside."""
    try:
        return pdf.is_file()
    except OSError:
        return False


# ------------------------------------------------------------ xltool's own PDFs

# The key xltool adds to the document information of each PDF it writes, naming the
# workbook printed: what tells its PDFs from a person's own file of the same name (a
# signed scan, a print from Excel), which xltool never renames nor overwrites.
MARK_KEY = b"/XltoolPrintOf"
MARK_SCAN = 1 << 20  # bytes read at a time when looking for it


def is_ours(pdf: Path) -> bool:
    """Whether ``pdf`` is a PDF xltool wrote (see :func:`mark_as_ours`); False where
    it cannot be read."""
    try:
        with Path(pdf).open("rb") as fh:
            tail = b""
            while chunk := fh.read(MARK_SCAN):
                if MARK_KEY in tail + chunk:
                    return True
                tail = chunk[-len(MARK_KEY):]
    except OSError:
        return False
    return False


_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_TRAILER = re.compile(rb"(?s).*trailer\s*<<(.*?)>>\s*startxref")


def mark_as_ours(pdf: Path, workbook: str) -> bool:
    """Add :data:`MARK_KEY` to ``pdf``'s document information, as an incremental update
    (the original bytes stay as they are, and every reader reads the update). A PDF
    whose trailer is not the plain one LibreOffice writes is left unmarked (False):
    it is then never set aside, only said."""
    data = pdf.read_bytes()
    end = _STARTXREF.search(data[-64:])
    trailer = _TRAILER.match(data, max(0, len(data) - 4096))
    if end is None or trailer is None:
        return False
    fields = trailer.group(1)
    size, root = re.search(rb"/Size\s+(\d+)", fields), re.search(rb"/Root\s+(\d+\s+\d+\s+R)", fields)
    info = re.search(rb"/Info\s+(\d+)\s+(\d+)\s+R", fields)
    ids = re.search(rb"/ID\s*(\[[^\]]*\])", fields)
    if size is None or root is None or info is None:
        return False
    num, gen = int(info.group(1)), int(info.group(2))
    defined = list(re.finditer(rb"(?s)(?:^|[\r\n])%d %d obj\s*<<(.*?)>>\s*endobj" % (num, gen), data))
    if not defined:
        return False
    found = defined[-1]  # the latest definition is the one in force
    name = "FEFF" + workbook.encode("utf-16-be").hex().upper()
    obj_at = len(data) + 1
    update = b"\n%d %d obj\n<<%s%s<%s>>>\nendobj\n" % (num, gen, found.group(1), MARK_KEY, name.encode("ascii"))
    xref_at = obj_at + len(update) - 1
    update += (b"xref\n%d 1\n%010d %05d n \ntrailer\n<</Size %s/Root %s/Info %d %d R%s/Prev %s>>\n"
               b"startxref\n%d\n%%%%EOF\n" % (num, obj_at, gen, size.group(1), root.group(1), num, gen,
                                               b"/ID " + ids.group(1) if ids else b"", end.group(1), xref_at))
    with pdf.open("ab") as fh:
        fh.write(update)
    return True
