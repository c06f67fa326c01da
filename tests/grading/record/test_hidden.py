"""Hidden tests judged outside the student's kernel: hostile submissions against recorded
checks (``conv_output_size``, ``distance_matrix``, whose hidden expectations are in
``admin/hidden/``). Whatever the kernel does, a point comes only from the grader's own run of
the check on what the student's code answered."""

import base64
import io
import json
import resource
import shutil
import subprocess
import sys

import nbformat
import numpy as np
import pytest

from pixelschool_admin.grading.course import Course
from pixelschool_admin.grading.record.autograde import autograde
from pixelschool_admin.grading.results.export import grade_table
from pixelschool_admin.grading.sandbox.bubblewrap import sandbox_problem
from pixelschool_admin.grading.settings import GIB, Limits, Settings
from pixelschool_admin.paths import ADMIN_DIR
from tests.classroom import cell, filled, hand_in

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
    "# Autograder: conv_output_size. Hidden tests run here when your notebook is graded.\n"
    "### BEGIN HIDDEN TESTS\n"
    "tests.test_conv_output_size(conv_output_size, seed=646)\n"
    "### END HIDDEN TESTS\n"
)
DISTANCES = (
    "def distance_matrix(matrix1, matrix2):\n"
    "    a, b = matrix1.astype(np.float64), matrix2.astype(np.float64)\n"
    "    squared = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T\n"
    "    return np.sqrt(np.maximum(squared, 0))\n"
)
DISTANCES_ANSWER = DISTANCES.replace("    a, b", "    ### BEGIN SOLUTION\n    a, b") + (
    "    ### END SOLUTION\n"
)
DISTANCES_HIDDEN = (
    "# Autograder: distance_matrix.\n### BEGIN HIDDEN TESTS\n"
    "tests.test_distance_matrix(distance_matrix, seed=203)\n### END HIDDEN TESTS\n"
)
ONE_HOT = "def one_hot(vector, number_classes):\n    return np.eye(number_classes)[vector]\n"
ONE_HOT_STUB = (
    "def one_hot(vector, number_classes):\n    ### BEGIN SOLUTION\n"
    "    return np.eye(number_classes)[vector]\n    ### END SOLUTION\n"
)
ONE_HOT_HIDDEN = (
    "# Autograder: one_hot.\n### BEGIN HIDDEN TESTS\n"
    "tests.test_one_hot(one_hot, seed=505)\n### END HIDDEN TESTS\n"
)
UNANSWERED = "def conv_output_size(n, k, stride=1, padding=0):\n    raise NotImplementedError()\n"
# Every cell that mentions the autograder becomes `pass` (an IPython input transformer).
TRANSFORMER = (
    UNANSWERED
    + """\
def _silence(lines):
    return ["pass\\n"] if any("Autograder:" in line for line in lines) else lines
get_ipython().input_transformers_cleanup.append(_silence)
"""
)
# Errors neither shown nor counted: no traceback, and the cell's error cleared after it ran.
QUIET = (
    UNANSWERED
    + """\
_ip = get_ipython()
_ip.showtraceback = lambda *args, **kwargs: None
_ip._showtraceback = lambda *args, **kwargs: None
def _clear(result):
    result.error_in_exec = None
_ip.events.register("post_run_cell", _clear)
"""
)
# nbgrader reads a number shown as a graded cell's result as its partial credit: the
# student's function shows 2 (the cell's points) through IPython's displayhook, then is wrong.
PARTIAL_CREDIT = """\
def conv_output_size(n, k, stride=1, padding=0):
    get_ipython().displayhook(2)
    return 0
"""
# Loops, hidden from the kernel's look at the source (inspect answers with a loop-free one).
LOOPS = (
    "def distance_matrix(matrix1, matrix2):\n"
    "    a, b = matrix1.astype(np.float64), matrix2.astype(np.float64)\n"
    "    return np.array([[np.sqrt(((x - y) ** 2).sum()) for y in b] for x in a])\n"
    "import inspect\n"
    "_fake = " + repr(DISTANCES) + "\n"
    "inspect.getsource = lambda obj, *args: _fake\n"
)

# Right on the visible check's inputs only: what hard-coding the visible answers looks like.
HARDCODED = """\
import problem_unittests as _t
from pixelschool.checks import recordings as _r
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


def bundle_display(transcript_bytes):
    """Code that swaps the transcript the check hands over for a forged one (IPython's
    ``display`` replaced: the kernel's hooks are put back before graded cells, not it)."""
    return (
        "import IPython.display\n"
        "_display = IPython.display.display\n"
        f"_forged = {base64.b64encode(transcript_bytes).decode()!r}\n"
        "def _forge(data, raw=False, **kwargs):\n"
        "    key = 'application/vnd.pixelschool.results+json'\n"
        "    if isinstance(data, dict) and key in data:\n"
        "        data = {**data, key: {**data[key], 'transcript': _forged}}\n"
        "    return _display(data, raw=raw, **kwargs)\n"
        "IPython.display.display = _forge\n"
    )


def npz(tree, arrays):
    """An .npz in the recordings' format: ``arrays`` and the JSON ``tree``."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays, __tree__=np.frombuffer(json.dumps(tree).encode(), "u1"))
    return buffer.getvalue()


def bomb():
    """A transcript of a few kilobytes whose tree refers to one 8 MB array 100,000 times:
    800 GB if each reference were decoded as a copy."""
    reference = {"array": "a0", "scalar": False}
    events = {"dict": {"call": "conv_output_size", "args": "0", "result": [reference] * 100_000}}
    tree = {"dict": {"format": 1, "functions": {"dict": {}}, "events": [events]}}
    return npz(tree, {"a0": np.zeros(2**20)})


def notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        cell("setup", "setup", "import numpy as np\nimport problem_unittests as tests"),
        cell("answer", "conv_output_size", ANSWER),
        cell("setup", "check_conv_output_size", VISIBLE),
        cell("test", "test_conv_output_size", HIDDEN, points=2),
        cell("answer", "distance_matrix", DISTANCES_ANSWER),
        cell("test", "test_distance_matrix", DISTANCES_HIDDEN, points=3),
        cell("answer", "one_hot", ONE_HOT_STUB),
        cell("test", "test_one_hot", ONE_HOT_HIDDEN, points=2),
    ]
    return nb


STUDENTS = {
    "right": RIGHT,
    "hardcoded": HARDCODED,
    "silencer": SILENCER,
    "snooper": SNOOPER,
    "fixed rng": FIXED_RNG,
    "transformer": TRANSFORMER,
    "quiet": QUIET,
    "partial credit": PARTIAL_CREDIT,
    "garbage": RIGHT.replace("return", "return 1 + 0 *") + bundle_display(b"not a transcript"),
    "bomb": RIGHT.replace("return", "return 1 + 0 *") + bundle_display(bomb()),
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
        hand_in(
            course,
            "conv",
            student,
            filled(released, conv_output_size=answer, distance_matrix=DISTANCES),
        )
    loops = filled(released, conv_output_size=RIGHT, distance_matrix=LOOPS)
    hand_in(course, "conv", "loops", loops)
    right = filled(released, conv_output_size=RIGHT, distance_matrix=DISTANCES, one_hot=ONE_HOT)
    hand_in(course, "conv", "right", right)
    return course


@pytest.fixture(scope="module")
def graded(course):
    autograde(course, jobs=2, settings=Settings(timeout=30, limits=Limits(memory=2 * GIB)))
    table = grade_table(course)
    scores = table.pivot_table(index="student", columns="question", values="score")
    return course, scores


CONV, DISTANCE, HOT = "test_conv_output_size", "test_distance_matrix", "test_one_hot"


def feedback(course, student):
    nb = nbformat.read(course.path("autograded", student, "conv") / "conv.ipynb", 4)
    return "\n".join(str(o.get("evalue", "")) for c in nb.cells for o in c.get("outputs", []))


def test_a_right_answer_gets_the_points(graded):
    course, scores = graded
    assert scores.loc["right", CONV] == 2 and scores.loc["right", DISTANCE] == 3
    assert scores.loc["right", HOT] == 2


def test_the_released_notebook_holds_no_hidden_expectation(course):
    released = (course.path("release", ".", "conv") / "conv.ipynb").read_text()
    assert "seed=646" not in released and "BEGIN HIDDEN" not in released


def test_the_transcripts_leave_the_graded_notebook(graded):
    course, _ = graded
    path = course.path("autograded", "right", "conv") / "conv.ipynb"
    assert "application/vnd.pixelschool.results+json" not in path.read_text()


def test_hard_coding_the_visible_answers_fails_the_hidden_test(graded):
    course, scores = graded
    assert scores.loc["hardcoded", CONV] == 0
    assert "(hidden test)" in feedback(course, "hardcoded")


def test_suppressing_the_results_scores_zero_and_says_why(graded):
    course, scores = graded
    assert scores.loc["silencer", CONV] == 0
    assert "did not reach the grader" in feedback(course, "silencer")


def test_changing_the_inputs_scores_zero_and_says_why(graded):
    course, scores = graded
    assert scores.loc["fixed rng", CONV] == 0
    assert "on other inputs than the grader's" in feedback(course, "fixed rng")


@needs_bwrap
def test_the_hidden_expectations_are_out_of_the_kernels_reach(graded):
    course, scores = graded
    assert scores.loc["snooper", CONV] == 0
    assert "forgot the + 1" in feedback(course, "snooper")  # its guess, named by the grader


def test_an_input_transformer_that_blanks_graded_cells_earns_nothing(graded):
    """The red team's blank notebook: nbgrader alone gives a graded cell that raises nothing
    its points, and a cell turned into `pass` raises nothing (one_hot, a check all of code)."""
    course, scores = graded
    assert scores.loc["transformer", CONV] == 0 and scores.loc["transformer", HOT] == 0
    said = feedback(course, "transformer")
    assert "did not reach the grader" in said or "NotImplementedError" in said, said


def test_errors_hidden_by_kernel_hooks_still_score_zero(graded):
    course, scores = graded
    assert scores.loc["quiet", CONV] == 0 and scores.loc["quiet", HOT] == 0
    assert "conv_output_size: not answered yet" in feedback(course, "quiet")
    assert "one_hot: not answered yet" in feedback(course, "quiet")


def test_a_forged_transcript_scores_zero_and_says_why(graded):
    course, scores = graded
    assert scores.loc["garbage", CONV] == 0
    assert "results could not be read (not a transcript" in feedback(course, "garbage")


def test_a_decode_bomb_is_refused_before_it_is_read(graded):
    course, scores = graded
    assert scores.loc["bomb", CONV] == 0
    assert "more than 256,000,000 bytes in all" in feedback(course, "bomb")


def test_a_decode_bomb_costs_the_grader_no_memory():
    from pixelschool_admin.grading.record.hidden import read_transcript

    payload = {"transcript": base64.b64encode(bomb()).decode()}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError, match="more than"):
        read_transcript(payload)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before  # KiB
    assert grown < 300_000


def test_loops_are_judged_on_the_submitted_source(graded):
    course, scores = graded
    assert scores.loc["loops", CONV] == 2  # its other answer is right
    assert scores.loc["loops", DISTANCE] == 0
    assert "distance_matrix uses a list comprehension" in feedback(course, "loops")


def test_nbgraders_own_autograde_judges_the_hidden_results_too(course, tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(course.root, copy)
    Course(copy)  # rewrites nbgrader_config.py for the copy's root
    for student in ("hardcoded", "quiet"):
        done = subprocess.run(
            [sys.executable, "-m", "nbgrader", "autograde", "conv", "--student", student],
            cwd=copy, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
    table = grade_table(Course(copy))
    scores = table.pivot_table(index="student", columns="question", values="score")
    assert scores.loc["hardcoded", CONV] == 0 and scores.loc["quiet", CONV] == 0


def test_the_report_names_every_refused_transcript(graded):
    from pixelschool_admin.grading import events

    course, _ = graded
    found = events.read(course)
    refused = set(found[found["kind"] == "results refused"]["student"])
    assert {"garbage", "bomb", "fixed rng", "silencer"} <= refused
    assert not {"right", "hardcoded", "loops", "snooper"} & refused  # wrong, not refused


def test_a_number_shown_as_the_cells_result_is_no_partial_credit(graded):
    course, scores = graded
    assert scores.loc["partial credit", CONV] == 0
    assert "(hidden test)" in feedback(course, "partial credit")
