"""A fresh copy of the checks, imported again before each graded test cell while grading.

A submission that rebinds ``tests.test_one_hot`` (or anything in ``coursekit.checks``)
changes the modules it imported; the graded cells then run against new module objects.
"""

import importlib
import sys

CHECK_MODULES = ("problem_unittests", "coursekit.checks")


def checks():
    """Import ``problem_unittests`` and ``coursekit.checks.*`` anew and return the former."""
    for name in list(sys.modules):
        if any(name == prefix or name.startswith(prefix + ".") for prefix in CHECK_MODULES):
            del sys.modules[name]
    return importlib.import_module("problem_unittests")
