"""What a submitted notebook defines, as the grader reads it for the rules on loops.

The rules on loops are judged on the source the notebook submitted, never on what the
student's kernel says of it (``pixelschool/checks/loops.py``). A name's definition is the one
that may run when a graded cell does: :class:`Definitions` reads the code cells in order,
after IPython's own transform, once, in time linear in their size.
"""

import ast
import importlib.util
import re
import textwrap

from IPython.core.inputtransformer2 import TransformerManager


def definitions_before(nb, index):
    """{name: source} of the names the code cells before ``index`` bind (:class:`Definitions`)."""
    definitions = Definitions()
    for cell in nb.cells[:index]:
        definitions.read(cell)
    return definitions.sources()


class Definitions:
    """What the code cells read so far bind, for the rules on loops: for each name, the
    source of every definition that may be the one that runs when a graded cell does, joined,
    or None where one of them is no plain ``def`` (or ``name = lambda``): a decorated one, an
    import, a call's result, a loop variable, a name bound inside a function, a star import
    or %run... whose code the grader cannot read.

    A later cell's definition replaces the earlier ones when it cannot fail and nothing before
    it in its cell can (other such definitions, a docstring, imports of installed modules);
    any other definition (after a statement that may raise, in an if, try, with or loop
    block) joins them. Cells are read after IPython's own transform
    (magics; the body of %%time, %%capture and %%prun cells is read as Python); a cell that
    does not parse defines nothing. What the notebook defines through exec, globals() or an
    input transformer of its own stays out of reach. Reading is linear in the cells' size."""

    def __init__(self):
        self.found = {}  # name -> [source or None], in the order they were bound
        self.reset = {}  # name -> the statement whose sure definition replaced the others
        self.star = -1  # the last statement that may have bound any name (star import, %run)
        self.in_functions = set()  # `global name` in a function: bound whenever it runs
        self.statements = 0
        self.transform = TransformerManager().transform_cell

    def read(self, cell):
        if cell.cell_type != "code":
            return
        tree, text = python_of(cell.source, self.transform)
        if tree is UNREADABLE_CELL:  # the kernel may read it (a higher recursion limit): any name
            self.statements += 1
            self.star = self.statements
            return
        if tree is None:
            return
        lines = source_lines(text)
        self.in_functions |= bound_in_functions(tree)
        in_cell = {}
        sure = True  # every statement of the cell so far runs, whatever it is given
        for node, conditional in top_level(tree.body):
            self.statements += 1
            for name, source in bindings(node, lines, lambda n: self.candidates(n, in_cell)):
                if name == "*":  # a star import or %run: any name may be rebound here
                    self.star = self.statements
                    continue
                if name not in in_cell:
                    if sure and not conditional and safe_def(node):
                        in_cell[name] = []
                        self.reset[name] = self.statements
                    else:
                        in_cell[name] = list(self.found.get(name, []))
                in_cell[name].append(source)
            sure = sure and not conditional and cannot_fail(node)
        self.found.update(in_cell)

    def candidates(self, name, in_cell=None):
        """The sources (None: unreadable) that may be ``name``'s definition now."""
        sources = list((in_cell or {}).get(name, self.found.get(name, [])))
        if self.star > self.reset.get(name, -1) or name in self.in_functions:
            sources.append(None)
        return sources

    def get(self, name, default=None):
        sources = self.candidates(name)
        if not sources or None in sources:
            return default
        return "\n".join(sources)

    def sources(self):
        return {name: self.get(name) for name in self.found}


PYTHON_CELL_MAGICS = {"time", "capture", "prun"}  # run their body in the user's namespace
NESTED_MAGICS = 8  # %%time over %%capture over ...: deeper, the grader does not read it
UNREADABLE_CELL = object()  # a cell the grader cannot read


def python_of(source, transform):
    """(tree, text) of a cell's Python, after IPython's transform: a %%time, %%capture or
    %%prun cell's body. (None, None) when it defines nothing: it does not parse, as in the
    kernel, or it is another cell magic; (UNREADABLE_CELL, None) when it is too deep for the
    grader to read (nested magics, or the parser's recursion limit here)."""
    for _ in range(NESTED_MAGICS):
        try:
            text = transform(source)
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            return None, None
        except (RecursionError, MemoryError):
            return UNREADABLE_CELL, None
        magic = cell_magic(tree)
        if magic is None:
            return tree, text
        name, source = magic
        if name not in PYTHON_CELL_MAGICS:
            return None, None  # %%writefile, %%bash, ...: defines no Python name
    return UNREADABLE_CELL, None


def source_lines(text):
    """``text``'s lines as Python numbers them (only CR LF, CR and LF end a line)."""
    lines, start = [], 0
    for match in re.finditer(r"\r\n|\r|\n", text):
        lines.append(text[start : match.end()])
        start = match.end()
    lines.append(text[start:])
    return lines


def segment(lines, node):
    """``node``'s source, dedented (``ast.get_source_segment`` without reading all the lines
    again for each node)."""
    chunk = [line.encode() for line in lines[node.lineno - 1 : node.end_lineno]]
    if not chunk:
        return ""
    chunk[-1] = chunk[-1][: node.end_col_offset]
    first = chunk[0][: node.col_offset].decode(errors="replace")
    chunk[0] = b" " * len(first) + chunk[0][node.col_offset :]
    return textwrap.dedent(b"".join(chunk).decode(errors="replace"))


def cell_magic(tree):
    """(name, body) when ``tree`` is one ``get_ipython().run_cell_magic(name, line, body)``."""
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    call = tree.body[0].value
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "run_cell_magic"
        and len(call.args) == 3
        and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args)
    ):
        return None
    return call.args[0].value, call.args[2].value


def top_level(statements, conditional=False):
    """(statement, conditional) at a module's top level, also inside if/try/with/for/while
    blocks (conditional: it may not run)."""
    for node in statements:
        yield node, conditional
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for field in ("body", "orelse", "finalbody"):
            yield from top_level(getattr(node, field, []), True)
        for handler in getattr(node, "handlers", []):
            yield from top_level(handler.body, True)
        for case in getattr(node, "cases", []):
            yield from top_level(case.body, True)


def safe_def(node):
    """True for a plain ``def`` that cannot fail: no decorator, defaults and annotations
    that are constants (evaluating them is all a ``def`` does besides binding its name)."""
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.decorator_list:
        return False
    arguments = node.args
    evaluated = [*arguments.defaults, *[d for d in arguments.kw_defaults if d is not None]]
    evaluated += [a.annotation for a in ast.walk(arguments) if isinstance(a, ast.arg)]
    evaluated.append(node.returns)
    return all(value is None or isinstance(value, ast.Constant) for value in evaluated)


def cannot_fail(node):
    """True for a statement that always runs through: a :func:`safe_def`, a docstring, an
    ``import x`` (or ``as y``) of a module installed here (the kernels run the same Python)."""
    if safe_def(node) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
        return True
    return isinstance(node, ast.Import) and all(
        "." not in alias.name and importlib.util.find_spec(alias.name) is not None
        for alias in node.names
    )


def bindings(node, lines, candidates):
    """[(name, source or None)] of the names ``node`` binds at the top level (nested blocks
    aside: :func:`top_level` yields them); ``"*"`` for a star import or a %run.
    ``candidates(name)``: the sources that name may have now (for an alias)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        readable = not node.decorator_list
        return [(node.name, segment(lines, node) if readable else None)]
    if isinstance(node, ast.ClassDef):
        return [(node.name, None)]
    if isinstance(node, ast.Import | ast.ImportFrom):
        if any(alias.name == "*" for alias in node.names):
            return [("*", None)]
        return [((a.asname or a.name).split(".")[0], None) for a in node.names]
    if is_run_magic(node):
        return [("*", None)]
    value = getattr(node, "value", None)
    if isinstance(node, ast.AnnAssign) and value is None:
        return []  # `name: type` binds nothing
    targets = node.targets if isinstance(node, ast.Assign) else []
    if isinstance(node, ast.AnnAssign):
        targets = [node.target]
    if len(targets) == 1 and isinstance(targets[0], ast.Name):
        name = targets[0].id
        if isinstance(value, ast.Lambda):
            return [(name, segment(lines, node))]
        if isinstance(value, ast.Name):  # an alias: whatever that name may be
            sources = candidates(value.id) or [None]
            return [(name, None if None in sources else "\n".join(sources))]
    return [(name, None) for name in stored_names(node)]


def is_run_magic(node):
    """True for ``get_ipython().run_line_magic("run", ...)`` (IPython's %run)."""
    call = getattr(node, "value", None)
    return (
        isinstance(node, ast.Expr)
        and isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "run_line_magic"
        and bool(call.args)
        and isinstance(call.args[0], ast.Constant)
        and call.args[0].value == "run"
    )


NESTED = ("body", "orelse", "finalbody", "handlers", "cases")


def stored_names(node):
    """The names a statement stores into at its own level: assignment and loop targets,
    ``with ... as``, assignment expressions (not in nested blocks or scopes)."""
    names = []
    pending = [value for field, value in ast.iter_fields(node) if field not in NESTED]
    while pending:
        value = pending.pop()
        if isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, ast.Name) and isinstance(value.ctx, ast.Store):
            names.append(value.id)
        elif isinstance(value, ast.NamedExpr):
            names.append(value.target.id)
            pending.append(value.value)
        elif isinstance(value, ast.AST) and not isinstance(value, ast.Lambda):
            pending.extend(child for _, child in ast.iter_fields(value))
    return names


def bound_in_functions(tree):
    """Names a function of ``tree`` declares ``global`` (it binds them when it runs)."""
    return {
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Global | ast.Nonlocal)
        for name in node.names
    }
