"""`make bench`: how fast is xltool on many returns, against the floor and the usual script.

Generates a synthetic plan with N units × M items and N filled returns (once, with
xltool's own template writer), then measures on the same files, in one run:

  (a) xltool merge end to end, all checks on
  (b) a bare python-calamine read of every cell of every return: the floor
  (c) pandas read_excel + concat: what a user would write
  (d) xltool template for the N units
  (e) start-up: `xltool --help` and `xltool status` against `python -c "import click"`

and the peak memory of (a) at N and at a larger scale. Results go to
benchmarks/RESULTS.md. Nothing here is a test: no timing ever fails a build.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from plans import write_plan as write_sheets  # noqa: E402  (the tests' plan writer)

WORK = HERE / ".work"
PEAK = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], "
        "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)")


def write_plan(path: Path, units: int, items: int) -> Path:
    """A plan where every unit leads every item: returns of `items` rows each."""
    sheets = {
        "計畫": [["欄位", "內容"], ["計畫名稱", "基準測試計畫"], ["機關名稱", "測試機關"], ["年度", 113],
               ["填報期間", "1-12月"], ["考核年月", "114.01"], ["繳交期限", date(2025, 1, 15)],
               ["承辦單位", "研考科"], ["承辦人", "測試"], ["聯絡電話", "02-0000000"],
               ["電子郵件", "bench@example.org"]],
        "構面": [["代碼", "名稱", "配分"], ["A", "甲構面", items * 5], ["B", "乙構面", items * 5]],
        "單位": [["名稱", "類別", "群組", "別名", "電子郵件"]] + [
            [f"單位{n:05d}", "單位", "全體", "", f"u{n}@example.org"] for n in range(1, units + 1)],
        "項目": [["編號", "構面", "執行策略", "執行方法", "主辦單位", "具體作法", "目標值", "計量單位", "配分"]] + [
            [f"I{n:03d}", "A" if n <= items // 2 else "B", f"策略{n}", f"方法{n}：提升服務品質與效率",
             "全體", f"具體作法第 {n} 項，辦理說明會與訓練", n, "場次", 10] for n in range(1, items + 1)],
        "等第": [["等第", "最低分"], ["優", items * 9], ["甲", items * 8], ["乙", 0]],
        "選項": [["執行狀態"], ["已完成"], ["執行中"], ["未執行"], ["不適用"]],
    }
    return write_sheets(path, sheets)


def write_returns(plan_path: Path, folder: Path, count: int | None = None) -> list[Path]:
    """Filled returns, written with xltool's template writer (not timed)."""
    from xltool.forms import fields as F
    from xltool.forms.template import build_template, template_filename
    from xltool.forms.xlsx_writer import write_xlsx
    from xltool.plan import load_plan

    plan = load_plan(plan_path)
    folder.mkdir(parents=True, exist_ok=True)
    cols = {c.name: i for i, c in enumerate(F.COLUMNS)}
    statuses = plan.lists["執行狀態"][:3]
    written = []
    units = plan.units[:count] if count else plan.units
    for u, unit in enumerate(units):
        book = build_template(plan, unit.name, datetime(2025, 1, 2))
        book.created = datetime(2025, 1, 3, 8, 0, u % 60)
        form = book.sheet(F.FORM_SHEET)
        for n in range(len(plan.items_for(unit.name))):
            r = F.FIRST_ITEM_ROW + n
            form.put(r, cols["執行狀態"], statuses[(n + u) % 3], "input")
            form.put(r, cols["實際值"], n + u % 7, "input_number")
            form.put(r, cols["執行績效與成果"], f"{unit.name}辦理第 {n + 1} 項，計 {n + 3} 場次，"
                                             f"參加 {n * 7 + u % 50} 人。", "input")
            form.put(r, cols["自評分數"], (n + u) % 11 * 0.9, "input_number")
        path = folder / template_filename(plan, unit.name, "xlsx")
        write_xlsx(book, path)
        written.append(path)
    return written


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(*args: str) -> None:
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def xltool(*args) -> list[str]:
    return [sys.executable, "-m", "xltool", *map(str, args)]


def merge_cmd(plan: Path, returns: Path, out: Path) -> list[str]:
    return xltool("merge", plan, returns, "-o", out / "master.xlsx", "--report", out / "r.json")


def peak_mb(cmd: list[str]) -> tuple[float, int]:
    """Peak resident memory of a command (largest of its processes), in MB."""
    out = subprocess.run([sys.executable, "-c", PEAK, *cmd], capture_output=True, text=True)
    kb, code = out.stdout.split()
    return int(kb) / 1024, int(code)


def calamine_floor(files: list[Path]) -> None:
    from python_calamine import CalamineWorkbook

    for f in files:
        wb = CalamineWorkbook.from_path(str(f))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()


def pandas_script(files: list[Path]) -> None:
    import pandas as pd

    # engine="openpyxl": what read_excel has used by default, and what the scripts use
    pd.concat([pd.read_excel(f, sheet_name="填報表", header=4, engine="openpyxl") for f in files])


def xlsxwriter_floor(rows: int, cols: int, target: Path) -> None:
    """Write rows × cols short strings with XlsxWriter's constant-memory mode, nothing else:
    the least it costs to write a 明細 sheet of that size."""
    wb = xlsxwriter.Workbook(str(target), {"constant_memory": True})
    ws = wb.add_worksheet()
    text = "第一課辦理第 1 項，計 3 場次"
    for r in range(rows):
        for c in range(cols):
            ws.write_string(r, c, text)
    wb.close()


def breakdown(plan: Path, returns: Path, target: Path) -> tuple[float, float]:
    """In-process: (read + check + score) and (write the master), in seconds."""
    from xltool.master.merge import merge
    from xltool.master.writer import write_master
    from xltool.plan import load_plan

    model = load_plan(plan)
    start = time.perf_counter()
    result = merge(model, [returns])
    middle = time.perf_counter()
    write_master(result, target)
    return middle - start, time.perf_counter() - middle


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    mem = ""
    try:
        kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}; python-calamine {version('python-calamine')}, "
            f"XlsxWriter {version('xlsxwriter')}, pandas {version('pandas')}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--units", type=int, default=1000)
    ap.add_argument("--items", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--memory-units", type=int, default=10000,
                    help="second scale for the peak-memory figure (0 to skip)")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    big = max(args.units, args.memory_units)
    plan = write_plan(WORK / "plan.xlsx", big, args.items)
    small_plan = write_plan(WORK / "plan-small.xlsx", args.units, args.items)
    print(f"generating {args.units} returns …", flush=True)
    files = write_returns(small_plan, WORK / "returns")
    n = len(files)

    results = {}
    print("(d) template …", flush=True)
    results["d"] = timed(lambda: run(*xltool("template", small_plan, "-o", WORK / "tpl")), args.runs)
    print("(b) calamine floor …", flush=True)
    results["b"] = timed(lambda: calamine_floor(files), args.runs)
    print("(a) xltool merge …", flush=True)
    results["a"] = timed(lambda: subprocess.run(merge_cmd(small_plan, WORK / "returns", WORK / "m"),
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                         args.runs)
    print("(g) isolation off, and on with one worker …", flush=True)
    merge_out = merge_cmd(small_plan, WORK / "returns", WORK / "m")
    results["g"] = timed(lambda: subprocess.run(merge_out, env={**os.environ, "XLTOOL_ISOLATION": "off"},
                                                stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL), args.runs)
    results["g1"] = timed(lambda: subprocess.run(merge_out, env={**os.environ, "XLTOOL_WORKERS": "1"},
                                                 stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.DEVNULL), args.runs)
    print("(a) split …", flush=True)
    reading, writing = breakdown(small_plan, WORK / "returns", WORK / "split.xlsx")
    print("(f) XlsxWriter floor …", flush=True)
    detail_cells = 11
    results["f"] = timed(lambda: xlsxwriter_floor(n * args.items, detail_cells, WORK / "floor.xlsx"),
                         args.runs)
    print("(c) pandas …", flush=True)
    try:
        results["c"] = timed(lambda: pandas_script(files), max(1, args.runs))
    except ImportError:
        results["c"] = None
    print("(e) start-up …", flush=True)
    results["click"] = timed(lambda: run(sys.executable, "-c", "import click"), 10)
    results["help"] = timed(lambda: run(*xltool("--help")), 10)
    example = HERE.parent / "examples" / "kaohsiung-109"
    results["status"] = timed(lambda: subprocess.run(
        xltool("status", example / "plan.xlsx", example / "returns"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), 5)
    print("peak memory …", flush=True)
    peaks = {n: peak_mb(merge_cmd(small_plan, WORK / "returns", WORK / "m"))[0]}
    big_time = None
    if args.memory_units and args.memory_units != n:
        print(f"generating {args.memory_units} returns …", flush=True)
        write_returns(plan, WORK / "returns-big", args.memory_units)
        start = time.perf_counter()
        peaks[args.memory_units] = peak_mb(merge_cmd(plan, WORK / "returns-big", WORK / "mb"))[0]
        big_time = time.perf_counter() - start

    a, b, c, d = results["a"], results["b"], results["c"], results["d"]
    lines = [
        "# Benchmark results", "",
        f"Machine: {machine()}.", "",
        f"Workload: {n} returns × {args.items} items (every unit leads every item), written once by "
        f"xltool's own template writer; every figure below is from one run of `make bench` "
        f"({datetime.now():%Y-%m-%d %H:%M}), the median of {args.runs} runs unless noted.", "",
        "| Measure | Time | Per file / unit | Target | Met |",
        "|---|---|---|---|---|",
        f"| (a) `xltool merge`, all checks | {a:.2f} s | {a / n * 1000:.2f} ms | | |",
        f"| (b) bare python-calamine read (floor) | {b:.2f} s | {b / n * 1000:.2f} ms | | |",
        f"| (a) / (b) | {a / b:.2f} | | ≤ 2.0 | {'yes' if a / b <= 2 else 'no'} |",
        f"| (a₁) of which: read, check and score (in process) | {reading:.2f} s | "
        f"{reading / n * 1000:.2f} ms | | |",
        f"| (a₂) of which: write the master (in process) | {writing:.2f} s | "
        f"{writing / n * 1000:.2f} ms | | |",
        f"| (a₁) / (b) | {reading / b:.2f} | | | |",
        f"| (g) `xltool merge` with parsing in process (`XLTOOL_ISOLATION=off`, one core) | "
        f"{results['g']:.2f} s | {results['g'] / n * 1000:.2f} ms | | |",
        f"| (g₁) `xltool merge` isolated, one worker (`XLTOOL_WORKERS=1`) | {results['g1']:.2f} s | "
        f"{results['g1'] / n * 1000:.2f} ms | | |",
        f"| what isolation costs: (g₁) / (g) − 1, same single core | "
        f"{(results['g1'] / results['g'] - 1) * 100:+.0f} % | | ≤ +20 % | "
        f"{'yes' if results['g1'] <= 1.2 * results['g'] else 'no'} |",
        f"| isolation on all cores: (a) / (g) − 1 | {(a / results['g'] - 1) * 100:+.0f} % | | | |",
        f"| (f) bare XlsxWriter write of {n * args.items:,} rows × {detail_cells} cells (floor for "
        f"明細) | {results['f']:.2f} s | | | |",
    ]
    if c is not None:
        lines += [f"| (c) pandas `read_excel` + `concat` | {c:.2f} s | {c / n * 1000:.2f} ms | | |",
                  f"| (c) / (a) | {c / a:.1f} | | ≥ 10 | {'yes' if c / a >= 10 else 'no'} |"]
    lines += [
        f"| (d) `xltool template`, {n} units | {d:.2f} s | {d / n * 1000:.2f} ms | ≤ 10 ms per unit | "
        f"{'yes' if d / n <= 0.010 else 'no'} |",
        f"| (e) `python -c 'import click'` | {results['click'] * 1000:.0f} ms | | | |",
        f"| (e) `xltool --help` | {results['help'] * 1000:.0f} ms | | ≤ 1.3 × click | "
        f"{'yes' if results['help'] <= 1.3 * results['click'] else 'no'} "
        f"({results['help'] / results['click']:.2f} ×) |",
        f"| (e) `xltool status` on the 12-unit example | {results['status'] * 1000:.0f} ms | | | |",
    ]
    for units, mb in peaks.items():
        lines.append(f"| peak memory of (a), {units} returns | {mb:.0f} MB | | ≤ 300 MB, flat | "
                     f"{'yes' if mb <= 300 else 'no'} |")
    if big_time:
        lines.append(f"| (a) at {args.memory_units} returns (one run) | {big_time:.1f} s | "
                     f"{big_time / args.memory_units * 1000:.2f} ms | | |")
    notes = HERE / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text(encoding="utf-8").strip()]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
