"""The shape of the package: imports run one way down the stages, units stay
small, only the CLI ends the process, and every module says what it is for.

Stages, top to bottom: the CLI; master and mail; intake; forms; plan; the
reading layer; shared helpers. A module may import from its own stage or from
any stage below it, never above (master and mail do not import each other).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import xltool

PACKAGE = Path(xltool.__file__).resolve().parent
SHARED = {"cells", "codes", "display", "errors", "file_locks", "files", "quoting", "render", "resources",
          "textfit", "xlsx_scratch", "xlsx_text"}
RANK = {"__main__": 0, "cli": 0, "cli_text": 0, "master": 1, "mail": 1, "intake": 2, "forms": 3,
        "plan": 4, "reading": 5, **{name: 6 for name in SHARED}}
MAX_FUNCTION_LINES, MAX_CLASS_LINES = 80, 250


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.with_suffix("").relative_to(PACKAGE.parent).parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = ast.parse(path.read_text(encoding="utf-8"))
    return out


MODULES = _modules()


def _is_package(module: str) -> bool:
    return (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists()


def _imports(module: str, tree: ast.Module) -> set[str]:
    """The xltool modules (or names in them) that ``module`` imports."""
    here = module.split(".") if _is_package(module) else module.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            found |= {n for n in names if n.startswith("xltool.")}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("xltool.")}
    return found


def _stage(module: str) -> str:
    return module.split(".")[1] if "." in module else "xltool"


def test_the_import_scan_resolves_relative_imports():
    # Guards the scan: `from ..plan import Plan` in intake/read.py is xltool.plan,
    # `from . import sheets` in plan/load.py is xltool.plan.sheets.
    assert "xltool.plan" in _imports("xltool.intake.read", MODULES["xltool.intake.read"])
    assert "xltool.plan.sheets" in _imports("xltool.plan.load", MODULES["xltool.plan.load"])
    assert "xltool.plan.model" in _imports("xltool.plan", MODULES["xltool.plan"])
    assert any(i.startswith("xltool.master") for i in _imports("xltool.cli", MODULES["xltool.cli"]))


def test_every_module_belongs_to_a_stage():
    assert {_stage(m) for m in MODULES} - {"xltool"} <= set(RANK)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_down_the_stages(module):
    stage = _stage(module)
    if stage == "xltool":
        return  # the package's own __init__
    wrong = []
    for target in _imports(module, MODULES[module]):
        other = _stage(target)
        if other == stage or other == "xltool":
            continue
        # Within the CLI's modules, and among the shared helpers, any direction goes.
        same_group = RANK[other] == RANK[stage] and RANK[stage] in (RANK["cli"], RANK["cells"])
        if RANK[other] <= RANK[stage] and not same_group:
            wrong.append(target)
    assert not wrong, f"{module} imports upward or across: {sorted(wrong)}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_units_are_small(module):
    long = []
    for node in ast.walk(MODULES[module]):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        size = (node.end_lineno or node.lineno) - node.lineno + 1
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and size > MAX_FUNCTION_LINES:
            long.append(f"{node.name}() {size} lines")
        if isinstance(node, ast.ClassDef) and size > MAX_CLASS_LINES:
            long.append(f"class {node.name} {size} lines")
    assert not long, f"{module}: {long}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_the_cli_ends_the_process(module):
    if module == "xltool.cli":
        return
    calls = [n for n in ast.walk(MODULES[module]) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Attribute) and n.func.attr == "exit"
             and isinstance(n.func.value, ast.Name) and n.func.value.id == "sys"]
    raises = [n for n in ast.walk(MODULES[module]) if isinstance(n, ast.Raise) and n.exc is not None
              and "SystemExit" in ast.unparse(n.exc)]
    assert not calls and not raises, module


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_has_a_docstring(module):
    assert ast.get_docstring(MODULES[module]), module


def test_every_package_is_installed():
    # pyproject lists the packages explicitly (workbook_templates is mapped in): a
    # subpackage missing from that list is missing from `pip install .`.
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
                 ["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(PACKAGE.parent).parts) for p in PACKAGE.rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)
