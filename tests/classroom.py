"""A tiny course for the grading tests: a one-notebook assignment, answers filled in, hand-ins."""

import nbformat

from pixelschool_admin.authoring.notebooks import nbgrader_meta
from pixelschool_admin.grading.course import Course

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


def tiny_course(root):
    """A course under ``root`` with ``tiny_solution`` released as assignment ``tiny``;
    returns it and the released notebook."""
    solutions = root / "solutions"
    solutions.mkdir()
    nbformat.write(tiny_solution(), solutions / "tiny.ipynb")
    course = Course(root / "course")
    course.add_assignment("tiny", solutions_dir=solutions)
    return course, nbformat.read(course.path("release", ".", "tiny") / "tiny.ipynb", 4)
