"""`xltool rollup`: the branches' masters into the 局's 附表2, one verified row per branch.

:mod:`.verify` checks each master against its own identity and scores it again
(the 執行成果's scorer); :mod:`.roster` reads the 局's list of branches;
:mod:`.table` makes the rows and what sums them up; :mod:`.workbook` and
:mod:`.document` write them.
"""
from .roster import Roster, RosterError, read_roster
from .table import Rollup, Row, rollup
from .verify import Branch, Scheme, Unverified, verify_master

__all__ = ["Branch", "Rollup", "Roster", "RosterError", "Row", "Scheme", "Unverified", "read_roster",
           "rollup", "verify_master", "write_rollup"]


def write_rollup(result: Rollup, target):
    """Write the roll-up in the format ``target``'s extension names: .xlsx, .odt, .docx or
    .html. Returns where a different file that was at ``target`` has been kept (see
    :func:`~xltool.master.writer.write_keeping`), or None."""
    from pathlib import Path

    from ...file_locks import check_not_open
    from ..documents.content import write_document
    from ..writer import write_keeping

    if Path(target).suffix.lower() == ".xlsx":
        from .workbook import write_rollup_xlsx

        check_not_open(Path(target))
        return write_keeping(Path(target), lambda path: write_rollup_xlsx(result, path))
    from .document import rollup_document

    return write_document(rollup_document(result), target)
