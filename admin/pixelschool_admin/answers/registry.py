"""The registry of reference and wrong answers, filled by one module per notebook.

The references are the solutions themselves: the functions that the answer cells of
``solutions/<notebook>.ipynb`` define, so the checks are tested against exactly what
the notebook teaches. Wrong answers are written out in each notebook's module.
"""

import types
from dataclasses import dataclass

from pixelschool_admin.authoring import notebooks
from pixelschool_admin.paths import SOLUTIONS_DIR

REFERENCES = {}  # exercise name -> reference function
SOLUTIONS = {}  # notebook -> the namespace of its answer cells' functions, read once
WRONG_ANSWERS = {}  # exercise name -> [WrongAnswer, ...]
CORRECT_VARIANTS = {}  # exercise name -> [function, ...]: right answers written another way


@dataclass(frozen=True)
class WrongAnswer:
    exercise: str
    fn: object
    says: str  # a fragment the check's message must contain
    mistake: str = None  # its name in the check's messages; its results are then recorded

    @property
    def id(self):
        return f"{self.exercise}-{self.fn.__name__}"


def solution_functions(notebook):
    """Register the functions of ``solutions/<notebook>.ipynb``'s answer cells as references.

    Every function an answer cell defines is an exercise (the course check demands a
    visible check for each). Returns them as a namespace: ``solution.one_hot(...)``. Read
    once per notebook, so a reference that a module adapts to its check's inputs
    (``backprop_numerical``'s ``numerical_gradient``) stays when a sibling module of the
    same notebook is imported after it.
    """
    if notebook not in SOLUTIONS:
        functions = notebooks.solution_functions(SOLUTIONS_DIR / f"{notebook}.ipynb")
        REFERENCES.update(functions)
        SOLUTIONS[notebook] = types.SimpleNamespace(**functions)
    return SOLUTIONS[notebook]


def wrong(exercise, says, mistake=None):
    """Register the decorated function as a wrong answer to ``exercise``.

    With ``mistake``, ``make build`` records its results on the check's inputs, and the
    check names the mistake (its message ``mistake``) when a student's result matches them.
    """

    def register(fn):
        WRONG_ANSWERS.setdefault(exercise, []).append(WrongAnswer(exercise, fn, says, mistake))
        return fn

    return register


def right(exercise):
    """Register the decorated function as a correct answer to ``exercise`` written the way
    students also write it (NumPy's default argsort, ``np.eye(n)[labels]``, float64
    intermediates): the check must pass it."""

    def register(fn):
        CORRECT_VARIANTS.setdefault(exercise, []).append(fn)
        return fn

    return register
