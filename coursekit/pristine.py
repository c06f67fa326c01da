"""A fresh copy of the checks, imported again before each graded test cell while grading.

A submission that rebinds ``tests.test_one_hot`` (or anything in ``coursekit.checks``)
changes the modules it imported; the graded cells then run against new module objects.
"""

import importlib.machinery
import importlib.util
import os
import sys

CHECK_MODULES = ("problem_unittests", "coursekit.checks")


def checks():
    """Import ``problem_unittests`` and ``coursekit.checks.*`` anew and return the former,
    from beside this ``coursekit`` (where the kit is installed): never a
    ``problem_unittests.py`` that a submission put in the notebook's folder."""
    for name in list(sys.modules):
        if any(name == prefix or name.startswith(prefix + ".") for prefix in CHECK_MODULES):
            del sys.modules[name]
    kit = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    spec = importlib.machinery.PathFinder.find_spec("problem_unittests", [kit])
    if spec is None:  # installed apart from coursekit: wherever Python finds it
        return importlib.import_module("problem_unittests")
    module = sys.modules["problem_unittests"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
