"""Caps per notebook under attack: time (re-runs included), output, size. Each attack runs
with small limits, pays nothing past them and is told to the instructor."""

import json
import time
from unittest.mock import patch

import nbformat
import pandas as pd
import pytest

from pixelschool_admin import cli
from pixelschool_admin.grading import events
from pixelschool_admin.grading.record import autograde as grading_autograde
from pixelschool_admin.grading.record.autograde import ClassRun, Recorder, autograde, plan
from pixelschool_admin.grading.record.ledger import Ledger
from pixelschool_admin.grading.results.export import grade_table
from pixelschool_admin.grading.results.report import attention_table, write_report
from pixelschool_admin.grading.settings import GIB, MIB, Limits, Settings
from pixelschool_admin.grading.worker import caps
from pixelschool_admin.grading.worker.executor import ERROR_KEPT, cap_outputs
from pixelschool_admin.grading.worker.task import Outcome, read_files
from tests.classroom import SOLVED, filled, hand_in, tiny_course

pytestmark = pytest.mark.xdist_group("caps")

CELL_LIMIT = 3  # seconds per cell
BUDGET = 6  # seconds per notebook
SETTINGS = Settings(
    timeout=CELL_LIMIT,
    limits=Limits(memory=2 * GIB),
    notebook_timeout=BUDGET,
    max_notebook_output_bytes=300_000,
    max_cells=200,
    max_notebook_bytes=MIB,
)
LOOP = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"


def code(source):
    return nbformat.v4.new_code_cell(source)


def interleaved(nb, source, extra=0):
    """``nb`` with a code cell of ``source`` before each cell, and ``extra`` more at the end."""
    cells = []
    for original in nb.cells:
        cells += [code(source), original]
    nb.cells = cells + [code(source) for _ in range(extra)]
    return nb


def attacks(released):
    solved = lambda: filled(released, **SOLVED)  # noqa: E731  (a fresh copy each time)
    rerun = solved()
    # Each loop is stopped at the cell limit, the rest runs in a new kernel; loops first, so
    # the first timeout comes at the cell limit however slow the machine is.
    rerun.cells = [*(code(LOOP) for _ in range(3)), *rerun.cells]
    bloated = solved()
    bloated.cells.insert(0, nbformat.v4.new_markdown_cell("w" * (MIB - 50_000)))
    bloated.cells.insert(1, code("print('b' * 200_000)"))
    huge = solved()
    huge.cells += [nbformat.v4.new_markdown_cell(f"note {i}") for i in range(5_000)]
    tome = solved()
    tome.cells += [nbformat.v4.new_markdown_cell("t" * 100) for _ in range(30_000)]
    return {
        "full": solved(),
        # sleeps just under the cell limit before every cell, and after: 10 × 2.8 s unbounded
        "sleeper": interleaved(solved(), f"import time\ntime.sleep({CELL_LIMIT - 0.2})", 5),
        "rerun": rerun,
        "chatty": interleaved(solved(), "print('c' * 100_000)", 5),
        "screamer": interleaved(solved(), "raise ValueError('s' * 3_000_000)"),
        "bloated": bloated,
        "huge": huge,  # 5,005 cells in 0.6 MB: the cell cap
        "tome": tome,  # 30,005 cells in 6 MB: the byte cap, before anything parses it
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course, released = tiny_course(tmp_path_factory.mktemp("caps"))
    for student, nb in attacks(released).items():
        hand_in(course, "tiny", student, nb)
    outcomes = {o.student: o for o in autograde(course, jobs=2, settings=SETTINGS)}
    scores = grade_table(course).groupby("student")["score"].sum()
    return course, outcomes, scores


def kinds(course, student):
    logged = events.read(course)
    return set(logged[logged["student"] == student]["kind"])


def autograded(course, student):
    return course.path("autograded", student, "tiny") / "tiny.ipynb"


def test_the_class_is_graded_within_the_caps(graded):
    course, outcomes, scores = graded
    assert scores["full"] == 3 and kinds(course, "full") == set()
    assert outcomes["full"].ok


@pytest.mark.parametrize("student", ["sleeper", "rerun"])
def test_a_notebook_stops_at_its_time_budget_re_runs_included(graded, student):
    course, outcomes, scores = graded
    assert "time budget" in kinds(course, student)
    assert scores[student] == 0  # the graded cells came after the budget
    text = autograded(course, student).read_text()
    assert "TimeBudget" in text and f"{BUDGET} s for all its cells" in text
    # unbounded: 10 × 2.8 s of sleep; 2 + 3 s per run, four runs: the attack pays the budget
    assert outcomes[student].timings["autograde"] < BUDGET + 8


def test_the_rerun_attack_is_told_as_timeouts_and_the_budget(graded):
    course, *_ = graded
    assert {"timeout", "time budget"} <= kinds(course, "rerun")


def test_outputs_stop_at_the_notebooks_total_cap(graded):
    course, _, scores = graded
    assert scores["chatty"] == 3  # cut outputs fail no test
    logged = events.read(course)
    cuts = logged[(logged["student"] == "chatty") & (logged["kind"] == "notebook output cut")]
    assert len(cuts) == 1 and "cut from this cell on" in cuts["detail"].iloc[0]  # one line
    assert autograded(course, "chatty").stat().st_size < 400_000  # 1 MB printed in all


def test_huge_error_messages_count_and_are_cut(graded):
    course, _, scores = graded
    assert scores["screamer"] == 3
    assert autograded(course, "screamer").stat().st_size < 400_000  # 30 MB of errors raised
    assert {"output cut", "notebook output cut"} & kinds(course, "screamer")


def test_a_notebook_too_big_once_executed_is_graded_zero_unrecorded(graded):
    course, outcomes, scores = graded
    assert scores["bloated"] == 0 and "too big" in kinds(course, "bloated")
    assert any("too big once executed" in p for p in outcomes["bloated"].problems)
    assert not autograded(course, "bloated").exists()


def test_a_notebook_of_too_many_cells_is_set_aside_unread(graded):
    course, outcomes, scores = graded
    assert scores["huge"] == 0 and "too big" in kinds(course, "huge")
    assert any("5,005 cells, over the cap of 200" in p for p in outcomes["huge"].problems)
    kept = course.path("submitted", "huge", "tiny") / "tiny.ipynb.unreadable"
    assert kept.exists()  # the student's file, kept as it was
    assert not kept.with_suffix("").exists()  # nothing under its name for nbgrader to parse
    assert not autograded(course, "huge").exists()  # never recorded


def test_a_notebook_over_the_byte_cap_is_set_aside_before_it_is_parsed(graded):
    course, outcomes, scores = graded
    assert scores["tome"] == 0 and "too big" in kinds(course, "tome")
    assert any(f"bytes, over the cap of {MIB:,}" in p for p in outcomes["tome"].problems)


def test_the_report_tells_each_cap(graded):
    course, *_ = graded
    page = (write_report(course) / "report.html").read_text()
    grading = page[page.index("Grading problems") : page.index("For a look by hand")]
    for what in (events.KINDS["time budget"], events.KINDS["too big"]):
        assert what in grading
    assert events.KINDS["notebook output cut"] in page


# -- without a cluster ------------------------------------------------------------------------


def test_error_outputs_count_toward_the_cap_and_are_cut_not_dropped():
    cell = code("")
    cell.outputs = [
        nbformat.v4.new_output(
            "error", ename="ValueError", evalue="e" * 10**7, traceback=["t" * 10**7] * 50
        )
    ]
    assert cap_outputs(cell, 1000) > 5 * 10**8
    error = cell.outputs[0]
    assert error.output_type == "error" and error.ename == "ValueError"  # still scores 0
    assert len(error.evalue) + sum(map(len, error.traceback)) <= 2 * ERROR_KEPT


def test_output_metadata_counts_toward_the_cap():
    cell = code("")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/plain": "x"}, metadata={"junk": "m" * 10**6}
        )
    ]
    assert cap_outputs(cell, 1000) > 10**6 and all("junk" not in str(o) for o in cell.outputs)


def test_too_many_cells_are_counted_without_nbformat(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("z" * 800) for _ in range(30_000)]
    path = tmp_path / "x.ipynb"
    # 25 MB, its keys spelt with JSON escapes (the same notebook to nbformat)
    path.write_text(json.dumps(nb).replace('"cell_type"', '"\\u0063ell_type"'))
    start = time.perf_counter()
    why = caps.unreadable(read_files(tmp_path), Settings())
    assert why == {"x.ipynb": "too big: 30,000 cells, over the cap of 1,000"}
    assert time.perf_counter() - start < 2  # nbformat alone takes longer
    too_big = caps.unreadable(read_files(tmp_path), Settings(max_notebook_bytes=MIB))["x.ipynb"]
    assert too_big.startswith("too big: ") and f"over the cap of {MIB:,}" in too_big


class EarlyGrid:
    """An engine that sends every task at once (before the canary's time is known); the
    canary finishes first, then each student with the seconds of ``took``."""

    local = True

    def __init__(self, took):
        self.took, self.sent = took, []

    def hosts(self):
        return ["node"]

    def bundle(self, name, make):
        return name

    def run(self, tasks, bundles, settings, desc=""):
        sent = [(task, settings(task)) for task in tasks]
        self.sent += [(task.student, s.notebook_timeout) for task, s in sent]
        for task, _ in sorted(sent, key=lambda pair: not pair[0].canary):
            outcome = Outcome(task.assignment, task.student, ok=True)
            outcome.timings["autograde"] = 2.0 if task.canary else self.took[task.student].pop(0)
            yield task, outcome


def test_students_sent_before_the_canary_are_rerun_under_its_budget(tmp_path):
    course, released = tiny_course(tmp_path)
    for student in ("ana", "bo"):
        hand_in(course, "tiny", student, filled(released, **SOLVED))
    budget = caps.canary_budget(2.0)
    grid, recorded = EarlyGrid({"ana": [5.0], "bo": [budget + 30, budget - 1]}), []
    todo, _ = plan(course, Ledger(course), [("tiny", "ana"), ("tiny", "bo")], Settings(), True)
    run = ClassRun(course, grid, Settings(), Ledger(course), todo, {}, recorded.append)
    with patch.object(Recorder, "record", lambda self, outcome: None):
        run.grade()
    # sent with the run's default first; bo, past the canary's budget, again under it
    assert grid.sent[1:] == [("ana", None), ("bo", None), ("bo", budget)]
    assert [(o.student, o.timings["autograde"]) for o in recorded] == [
        ("ana", 5.0),
        ("bo", budget - 1),
    ]


def test_a_set_budget_is_sent_to_every_student_at_once(tmp_path):
    course, released = tiny_course(tmp_path)
    hand_in(course, "tiny", "ana", filled(released, **SOLVED))
    grid = EarlyGrid({"ana": [50.0]})
    settings = Settings(notebook_timeout=30)
    todo, _ = plan(course, Ledger(course), [("tiny", "ana")], settings, True)
    run = ClassRun(course, grid, settings, Ledger(course), todo, {}, None)
    with patch.object(Recorder, "record", lambda self, outcome: None):
        run.grade()
    assert grid.sent == [("pixelschool-canary", 30), ("ana", 30)]


def test_cli_flags_set_the_caps(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(grading_autograde, "autograde", lambda *a, **k: seen.append(a[4]) or [])
    args = ["autograde", "--course", str(tmp_path / "c")]
    assert cli.main([*args, "--notebook-timeout", "90", "--max-cells", "50"]) == 0
    assert cli.main([*args, "--max-notebook-mb", "2"]) == 0
    default = Settings()
    assert [(s.notebook_timeout, s.max_cells) for s in seen] == [
        (90, 50),
        (None, default.max_cells),
    ]
    assert seen[0].max_notebook_bytes == default.max_notebook_bytes
    assert seen[1].max_notebook_bytes == 2 * MIB


def test_far_slower_than_the_class_median_is_flagged(tmp_path):
    course, _ = tiny_course(tmp_path)
    rows = [("tiny", f"s{i}", 4.0 + i % 3) for i in range(10)] + [("tiny", "slowpoke", 90.0)]
    table = pd.DataFrame(rows, columns=["assignment", "student", "seconds"])
    (course.root / "reports").mkdir(exist_ok=True)
    table.to_csv(course.root / "reports" / "autograde.csv", index=False)
    shown = attention_table(course)
    slow = shown[shown["kind"] == "slow"]
    assert list(slow["student"]) == ["slowpoke"]
    assert "90 s to grade, 18× the class median of 5 s" in slow["detail"].iloc[0]


def test_cap_outputs_keeps_errors_and_says_what_was_cut():
    c = nbformat.v4.new_code_cell("")
    c.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="x" * 5000),
        nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[]),
    ]
    cap_outputs(c, 1000)
    assert len(c.outputs[0].text) == 1000 and c.outputs[1].ename == "ValueError"
    assert "output cut" in c.outputs[-1].text
