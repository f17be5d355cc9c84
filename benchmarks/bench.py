"""`make bench`: how fast is xltool on many returns, against its floors and the usual script.

Generates a synthetic plan with N units × M items and N filled returns (once, with
xltool's own template writer), then re-saves every return with openpyxl, as a
unit's office program re-saves a file, so that nothing read is as xltool wrote it.
Then measures on the same files, in one run, each contender as its own process
(as a user's script runs), the median of --runs runs:

  (a) `xltool merge` end to end, all checks on, the report written
  (b) the read floor: a bare python-calamine read of every cell of every return
  (f) the write floor: a bare XlsxWriter constant-memory write of the 明細 cells
  (c) pandas: read_excel (default engine) of each 填報表 + concat, what a user writes
  (d) `xltool template` for the N units
  (e) start-up: `xltool --help` and `xltool status` against `python -c "import click"`

and the peak memory of (a) at N and at a larger scale, and a profile of (a) (where
its time goes). Results go to benchmarks/RESULTS.md. Nothing here is a test: no
timing ever fails a build.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from plans import write_plan as write_sheets  # noqa: E402  (the tests' plan writer)

WORK = HERE / ".work"
PEAK = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], "
        "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)")
# The contenders that are not xltool, each run as `python -c SCRIPT folder`.
CALAMINE = """
import sys
from pathlib import Path
from python_calamine import CalamineWorkbook
for f in sorted(Path(sys.argv[1]).iterdir()):
    wb = CalamineWorkbook.from_path(str(f))
    for name in wb.sheet_names:
        wb.get_sheet_by_name(name).to_python()
"""
XLSXWRITER = """
import sys, xlsxwriter
rows, cols = int(sys.argv[2]), int(sys.argv[3])
wb = xlsxwriter.Workbook(sys.argv[1], {"constant_memory": True})
ws = wb.add_worksheet()
text = "第一課辦理第 1 項，計 3 場次"
for r in range(rows):
    for c in range(cols):
        ws.write_string(r, c, text)
wb.close()
"""
PANDAS = """
import sys
from pathlib import Path
import pandas as pd
frames = [pd.read_excel(f, sheet_name="填報表", header=4) for f in sorted(Path(sys.argv[1]).iterdir())]
print(len(pd.concat(frames)))
"""


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


def resave_one(path: Path) -> None:
    """Load and save one return with openpyxl, as an office program re-saves it."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    wb.save(path)


def resave(files: list[Path]) -> None:
    """Every return re-saved (not timed), on every core."""
    with ProcessPoolExecutor() as pool:
        list(pool.map(resave_one, files, chunksize=16))


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def in_turn(commands: list, runs: int) -> list[float]:
    """Medians of commands run in turn, round after round, so that all of them meet the
    machine in the same state (its speed drifts by a third from one minute to the next)."""
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for fn, out in zip(commands, times):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def run(*args, env: dict | None = None) -> None:
    subprocess.run(list(map(str, args)), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=env)


def xltool(*args) -> list[str]:
    return [sys.executable, "-m", "xltool", *map(str, args)]


def script(code: str, *args) -> list[str]:
    return [sys.executable, "-c", code, *map(str, args)]


def merge_cmd(plan: Path, returns: Path, out: Path) -> list[str]:
    return xltool("merge", plan, returns, "-o", out / "master.xlsx", "--report", out / "r.json")


def merge_run(plan: Path, returns: Path, out: Path, env: dict | None = None) -> None:
    """One `xltool merge`; exit 1 (issues found) is a finished merge too."""
    code = subprocess.run(merge_cmd(plan, returns, out), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, env=env).returncode
    if code not in (0, 1):
        raise SystemExit(f"xltool merge failed (exit {code})")


def peak_mb(cmd: list[str]) -> tuple[float, int]:
    """Peak resident memory of a command (largest of its processes), in MB."""
    out = subprocess.run([sys.executable, "-c", PEAK, *cmd], capture_output=True, text=True)
    kb, code = out.stdout.split()
    return int(kb) / 1024, int(code)


def profile(plan: Path, returns: Path, out: Path, top: int = 14) -> list[str]:
    """Where the merge's own process spends its time (cProfile, in process): the
    stages, then the functions that take the most time themselves."""
    from xltool.master.run import run_merge
    from xltool.plan import load_plan

    model = load_plan(plan)
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    run_merge(model, [returns], out / "master.xlsx", report=out / "r.json")
    prof.disable()
    wall = time.perf_counter() - start
    stats = pstats.Stats(prof)
    total = wall
    stages = {
        "waiting for the workers (reading, checking)": ("isolation.py", "_wait"),
        "明細 rows (while the workers read)": ("details.py", "unit"),
        "the other sheets (after the last file)": ("writer.py", "finish"),
        "scoring": ("merge.py", "score"),
        "the JSON report": ("report.py", "write_result_json"),
        "row heights (textfit, in all sheets)": ("textfit.py", "lines_needed"),
        "XlsxWriter writing cells (in all sheets)": ("worksheet.py", "_write_single_row"),
        "rows read back from the row store": ("store.py", "_row"),
    }
    lines = [f"Profiled in process (cProfile, which slows Python code down about 1.5–2×): "
             f"{wall:.1f} s in all.", "", "| Stage (main process) | Time | Share |", "|---|---|---|"]
    for label, (file, name) in stages.items():
        cum = sum(v[3] for k, v in stats.stats.items()  # type: ignore[attr-defined]
                  if k[0].endswith(file) and k[2] == name)
        lines.append(f"| {label} | {cum:.2f} s | {cum / total * 100:.0f} % |")
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    body = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    head = next(n for n, ln in enumerate(body) if ln.lstrip().startswith("ncalls"))
    lines += ["", "The functions that take the most time themselves (tottime):", "", "```"]
    lines += [ln.replace(str(HERE.parent) + "/", "").replace(sys.prefix + "/", "")
              for ln in body[head:head + top + 1]]
    lines += ["```"]
    return lines


def cache_bytecode() -> None:
    """Every contender runs as an installed package does, from compiled bytecode (pip
    compiles it at install time). A machine that sets PYTHONDONTWRITEBYTECODE would
    have every xltool process compile its modules from source again, a cost no user
    with an installed xltool pays."""
    import compileall

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(str(HERE.parent / "xltool"), quiet=1)


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
    ap.add_argument("--note", default="", help="a line about the machine's state, for RESULTS.md")
    args = ap.parse_args()
    cache_bytecode()

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    big = max(args.units, args.memory_units)
    plan = write_plan(WORK / "plan.xlsx", big, args.items)
    small_plan = write_plan(WORK / "plan-small.xlsx", args.units, args.items)
    print(f"generating {args.units} returns, re-saved with openpyxl …", flush=True)
    files = write_returns(small_plan, WORK / "returns")
    resave(files)
    n = len(files)
    returns = WORK / "returns"
    rows, detail_cells = n * args.items, 11

    results: dict[str, float] = {}
    print("(d) template …", flush=True)
    results["d"] = timed(lambda: run(*xltool("template", small_plan, "-o", WORK / "tpl")), args.runs)
    print("(b), (f) and (a): the floors and the merge, in turn …", flush=True)
    fresh = (WORK / f"m{k}" for k in itertools.count())  # every merge a first one: no master yet
    results["b"], results["f"], results["a"] = in_turn([
        lambda: run(*script(CALAMINE, returns)),
        lambda: run(*script(XLSXWRITER, WORK / "floor.xlsx", rows, detail_cells)),
        lambda: merge_run(small_plan, returns, next(fresh))], args.runs)
    print("(g) isolation off, and on with one worker …", flush=True)
    results["g"] = timed(lambda: merge_run(small_plan, returns, WORK / "m",
                                           {**os.environ, "XLTOOL_ISOLATION": "off"}), args.runs)
    results["g1"] = timed(lambda: merge_run(small_plan, returns, WORK / "m",
                                            {**os.environ, "XLTOOL_WORKERS": "1"}), args.runs)
    print("(c) pandas …", flush=True)
    try:
        results["c"] = timed(lambda: run(*script(PANDAS, returns)), 1)
    except subprocess.CalledProcessError:
        results["c"] = float("nan")
    print("(e) start-up …", flush=True)
    results["click"], results["help"] = in_turn([
        lambda: run(sys.executable, "-c", "import click"), lambda: run(*xltool("--help"))], 25)
    example = HERE.parent / "examples" / "kaohsiung-109"
    results["status"] = timed(lambda: subprocess.run(
        xltool("status", example / "plan.xlsx", example / "returns"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), 5)
    print("profile …", flush=True)
    profiled = profile(small_plan, returns, WORK / "p")
    print("peak memory …", flush=True)
    peaks = {n: peak_mb(merge_cmd(small_plan, returns, WORK / "m"))[0]}
    big_time = None
    if args.memory_units and args.memory_units != n:
        print(f"generating {args.memory_units} returns, re-saved with openpyxl …", flush=True)
        resave(write_returns(plan, WORK / "returns-big", args.memory_units))
        start = time.perf_counter()
        peaks[args.memory_units] = peak_mb(merge_cmd(plan, WORK / "returns-big", WORK / "mb"))[0]
        big_time = time.perf_counter() - start
    write_results(args, n, results, peaks, big_time, profiled, rows, detail_cells)
    return 0


def write_results(args, n: int, results: dict, peaks: dict, big_time: float | None,
                  profiled: list[str], rows: int, detail_cells: int) -> None:
    a, b, c, d, f = (results[k] for k in "abcdf")
    floor = max(b, f)
    yes = {True: "yes", False: "no"}
    lines = [
        "# Benchmark results", "",
        f"Machine: {machine()}.", "",
        *([args.note, ""] if args.note else []),
        f"Workload: {n} returns × {args.items} items (every unit leads every item), written once by "
        f"xltool's own template writer and then loaded and saved with openpyxl, as an office "
        f"program re-saves them. Every contender runs as its own process, start-up included. "
        f"Every figure is from one run of `make bench` ({datetime.now():%Y-%m-%d %H:%M}), the "
        f"median of {args.runs} runs unless noted. (b), (f) and (a) run in turn, round after "
        f"round, so that their ratio compares runs that met the machine in the same state; "
        f"each merge writes a new master (a first merge: no review to keep, no backup).", "",
        "| Measure | Time | Per file / unit | Target | Met |",
        "|---|---|---|---|---|",
        f"| (a) `xltool merge`, all checks, with `--report` | {a:.2f} s | {a / n * 1000:.2f} ms | | |",
        f"| (b) read floor: bare python-calamine read of every cell | {b:.2f} s | "
        f"{b / n * 1000:.2f} ms | | |",
        f"| (f) write floor: bare XlsxWriter constant-memory write of {rows:,} × {detail_cells} "
        f"cells (明細) | {f:.2f} s | | | |",
        f"| (a) ÷ the larger floor | {a / floor:.2f} | | ≤ 1.3 | {yes[a / floor <= 1.3]} |",
        f"| (c) pandas `read_excel` (default engine) + `concat` | {c:.2f} s | {c / n * 1000:.2f} ms | | |",
        f"| (c) ÷ (a) | {c / a:.1f} | | ≥ 8 | {yes[c / a >= 8]} |",
        f"| (g) `xltool merge`, parsing in process (`XLTOOL_ISOLATION=off`) | {results['g']:.2f} s | "
        f"{results['g'] / n * 1000:.2f} ms | | |",
        f"| (g₁) `xltool merge`, isolated, one worker (`XLTOOL_WORKERS=1`) | {results['g1']:.2f} s | "
        f"{results['g1'] / n * 1000:.2f} ms | | |",
        f"| (d) `xltool template`, {n} units | {d:.2f} s | {d / n * 1000:.2f} ms | ≤ 10 ms per unit | "
        f"{yes[d / n <= 0.010]} |",
        f"| (e) `python -c 'import click'` | {results['click'] * 1000:.0f} ms | | | |",
        f"| (e) `xltool --help` | {results['help'] * 1000:.0f} ms | | ≤ 1.3 × click | "
        f"{yes[results['help'] <= 1.3 * results['click']]} "
        f"({results['help'] / results['click']:.2f} ×) |",
        f"| (e) `xltool status` on the 12-unit example | {results['status'] * 1000:.0f} ms | | | |",
    ]
    for units, mb in peaks.items():
        lines.append(f"| peak memory of (a), {units} returns | {mb:.0f} MB | | ≤ 300 MB, flat | "
                     f"{yes[mb <= 300]} |")
    if big_time:
        lines.append(f"| (a) at {args.memory_units} returns (one run) | {big_time:.1f} s | "
                     f"{big_time / args.memory_units * 1000:.2f} ms | | |")
    lines += ["", "## Where the merge's time goes", "", *profiled]
    notes = HERE / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text(encoding="utf-8").strip()]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
