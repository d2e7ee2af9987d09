"""Third-party exercise packs (entry-point group "grader"), with tests/example_pack.

The pack is pip-installed once per session into a directory of its own (`pip install
--target`), not into the environment: only the runs that put that directory on their
path see it, so the rest of the suite grades exactly the kit's course.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXERCISES, ROOT, run_cli, solution_source
from grader.plugins import BLOCK_ENV, collect_exercises, plugin_manager

PACK_SOURCE = ROOT / "tests" / "example_pack"
PACK_NAME, EXERCISE = "example_pack", "x01_square"
E01 = "e01_numpy_grads"


@pytest.fixture(scope="session")
def pack_site(tmp_path_factory) -> Path:
    """The example pack, installed by pip into its own directory."""
    base = tmp_path_factory.mktemp("example_pack")
    source = base / "src"
    shutil.copytree(PACK_SOURCE, source,            # build outside the repository
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    site = base / "site"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
               "--disable-pip-version-check", "--target", str(site), str(source)]
    if importlib.util.find_spec("setuptools") is not None:
        command.insert(-1, "--no-build-isolation")   # offline and fast when possible
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"pip could not install the example pack:\n{done.stderr}"
    return site


@pytest.fixture
def pack_env(pack_site) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(pack_site), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path, BLOCK_ENV: ""}


def report_of(done: subprocess.CompletedProcess) -> dict:
    assert done.stdout, done.stderr
    return json.loads(done.stdout)


def test_pack_is_loaded_with_its_own_reference(pack_site, monkeypatch):
    monkeypatch.syspath_prepend(str(pack_site))
    exercises = {e.name: e for e in collect_exercises(plugin_manager())}
    assert EXERCISE in exercises and E01 in exercises
    pack = exercises[EXERCISE]
    assert pack.solution and Path(pack.solution).is_file()
    assert Path(pack.solution).name == f"{EXERCISE}.py"
    assert [c.points for c in pack.checks] == [1.0]


def test_pack_exercise_is_graded_against_the_packs_solution(pack_site, pack_env, tmp_path):
    (tmp_path / f"{E01}.py").write_text(solution_source(E01))
    (tmp_path / f"{EXERCISE}.py").write_text("def square(x):\n    return x ** 2\n")
    done = run_cli(str(tmp_path), "--only", E01, "--only", EXERCISE, "--format", "json",
                   env=pack_env)
    report = report_of(done)
    assert done.returncode == 0, done.stdout
    assert [e["name"] for e in report["exercises"]] == [E01, EXERCISE]
    assert report["score"] == report["max_score"]
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "anything.py").write_text("def square(x):\n    return x * 2\n")   # renamed too
    done = run_cli(str(wrong), "--only", EXERCISE, "--format", "json", env=pack_env)
    assert done.returncode == 1
    (pack_result,) = report_of(done)["exercises"]
    assert pack_result["score"] == 0 and pack_result["checks"][0]["status"] == "failed"


def test_pack_stub_appears_in_the_course_report_with_zero(pack_site, pack_env):
    stubs = pack_site / "torchkit_example_pack" / "exercises"
    done = run_cli(str(stubs), "--format", "json", env=pack_env)
    assert done.returncode == 1
    exercises = {e["name"]: e for e in report_of(done)["exercises"]}
    course = {e.name for e in collect_exercises(plugin_manager())}
    assert set(exercises) == course | {EXERCISE}               # every exercise is listed
    pack_result = exercises[EXERCISE]
    assert pack_result["score"] == 0 and pack_result["max_score"] == 1
    assert "not implemented yet" in pack_result["checks"][0]["feedback"].lower()


def test_pack_can_be_blocked(pack_env, tmp_path):
    (tmp_path / f"{EXERCISE}.py").write_text("def square(x):\n    return x * x\n")
    # a course exercise beside it: a folder of nothing the grader knows is a usage error
    (tmp_path / "e04_my_relu.py").write_text((EXERCISES / "e04_my_relu.py").read_text())
    blocked = {**pack_env, BLOCK_ENV: PACK_NAME}
    done = run_cli(str(tmp_path), "--format", "json", env=blocked)
    assert EXERCISE not in {e["name"] for e in report_of(done)["exercises"]}
    done = run_cli(str(tmp_path), "--only", EXERCISE, env=blocked)
    assert done.returncode == 2 and "unknown exercise" in done.stderr


def test_importing_a_packs_solution_earns_nothing(pack_site, pack_env, tmp_path):
    (tmp_path / f"{EXERCISE}.py").write_text(
        "from torchkit_example_pack.solution.x01_square import square\n")
    done = run_cli(str(tmp_path), "--only", EXERCISE, "--format", "json", env=pack_env)
    (pack_result,) = report_of(done)["exercises"]
    assert pack_result["score"] == 0
    assert "reference solutions" in pack_result["checks"][0]["feedback"]
