"""The instructor pipeline: sandboxed parallel autograde on hostile submissions, equality with
nbgrader's serial ``autograde``, manual grades kept, LMS collect, CSV, report and the CLI."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from pixelschool_admin.authoring.notebooks import nbgrader_meta
from pixelschool_admin.democlass import FORK_LOOP, VANDAL
from pixelschool_admin.grading import events
from pixelschool_admin.grading.course import Course, GradingError
from pixelschool_admin.grading.intake import integrity
from pixelschool_admin.grading.intake.roster import Roster
from pixelschool_admin.grading.record.autograde import autograde
from pixelschool_admin.grading.results.export import export_csv, grade_table
from pixelschool_admin.grading.results.report import write_report
from pixelschool_admin.grading.sandbox.bubblewrap import (
    LAUNCHER,
    KernelSandbox,
    font_cache,
    kernel_python,
    protections,
    sandbox_problem,
)
from pixelschool_admin.grading.settings import GIB, Limits, Settings
from pixelschool_admin.grading.worker.executor import cap_outputs
from pixelschool_admin.paths import REPO_ROOT, SOLUTIONS_DIR

pytestmark = pytest.mark.xdist_group("grading")  # one worker builds the graded class once
needs_bwrap = pytest.mark.skipif(bool(sandbox_problem()), reason=str(sandbox_problem()))

ONE_HOT = """\
def one_hot(vector, number_classes):
    ### BEGIN SOLUTION
    return np.eye(number_classes, dtype=np.float32)[vector]
    ### END SOLUTION
"""
ADD_AXIS = (
    "def add_channel_axis(images):\n    ### BEGIN SOLUTION\n    return images[..., np.newaxis]\n"
    "    ### END SOLUTION\n"
)
WRONG_ONE_HOT = (
    "def one_hot(vector, number_classes):\n    return np.eye(number_classes)[vector].T\n"
)


def cell(kind, grade_id, source, points=None):
    meta = {"grade": kind == "test", "solution": kind == "answer", "locked": kind != "answer"}
    meta.update(grade_id=grade_id, schema_version=3, task=False)
    if points:
        meta["points"] = points
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def tiny_solution():
    """A two-exercise notebook checked by problem_unittests: one_hot (2 points) and
    add_channel_axis (1), each graded cell a hidden test the grader judges."""
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        cell("setup", "setup", "import numpy as np\nimport problem_unittests as tests"),
        cell("answer", "one_hot", ONE_HOT),
        cell("test", "test_one_hot", "tests.test_one_hot(one_hot, seed=505)", points=2),
        cell("answer", "add_channel_axis", ADD_AXIS),
        cell(
            "test",
            "test_add_channel_axis",
            "tests.test_add_channel_axis(add_channel_axis, seed=606)",
            points=1,
        ),
    ]
    return nb


def filled(released, **answers):
    """The released notebook with answer cells (by grade id) replaced."""
    nb = nbformat.from_dict(released)
    for c in nb.cells:
        if nbgrader_meta(c).get("grade_id") in answers:
            c.source = answers[nbgrader_meta(c)["grade_id"]]
    return nb


def hand_in(course, assignment, student, nb):
    folder = course.path("submitted", student, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    if isinstance(nb, str):
        path.write_text(nb)
    else:
        nbformat.write(nb, path)


SOLVED = {
    "one_hot": ONE_HOT.replace("### ", "# "),
    "add_channel_axis": "def add_channel_axis(images):\n    return images[..., np.newaxis]",
}
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


def tiny_course(root):
    """A course under ``root`` with ``tiny_solution`` released as assignment ``tiny``;
    returns it and the released notebook."""
    solutions = root / "solutions"
    solutions.mkdir()
    nbformat.write(tiny_solution(), solutions / "tiny.ipynb")
    course = Course(root / "course")
    course.add_assignment("tiny", solutions_dir=solutions)
    return course, nbformat.read(course.path("release", ".", "tiny") / "tiny.ipynb", 4)


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


def test_sandbox_binds_no_instructor_folder(tmp_path):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "tiny.ipynb").write_text("{}")
    for uid in (None, 2**24):
        args = KernelSandbox(tmp_path / "work", tmp_path / "run", uid=uid).bwrap_args()
        bound = {args[i + 1] for i, a in enumerate(args) if a in ("--bind", "--ro-bind")}
        for secret in ("solutions", "admin", "course", "tests"):
            assert str(REPO_ROOT / secret) not in bound
        assert "--clearenv" in args and "--unshare-net" in args or "--unshare-all" in args
        assert str(tmp_path / "work" / "tiny.ipynb") in bound  # read-only, under a tmpfs
        assert args[args.index(str(tmp_path / "work")) - 1] == "--tmpfs"


@needs_bwrap
def test_kernels_get_the_font_list_built_in_the_sandbox_read_only(tmp_path):
    name, data = font_cache()  # built once per grading process, with no student code
    assert name.startswith("fontlist-") and json.loads(data)["ttflist"]
    (tmp_path / name).write_bytes(data)
    for folder in ("work", "run"):
        (tmp_path / folder).mkdir()
    sandbox = KernelSandbox(tmp_path / "work", tmp_path / "run", font_cache=str(tmp_path / name))
    code = (
        "import os, matplotlib.font_manager\n"
        "folder = os.environ['MPLCONFIGDIR']\n"
        "try:\n"
        f"    open(os.path.join(folder, {name!r}), 'a')\n"
        "except OSError:\n"
        "    print('read-only')\n"
        "print(*sorted(os.listdir(folder)))\n"
    )
    command = [*sandbox.bwrap_args(), kernel_python(), "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["read-only", name]  # used as it is, never rebuilt
    assert "font" not in result.stderr.lower()
    assert (tmp_path / name).read_bytes() == data


def test_cap_outputs_keeps_errors_and_says_what_was_cut():
    c = nbformat.v4.new_code_cell("")
    c.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="x" * 5000),
        nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[]),
    ]
    cap_outputs(c, 1000)
    assert len(c.outputs[0].text) == 1000 and c.outputs[1].ename == "ValueError"
    assert "output cut" in c.outputs[-1].text


def test_roster_errors_are_clear(tmp_path):
    from pixelschool_admin.grading.course import GradingError

    (tmp_path / "r.csv").write_text("id,first_name\na,A\na,B\n")
    with pytest.raises(GradingError, match="repeated student ids"):
        Roster.read(tmp_path / "r.csv")
    with pytest.raises(GradingError, match="roster.example.csv"):
        Roster.read(tmp_path / "missing.csv")


def test_cli_release_collect_grade_export(tmp_path):
    """The commands an instructor types, on notebook 01 with one LMS submission."""
    course_dir = tmp_path / "course"
    run = [sys.executable, "-m", "pixelschool_admin"]

    def cli(*args):
        result = subprocess.run(run + list(args), capture_output=True, text=True, cwd=REPO_ROOT)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "released 01_data_preparation" in cli(
        "release", "--course", str(course_dir), "01_data_preparation"
    )
    config = course_dir / "nbgrader_config.py"
    with config.open("a") as instructor:  # the instructor's own lines: never rewritten
        instructor.write("c.ClusterGrading.jobqueue = {'queue': 'gpu'}  # mine\n")
    mine = config.read_text()
    released = course_dir / "release" / "01_data_preparation" / "01_data_preparation.ipynb"
    roster = tmp_path / "roster.csv"
    roster.write_text("id,first_name,last_name,email,lms_id\nkim,Kim,Lee,,12\n")
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(released, "Kim Lee_12_assignsubmission_file_/01_data_preparation.ipynb")
    args = ["--course", str(course_dir)]
    assert "collected 1" in cli(
        "collect", *args, "--zip", str(archive), "--roster", str(roster), "01_data_preparation"
    )
    assert "graded 1 of 1" in cli("autograde", *args, "--timeout", "60")
    assert "1 feedback pages" in cli("feedback", *args)
    cli("export", *args)
    grades = pd.read_csv(course_dir / "reports" / "grades.csv")
    assert grades.loc[0, "student_id"] == "kim" and grades.loc[0, "total"] == 0
    assert "report.html" in cli("report", *args)
    assert config.read_text() == mine
    assert Course(course_dir).config.ClusterGrading.jobqueue == {"queue": "gpu"}


def test_the_course_config_is_the_instructors(tmp_path):
    """The kit's settings go to kit_config.py; the instructor's file is made once, given the
    line that loads the kit's settings if it lacks it, and replaced only when the kit wrote
    it whole (an earlier version)."""
    own = tmp_path / "own"
    own.mkdir()
    (own / "nbgrader_config.py").write_text("c = get_config()\nc.ClusterGrading.jobs = 3\n")
    course = Course(own)
    text = (own / "nbgrader_config.py").read_text().splitlines()
    assert text[0] == "c = get_config()" and text[2] == "c.ClusterGrading.jobs = 3"
    assert "kit_config.py" in text[1] and course.config.ClusterGrading.jobs == 3
    assert course.config.ExchangeFactory.collect.endswith("SafeCollect")
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\nload_subconfig('/x/admin/nbgrader_config.py')\n"
        "c.CourseDirectory.root = '/x/course'\nc.Exchange.root = '/x/course/exchange'\n"
        "from pixelschool_admin.grading.results.sanitise import page_config  # noqa: E402\n"
        "c.merge(page_config())  # noqa: F821\n"
    )
    Course(earlier)
    assert "/x/" not in (earlier / "nbgrader_config.py").read_text()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "nbgrader_config.py").write_text("c = get_config()\nc.Execute.timeout = \n")
    with pytest.raises(GradingError, match="nbgrader_config.py"):
        Course(broken)


def test_launcher_sets_rlimits_then_runs_the_command(tmp_path):
    probe = "import resource as r; print(r.getrlimit(r.RLIMIT_AS)[0], r.getrlimit(r.RLIMIT_CPU)[0])"
    sandbox = KernelSandbox(tmp_path, tmp_path, Limits(memory=GIB, cpu_seconds=60))
    prefix = sandbox.launcher_args(sandboxed=False)
    result = subprocess.run([*prefix, sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.split() == [str(GIB), "60"], result.stderr


def kinds(course, student):
    logged = events.read(course)
    return set(logged[logged["student"] == student]["kind"])


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


def test_kernel_uids_do_not_follow_a_seeded_random():
    """Keras's ``set_random_seed`` seeds Python's ``random`` in the grader's process; the
    kernels' uids must still differ from run to run (a user keyring outlives its kernel)."""
    import random

    from pixelschool_admin.grading.sandbox.bubblewrap import KERNEL_UIDS, kernel_uid

    draws = []
    for _ in range(2):
        random.seed(0)
        draws.append(kernel_uid())
    assert draws[0] != draws[1] and all(KERNEL_UIDS[0] <= uid < KERNEL_UIDS[1] for uid in draws)


def test_nbgrader_metadata_validation_checks_its_schema_once():
    """The shim in ``record/speedups.py`` validates as ``jsonschema.validate`` does, error
    for error."""
    import jsonschema
    from nbformat.v4 import new_code_cell
    from nbgrader.nbgraderformat import MetadataValidator

    from pixelschool_admin.grading.record.speedups import SchemaCheckedOnce, install

    install()

    schema = MetadataValidator().schema
    good = {"schema_version": 3, "grade": True, "solution": False, "locked": True}
    good |= {"points": 1, "grade_id": "q1", "task": False}
    bad = [good | {"points": "one"}, good | {"grade_id": 7, "locked": "yes"}, {"schema_version": 3}]
    jsonschema.validate(good, schema)
    SchemaCheckedOnce.validate(good, schema)
    for metadata in bad:
        with pytest.raises(jsonschema.ValidationError) as theirs:
            jsonschema.validate(metadata, schema)
        with pytest.raises(jsonschema.ValidationError) as ours:
            SchemaCheckedOnce.validate(metadata, schema)
        assert str(ours.value) == str(theirs.value)
    cell = new_code_cell("x = 1", metadata={"nbgrader": bad[0]})
    SchemaCheckedOnce.validators.clear()
    for _ in range(3):  # nbgrader goes through the shim, which keeps one validator
        with pytest.raises(jsonschema.ValidationError):
            MetadataValidator().validate_cell(cell)
    assert len(SchemaCheckedOnce.validators) == 1


def test_the_iri_grammar_loads_only_when_an_iri_is_checked():
    """``pixelschool_admin`` defers ``rfc3987_syntax`` (2.4 s at import); jsonschema's IRI format
    check still gives the real module's answers."""
    probe = (
        "import sys, pixelschool_admin, nbformat\n"
        "from jsonschema import Draft202012Validator, FormatChecker\n"
        "print(getattr(sys.modules['rfc3987_syntax'], 'RFC3987_SYNTAX_PARSER_TYPE', 'deferred'))\n"
        "check = Draft202012Validator({'format': 'iri'}, format_checker=FormatChecker())\n"
        "print([check.is_valid(v) for v in ('http://example.com/ä', 'ht tp://x', 'a:b')])\n"
        "print(getattr(sys.modules['rfc3987_syntax'], 'RFC3987_SYNTAX_PARSER_TYPE', 'deferred'))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.split("\n")[:3] == ["deferred", "[True, False, True]", "earley"], done.stderr


def test_gradebooks_of_one_database_share_one_engine_and_close_their_connections(tmp_path):
    """The shim in ``record/speedups.py``: nbgrader's ``Gradebook``s of one database (nested, as
    nbgrader opens them) share an engine, see each other's writes, and leave no connection."""
    from nbgrader.api import Gradebook

    url = Course(tmp_path / "course").db_url  # (a Course puts the shim in place)
    with Gradebook(url) as outer:
        outer.add_student("ana")
        with Gradebook(url) as inner:
            assert inner.engine is outer.engine
            inner.add_student("bo")
        assert {s.id for s in outer.students} == {"ana", "bo"}
    assert outer.engine.pool.checkedout() == 0
    other = Gradebook(f"sqlite:///{tmp_path / 'other.db'}")
    assert other.engine is not outer.engine and other.students == []
    other.close()


def test_the_watch_lets_a_kernel_list_the_folders_on_the_way_to_its_code(tmp_path):
    """Python's import system lists the folder that holds the kit (under /tmp in a clone
    there): not a probe. Opening something else in it still is."""
    project = tmp_path / "project"
    (project / "pixelschool").mkdir(parents=True)
    (project / "secret").write_text("x")
    log = tmp_path / "watch.log"
    probe = (
        "import os, sys\nsys.path.insert(0, sys.argv[1])\nimport launch\n"
        "launch.watch(sys.argv[2], [sys.argv[3] + '/pixelschool', '/usr'], [sys.argv[3]])\n"
        "os.listdir(sys.argv[3])\nopen(sys.argv[3] + '/secret').read()\n"
    )
    args = [str(LAUNCHER.parent), str(log), str(project)]
    subprocess.run([sys.executable, "-c", probe, *args], check=True)
    watched = log.read_text()
    assert f"os.listdir {project}\n" not in watched and f"open {project}/secret" in watched
