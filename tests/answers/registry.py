"""The registry of reference and wrong answers, filled by one module per notebook.

They test the feedback checks (every check must pass its reference and reject every
wrong answer with a message containing ``says``) and are the partial answers of the
demo class. They live in tests/, not in the installed package, so that graded
student code cannot import them.
"""

from dataclasses import dataclass

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


def reference(fn):
    """Register ``fn`` as the correct answer to the exercise of the same name."""
    REFERENCES[fn.__name__] = fn
    return fn


def wrong(exercise, says):
    """Register the decorated function as a wrong answer to ``exercise``."""

    def register(fn):
        WRONG_ANSWERS.setdefault(exercise, []).append(WrongAnswer(exercise, fn, says))
        return fn

    return register
