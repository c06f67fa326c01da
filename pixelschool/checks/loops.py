"""The rules on loops: what a check reads of the student's source, never of their results.

``forbid_loops`` and ``loop_depth`` read the student's function: in the kernel, its source
as Python finds it; in the grader, the source the notebook submitted (``StudentFunction.
source``, from ``pixelschool_admin.grading.record.hidden``), never what the kernel says of it.
"""

import ast
import inspect
import textwrap

from pixelschool.checks.mistakes import PYTHON_LOOP, named
from pixelschool.checks.transcript import StudentFunction

# Calls that hide a Python loop behind a function.
LOOPING_CALLS = {"vectorize", "apply_along_axis", "apply_over_axes", "frompyfunc", "map"}
LOOP_NODES = {
    ast.For: "a `for` loop",
    ast.While: "a `while` loop",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression",
}


def source_tree(fn):
    """The AST of ``fn``'s source, or None when the source cannot be found (built-ins).

    A student's function in the grader: the source submitted in the notebook, never what
    the kernel says of it; ``AssertionError`` when the notebook holds none the grader can
    read (``hidden.definitions_before``), for a rule it cannot read is not met."""
    grader = isinstance(fn, StudentFunction) and fn.real() is None
    if grader:
        text = fn.source
    elif isinstance(fn, StudentFunction):
        text = source_text(fn.real())
    else:
        text = source_text(fn)
    try:
        tree = None if text is None else ast.parse(textwrap.dedent(text))
    except SyntaxError:
        tree = None
    if grader and tree is None:
        raise AssertionError(
            f"{fn.__name__}: the grader reads the rule on loops in your notebook's "
            f"`def {fn.__name__}(...)`, and found none it can read: define {fn.__name__} "
            "with a plain `def` in a code cell (no decorator, import, exec or assignment "
            "from another function), and leave no other definition of it that may run "
            "instead (in an if or try block, or after a statement that may fail)."
        )
    return tree


def source_text(fn):
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return None


def forbid_loops(fn, loop_versions=()):
    """Raise ``AssertionError`` if ``fn``'s source uses a Python loop or a hidden one.

    Comprehensions and ``np.vectorize``/``map`` count as loops, and so does any use of the
    names ``loop_versions``: the notebook's own versions of the exercise with loops
    (``conv_forward_fast`` handing its work to ``conv_forward`` has no loop of its own).
    Functions whose source cannot be found (built-ins) pass.
    """
    tree = source_tree(fn)
    if tree is None:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in loop_versions:
            raise AssertionError(
                f"{fn.__name__} uses {node.id} (line {node.lineno} of the function), your "
                "version with loops: this exercise asks for whole-array NumPy operations "
                "only, so compute the result again without handing the work to it."
            )
        kind = LOOP_NODES.get(type(node))
        if kind is None and isinstance(node, ast.Call):
            called = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", None)
            )
            if called in LOOPING_CALLS:
                kind = f"`{called}` (a Python loop in disguise)"
        if kind:
            raise named(
                f"{fn.__name__} uses {kind} (line {node.lineno} of the function). "
                "This exercise asks for whole-array NumPy operations only: "
                "use broadcasting and vectorised functions instead.",
                PYTHON_LOOP,
            )


def loop_depth(fn):
    """How deeply Python loops nest in ``fn``'s source (each comprehension clause counts).

    None when the source cannot be found.
    """
    tree = source_tree(fn)
    if tree is None:
        return None

    def depth(node):
        own = 0
        if isinstance(node, (ast.For, ast.While, ast.AsyncFor)):
            own = 1
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            own = len(node.generators)
        return own + max((depth(child) for child in ast.iter_child_nodes(node)), default=0)

    return depth(tree)
