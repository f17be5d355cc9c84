"""The master's 明細 written while the isolated workers are still reading returns.

明細 lists the units in plan order, and a unit's rows come from the latest usable
return of that unit. So unit *k* can be written as soon as no file still unread
can be a return of units 1…k. Which files can be is settled before any file is
opened, by a cheap recognition of each file's name: the name a template of that
unit is given, else the longest unit name in it (see :func:`guess_units`).

The order, and why it is deterministic:

1. files whose name names no unit are read first (any of them could be anyone's);
2. then the files unit by unit, in plan order (ties: the order they were found in);
3. the pool answers in the order it is given, whatever order the workers finish in,
   so unit *k* is written right after the last file named for units up to *k* is
   read — the same moment, with the same inputs, on one core or many.

The name only schedules the reading; the file's content decides whose it is. When
a file turns out to be the return of a unit already written (a unit's file under
another unit's name), or when the choice made here differs in any way from the
one the scoring makes, the stream is spoiled and the master is written again from
the finished merge, as a sequential run writes it. Either way the bytes are those
of :func:`~xltool.master.writer.write_sequentially`: the same calls write a unit's
rows, in the same order, in both.
"""
from __future__ import annotations

from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from ..files import atomic_path
from ..intake import Return
from ..plan import Plan

if TYPE_CHECKING:
    from ..intake.log import Received
    from .merge import MergeResult
    from .writer import MasterWriter

FREE_SEARCH_UP_TO = 500  # files not named like a template: look for unit names in these


def guess_units(plan: Plan, files: list[Path]) -> list[int | None]:
    """Each file's unit (its index in the plan) as its name says, or None. Only a
    schedule: nothing is opened, and nothing here decides whose a return is."""
    from ..forms.template import template_filename

    units = [u.name for u in plan.units]
    stems = {template_filename(plan, name, "x")[:-2].casefold(): k for k, name in enumerate(units)}
    guesses: list[int | None] = [stems.get(f.stem.casefold()) for f in files]
    unnamed = [n for n, g in enumerate(guesses) if g is None]
    if len(unnamed) <= FREE_SEARCH_UP_TO:
        longest = sorted(range(len(units)), key=lambda k: -len(units[k]))
        for n in unnamed:
            stem = files[n].stem
            guesses[n] = next((k for k in longest if units[k] and units[k] in stem), None)
    return guesses


class Stream:
    """Decides when each unit's 明細 rows can be written, and writes them."""

    def __init__(self, plan: Plan, files: list[Path], writer: MasterWriter | None,
                 received: Received | None = None):
        self.units = [u.name for u in plan.units]
        self.position = {name: k for k, name in enumerate(self.units)}
        self.guesses = guess_units(plan, files)
        # Unnamed files first (-1), then unit by unit; found order within.
        self.order = sorted(range(len(files)), key=lambda n: (
            -1 if self.guesses[n] is None else self.guesses[n], n))
        self.unread = Counter(self.guesses)
        self.candidates: dict[str, list[tuple[int, Return]]] = {}
        self.chosen: dict[str, Return | None] = {}
        self.writer = writer
        self.received = received  # the collect logs: they settle ties of save time
        self.next = 0  # the next unit to write
        self.spoiled = False

    def add(self, index: int, ret: Return) -> None:
        """One file read (``index``: its place in the found order)."""
        self.unread[self.guesses[index]] -= 1
        if ret.usable and ret.unit:
            k = self.position.get(ret.unit)
            if k is not None and k < self.next:
                self.spoiled = True  # its unit's rows are out already
            self.candidates.setdefault(ret.unit, []).append((index, ret))
        if not self.unread[None]:
            while self.next < len(self.units) and not self.unread[self.next]:
                self._write(self.next)

    def finish(self) -> None:
        """Every file is read: the units still to write."""
        while self.next < len(self.units):
            self._write(self.next)

    def _write(self, k: int) -> None:
        from .choice import chosen_of, ranked

        unit = self.units[k]
        found = [ret for _, ret in sorted(self.candidates.pop(unit, []), key=lambda c: c[0])]
        chosen = chosen_of(ranked(found, self.received))  # as score() does
        self.chosen[unit] = chosen
        self.next = k + 1
        if self.writer is not None and not self.spoiled:
            self.writer.unit(unit, chosen)

    def holds(self, result: MergeResult) -> bool:
        """Whether the rows written are those the scoring chose, unit for unit."""
        return not self.spoiled and len(self.chosen) == len(result.units) and all(
            self.chosen.get(s.unit) is s.ret for s in result.units)


class StreamedMaster:
    """A master written during the merge, beside its target; it replaces the target
    only on :meth:`commit` (and is discarded otherwise, e.g. ``--strict`` with errors)."""

    def __init__(self, plan: Plan, target: Path):
        self.plan, self.target = plan, Path(target)
        self._stack = ExitStack()
        self.committed = False
        self.rewritten = False  # the stream was spoiled: written again from the result
        self.writer: MasterWriter | None = None
        self.stream: Stream | None = None

    def __enter__(self) -> StreamedMaster:
        from .writer import MasterWriter

        self.path = self._stack.enter_context(atomic_path(self.target))
        self.writer = MasterWriter(self.plan, self.path)
        return self

    def begin(self, received: Received, files: list[Path]) -> Stream:
        """The collect logs, and the files about to be read: the stream to feed."""
        assert self.writer is not None  # entered
        self.writer.begin(received)
        self.stream = Stream(self.plan, files, self.writer, received)
        return self.stream

    def commit(self, result: MergeResult) -> Path | None:
        """Finish the master and move it into place; returns the backup of the old one."""
        from .writer import backup_of, write_sequentially

        assert self.writer is not None
        if self.stream is None or not self.stream.holds(result):
            self.writer.close()
            self.rewritten = True
            write_sequentially(result, self.path)
        else:
            self.writer.finish(result)
        self.writer = None  # closed
        backup = backup_of(self.target)
        self.committed = True
        self._stack.close()  # os.replace onto the target
        return backup

    def __exit__(self, kind, exc, tb) -> None:
        if self.committed:
            return
        if self.writer is not None:
            try:
                self.writer.close()
            except Exception:  # noqa: BLE001 — discarded anyway; the first error is the one to see
                pass
        error = exc if exc is not None else _Discarded()
        self._stack.__exit__(type(error), error, None)  # the temporary file is removed


class _Discarded(Exception):
    """Not committed: the temporary master is removed, the target left as it was."""
