"""Hidden tests judged outside the student's kernel: hostile submissions against a recorded
check (``conv_output_size``, whose hidden expectations are in ``admin/hidden/``)."""

import shutil
import subprocess
import sys

import nbformat
import pytest

from courseadmin.grading.autograde import Settings, autograde
from courseadmin.grading.course import Course
from courseadmin.grading.export import grade_table
from courseadmin.grading.sandbox import GIB, Limits, sandbox_problem
from courseadmin.paths import ADMIN_DIR
from tests.test_grading import cell, filled, hand_in

pytestmark = pytest.mark.xdist_group("hidden_grading")
needs_bwrap = pytest.mark.skipif(bool(sandbox_problem()), reason=str(sandbox_problem()))

RIGHT = (
    "def conv_output_size(n, k, stride=1, padding=0):\n"
    "    return (n + 2 * padding - k) // stride + 1\n"
)
ANSWER = (
    RIGHT.replace("    return", "    ### BEGIN SOLUTION\n    return") + "    ### END SOLUTION\n"
)
VISIBLE = "tests.test_conv_output_size(conv_output_size)"
HIDDEN = (
    "### BEGIN HIDDEN TESTS\n"
    "tests.test_conv_output_size(conv_output_size, seed=646)\n"
    "### END HIDDEN TESTS\n"
)
# Right on the visible check's inputs only: what hard-coding the visible answers looks like.
HARDCODED = """\
import problem_unittests as _t
from coursekit.checks import recordings as _r
_seen = {c.args: c.expected for c in _r.visible_cases("conv_output_size")}
def conv_output_size(n, k, stride=1, padding=0):
    return _seen.get((n, k, stride, padding) if (stride, padding) != (1, 0) else (n, k), 0)
"""
SILENCER = RIGHT.replace("return", "return 1 + 0 *") + (
    "import IPython.display\nIPython.display.display = lambda *a, **k: None\n"
)
SNOOPER = f"""\
import numpy as np
def conv_output_size(n, k, stride=1, padding=0):
    try:
        with np.load({str(ADMIN_DIR / "hidden" / "conv_output_size.npz")!r}) as f:
            return 99  # it could read the expectations: a real cheat would decode them
    except OSError:
        return (n + 2 * padding - k) // stride  # a guess, one off
"""
FIXED_RNG = RIGHT + (
    "import numpy as np\n_rng = np.random.default_rng\n"
    "np.random.default_rng = lambda seed=None: _rng(0)\n"
)


def notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        cell("setup", "setup", "import numpy as np\nimport problem_unittests as tests"),
        cell("answer", "conv_output_size", ANSWER),
        cell("setup", "check_conv_output_size", VISIBLE),
        cell("test", "test_conv_output_size", "# hidden tests\n" + HIDDEN, points=2),
    ]
    return nb


STUDENTS = {
    "right": RIGHT,
    "hardcoded": HARDCODED,
    "silencer": SILENCER,
    "snooper": SNOOPER,
    "fixed rng": FIXED_RNG,
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("hidden")
    (root / "solutions").mkdir()
    nbformat.write(notebook(), root / "solutions" / "conv.ipynb")
    course = Course(root / "course")
    course.add_assignment("conv", solutions_dir=root / "solutions")
    released = nbformat.read(course.path("release", ".", "conv") / "conv.ipynb", 4)
    for student, answer in STUDENTS.items():
        hand_in(course, "conv", student, filled(released, conv_output_size=answer))
    return course


@pytest.fixture(scope="module")
def graded(course):
    autograde(course, jobs=2, settings=Settings(timeout=30, limits=Limits(memory=2 * GIB)))
    scores = grade_table(course).set_index("student")["score"]
    return course, scores


def feedback(course, student):
    nb = nbformat.read(course.path("autograded", student, "conv") / "conv.ipynb", 4)
    return "\n".join(str(o.get("evalue", "")) for c in nb.cells for o in c.get("outputs", []))


def test_a_right_answer_gets_the_points(graded):
    assert graded[1]["right"] == 2


def test_the_released_notebook_holds_no_hidden_expectation(course):
    released = (course.path("release", ".", "conv") / "conv.ipynb").read_text()
    assert "seed=646" not in released and "BEGIN HIDDEN" not in released


def test_hard_coding_the_visible_answers_fails_the_hidden_test(graded):
    course, scores = graded
    assert scores["hardcoded"] == 0
    assert "(hidden test)" in feedback(course, "hardcoded")


def test_suppressing_the_results_scores_zero_and_says_why(graded):
    course, scores = graded
    assert scores["silencer"] == 0
    assert "did not reach the grader" in feedback(course, "silencer")


def test_changing_the_inputs_scores_zero_and_says_why(graded):
    course, scores = graded
    assert scores["fixed rng"] == 0
    assert "other inputs than the recorded ones" in feedback(course, "fixed rng")


@needs_bwrap
def test_the_hidden_expectations_are_out_of_the_kernels_reach(graded):
    course, scores = graded
    assert scores["snooper"] == 0
    assert "forgot the + 1" in feedback(course, "snooper")  # its guess, named by the grader


def test_nbgraders_own_autograde_judges_the_hidden_results_too(course, tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(course.root, copy)
    Course(copy)  # rewrites nbgrader_config.py for the copy's root
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", "conv", "--student", "hardcoded"],
        cwd=copy, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    scores = grade_table(Course(copy)).set_index("student")["score"]
    assert scores["hardcoded"] == 0
