"""Which of a unit's files the merge uses, and why each other one is not.

One rule, for the scoring (merge.score) and the master streamed while the files are
read (streaming.py) alike; it is the README's and 繳交狀態's: the latest trusted save
time, ties settled as :func:`ranked` says; a file with nothing filled in is no return,
and never beats one with content, whatever its save time.
"""
from __future__ import annotations

from datetime import datetime, timezone

from ..cells import local_text
from ..errors import Issue
from ..intake import Return
from ..intake.log import Received
from ..plan import Plan
from .store import StoredRows, any_entered

_NEVER = datetime.min.replace(tzinfo=timezone.utc)


def ranked(candidates: list[Return], received: Received | None = None) -> list[Return]:
    """A unit's usable returns, the one to use first. The rule (README, 繳交狀態):

    0. a file with anything entered before every blank one (:func:`blank`), whatever
       the save times: a template opened and saved again is no correction;
    1. the latest trusted save time (see metadata.saved_instant, recognise.trusted_time);
       a file whose time is not trusted, or that records none, loses to any that has one;
    2. files saved at the same instant (or all without a trusted time): identical
       copies count once, under the shortest name (the original, not 「 - 複製」);
       then the file the collect log says arrived later, when it knows every one;
    3. else the file with fewer errors, then fewer warnings (a correction is sent to
       fix what was wrong);
    4. else the longer file name (a correction is usually saved under the old name
       with 「(修正)」「_v2」 added), then the name that sorts last (第二版, v2).

    The streamed master chooses with this same function (streaming.py)."""
    groups: dict[tuple, list[Return]] = {}
    for ret in candidates:
        groups.setdefault(_saved_key(ret), []).append(ret)
    out: list[Return] = []
    for key in sorted(groups, reverse=True):
        out += _break_tie(groups[key], received) if len(groups[key]) > 1 else groups[key]
    return _blank_last(out)


def _blank_last(files: list[Return]) -> list[Return]:
    """``files`` in their order, the blank ones moved after all the others."""
    if len(files) < 2:
        return files
    empty = {id(r) for r in files if blank(r)}
    return [r for r in files if id(r) not in empty] + [r for r in files if id(r) in empty]


def _saved_key(ret: Return):
    """Latest first, by the instant each file was saved; no trusted time: last."""
    return ret.saved is not None, ret.saved or _NEVER


def _name_key(ret: Return):
    return len(ret.path.stem), ret.name, str(ret.path)


def _break_tie(group: list[Return], received: Received | None) -> list[Return]:
    """Files with one save time (see :func:`ranked`), the one to use first."""
    copies = _copies(group)
    originals = [same[0] for same in copies.values()]
    by_log = _by_log(originals, received)
    out: list[Return] = []
    for first in sorted(originals, key=lambda r: (_received_at(r, received) if by_log else _NEVER,
                                                  _fewer_problems(r), _name_key(r)), reverse=True):
        out += copies[first.sha256 or f"#{id(first)}"]
    return out


def _copies(group: list[Return]) -> dict[str, list[Return]]:
    """Files by content (SHA-256), each content's shortest name first."""
    copies: dict[str, list[Return]] = {}
    for ret in sorted(group, key=_name_key):
        copies.setdefault(ret.sha256 or f"#{id(ret)}", []).append(ret)
    return copies


def _fewer_problems(ret: Return) -> tuple[int, int]:
    """Higher for fewer errors, then fewer warnings."""
    return -ret.errors, -ret.warnings


def _by_log(files: list[Return], received: Received | None) -> bool:
    """Whether the collect log settles a tie: it knows when each file arrived, not all at once."""
    times = [_received_at(r, received) for r in files]
    return all(t is not None for t in times) and len(set(times)) > 1


def _received_at(ret: Return, received: Received | None) -> datetime | None:
    """When the collect log says the message carrying ``ret`` was sent (aware), if it knows."""
    record = received.returns.get(ret.name) if received is not None else None
    try:
        when = datetime.fromisoformat(str(record.get("date", ""))) if record else None
    except ValueError:
        return None
    return when.astimezone(timezone.utc) if when is not None and when.tzinfo else None


def is_older(ret: Return, than: Return) -> bool:
    return ret.saved is not None and than.saved is not None and ret.saved < than.saved


def why_not(plan: Plan, unit: str, old: Return, chosen: Return, candidates: list[Return],
             received: Received | None) -> Issue:
    """Why ``old`` is superseded by ``chosen``, truthfully (see :func:`ranked`)."""
    zone = plan.zone
    confirm = (f"請向「{unit}」確認：若應採用「{old.name}」，請將「{chosen.name}」移出回收資料夾後重新執行。")
    if old.sha256 and old.sha256 == chosen.sha256:
        return Issue("duplicate-return", f"「{old.name}」與採用的「{chosen.name}」內容完全相同（重複的檔案），"
                     "只採用一份。", file=old.name, unit=unit)
    if blank(old) and not blank(chosen):
        return _blank_superseded(unit, old, chosen)
    if is_older(old, chosen) or not old.usable:
        return Issue("superseded", f"「{old.name}」（存檔時間 {local_text(old.saved, zone, seconds=True)}）"
                     f"已由存檔時間較晚的「{chosen.name}」（{local_text(chosen.saved, zone, seconds=True)}）"
                     "取代，不採用，其檢核結果不列入。", file=old.name, unit=unit)
    if old.saved is None and chosen.saved is not None:
        return Issue("superseded-untimed", f"「{old.name}」{_untimed(plan, old)}，無法判斷是否比「{chosen.name}」"
                     f"（存檔時間 {local_text(chosen.saved, zone, seconds=True)}）新；已採用存檔時間可信的"
                     f"「{chosen.name}」，本檔不採用，其檢核結果不列入。{confirm}", file=old.name, unit=unit)
    if chosen.saved is not None:
        same = f"與「{chosen.name}」的存檔時間相同（{local_text(chosen.saved, zone, seconds=True)}）"
    else:
        same = (f"與「{chosen.name}」的存檔時間都無法採用（本檔{_untimed(plan, old, brief=True)}；"
                f"「{chosen.name}」{_untimed(plan, chosen, brief=True)}）")
    tied = [same[0] for same in _copies([r for r in candidates if r.saved == chosen.saved]).values()]
    return Issue("same-save-time", f"「{old.name}」{same}，但內容不同，無法依存檔時間判斷哪一份較新；"
                 f"{_tie_rule(old, chosen, tied, received, zone)}，暫採用「{chosen.name}」，本檔不採用。{confirm}",
                 file=old.name, unit=unit)


def _blank_superseded(unit: str, old: Return, chosen: Return) -> Issue:
    """Why a blank file is not used while the unit sent one with content: whatever its time."""
    later = "" if is_older(old, chosen) else (
        "；空白的檔案不論存檔時間早晚都不採用（本檔可能是填報表開啟後又存檔寄回）")
    return Issue("blank-superseded", f"「{old.name}」沒有填寫任何內容（空白的填報表），不採用，其檢核結果不列入；"
                 f"已採用有填寫的「{chosen.name}」{later}。", file=old.name, unit=unit)


def _untimed(plan: Plan, ret: Return, brief: bool = False) -> str:
    """Why a file's save time is not used: none recorded, or not to be trusted
    (``brief``: without the reason, which the file's own warning gives)."""
    from ..intake.recognise import ZONE_HINT, time_problem

    if ret.stated is None:
        return "沒有記錄存檔時間"
    if brief:
        return f"記錄的存檔時間 {local_text(ret.stated, plan.zone)} 不可信"
    problem, zone_hint = time_problem(plan, ret.stated, ret.generated, ret.path.suffix, ret.producer)
    return (f"記錄的存檔時間（{local_text(ret.stated, plan.zone)}）" + (f"{problem}，不可信" if problem else "不可信")
            + (f"（{ZONE_HINT}）" if zone_hint else ""))


def _tie_rule(old: Return, chosen: Return, tied: list[Return], received: Received | None,
              zone) -> str:
    """The rule that put ``chosen`` before ``old`` among files of one save time, in words."""
    if _by_log(tied, received):
        sent_old, sent_chosen = _received_at(old, received), _received_at(chosen, received)
        if sent_old is not None and sent_chosen is not None and sent_old != sent_chosen:
            return (f"依收件紀錄，「{chosen.name}」較晚寄達（{local_text(sent_chosen, zone)}；"
                    f"本檔為 {local_text(sent_old, zone)}）")
    if _fewer_problems(chosen) != _fewer_problems(old):
        return (f"依檢核結果：採用問題較少的一份（「{chosen.name}」錯誤 {chosen.errors} 個、警告 {chosen.warnings} 個，"
                f"本檔錯誤 {old.errors} 個、警告 {old.warnings} 個；更正後的檔案通常問題較少）")
    if len(chosen.path.stem) != len(old.path.stem):
        return "依檔名規則：採用檔名較長的一份（更正後另存的檔案通常在原檔名後加上「(修正)」「_v2」等字）"
    return "依檔名規則：檔名長度相同時，採用依字碼排序在後的一份（例如「第二版」在「第一版」之後、v2 在 v1 之後）"


def filled(ret: Return) -> bool:
    """Whether anything was entered in a return: an input cell of an item row (also of
    an item the plan has removed since the template: kept for the record), or the header."""
    if any(v is not None and v != "" for v in ret.header.values()):
        return True
    # Rows kept on disk were looked at as they were stored: not read back for this.
    rows = ret.rows.entered if isinstance(ret.rows, StoredRows) else any_entered(ret.rows)
    return rows or any_entered(ret.removed)


def blank(ret: Return) -> bool:
    """A form read whole with nothing entered: the template as it went out. (A file
    whose form could not be read, its sheet deleted say, is not blank but faulty.)"""
    # Only empty required cells may be wrong with it: a value refused by the checks (999,
    # text in a number cell, a formula, a locked cell edited, text beside the form) is
    # not kept in the rows, but it was typed, and the unit must be told of it.
    return bool(ret.rows) and not filled(ret) and all(
        i.code in BLANK_ISSUES or (i.code == "too-many-issues" and ret.unlisted <= BLANK_ISSUES)
        for i in ret.issues)


# What a template as it went out may be told: its empty required cells, and what is
# said of the file, not of anything typed in it: a save time not to be trusted (a
# clock set wrong, LibreOffice's local time on a server in another zone), a file
# name that names another unit, identity data a copy into a new workbook lost. (The
# same as the correction copy leaves off its to-do list: feedback.NOT_TO_FIX.)
BLANK_ISSUES = frozenset({"missing-value", "implausible-time", "name-mismatch", "no-metadata"})


def chosen_of(ranked_files: list[Return]) -> Return | None:
    """The file to use, from :func:`ranked`'s order: the first, unless every file is
    blank (a blank template sent back, or acknowledged, is no return)."""
    if ranked_files and not all(blank(r) for r in ranked_files):
        return ranked_files[0]
    return None
