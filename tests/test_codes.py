"""The catalogue of issue codes is complete, used, and what README shows.

Every place in xltool that raises an issue names its code as a string literal
(``Issue("not-in-list", …)``, ``reject(path, "zip-bomb", …)``, ``code="…"``, or a
parameter default). The scan below finds them all by reading the source, so a
new code that skips the catalogue fails here, not in front of a user.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from xltool import codes
from xltool.codes import CATALOGUE, SEVERITY
from xltool.errors import Issue

PACKAGE = Path(codes.__file__).resolve().parent
README = PACKAGE.parent / "README.md"
SLUG = re.compile(r"^[a-z]+(-[a-z0-9]+)*$")


def _trees() -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.rglob("*.py"))}


def _code_positions(trees) -> dict[str, int]:
    """Callables that take an issue code, and the code's positional index."""
    takes = {"Issue": 0}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [a.arg for a in node.args.posonlyargs + node.args.args]
                names = names[1:] if names[:1] in (["self"], ["cls"]) else names
                if "code" in names:
                    takes[node.name] = names.index("code")
    return takes


def _literals(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _defaults(fn) -> list[ast.expr]:
    a = fn.args
    positional = a.posonlyargs + a.args
    pairs = list(zip(positional[len(positional) - len(a.defaults):], a.defaults))
    pairs += [(k, d) for k, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
    return [d for arg, d in pairs if arg.arg == "code"]


def raised_codes() -> dict[str, list[str]]:
    """Every code literal in the package → where it appears (file:line)."""
    trees = _trees()
    takes = _code_positions(trees)
    found: dict[str, list[str]] = {}
    for path, tree in trees.items():
        where = path.relative_to(PACKAGE.parent).as_posix()
        for node in ast.walk(tree):
            values: list[ast.expr] = []
            if isinstance(node, ast.Call):
                values = [k.value for k in node.keywords if k.arg == "code"]
                index = takes.get(_call_name(node) or "")
                if index is not None and len(node.args) > index:
                    values.append(node.args[index])
                if _call_name(node) == "_fail" and node.args:  # rules: "code|message" errors
                    values.append(node.args[0])
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                values = _defaults(node)
            for value in values:
                for literal in _literals(value):
                    found.setdefault(literal, []).append(f"{where}:{node.lineno}")
    return found


def test_the_scan_finds_codes_raised_in_every_stage():
    # Guards the scan itself: if it stopped seeing a calling style, the tests below
    # would pass vacuously.
    found = raised_codes()
    for code, stage in [("zip-bomb", "reading/"), ("missing-sheet", "plan/"),
                        ("not-in-list", "intake/"), ("missing-return", "master/"),
                        ("send-failed", "mail/"), ("fingerprint-mismatch", "intake/")]:
        assert any(stage in w for w in found.get(code, [])), (code, found.get(code))


def test_every_raised_code_is_in_the_catalogue():
    missing = {c: w for c, w in raised_codes().items() if c not in CATALOGUE}
    assert not missing, f"codes raised but not catalogued: {missing}"


def test_every_catalogued_code_is_raised_somewhere():
    found = raised_codes()
    assert [c for c in CATALOGUE if c not in found] == []


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_catalogue_entries_are_complete(name):
    entry = CATALOGUE[name]
    assert SLUG.match(name), name
    assert entry.level in SEVERITY
    assert entry.label and entry.label.strip() == entry.label
    assert re.search(r"[\u4e00-\u9fff]", entry.label), "labels are zh-TW"


def test_one_spelling_per_code():
    # American -ize everywhere, and no catch-all left over from before the split.
    names = set(CATALOGUE) | set(raised_codes())
    assert not [n for n in names if "ise" in n.split("-")[-1] and n.endswith(("ised", "ise"))]
    assert "structure-changed" not in names and "plan-error" not in names


def test_issue_takes_its_level_from_the_catalogue():
    assert Issue("missing-return", "x").level == "error"
    assert Issue("rows-reordered", "x").level == "warning"
    assert Issue("normalized", "x").level == "info"
    assert Issue("normalized", "x").severity == SEVERITY["info"]
    assert Issue("unknown-unit", "x", SEVERITY["warning"]).level == "warning"  # overridden
    assert Issue("not-in-list", "x").to_dict()["level"] == "error"
    assert Issue("not-in-list", "x").label == CATALOGUE["not-in-list"].label


def test_readme_code_table_is_generated_from_the_catalogue():
    text = README.read_text(encoding="utf-8")
    assert codes.README_START in text and codes.README_END in text
    assert codes.rewrite_readme(text) == text, "README's code table is stale: run `make codes`"
    table = text.split(codes.README_START)[1].split(codes.README_END)[0]
    assert [line.split("`")[1] for line in table.splitlines() if line.startswith("| `")] == \
        list(CATALOGUE)


def test_rewrite_readme_replaces_only_the_table():
    text = f"前言\n{codes.README_START}\n| 舊表 |\n{codes.README_END}\n後記\n"
    out = codes.rewrite_readme(text)
    assert out.startswith("前言\n") and out.endswith("\n後記\n")
    assert "舊表" not in out and "`not-in-list`" in out
