"""Batch grading on a real Dask cluster: a LocalCluster of two worker processes over TCP
on 127.0.0.1, as `--cluster` starts or reaches one."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from conftest import EXERCISES, SOLUTIONS, TEST_TIMEOUT, run_cli
from grader import cluster
from grader.grading import Options
from grader.plugins import collect_exercises, plugin_manager
from grader.sandbox import Limits

distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")

OPTIONS = Options(jobs=1, limits=Limits(timeout=TEST_TIMEOUT), timeout_given=True,
                  notebook_timeout=TEST_TIMEOUT)


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory) -> Path:
    """Eight students: correct, stubs, one exercise done, an infinite loop, a syntax error,
    an empty folder, a Korean name, a single notebook-less .py file."""
    root = tmp_path_factory.mktemp("class")
    shutil.copytree(SOLUTIONS, root / "alice")
    shutil.copytree(EXERCISES, root / "bob")
    (root / "carol").mkdir()
    shutil.copy(SOLUTIONS / "e01_numpy_grads.py", root / "carol")
    (root / "dave").mkdir()
    (root / "dave" / "e02_tensor_grads.py").write_text("while True:\n    pass\n")
    (root / "erin").mkdir()
    (root / "erin" / "e03_autograd.py").write_text("def autograd_train(:\n")
    (root / "frank").mkdir()
    shutil.copytree(SOLUTIONS, root / "김민준")
    shutil.copy(SOLUTIONS / "e04_my_relu.py", root / "grace.py")
    return root


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as local, \
            distributed.Client(local) as connected:
        yield connected


def _packed(class_dir: Path) -> list[cluster.Packed]:
    from grader.batch import batch_entries, student_ids

    entries = batch_entries(class_dir)
    return cluster.packed_batch(entries, student_ids(entries))


def test_the_cluster_listens_on_tcp(client):
    assert client.scheduler.address.startswith("tcp://127.0.0.1:")
    assert len(client.scheduler_info()["workers"]) == 2


def test_csv_from_the_cluster_is_byte_for_byte_the_local_one(class_dir, client):
    address = client.scheduler.address
    common = ("--batch", str(class_dir), "--format", "csv", "--timeout", str(TEST_TIMEOUT))
    local = run_cli(*common, "--jobs", "2")
    remote = run_cli(*common, "--cluster", address)
    assert local.returncode == remote.returncode == 0, remote.stderr[-3000:]
    assert remote.stdout == local.stdout
    assert "alice,104.5" in local.stdout.replace('"', "")


def test_a_worker_killed_mid_batch_costs_nothing(class_dir, client):
    exercises = collect_exercises(plugin_manager())
    packed = _packed(class_dir)
    expected = {r.id: r.to_json() for r in
                cluster.grade_on_cluster(client, packed, OPTIONS, exercises, chunk_size=1)}
    seen: list[str] = []
    first = threading.Event()

    def on_report(report):
        seen.append(report.id)
        first.set()

    def kill_one_worker():
        first.wait(timeout=300)
        pids = client.run(os.getpid)
        os.kill(sorted(pids.values())[0], signal.SIGKILL)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    reports = cluster.grade_on_cluster(client, packed, OPTIONS, exercises, on_report,
                                       chunk_size=1)
    killer.join()
    assert [r.id for r in reports] == [p.id for p in packed]
    assert {r.id: r.to_json() for r in reports} == expected
    assert sorted(seen) == sorted(expected)
    for _ in range(60):   # the nanny starts a new worker in the killed one's place
        if len(client.scheduler_info()["workers"]) == 2:
            break
        time.sleep(1)


def test_a_submission_too_large_to_send_is_an_error_not_a_crash(tmp_path, client):
    big = tmp_path / "mallory"
    big.mkdir()
    (big / "e01_numpy_grads.py").write_text("x = 1\n")
    (big / "data.bin").write_bytes(b"\0" * 2048)
    packed = [cluster.pack(big, "mallory", limit=1024)]
    assert packed[0].refused
    exercises = collect_exercises(plugin_manager())
    [report] = cluster.grade_on_cluster(client, packed, OPTIONS, exercises)
    assert report.score == 0
    assert all(c.status == "error" and "larger than" in c.feedback
               for e in report.exercises for c in e.checks)


def test_cluster_without_a_scheduler_is_a_usage_error(class_dir):
    done = run_cli("--batch", str(class_dir), "--cluster", "tcp://127.0.0.1:9")
    assert done.returncode == 2
    assert "cannot reach the scheduler" in done.stderr
