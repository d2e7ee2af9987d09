"""The reference's outputs are kept between runs, keyed by what they depend on."""

from __future__ import annotations

import json

from conftest import SOLUTIONS, run_cli


def test_references_are_kept_and_reused_and_a_broken_file_is_made_again(tmp_path):
    env = {"GRADER_CACHE_DIR": str(tmp_path / "cache")}
    first = run_cli(str(SOLUTIONS), "--only", "e04_my_relu", "--format", "json", env=env)
    assert first.returncode == 0, first.stderr
    (kept,) = (tmp_path / "cache").glob("e04_my_relu-1234-*.json")
    assert json.loads(kept.read_text())["frames"]
    again = run_cli(str(SOLUTIONS), "--only", "e04_my_relu", "--format", "json", env=env)
    assert json.loads(again.stdout) == json.loads(first.stdout)
    kept.write_text("{ not json")                      # a broken file is made again
    mended = run_cli(str(SOLUTIONS), "--only", "e04_my_relu", "--format", "json", env=env)
    assert json.loads(mended.stdout) == json.loads(first.stdout)
    assert json.loads(kept.read_text())["frames"]


def test_the_cache_can_be_turned_off(tmp_path):
    env = {"GRADER_CACHE_DIR": str(tmp_path / "cache"), "GRADER_NO_CACHE": "1"}
    done = run_cli(str(SOLUTIONS), "--only", "e04_my_relu", "--format", "json", env=env)
    assert done.returncode == 0
    assert not (tmp_path / "cache").exists()
