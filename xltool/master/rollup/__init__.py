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


def write_rollup(result: Rollup, target) -> None:
    """Write the roll-up in the format ``target``'s extension names: .xlsx, .odt, .docx or .html."""
    from pathlib import Path

    if Path(target).suffix.lower() == ".xlsx":
        from .workbook import write_rollup_xlsx

        write_rollup_xlsx(result, Path(target))
    else:
        from ..documents.content import write_document
        from .document import rollup_document

        write_document(rollup_document(result), target)
