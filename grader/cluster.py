"""`--batch DIR --cluster ADDRESS`: a class graded on a Dask cluster.

Runs in the grader (the client: packs submissions, sends tasks, puts the reports
back in order) and, for `grade_chunk`, in each Dask worker process, where a warm
`Grader` (its own sandbox, zygote and reference cache) grades a chunk of
submissions exactly as a local `--jobs` batch does. Submissions travel inside
the task as bytes (so workers need no shared filesystem), capped in size; reports
come back as the same JSON. The gradebook is the local one, whatever the number
of workers: verdicts depend on the seed only, and the order is the batch's.

A worker that dies mid-task is Dask's to handle: the scheduler gives the task to
another worker, up to `distributed.scheduler.allowed-failures` times. A chunk that
still fails is split into single submissions; one that kills workers on its own
is reported as an error for every exercise, not retried forever.

GPU checks go where a GPU is: when some worker was started with `--resources
GPU=1`, the exercises with CUDA checks are graded a second time on such a worker
and their CUDA checks' verdicts taken from there (elsewhere they stay skipped).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from grader.model import CheckResult, ExerciseResult, Report

INSTALL_HINT = 'pip install -e ".[cluster]"   (Dask distributed)'
#: The most a submission may weigh on the wire (its files together).
MAX_SUBMISSION_BYTES = 32 * 1024 * 1024
#: Submissions per task: enough to keep a worker's sandbox busy, few enough to spread.
CHUNK_SIZE = 4
GPU = "GPU"


class ClusterUnavailable(RuntimeError):
    """Dask is not installed, or the scheduler cannot be reached."""


@dataclass(frozen=True)
class Packed:
    """One student's entry of the batch folder, as bytes: (relative path, content)."""

    id: str
    entry: str                                 # the entry's name: a folder, a .py, a notebook
    files: tuple[tuple[str, bytes], ...]
    refused: str = ""                          # why it was not packed (too big)


def pack(entry: Path, id_: str, limit: int = MAX_SUBMISSION_BYTES) -> Packed:
    """`entry` read into memory; links and hidden files stay behind, as the loaders
    would not read them either."""
    paths = [entry] if entry.is_file() else sorted(
        p for p in entry.rglob("*") if p.is_file() and not p.is_symlink()
        and not any(part.startswith(".") or part == "__pycache__"
                    for part in p.relative_to(entry).parts))
    files, total = [], 0
    for path in paths:
        total += path.stat().st_size
        if total > limit:
            return Packed(id_, entry.name, (), refused=f"larger than {limit // 2**20} MB")
        relative = "" if path == entry else path.relative_to(entry).as_posix()
        files.append((relative, path.read_bytes()))
    return Packed(id_, entry.name, tuple(files))


def _unpack(packed: Packed, root: Path) -> Path:
    target = root / packed.id / packed.entry
    for relative, data in packed.files:
        path = target / relative if relative else target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if not packed.files:
        target.mkdir(parents=True, exist_ok=True)
    return target


# -- in a Dask worker ---------------------------------------------------------------
_WORKER_GRADERS: dict[tuple, Any] = {}


def _worker_grader(options: Any) -> tuple[Any, Any]:
    """This worker process's grader for `options`, started once and kept warm."""
    key = (options,)
    if key not in _WORKER_GRADERS:
        from grader.grading import Grader
        from grader.plugins import collect_exercises, plugin_manager

        pm = plugin_manager()
        _WORKER_GRADERS[key] = (pm, Grader(collect_exercises(pm), options))
    return _WORKER_GRADERS[key]


def grade_chunk(chunk: Sequence[Packed], options: Any, only: tuple[str, ...] | None = None,
                seeds: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """Grade a chunk of packed submissions on this worker; the reports as JSON. `seeds`:
    the chunk's own seeds by id (--student-seeds), made by the client from its key."""
    pm, grader = _worker_grader(options)
    with tempfile.TemporaryDirectory(prefix="torchkit-cluster-") as scratch:
        submissions = []
        for packed in chunk:
            path = _unpack(packed, Path(scratch))
            submissions.append(pm.hook.grader_load_submission(paths=[path], id=packed.id))
        reports = {r.id: r for r in grader.grade_many(submissions, only, seeds)}
        return [reports[p.id].to_json() for p in chunk]


# -- in the grader (the client) -----------------------------------------------------
def connect(address: str, jobs: int = 1):
    """A Dask client for `tcp://host:port`, or for `local:N` (a LocalCluster of N worker
    processes on this machine, one thread each)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ClusterUnavailable(f"--cluster needs Dask: {INSTALL_HINT}") from exc
    if address.startswith("local:"):
        try:
            workers = int(address.split(":", 1)[1])
        except ValueError:
            raise ClusterUnavailable(f"--cluster {address}: local:N needs a number") from None
        cluster = LocalCluster(n_workers=max(workers, 1), threads_per_worker=1,
                               processes=True, host="127.0.0.1", dashboard_address=None)
        return Client(cluster)
    _reachable(address)
    try:
        return Client(address, timeout="20s")
    except OSError as exc:
        raise ClusterUnavailable(f"--cluster {address}: cannot reach the scheduler ({exc})") \
            from None


def _reachable(address: str, seconds: float = 5.0) -> None:
    """Refuse at once a TCP scheduler nothing listens at (Dask itself retries for 20 s)."""
    import socket
    from urllib.parse import urlsplit

    if not address.startswith("tcp://"):
        return   # tls://, a scheduler file...: Dask's own connect says what is wrong
    try:
        where = urlsplit(address)
        host, port = where.hostname, where.port
    except ValueError:
        host = port = None
    if not host or not port:
        raise ClusterUnavailable(f"--cluster {address}: give it as tcp://HOST:PORT")
    try:
        socket.create_connection((host, port), timeout=seconds).close()
    except OSError as exc:
        raise ClusterUnavailable(f"--cluster {address}: cannot reach the scheduler ({exc})") \
            from None


def disconnect(client) -> None:
    """Close the client, and the cluster too when `connect` started it here (local:N)."""
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def _gpu_workers(client) -> bool:
    workers = client.scheduler_info().get("workers", {}).values()
    return any(w.get("resources", {}).get(GPU, 0) >= 1 for w in workers)


def _failed_report(packed: Packed, exercises: Sequence[Any], why: str,
                   seed: int | None) -> Report:
    """Every exercise an error: the submission could not be graded on the cluster."""
    results = tuple(ExerciseResult(e.name, e.title_in("en"), tuple(
        CheckResult(c.name, "error", 0.0, c.points, why) for c in e.checks))
        for e in exercises)
    return Report(results, id=packed.id, seed=seed)


def _merged_gpu(report: Report, gpu: Report, cuda_checks: dict[str, set[str]]) -> Report:
    """`report` with its CUDA checks' verdicts taken from the GPU worker's report."""
    from_gpu = {e.name: {c.name: c for c in e.checks} for e in gpu.exercises}
    exercises = []
    for exercise in report.exercises:
        names = cuda_checks.get(exercise.name, set())
        checks = tuple(from_gpu.get(exercise.name, {}).get(c.name, c) if c.name in names else c
                       for c in exercise.checks)
        exercises.append(replace(exercise, checks=checks))
    return replace(report, exercises=tuple(exercises))


def grade_on_cluster(client, packed: Sequence[Packed], options: Any, exercises: Sequence[Any],
                     on_report: Callable[[Report], None] = lambda report: None,
                     chunk_size: int = CHUNK_SIZE,
                     seeds: dict[str, int] | None = None) -> list[Report]:
    """Every packed submission graded on the cluster; reports in the batch's order.
    `seeds`: each student's own seed by id (--student-seeds), else the options' seed."""
    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    options = replace(options, jobs=1)   # one sandbox worker per Dask worker thread
    shown_seed = None if seeds is not None else options.seed   # a student's is never shown
    reports: dict[str, Report] = {}
    refused = [p for p in packed if p.refused]
    for each in refused:
        reports[each.id] = _failed_report(each, exercises, f"not graded: the submission is "
                                          f"{each.refused}", shown_seed)
        on_report(reports[each.id])
    todo = [p for p in packed if not p.refused]
    cuda_checks = {e.name: {c.name for c in e.checks if c.needs_cuda} for e in exercises}
    cuda_checks = {name: checks for name, checks in cuda_checks.items() if checks}
    gpu = bool(cuda_checks) and _gpu_workers(client)

    def seeds_of(chunk: list[Packed]) -> dict[str, int] | None:
        return None if seeds is None else {p.id: seeds[p.id] for p in chunk}

    def submit(chunk: list[Packed]):
        future = client.submit(grade_chunk, chunk, options, None, seeds_of(chunk), pure=False)
        pending[future] = ("cpu", chunk)
        return future

    def submit_gpu(chunk: list[Packed]):
        future = client.submit(grade_chunk, chunk, options, tuple(cuda_checks),
                               seeds_of(chunk), pure=False, resources={GPU: 1})
        pending[future] = ("gpu", chunk)
        return future

    pending: dict[Any, tuple[str, list[Packed]]] = {}
    on_gpu: dict[str, Report] = {}
    futures = as_completed([submit(list(todo[i:i + chunk_size]))
                            for i in range(0, len(todo), chunk_size)])
    if gpu:
        for i in range(0, len(todo), chunk_size):
            futures.add(submit_gpu(list(todo[i:i + chunk_size])))
    for future in futures:
        kind, chunk = pending.pop(future)
        try:
            results = [Report.from_json(data) for data in future.result()]
        except (KilledWorker, FutureCancelledError, OSError) as exc:
            if len(chunk) > 1:   # find the one that kills workers: grade them one by one
                for single in chunk:
                    futures.add(submit_gpu([single]) if kind == "gpu" else submit([single]))
                continue
            if kind == "gpu":
                results = []     # its CUDA checks stay as the CPU pass left them
            else:
                results = [_failed_report(chunk[0], exercises, "not graded: grading it "
                                          f"stopped the grading workers repeatedly ({exc!r})",
                                          shown_seed)]
        for report in results:
            if kind == "gpu":
                on_gpu[report.id] = report
            else:
                reports[report.id] = report
            if kind == "cpu" and (not gpu or report.id in on_gpu):
                on_report(report)
            elif kind == "gpu" and report.id in reports:
                on_report(reports[report.id])
    if gpu:
        reports = {i: _merged_gpu(r, on_gpu[i], cuda_checks) if i in on_gpu else r
                   for i, r in reports.items()}
    return [reports[p.id] for p in packed]


def packed_batch(entries: Iterable[Path], ids: Iterable[str]) -> list[Packed]:
    return [pack(entry, id_) for entry, id_ in zip(entries, ids)]


def default_workers() -> int:
    return os.cpu_count() or 1
