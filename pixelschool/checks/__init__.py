"""Feedback checks, one module per notebook or notebook section.

An *exercise module* registers its checks with ``@feedback_check`` (framework.py) and lists
what students call in ``__all__``: ``test_<exercise>``, and aliases such as
``test_normalize_images``. Every other module (framework, compare, loops, recordings,
transcript, ...) is a helper and has no ``__all__``. ``problem_unittests`` exposes
:func:`student_checks`, so a new exercise module is found, not listed.
"""

import importlib
import pkgutil


def exercise_modules():
    """Every exercise module of this package (those with an ``__all__``), imported."""
    modules = [
        importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)
    ]
    return [module for module in modules if hasattr(module, "__all__")]


def student_checks():
    """``{"test_<name>": check}`` of every exercise module: what ``problem_unittests`` holds."""
    return {name: getattr(module, name) for module in exercise_modules() for name in module.__all__}
