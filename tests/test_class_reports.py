"""Issue 13: a class of 40 mixed submissions, graded once, in every staff format.

The class is built from `solutions/` and `exercises/` (copies, and buggy variants made
by small text substitutions): correct work as folders, one file and a notebook; bugs
that name misconceptions; empty folders and empty files; the kit's stubs; partial work;
syntax and indentation errors; endless loops (with a short --timeout); a crash; an
unreadable notebook; Korean names as student ids. It is graded ONCE through the command
line (`--format json`, a hidden seed), and every other format is rendered from the
Report objects read back with `Report.from_json`, so the file stays fast.

Deterministic outputs are compared with golden files under tests/golden/ (`class.*`).
They follow the grading of the class, so a change to a check's messages or points shows
here too; after an intended change regenerate them with

    GRADER_UPDATE_GOLDEN=1 python -m pytest tests/test_class_reports.py

and review the diff. The HTML page is opened in a real headless Chromium (playwright);
without Chromium or playwright that test is skipped, saying why (GRADER_REQUIRE_BROWSER=1,
which CI sets once it has installed them, makes it fail instead).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import statistics
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from conftest import EXERCISES, ROOT, SOLUTIONS, run_cli
from grader.i18n import render, t
from grader.model import CheckResult, ExerciseResult, Report
from grader.reporters import ReportSettings
from grader.reporters.classroom import render_classroom
from grader.reporters.gradescope import render_gradescope
from grader.reporters.html import render_html
from grader.reporters.lms import (BOM, not_in_roster, read_roster, render_canvas, render_csv,
                                  render_moodle)
from grader.reporters.markdown import render_markdown
from grader.reporters.progress import Progress
from grader.reporters.status import misconception_text, submission_status
from grader.reporters.summary import class_summary

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("GRADER_UPDATE_GOLDEN") == "1"
ARTIFACTS = Path(os.environ.get("GRADER_ARTIFACTS", ROOT / "build" / "artifacts"))
#: A hidden seed, long enough that it cannot turn up in a report by chance.
SEED = "8675309"
TIMEOUT = "5"   # seconds per exercise: each endless loop costs this much, once

# --------------------------------------------------------------------- the class

#: Buggy students: (exercise, old text, new text, count; 0 = every occurrence).
BUGS = {
    "박지호": [("e01", "grad_y_pred = 2.0 * (y_pred - y)", "grad_y_pred = (y_pred - y)", 1)],
    "hank": [("e04", "grad_input[input < 0] = 0", "grad_input = grad_input", 1)],
    "ivy": [("e04", "grad_input[input < 0] = 0", "grad_input[input > 0] = 0", 1)],
    "jack": [("e05", "self.linear2(torch.relu(self.linear1(x)))",
              "self.linear2(self.linear1(x))", 1)],
    "kim": [("e07", 'MSELoss(reduction="sum")', 'MSELoss(reduction="mean")', 1)],
    "최유나": [("e07", "optimizer.zero_grad()", "pass", 1)],
    "leo": [("e03", ".pow(2).sum()", ".pow(2).mean()", 0)],
    "mia": [("e02", "grad_y_pred = 2.0 * (y_pred - y)", "grad_y_pred = (y_pred - y)", 0)],
    "noah": [("e09", "lr=learning_rate", "lr=0.01", 1)],
    "olga": [("e01", "grad_y_pred = 2.0 * (y_pred - y)", "grad_y_pred = (y_pred - y)", 1),
             ("e02", "grad_y_pred = 2.0 * (y_pred - y)", "grad_y_pred = (y_pred - y)", 0)],
    "pete": [("e08", 'optimizer.load_state_dict(checkpoint["optimizer"])', "pass", 1)],
    "quinn": [("e09", "w -= learning_rate * gradient", "w += learning_rate * gradient", 1)],
}
#: A folder name is a student id: this one is markup, which no page may run.
MARKUP_ID = "heidi<img src=x onerror=alert(1)>"
CORRECT = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", MARKUP_ID,
           "강예린", "김민준", "이서연"]
EXPECTED_STATUS = {
    **{name: "graded" for name in [*CORRECT, *BUGS, "uma", "vic", "wes"]},
    **{name: "empty" for name in ["empty", "정하늘", "sam"]},
    **{name: "stubs" for name in ["stub1", "stub2", "tom", "윤서준"]},
    **{name: "timeout" for name in ["mallory", "ned"]},
    **{name: "error" for name in ["xena", "yuri", "zara", "oscar", "zed"]},
}


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("e*.py"))


def _copy(source: Path, target: Path, only: set[str] | None = None) -> Path:
    target.mkdir(parents=True)
    for file in _files(source):
        if only is None or file.name[:3] in only:
            shutil.copy(file, target / file.name)
    return target


def _substitute(folder: Path, exercise: str, old: str, new: str, count: int = 1) -> None:
    path = next(folder.glob(f"{exercise}*.py"))
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new) if count == 0 else text.replace(old, new, count))


def _whole_course(folder: Path) -> str:
    return "\n\n".join(file.read_text() for file in _files(folder))


def build_class(root: Path) -> Path:
    root.mkdir(parents=True)
    for name in CORRECT:
        if name not in ("bob", "carol"):
            _copy(SOLUTIONS, root / name)
    (root / "bob.py").write_text(_whole_course(SOLUTIONS))          # the course in one file
    cells = [nbformat.v4.new_markdown_cell("# 숙제"), nbformat.v4.new_code_cell("%matplotlib inline")]
    cells += [nbformat.v4.new_code_cell(f.read_text()) for f in _files(SOLUTIONS)]
    (root / "carol.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook(cells=cells)))
    for name, bugs in BUGS.items():
        folder = _copy(SOLUTIONS, root / name)
        for exercise, old, new, count in bugs:
            _substitute(folder, exercise, old, new, count)
    (root / "empty").mkdir()                                          # nothing handed in
    (root / "정하늘").mkdir()
    sam = root / "sam"                                                # files never saved
    sam.mkdir()
    for file in _files(EXERCISES):
        (sam / file.name).write_text("")
    for name in ("stub1", "stub2", "윤서준"):                         # the kit as handed out
        _copy(EXERCISES, root / name)
    (root / "tom.py").write_text(_whole_course(EXERCISES))
    uma = _copy(SOLUTIONS, root / "uma", only={"e00", "e01", "e02", "e03", "e04"})
    for file in _files(EXERCISES):                                    # half done, half stubs
        if not (uma / file.name).exists():
            shutil.copy(file, uma / file.name)
    _copy(SOLUTIONS, root / "vic", only={"e00", "e01", "e02"})       # the rest missing
    _copy(SOLUTIONS, root / "wes", only={"e04"})
    xena = _copy(SOLUTIONS, root / "xena")                            # a syntax error
    _substitute(xena, "e03", "def autograd_train(", "def autograd_train(:")
    (root / "yuri.py").write_text(_whole_course(SOLUTIONS).replace("def fit(", "def fit((", 1))
    zara = _copy(SOLUTIONS, root / "zara")                            # an indentation error
    _substitute(zara, "e05", "        return self.linear2", "  return self.linear2")
    mallory = _copy(SOLUTIONS, root / "mallory")                      # endless loop at import
    (mallory / "e01_numpy_grads.py").write_text("while True: pass\n")
    ned = _copy(SOLUTIONS, root / "ned")                              # endless loop in forward
    _substitute(ned, "e06", "def forward(self, x):", "def forward(self, x):\n        while True: pass")
    oscar = _copy(SOLUTIONS, root / "oscar")                          # the process ends itself
    (oscar / "e01_numpy_grads.py").write_text(
        (SOLUTIONS / "e01_numpy_grads.py").read_text()
        + "\n\nimport os\n\n\ndef numpy_train(*args, **kwargs):\n    os._exit(0)\n")
    (root / "zed.ipynb").write_text("this is not a notebook {")      # unreadable
    return root


@pytest.fixture(scope="session")
def class_dir(tmp_path_factory) -> Path:
    return build_class(tmp_path_factory.mktemp("class_reports") / "class")


@pytest.fixture(scope="session")
def graded(class_dir):
    """The class graded once: the CompletedProcess of `--batch --format json`."""
    done = run_cli("--batch", str(class_dir), "--format", "json", "--seed", SEED,
                   "--timeout", TIMEOUT, "--jobs", "2", timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="session")
def data(graded) -> dict:
    return json.loads(graded.stdout)


@pytest.fixture(scope="session")
def reports(data) -> list[Report]:
    return [Report.from_json(s) for s in data["submissions"]]


@pytest.fixture(scope="session")
def by_id(reports) -> dict[str, Report]:
    return {r.id: r for r in reports}


@pytest.fixture(scope="session")
def names(reports) -> tuple[str, ...]:
    return tuple(e.name for e in reports[0].exercises)


@pytest.fixture(scope="session")
def settings(names) -> ReportSettings:
    return ReportSettings(batch=True, exercise_names=names)


def on_cpu_only(reports) -> bool:
    """The golden files were made without CUDA (its checks skipped); elsewhere they differ."""
    return all(c.status == "skipped" for r in reports for e in r.exercises for c in e.checks
               if "cuda" in c.name)


def check_golden(name: str, text: str, reports) -> None:
    if not on_cpu_only(reports):
        pytest.skip("golden files are made on a machine without CUDA")
    golden = GOLDEN / name
    if UPDATE:
        golden.write_text(text, encoding="utf-8", newline="")
    assert golden.exists(), f"missing {golden}: run with GRADER_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8"), \
        f"{name} changed; if intended, regenerate with GRADER_UPDATE_GOLDEN=1 and review"


# --------------------------------------------------------------------- the batch itself

def test_forty_submissions_each_with_its_status(reports):
    assert len(reports) == 40
    assert {r.id: submission_status(r) for r in reports} == EXPECTED_STATUS


def test_reports_survive_the_json_round_trip(reports, data):
    for report, raw in zip(reports, data["submissions"]):
        assert report.to_json() == raw
        assert Report.from_json(report.to_json()) == report


def test_progress_is_plain_lines_when_stderr_is_not_a_terminal(graded, reports):
    lines = [line for line in graded.stderr.splitlines() if " graded " in line]
    assert len(lines) == 40
    assert {re.match(r"\[(\d+)/40\] graded ", line).group(1) for line in lines} == \
        {str(n) for n in range(1, 41)}
    for report in reports:
        assert f"graded {report.id}: {report.score:g}/{report.max_score:g}" in graded.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_is_a_bar_with_rate_eta_and_the_last_ids():
    stream = _Terminal()
    with Progress(4, stream) as progress:
        for name in ("alice", "bob", "김민준"):
            progress.graded(Report(exercises=(), id=name))
    text = stream.getvalue()
    assert "[3/4]" in text and "/s" in text and "ETA" in text
    assert "last: alice, bob, 김민준" in text
    assert "graded alice" not in text          # the bar, not the plain lines


PROGRESS_SNIPPET = """
from grader.model import Report
from grader.reporters.progress import Progress
with Progress(3) as progress:
    for name in ("a", "b", "김민준"):
        progress.graded(Report((), id=name))
"""


@pytest.mark.parametrize("columns", [100, 0], ids=["sized", "size-0"])
def test_progress_bar_on_a_real_pseudo_terminal(columns):
    """stderr a pseudo-terminal, as in a shell; one that does not say its size (0) too."""
    import fcntl
    import pty
    import struct
    import subprocess
    import sys
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24 if columns else 0,
                                                          columns, 0, 0))
    child = subprocess.Popen([sys.executable, "-c", PROGRESS_SNIPPET], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:          # the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert child.wait(timeout=60) == 0
    text = seen.decode("utf-8", "replace")
    assert "[3/3]" in text and "/s, ETA" in text and "last: a, b, 김민준" in text


# --------------------------------------------------------------------- the summary

def test_json_summary_per_exercise_check_and_misconception(data, reports, names):
    summary = data["summary"]
    assert summary == class_summary(reports, names)
    assert summary["submissions"] == 40
    assert summary["statuses"] == {s: list(EXPECTED_STATUS.values()).count(s)
                                   for s in ("graded", "empty", "stubs", "timeout", "error")}
    assert [e["name"] for e in summary["exercises"]] == list(names)
    for entry in summary["exercises"]:
        scores = [next(e.score for e in r.exercises if e.name == entry["name"]) for r in reports]
        assert entry["mean"] == pytest.approx(statistics.fmean(scores), abs=1e-3)
        assert entry["median"] == pytest.approx(statistics.median(scores), abs=1e-3)
        assert sum(b["count"] for b in entry["histogram"]) == 40
        assert len(entry["histogram"]) == 10
        for check in entry["checks"]:
            assert check["graded"] + check["skipped"] == 40
            if check["graded"]:
                assert check["pass_rate"] == pytest.approx(check["passed"] / check["graded"],
                                                           abs=1e-3)
    found = {(m["exercise"][:3], m["key"]): m["students"] for m in summary["misconceptions"]}
    assert found[("e01", "factor_two")] == ["olga", "박지호"]
    assert found[("e02", "factor_two")] == ["mia", "olga"]
    assert found[("e04", "mask_missing")] == ["hank"]
    assert found[("e04", "mask_inverted")] == ["ivy"]
    assert all(m["count"] == len(m["students"]) and m["text"] for m in summary["misconceptions"])
    # every student named is one with a bug planted
    assert {s for students in found.values() for s in students} <= set(BUGS)


def test_json_summary_matches_golden(data, reports):
    check_golden("class.summary.json",
                 json.dumps(data["summary"], ensure_ascii=False, indent=1) + "\n", reports)


def test_markdown_gradebook_and_summary_tables(reports, settings):
    text = render_markdown(reports, settings) + "\n"
    assert "### Class summary" in text and "#### Misconceptions" in text
    assert "| `mask_missing`" in text and "| 김민준 |" in text
    assert MARKUP_ID not in text and "| heidi&lt;img src=x onerror=alert(1)&gt; |" in text
    check_golden("class.md", text, reports)


# --------------------------------------------------------------------- gradebooks

def test_csv_keeps_the_contract_columns_then_status_and_percent(reports, settings, names):
    text = render_csv(reports, settings)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "score", "max_score", *names, "status", "percent"]
    for row, report in zip(rows[1:], reports):
        assert row[0] == report.id
        assert row[-2] == EXPECTED_STATUS[report.id]
        assert float(row[-1]) == pytest.approx(100 * report.score / report.max_score, abs=0.01)
    check_golden("class.csv", text + "\n", reports)


def test_spreadsheets_take_no_student_id_for_a_formula(settings):
    report = Report((_exercise("e01", CheckResult("a", "passed", 1.0, 1.0)),),
                    id="=HYPERLINK(\"http://x\")")
    for render_one in (render_csv, render_moodle):
        rows = list(csv.reader(io.StringIO(render_one([report], settings))))
        assert rows[1][0] == "'=HYPERLINK(\"http://x\")"


def test_excel_gets_a_byte_order_mark_and_nothing_else_changes(reports, settings):
    excel = replace(settings, excel=True)
    for render_one in (render_csv, render_moodle):
        plain, marked = render_one(reports, settings), render_one(reports, excel)
        assert marked == BOM + plain and not plain.startswith(BOM)
    assert "김민준" in marked.encode("utf-8").decode("utf-8-sig")


def _roster(path: Path, reports) -> Path:
    """Canvas's gradebook export: every student but zed, two who handed in nothing."""
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Homework 1 (77)"],
            ["    Points Possible", "", "", "", "", "10"]]
    students = [r.id for r in reports if r.id != "zed"] + ["absent1", "absent2"]
    for number, student in enumerate(students, start=1):
        rows.append([f"Student {number}", str(1000 + number), student, f"login{number}",
                     "Section A", ""])
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def test_canvas_gradebook_joined_on_the_roster(tmp_path, reports, settings, by_id):
    roster = read_roster(_roster(tmp_path / "roster.csv", reports), "SIS User ID")
    assert len(roster) == 41          # Canvas's "Points Possible" row is not a student
    canvas = replace(settings, roster=roster, roster_column="SIS User ID",
                     assignment="Homework 1 (77)")
    text = render_canvas(reports, canvas)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "Homework 1 (77)"]
    assert rows[1][0] == "Points Possible" and rows[1][-1] == "104.5"
    scores = {row[2]: row[-1] for row in rows[2:]}
    assert scores["absent1"] == scores["absent2"] == ""       # blank: Canvas leaves it be
    assert scores["김민준"] == f"{by_id['김민준'].score:g}"
    assert "zed" not in scores and not_in_roster(reports, roster, "SIS User ID") == ["zed"]
    check_golden("class.canvas.csv", text + "\n", reports)


def test_moodle_grade_and_feedback_columns(reports, settings, names, by_id):
    text = render_moodle(reports, settings)
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header[0] == "ID number"
    assert header[1:] == [c for n in [*names, "total"] for c in (n, f"{n} (feedback)")]
    olga = dict(zip(header, next(r for r in rows if r[0] == "olga")))
    grad_w1 = next(c for e in by_id["olga"].exercises for c in e.checks
                   if e.name == "e01_numpy_grads" and c.name == "grad_w1")
    assert f"failed ({misconception_text(grad_w1)})" in olga["e01_numpy_grads (feedback)"]
    ivy = dict(zip(header, next(r for r in rows if r[0] == "ivy")))
    e04 = next(e for e in by_id["ivy"].exercises if e.name == "e04_my_relu")
    assert ivy["e04_my_relu (feedback)"].startswith(f"{e04.score:g}/{e04.max_score:g}")
    assert ivy["e04_my_relu"] == f"{e04.score:g}"
    assert olga["total"] == f"{by_id['olga'].score:g}"
    assert olga["e00_tensor_basics (feedback)"].endswith("complete")
    check_golden("class.moodle.csv", text + "\n", reports)


# --------------------------------------------------------------------- Gradescope, Classroom

def test_gradescope_never_shows_the_seed_and_reports_skips_and_misconceptions(reports):
    for report in reports:
        assert str(report.seed) == SEED
        text = render_gradescope([report], ReportSettings(visibility="after_due_date"))
        assert SEED not in text, report.id
        data = json.loads(text)
        assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
        for test in data["tests"]:
            assert test["visibility"] == "after_due_date"
            if test["extra_data"]["status"] == "skipped":
                assert "status" not in test and test["output"].startswith("[skipped]")
            else:
                assert test["status"] in ("passed", "failed")
        assert data["extra_data"]["status"] == EXPECTED_STATUS[report.id]
    olga = json.loads(render_gradescope([next(r for r in reports if r.id == "olga")],
                                        ReportSettings()))
    assert olga["extra_data"]["misconceptions"] == ["e01_numpy_grads:factor_two",
                                                    "e02_tensor_grads:factor_two"]


def test_gradescope_golden(by_id, reports):
    text = render_gradescope([by_id["mallory"]], ReportSettings(visibility="hidden",
                                                                 elapsed=12.4))
    assert json.loads(text)["execution_time"] == 12
    check_golden("class.mallory.gradescope.json", text + "\n", reports)


def test_classroom_result_one_test_per_check(reports):
    expected = {"pass": 0, "fail": 0, "error": 0}
    for report in reports:
        data = json.loads(render_classroom([report], ReportSettings()))
        assert set(data) == {"version", "status", "max_score", "tests"} and data["version"] == 1
        assert data["max_score"] == report.max_score
        assert sum(t["score"] for t in data["tests"]) == pytest.approx(report.score)
        assert len(data["tests"]) == sum(len(e.checks) for e in report.exercises)
        for test in data["tests"]:
            assert set(test) == {"name", "status", "score", "message"}
            assert test["status"] in ("pass", "fail", "error")
        expected[data["status"]] += 1
        if report.full_marks:
            assert data["status"] == "pass"
    assert expected == {"pass": 11, "fail": 27, "error": 2}   # error: yuri and sam ran nothing
    batch = json.loads(render_classroom(reports, ReportSettings(batch=True)))
    assert len(batch["submissions"]) == 40


def test_classroom_golden(by_id, reports):
    text = render_classroom([by_id["olga"]], ReportSettings())
    check_golden("class.olga.classroom.json", text + "\n", reports)


# --------------------------------------------------------------------- the HTML page

@pytest.fixture(scope="session")
def page(reports, names, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("html") / "class.html"
    path.write_text(render_html(reports, ReportSettings(batch=True, exercise_names=names)),
                    encoding="utf-8")
    return path


def test_html_page_is_self_contained_with_a_section_per_student(page, reports, names):
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:|//)", text)
    assert "@import" not in text and "url(" not in text
    assert "Content-Security-Policy" in text
    assert text.count('<svg class="chart histogram"') == len(names) + 1   # + the totals
    for index, report in enumerate(reports, start=1):
        assert f'<section class="student" id="student-{index}">' in text
        assert f'href="#student-{index}"' in text
    assert MARKUP_ID not in text and "heidi&lt;img src=x onerror=alert(1)&gt;" in text


def _browser():
    """(sync_playwright, chromium path) or a skip saying what is missing."""
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        missing.append("the playwright package (pip install playwright)")
    chromium = os.environ.get("GRADER_CHROMIUM") or next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
    if chromium is None:
        missing.append("a chromium browser (apt-get install chromium)")
    if missing:
        reason = "the HTML page needs a headless browser: no " + " and no ".join(missing)
        if os.environ.get("GRADER_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return sync_playwright, chromium


def test_html_page_in_a_real_browser(page, reports, names):
    sync_playwright, chromium = _browser()
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning")
                   else None)
            tab.on("pageerror", lambda error: problems.append(str(error)))
            tab.on("request", lambda request: requests.append(request.url))
            tab.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"),
                                             dialog.dismiss()))
            tab.goto(page.as_uri())
            assert tab.title() == "torchkit class report"
            charts = tab.locator("section.exercise svg.chart.histogram")
            assert charts.count() == len(names)
            for index in range(charts.count()):
                box = charts.nth(index).bounding_box()
                assert box and box["width"] > 100 and box["height"] > 30
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / "class-report.png"), full_page=False)
            # the student table sorts on a click, by number
            tab.locator("#students thead th", has_text="Score").locator("button").click()
            shown = tab.locator("#students tbody tr td:nth-child(3)").all_inner_texts()
            assert [float(s) for s in shown] == sorted(r.score for r in reports)
            tab.locator("#students thead th", has_text="Score").locator("button").click()
            shown = tab.locator("#students tbody tr td:nth-child(3)").all_inner_texts()
            assert [float(s) for s in shown] == sorted((r.score for r in reports), reverse=True)
            # a name links to that student's report on the page
            tab.locator("#students tbody a", has_text="김민준").click()
            target = tab.locator("section.student:target h3")
            assert "김민준" in target.inner_text()
            tab.screenshot(path=str(ARTIFACTS / "class-report-student.png"))
            # the id that is markup shows as text, and made no element
            assert tab.locator("#students tbody a", has_text="onerror").count() == 1
            assert tab.locator("img").count() == 0
        finally:
            browser.close()
    assert problems == []
    assert all(url.startswith("file:") for url in requests), requests


# --------------------------------------------------------------------- statuses in Korean

def _exercise(name: str, *checks: CheckResult, summary: str = "") -> ExerciseResult:
    return ExerciseResult(name, name, tuple(checks), summary=summary)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_statuses_read_the_same_in_every_language(lang):
    def said(key, **params):
        return render(t(key, **params), lang, [])

    missing = said("missing_exercise", file="e01_numpy_grads", names="f, g")
    stub = said("not_implemented", name="f", todo="TODO")
    todo = said("todo_summary", file="e01_numpy_grads.py", count=2)
    crash = said("crashed", how="signal 9")
    empty_file = said("empty_file", file="모델.py")
    cuda = said("no_cuda")
    skipped = CheckResult("on_cuda", "skipped", 0.0, 1.0, cuda)

    def report(*checks, summary=""):
        return Report((_exercise("e01", *checks, skipped, summary=summary),
                       _exercise("e02", CheckResult("a", "failed", 0.0, 1.0, missing))))

    assert submission_status(report(CheckResult("a", "failed", 0.0, 1.0, missing))) == "empty"
    assert submission_status(report(CheckResult("a", "error", 0.0, 1.0, empty_file))) == "empty"
    assert submission_status(report(CheckResult("a", "failed", 0.0, 1.0, stub),
                                    summary=todo)) == "stubs"
    assert submission_status(report(CheckResult("a", "error", 0.0, 1.0, crash),
                                    CheckResult("b", "passed", 1.0, 1.0))) == "error"
    assert submission_status(report(CheckResult("a", "timeout", 0.0, 1.0, "…"))) == "timeout"
    assert submission_status(report(CheckResult("a", "failed", 0.0, 1.0, "wrong"))) == "graded"
    unreadable = replace(report(CheckResult("a", "failed", 0.0, 1.0, missing)),
                         notes=("could not read zed.ipynb",))
    assert submission_status(unreadable) == "error"


# --------------------------------------------------------------------- the command line

def _main(capsys, *args: str) -> tuple[int, str, str]:
    from grader.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args, says", [
    (["--format", "canvas"], "needs --roster"),
    (["--format", "json", "--excel"], "--excel is for"),
    (["--format", "csv", "--visibility", "hidden"], "--visibility is for"),
    (["--format", "csv", "--roster", "r.csv"], "--roster is for"),
    (["--format", "canvas", "--roster", "missing.csv"], "cannot read the roster"),
    (["--format", "gradescope", "--visibility", "tomorrow"], "invalid choice"),
])
def test_wrong_options_exit_2_before_grading(tmp_path, capsys, args, says):
    args = [str(tmp_path / a) if a.endswith(".csv") else a for a in args]
    code, out, err = _main(capsys, "--batch", str(tmp_path), *args)
    assert code == 2 and out == ""
    assert says in err


def test_roster_without_the_join_column_exits_2(tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,Email\nAnn,ann@example.org\n")
    (tmp_path / "class").mkdir()
    code, out, err = _main(capsys, "--batch", str(tmp_path / "class"), "--format", "canvas",
                           "--roster", str(roster))
    assert code == 2 and "no column 'SIS User ID'" in err


def test_empty_batch_exits_2_with_one_clear_line(tmp_path, capsys):
    code, out, err = _main(capsys, "--batch", str(tmp_path), "--format", "csv")
    assert code == 2 and out == ""
    assert "no submissions" in err.splitlines()[0]


def test_canvas_end_to_end_with_bom_and_a_warning(tmp_path, reports):
    """A small class through the command line: the roster joins, --excel marks the file,
    and a submission that the roster does not know is said on stderr."""
    root = tmp_path / "small"
    _copy(EXERCISES, root / "김민준", only={"e04"})
    (root / "stranger").mkdir()
    roster = _roster(tmp_path / "roster.csv", [Report((), id="김민준")])
    done = run_cli("--batch", str(root), "--format", "canvas", "--roster", str(roster),
                   "--excel", "--only", "e04_my_relu", "--seed", SEED, "--timeout", TIMEOUT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(BOM + "Student,ID,SIS User ID")
    rows = list(csv.reader(io.StringIO(done.stdout.lstrip(BOM))))
    assert [row[2] for row in rows[2:]] == ["김민준", "absent1", "absent2"]
    assert rows[2][-1] == "0" and rows[3][-1] == ""
    assert "stranger" in done.stderr and "roster" in done.stderr


def test_gradescope_end_to_end_visibility_and_execution_time(class_dir):
    done = run_cli(str(class_dir / "hank"), "--format", "gradescope", "--visibility", "hidden",
                   "--only", "e04_my_relu", "--seed", SEED, "--timeout", TIMEOUT)
    assert done.returncode == 1, done.stderr[-2000:]
    assert SEED not in done.stdout
    data = json.loads(done.stdout)
    assert isinstance(data["execution_time"], int) and data["execution_time"] >= 1
    assert {t["visibility"] for t in data["tests"]} == {"hidden"}
    assert "e04_my_relu:mask_missing" in data["extra_data"]["misconceptions"]
