"""The instructor pipeline: sandboxed parallel autograde on hostile submissions, equality with
nbgrader's serial ``autograde``, manual grades kept, LMS collect, CSV, report and the CLI."""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from pixelschool_admin.authoring.notebooks import nbgrader_meta
from pixelschool_admin.democlass import FORK_LOOP, VANDAL
from pixelschool_admin.grading import events
from pixelschool_admin.grading.course import Course
from pixelschool_admin.grading.intake import integrity
from pixelschool_admin.grading.record.autograde import autograde
from pixelschool_admin.grading.results.export import export_csv, grade_table
from pixelschool_admin.grading.results.report import COUNTED_KINDS, write_report
from pixelschool_admin.grading.sandbox.bubblewrap import (
    protections,
    sandbox_problem,
)
from pixelschool_admin.grading.settings import GIB, Limits, Settings
from pixelschool_admin.paths import REPO_ROOT, SOLUTIONS_DIR
from tests.classroom import SOLVED, WRONG_ONE_HOT, filled, hand_in, tiny_course

pytestmark = pytest.mark.xdist_group("grading")  # one worker builds the graded class once
needs_bwrap = pytest.mark.skipif(bool(sandbox_problem()), reason=str(sandbox_problem()))


LOOP = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"
PROBE = (
    "for p in [{!r}, {!r}]:\n    try:\n        print('read', open(p, 'rb').read(20))\n"
    "    except OSError as e:\n        print('blocked:', type(e).__name__)\n"
)


def submissions(course, released):
    """{student id: submission} covering the ordinary and every hostile case."""
    solved = filled(released, **SOLVED)
    deleted = filled(released, **SOLVED)
    deleted.cells = [
        c for c in deleted.cells if nbgrader_meta(c)["grade_id"] != "test_add_channel_axis"
    ]
    edited = filled(released, **SOLVED)
    edited.cells[4].source = "pass  # no test here"
    big = filled(released, **SOLVED)
    big.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="y" * 10**8)]
    probe = PROBE.format(str(SOLUTIONS_DIR / "01_data_preparation.ipynb"), str(course.db_path))
    return {
        "full": solved,
        "blank": released,
        "partial": filled(
            released, one_hot=WRONG_ONE_HOT, add_channel_axis=SOLVED["add_channel_axis"]
        ),
        "Zoë Ødegård Núñez": solved,
        "loop": filled(
            released, one_hot=LOOP + SOLVED["one_hot"], add_channel_axis=SOLVED["add_channel_axis"]
        ),
        "bomb": filled(released, one_hot="x = bytearray(8 * 2**30)\n" + SOLVED["one_hot"]),
        "crash": filled(
            released,
            one_hot="import os\nos.kill(os.getpid(), 9)\n",
            add_channel_axis=SOLVED["add_channel_axis"],
        ),
        "snoop": filled(
            released, one_hot=probe + SOLVED["one_hot"], add_channel_axis=SOLVED["add_channel_axis"]
        ),
        "net": filled(
            released,
            one_hot="import socket\ntry:\n    socket.create_connection(('pypi.org', 443), 3)\n"
            "    print('connected')\nexcept OSError as e:\n    print('blocked:', e)\n"
            + SOLVED["one_hot"],
            add_channel_axis=SOLVED["add_channel_axis"],
        ),
        "cheat": filled(
            released,
            one_hot=WRONG_ONE_HOT + "tests.test_one_hot = lambda *a, **k: print('fine')\n",
            add_channel_axis=SOLVED["add_channel_axis"],
        ),
        "big": filled(
            released,
            one_hot=SOLVED["one_hot"],
            add_channel_axis="print('x' * 20_000_000)\n" + SOLVED["add_channel_axis"],
        ),
        "big file": big,
        "limits": filled(
            released,
            one_hot="import os, resource\nprint('AS', resource.getrlimit(resource.RLIMIT_AS)[0])\n"
            "print('ENV', sorted(os.environ))\n"
            "up = os.path.dirname\n"
            "print('STUDENTS', os.listdir(up(up(os.getcwd()))))\n"
            "print('SCRATCH', os.listdir(up(up(up(os.getcwd())))))\n"
            "print('TMP', sorted(os.listdir('/tmp')))\n" + SOLVED["one_hot"],
            add_channel_axis=SOLVED["add_channel_axis"],
        ),
        "forker": filled(
            released,
            one_hot=FORK_LOOP + "\n" + SOLVED["one_hot"],
            add_channel_axis=SOLVED["add_channel_axis"],
        ),
        "vandal": filled(
            released,
            one_hot=VANDAL.format(home=str(Path.home()), course=str(course.root))
            + "\n"
            + SOLVED["one_hot"],
            add_channel_axis=SOLVED["add_channel_axis"],
        ),
        "sleeper": filled(
            released,
            one_hot="import time\ntime.sleep(200)\n" + SOLVED["one_hot"],
            add_channel_axis=SOLVED["add_channel_axis"],
        ),
        "kit": filled(
            released,
            one_hot="from pixelschool.checks import data_preparation\n" + SOLVED["one_hot"],
            add_channel_axis=SOLVED["add_channel_axis"],
        ),
        "json": nbformat.writes(solved)[:300],
        "deleted": deleted,
        "edited": edited,
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The tiny course with every submission graded by our parallel autograde."""
    course, released = tiny_course(tmp_path_factory.mktemp("grading"))
    subs = submissions(course, released)
    for student, nb in subs.items():
        hand_in(course, "tiny", student, nb)
    settings = Settings(timeout=10, limits=Limits(memory=2 * GIB))
    outcomes = {o.student: o for o in autograde(course, jobs=2, settings=settings)}
    scores = grade_table(course).pivot_table(index="student", columns="question", values="score")
    return course, released, outcomes, scores


def outputs(course, student):
    path = course.path("autograded", student, "tiny") / "tiny.ipynb"
    nb = nbformat.read(path, 4)
    return "\n".join(
        str(o.get("text", "")) + str(o.get("ename", "")) + str(o.get("evalue", ""))
        for c in nb.cells
        for o in c.get("outputs", [])
    )


def total(scores, student):
    return scores.loc[student].sum()


@pytest.mark.parametrize(
    "student, expected",
    [
        ("full", 3),
        ("blank", 0),
        ("partial", 1),
        ("Zoë Ødegård Núñez", 3),
        ("loop", 1),  # one_hot's cell stopped: its test fails; add_channel_axis counts
        ("bomb", 0),  # MemoryError before both definitions
        ("crash", 1),  # the kernel dies in one_hot's cell; the rest runs in a new kernel
        ("snoop", 3),
        ("net", 3),
        ("cheat", 1),  # replaced tests.test_one_hot: the graded cell uses fresh checks
        ("big", 3),
        ("big file", 3),
        ("limits", 3),
        ("forker", 3),
        ("vandal", 3),
        ("sleeper", 1),
        ("kit", 3),  # flagged for the instructor; issue 11 takes the answers out of reach
        ("json", 0),
        ("deleted", 2),  # nbgrader scores a deleted graded cell zero
        ("edited", 3),  # nbgrader restores the test from the gradebook
    ],
)
def test_each_submission_gets_its_due(graded, student, expected):
    course, _, outcomes, scores = graded
    assert total(scores, student) == expected, outcomes[student]


def test_hostile_cells_are_stopped_and_say_why(graded):
    course, _, outcomes, _ = graded
    assert "CellTimeoutError" in outputs(course, "loop")
    assert "MemoryError" in outputs(course, "bomb")
    assert "KernelDied" in outputs(course, "crash")
    assert "output cut" in outputs(course, "big")
    autograded = course.path("autograded", "big", "tiny") / "tiny.ipynb"
    assert autograded.stat().st_size < 6_000_000
    assert outcomes["json"].problems and "not a readable notebook" in outcomes["json"].problems[0]
    kept = course.path("submitted", "json", "tiny") / "tiny.ipynb.unreadable"
    assert kept.read_text().startswith("{")  # the student's file is kept as it was


@needs_bwrap
def test_sandbox_hides_instructor_files_and_network(graded):
    course, *_ = graded
    snoop = outputs(course, "snoop")
    assert snoop.count("blocked:") == 2 and "read b" not in snoop
    net = outputs(course, "net")
    assert "blocked:" in net and "connected" not in net
    limits = outputs(course, "limits")
    assert f"AS {2 * GIB}" in limits  # the configured limit, not the default
    # /tmp holds only home and the mount points on the way to the kernel's folder, its sockets
    # and (in a clone under /tmp) the code; not the course, not the scratch gradebook copy,
    # not the other students.
    tmp = ast.literal_eval(re.search(r"TMP (\[.*\])", limits)[1])
    code = {
        Path(p).relative_to("/tmp").parts[0]
        for p in (REPO_ROOT, sys.prefix)
        if Path(p).is_relative_to("/tmp")
    }
    assert (
        {"home"} <= set(tmp) <= {"home"} | code | {t for t in tmp if t.startswith("pixelschool-")}
    )
    # the scratch course shows only the way to the kernel's folder (and, for a cold kernel,
    # the watch's log), not the gradebook copy or the source notebook
    scratch = ast.literal_eval(re.search(r"SCRATCH (\[.*\])", limits)[1])
    assert "autograded" in scratch and set(scratch) <= {"activity.log", "autograded"}
    assert "STUDENTS ['limits']" in limits
    assert "PYTEST_CURRENT_TEST" not in limits and "'NBGRADER_EXECUTION'" in limits


def test_integrity_scan_lists_tampering(graded):
    course, *_ = graded
    found = {(f.student, f.what) for f in integrity.scan(course)}
    assert ("deleted", "locked cell deleted") in found
    assert ("edited", "locked cell edited") in found
    assert ("cheat", "replaces tests.test_one_hot") in found
    assert ("net", "imports socket (opens network connections)") in found
    assert not {what for student, what in found if student == "full"}


def test_equal_to_serial_nbgrader_autograde(graded, tmp_path):
    """nbgrader's own serial ``nbgrader autograde`` gives the same grade, cell by cell."""
    course, released, _, scores = graded
    serial = Course(tmp_path / "serial")
    shutil.copytree(course.root / "source", serial.root / "source")
    shutil.copy(course.db_path, serial.db_path)
    ordinary = ["full", "blank", "partial", "Zoë Ødegård Núñez", "edited", "deleted"]
    for student in ordinary:
        shutil.copytree(
            course.path("submitted", student, "tiny"), serial.path("submitted", student, "tiny")
        )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run(
        [Path(sys.executable).parent / "nbgrader", "autograde", "tiny", "--force"],
        cwd=serial.root,
        env=env,
        check=True,
        capture_output=True,
    )
    theirs = grade_table(serial).pivot_table(index="student", columns="question", values="score")
    pd.testing.assert_frame_equal(
        scores.loc[ordinary].sort_index(), theirs.loc[ordinary].sort_index()
    )


def test_manual_grades_and_comments_survive_a_rerun(graded):
    course, *_ = graded
    with course.gradebook() as gb:
        grade = gb.find_grade("test_add_channel_axis", "tiny", "tiny", "partial")
        grade.manual_score = 0.5
        comment = gb.find_comment("add_channel_axis", "tiny", "tiny", "partial")
        comment.manual_comment = "Good start; see me."
        gb.db.commit()
    autograde(course, students={"partial"}, jobs=1, settings=Settings(timeout=5))
    with course.gradebook() as gb:
        assert gb.find_grade("test_add_channel_axis", "tiny", "tiny", "partial").score == 0.5
        comment = gb.find_comment("add_channel_axis", "tiny", "tiny", "partial")
        assert comment.manual_comment == "Good start; see me."


def test_csv_and_report(graded):
    course, *_ = graded
    table = pd.read_csv(export_csv(course))
    assert len(table) == 20 and list(table.columns[-3:]) == ["tiny", "total", "max"]
    assert table.set_index("student_id").loc["Zoë Ødegård Núñez", "total"] == 3
    out = write_report(course)
    page = (out / "report.html").read_text()
    for piece in ("scores_by_notebook.png", "scores_by_question.png", "locked cell deleted"):
        assert piece in page
    questions = pd.read_csv(out / "questions.csv")
    one_hot = questions.set_index("question").loc["test_one_hot"]
    # loop, sleeper, bomb and crash never defined one_hot: the most common failure of its test
    assert one_hot["most common failure"] == "NameError: name 'one_hot' is not defined (4×)"


def kinds(course, student):
    """The kinds of the student's events worth a look (mistakes are counted, not looked at)."""
    logged = events.read(course)
    return set(logged[logged["student"] == student]["kind"]) - COUNTED_KINDS


@needs_bwrap
@pytest.mark.parametrize(
    "student, expected",
    [
        ("forker", {"processes", "process limit"}),
        ("vandal", {"blocked file", "disk limit"}),
        ("snoop", {"blocked file"}),
        ("net", {"blocked network"}),
        ("sleeper", {"timeout"}),
        ("loop", {"timeout"}),
        ("crash", {"kernel died"}),
        ("bomb", {"memory limit"}),
        ("big", {"output cut"}),
        ("json", {"unreadable"}),
    ],
)
def test_report_says_what_the_sandbox_saw(graded, student, expected):
    course, *_ = graded
    assert expected <= kinds(course, student)


def test_ordinary_submissions_raise_no_events(graded):
    course, *_ = graded
    for student in ("full", "blank", "partial", "Zoë Ødegård Núñez"):
        assert kinds(course, student) == set(), student


@needs_bwrap
def test_vandal_cannot_touch_its_own_submission(graded):
    course, *_ = graded
    text = outputs(course, "vandal")
    assert "kept:" in text  # the handed-in files are read-only in the sandbox
    assert course.path("submitted", "vandal", "tiny").joinpath("tiny.ipynb").exists()
    assert not list(course.path("autograded", "vandal", "tiny").glob("junk*"))


def test_report_lists_events_and_kit_imports(graded):
    course, *_ = graded
    page = (write_report(course) / "report.html").read_text()
    assert "Grading problems" in page and "cell stopped at the time limit" in page
    assert "the course kit" in page
    if {name: ok for name, ok, _ in protections()}["process limit"]:
        assert "process limit hit" in page
    attention = pd.read_csv(course.root / "reports" / "attention.csv", keep_default_na=False)
    kit = attention[attention["student"] == "kit"]
    assert "kit import" in set(kit["kind"])
