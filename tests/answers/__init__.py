"""Reference answers and realistic wrong answers, one module per notebook.

They test the feedback checks (every check must pass its reference and reject every
wrong answer with a message containing ``says``) and are the partial answers of the
demo class. They live in tests/, not in the installed package, so that graded
student code cannot import them.
"""

# Each notebook's module registers its answers when imported; tests/pixelschool/test_checks.py
# imports them all, the demo class only those of the notebooks it grades.

NOTEBOOKS = (
    "data_preparation",
    "knn",
    "softmax",
    "backprop",
    "mlp_two_layer",
    "mlp_training",
    "mlp_optimisers",
    "mlp_modular",
    "mlp_deep",
    "keras_cnn",
    "cifar_cnn",
)


def all_notebooks():
    """Import every notebook's module, registering all references and wrong answers."""
    import importlib

    for name in NOTEBOOKS:
        importlib.import_module(f"tests.answers.{name}")
