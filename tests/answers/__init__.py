"""Reference answers and realistic wrong answers, one module per notebook.

They test the feedback checks (every check must pass its reference and reject every
wrong answer with a message containing ``says``) and are the partial answers of the
demo class. They live in tests/, not in the installed package, so that graded
student code cannot import them.
"""

# Importing a notebook's module registers its answers.
from tests.answers import (  # noqa: E402, F401, I001
    backprop,
    cifar_cnn,
    data_preparation,
    keras_cnn,
    knn,
    mlp,
    softmax,
)
from tests.answers.registry import REFERENCES, WRONG_ANSWERS, WrongAnswer

__all__ = ["REFERENCES", "WRONG_ANSWERS", "WrongAnswer"]
