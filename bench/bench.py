"""How fast does the grader grade a class? Run by hand (not a test):

    .venv/bin/python bench/bench.py            # the full run (2-4 minutes on 2 cores)
    .venv/bin/python bench/bench.py --quick    # fewer repeats and a smaller class

Measures, on this machine and in one run, side by side:

  floor     `python -c "import torch"`: no grader can start faster than this
  single    `python -m grader solutions`: one submission, as a student runs it, under
            each backend (--backend fork, the Linux default, and --backend spawn, the
            macOS and Windows default); floor and single runs alternate, so that all
            see the same load
  batch     `python -m grader --batch DIR --jobs 2` over COPIES reference copies
            plus broken ones (a stub copy, a syntax error, an infinite loop at
            import), all graded with --timeout 2; under spawn on SPAWN_COPIES copies
            only (every exercise of every copy imports torch in a fresh interpreter)
  cluster   with --cluster ADDRESS: the same batch with `--cluster ADDRESS` (local:2:
            two Dask worker processes here), right after the --jobs one
  loop      the obvious alternative: `python -m grader ENTRY` once per entry in a
            bash loop over the same class; really run on a subset (the broken
            entries and enough copies to make --loop-subset) and extrapolated

Besides wall-clock seconds it reports CPU seconds (user + sys of the command and
everything it started), which other processes on the machine disturb far less:
CPU seconds per submission / cores is the fastest a batch could go on an idle
machine.

Only the standard library: subprocess, time and resource. Every command's exit
status and output are checked, so a crash is reported instead of timed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TARGET_SINGLE_RATIO = 1.5      # one submission <= 1.5x the floor (fork)
TARGET_SPAWN_RATIO = 3.0       # one submission <= 3x the floor (spawn)
TARGET_BATCH_RATE = 3.0        # >= 3 submissions/s with --jobs 2
TARGET_CLUSTER_OVERHEAD = 0.15  # --cluster local:2 at most 15% slower than --jobs 2
TIMEOUT = "2"                  # --timeout for the batch and the loop (the infinite loop costs this)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], ok=(0,)) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds, the finished process); exits on an unexpected status."""
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in ok:
        sys.exit(f"bench: {' '.join(cmd)} exited {done.returncode}\n{done.stderr[-3000:]}")
    return seconds, _children_cpu() - cpu, done


def alternate(commands: list[list[str]], times: int) -> list[list[tuple[float, float]]]:
    """Run the commands in turn, `times` rounds (after one round not counted)."""
    for cmd in commands:
        run(cmd, ok=(0, 1))  # warm the page cache
    results: list[list[tuple[float, float]]] = [[] for _ in commands]
    for _ in range(times):
        for i, cmd in enumerate(commands):
            wall, cpu, _ = run(cmd)
            results[i].append((wall, cpu))
    return results


def build_class(root: Path, copies: int) -> dict[str, list[str]]:
    """COPIES reference copies and the broken entries; returns the entry names by kind."""
    solutions = sorted((ROOT / "solutions").glob("e*.py"))
    kinds: dict[str, list[str]] = {"copy": [], "broken": []}
    root.mkdir()

    def copy_of(name: str, files: list[Path]) -> Path:
        directory = root / name
        directory.mkdir()
        for file in files:
            shutil.copy(file, directory / file.name)
        return directory

    for i in range(copies):
        copy_of(f"student{i:03d}", solutions)
        kinds["copy"].append(f"student{i:03d}")
    copy_of("broken_stub", sorted((ROOT / "exercises").glob("e*.py")))
    syntax = copy_of("broken_syntax", solutions)
    (syntax / "e01_numpy_grads.py").write_text("def numpy_two_layer_grads(x, y, w1, w2)\n"
                                               "    return 0\n")
    loop = copy_of("broken_loop", solutions)
    (loop / "e01_numpy_grads.py").write_text("while True:\n    pass\n")
    kinds["broken"] += ["broken_stub", "broken_syntax", "broken_loop"]
    return kinds


def graded_batch(root: Path, kinds: dict[str, list[str]], jobs: int,
                 backend: str, cluster: str | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of `--batch root` under `backend`; exits unless exactly the
    copies got full marks (else the timings would be meaningless)."""
    entries = kinds["copy"] + kinds["broken"]
    seconds, cpu, done = run([PYTHON, "-m", "grader", "--batch", str(root), "--jobs", str(jobs),
                              "--timeout", TIMEOUT, "--format", "json", "--backend", backend]
                             + ([] if cluster is None else ["--cluster", cluster]))
    reports = {s["id"]: s for s in json.loads(done.stdout)["submissions"]}
    if sorted(reports) != sorted(entries):
        sys.exit(f"bench: the {backend} batch reported {len(reports)} of {len(entries)} entries")
    full = sorted(i for i, r in reports.items() if r["score"] == r["max_score"])
    if full != sorted(kinds["copy"]):
        wrong = sorted(set(full) ^ set(kinds["copy"]))[:5]
        sys.exit(f"bench: {len(full)} entries of the {backend} batch got full marks, expected "
                 f"the {len(kinds['copy'])} copies (e.g. {wrong})")
    return seconds, cpu


def shell_loop(root: Path, entries: list[str]) -> tuple[dict[str, float], float]:
    """`for e in ...; do python -m grader $e; done` in bash, each iteration timed."""
    script = ('for e in "$@"; do s=$(date +%s.%N); '
              f'"{PYTHON}" -m grader "$e" --timeout {TIMEOUT} --format json >/dev/null 2>&1; '
              'rc=$?; echo "$e $rc $s $(date +%s.%N)"; done')
    _, cpu, done = run(["bash", "-c", script, "loop", *(str(root / e) for e in entries)])
    times = {}
    for line in done.stdout.split("\n"):
        if line.strip():
            path, rc, start, end = line.split()
            if rc not in ("0", "1"):
                sys.exit(f"bench: the loop's grader exited {rc} on {path}")
            times[Path(path).name] = float(end) - float(start)
    return times, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=100, help="reference copies (default 100)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of floor/single (default 5)")
    parser.add_argument("--loop-subset", type=int, default=20,
                        help="entries the shell loop really grades (default 20)")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs of the batch (default 2)")
    parser.add_argument("--spawn-copies", type=int, default=10,
                        help="reference copies of the spawn backend's batch (default 10)")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="also grade the batch with --cluster ADDRESS (e.g. local:2) and "
                             "compare it with --jobs on the same class")
    parser.add_argument("--quick", action="store_true",
                        help="--copies 30 --repeats 3 --loop-subset 8")
    args = parser.parse_args()
    if args.quick:
        args.copies, args.repeats, args.loop_subset, args.spawn_copies = 30, 3, 8, 5
    cores = os.cpu_count() or 1

    load_start = os.getloadavg()[0]
    print(f"machine: {platform.node()}, {cores} cores, python {platform.python_version()}, "
          f"load average {load_start:.2f} at the start")
    print(f"python: {PYTHON}")
    print("measuring (other processes on this machine make wall-clock figures noisier)...",
          flush=True)

    floor_runs, single_runs, spawn_runs = alternate(
        [[PYTHON, "-c", "import torch"], [PYTHON, "-m", "grader", "solutions", "--backend", "fork"],
         [PYTHON, "-m", "grader", "solutions", "--backend", "spawn"]], args.repeats)

    tmp = Path(tempfile.mkdtemp(prefix="grader-bench-"))
    try:
        kinds = build_class(tmp / "class", args.copies)
        entries = kinds["copy"] + kinds["broken"]
        batch_s, batch_cpu = graded_batch(tmp / "class", kinds, args.jobs, "fork")
        if args.cluster:   # right after, on the same class: the same load, the same disk cache
            cluster_s, cluster_cpu = graded_batch(tmp / "class", kinds, args.jobs, "fork",
                                                  args.cluster)
        spawn_kinds = build_class(tmp / "spawn_class", args.spawn_copies)
        spawn_n = len(spawn_kinds["copy"]) + len(spawn_kinds["broken"])
        spawn_batch_s, spawn_batch_cpu = graded_batch(tmp / "spawn_class", spawn_kinds,
                                                      args.jobs, "spawn")

        copies_in_loop = max(1, args.loop_subset - len(kinds["broken"]))
        subset = kinds["copy"][:copies_in_loop] + kinds["broken"]
        loop_times, loop_cpu = shell_loop(tmp / "class", subset)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    copy_times = [loop_times[e] for e in kinds["copy"][:copies_in_loop]]
    broken_times = {e: loop_times[e] for e in kinds["broken"]}
    loop_measured = sum(loop_times.values())
    loop_total = statistics.mean(copy_times) * len(kinds["copy"]) + sum(broken_times.values())
    loop_cpu_total = loop_cpu / len(subset) * len(entries)

    n = len(entries)
    floor = [w for w, _ in floor_runs]
    single = [w for w, _ in single_runs]
    spawn = [w for w, _ in spawn_runs]
    floor_med, single_med = statistics.median(floor), statistics.median(single)
    spawn_med = statistics.median(spawn)
    floor_cpu = statistics.median(c for _, c in floor_runs)
    single_cpu = statistics.median(c for _, c in single_runs)
    spawn_cpu = statistics.median(c for _, c in spawn_runs)
    spawn_rate = spawn_n / spawn_batch_s
    batch_rate = n / batch_s
    loop_rate = n / loop_total

    def row(label: str, best: float | None, median: float, cpu: float, rate: float | None) -> str:
        return (f"{label:38}{'' if best is None else f'{best:7.2f} s':>9}{median:8.2f} s"
                f"{median / floor_med:8.2f}x{cpu:8.2f} s"
                f"{'' if rate is None else f'{rate:9.2f}':>9}")

    print()
    print(f"{'':38}{'best':>9}{'median':>10}{'x floor':>9}{'CPU':>10}{'subs/s':>9}")
    print(row('floor   python -c "import torch"', min(floor), floor_med, floor_cpu, None))
    print(row("single  solutions --backend fork", min(single), single_med, single_cpu,
              1 / single_med))
    print(row("single  solutions --backend spawn", min(spawn), spawn_med, spawn_cpu,
              1 / spawn_med))
    print(row(f"batch   {n} entries, --jobs {args.jobs}, fork", None, batch_s, batch_cpu,
              batch_rate))
    if args.cluster:
        print(row(f"batch   {n} entries, --cluster {args.cluster}", None, cluster_s,
                  cluster_cpu, n / cluster_s))
    print(row(f"batch   {spawn_n} entries, --jobs {args.jobs}, spawn", None, spawn_batch_s,
              spawn_batch_cpu, spawn_rate))
    print(row(f"loop    {n} entries, extrapolated", None, loop_total, loop_cpu_total, loop_rate))
    print("(batch and loop: one run each; 'median' is that run; CPU = user+sys of everything "
          "the command started)")
    print()
    print(f"floor runs:  {' '.join(f'{w:.2f}' for w in floor)}  (CPU "
          f"{' '.join(f'{c:.2f}' for _, c in floor_runs)})")
    print(f"single runs: {' '.join(f'{w:.2f}' for w in single)}  (CPU "
          f"{' '.join(f'{c:.2f}' for _, c in single_runs)})")
    print(f"spawn runs:  {' '.join(f'{w:.2f}' for w in spawn)}  (CPU "
          f"{' '.join(f'{c:.2f}' for _, c in spawn_runs)})")
    print(f"spawn: every exercise in a fresh interpreter that imports torch: at least "
          f"{floor_cpu:.2f} s CPU x the jobs, spread over {cores} cores; the spawn batch: "
          f"{spawn_batch_cpu / spawn_n:.2f} s CPU per entry (fork: "
          f"{batch_cpu / n:.2f} s)")
    print(f"batch: {len(kinds['copy'])} reference copies + {len(kinds['broken'])} broken "
          f"({', '.join(kinds['broken'])}), --timeout {TIMEOUT}: {batch_s / n * 1000:.0f} ms "
          f"wall and {batch_cpu / n * 1000:.0f} ms CPU per entry; on {cores} idle cores at most "
          f"{cores * n / batch_cpu:.1f} submissions/s")
    print(f"loop: EXTRAPOLATED from {len(subset)} of {n} entries really graded one "
          f"`python -m grader` each in a bash loop ({loop_measured:.1f} s): copies "
          f"{statistics.mean(copy_times):.2f} s each (median {statistics.median(copy_times):.2f}), "
          + ", ".join(f"{e} {s:.2f} s" for e, s in broken_times.items()))
    print(f"      estimate for all {n}: mean copy x {len(kinds['copy'])} + the broken ones as "
          f"measured = {loop_total:.1f} s; CPU {loop_cpu / len(subset):.2f} s per entry")
    print(f"batch vs loop: {loop_total / batch_s:.1f}x less wall clock, "
          f"{loop_cpu_total / batch_cpu:.1f}x less CPU")
    print()
    single_ratio = single_med / floor_med
    print(f"target: one submission <= {TARGET_SINGLE_RATIO}x floor (medians): "
          f"{single_ratio:.2f}x  {'MET' if single_ratio <= TARGET_SINGLE_RATIO else 'NOT MET'}")
    spawn_ratio = spawn_med / floor_med
    print(f"target: one submission with --backend spawn <= {TARGET_SPAWN_RATIO}x floor "
          f"(medians): {spawn_ratio:.2f}x  "
          f"{'MET' if spawn_ratio <= TARGET_SPAWN_RATIO else 'NOT MET'}")
    print(f"target: batch >= {TARGET_BATCH_RATE:g} submissions/s with --jobs 2: "
          f"{batch_rate:.2f}/s  {'MET' if batch_rate >= TARGET_BATCH_RATE else 'NOT MET'}"
          + ("" if args.jobs == 2 else f"  (measured with --jobs {args.jobs})"))
    if args.cluster:
        overhead, cpu_overhead = cluster_s / batch_s - 1, cluster_cpu / batch_cpu - 1
        print(f"target: --cluster {args.cluster} at most {TARGET_CLUSTER_OVERHEAD:.0%} slower "
              f"than --jobs {args.jobs} (wall): {overhead:+.1%} (CPU {cpu_overhead:+.1%})"
              f"  {'MET' if overhead <= TARGET_CLUSTER_OVERHEAD else 'NOT MET'}")
    load_end = os.getloadavg()[0]
    print(f"load average {load_start:.2f} at the start, {load_end:.2f} at the end"
          + ("  -- a busy machine: treat the wall-clock figures as preliminary"
             if max(load_start, load_end) > 0.5 * cores else ""))


if __name__ == "__main__":
    main()
