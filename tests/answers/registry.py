"""The registry of reference and wrong answers, filled by one module per notebook.

The references are the solutions themselves: the functions that the answer cells of
``solutions/<notebook>.ipynb`` define, so the checks are tested against exactly what
the notebook teaches. Wrong answers are written out in each notebook's module.
"""

import types
from dataclasses import dataclass

from coursekit.authoring.notebooks import nbgrader_meta, read_notebook
from coursekit.config import SOLUTIONS_DIR

REFERENCES = {}  # exercise name -> reference function
WRONG_ANSWERS = {}  # exercise name -> [WrongAnswer, ...]


@dataclass(frozen=True)
class WrongAnswer:
    exercise: str
    fn: object
    says: str  # a fragment the check's message must contain

    @property
    def id(self):
        return f"{self.exercise}-{self.fn.__name__}"


def solution_functions(notebook):
    """Run the answer cells of ``solutions/<notebook>.ipynb``; register and return their functions.

    Every function an answer cell defines is an exercise (the course check demands a
    visible check for each). Returns a namespace whose attributes are those functions.
    """
    nb = read_notebook(SOLUTIONS_DIR / f"{notebook}.ipynb")
    module = f"solutions.{notebook}"
    namespace = {"__name__": module}
    exec("import numpy as np", namespace)
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
            before = set(namespace)
            exec(compile(cell.source, f"{notebook}:{meta['grade_id']}", "exec"), namespace)
            for name in set(namespace) - before:
                value = namespace[name]
                if isinstance(value, types.FunctionType) and value.__module__ == module:
                    REFERENCES[name] = value  # defined by the cell, not imported
    return types.SimpleNamespace(**namespace)


def wrong(exercise, says):
    """Register the decorated function as a wrong answer to ``exercise``."""

    def register(fn):
        WRONG_ANSWERS.setdefault(exercise, []).append(WrongAnswer(exercise, fn, says))
        return fn

    return register
