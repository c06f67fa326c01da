"""The grader's judgement of every graded cell, made here, outside the student's kernel.

A graded cell runs ``tests.test_<exercise>(<fn>, seed=<n>)``. In the kernel, the check runs
the student's function on the seed's inputs and displays a transcript of what it answered
(``RESULTS_MIME``, see ``coursekit/checks/transcript.py``); nothing the kernel concludes
counts. Here, after execution, the same check runs again for each such call, the student's
answers replayed from the transcript, its rules on loops read from the source the notebook
submitted, and its expectations from ``admin/hidden/`` (which never enters a kernel).

A graded cell earns its points only from that judgement: a cell with no call the grader can
judge, a transcript that is missing, unreadable, oversized or does not fit the grader's own
run, or a wrong answer adds an ``AssertionError`` output, so nbgrader scores the cell 0 and
the feedback says why. Then the transcripts are removed from the outputs (the text stays).
"""

import ast
import base64
import binascii
import importlib.util
import json
import re
import textwrap
import zipfile
from collections import Counter

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer, Unicode

from courseadmin.authoring.notebooks import is_test_cell, nbgrader_meta
from courseadmin.authoring.record import HIDDEN_CALL, HIDDEN_DIR
from coursekit.checks import recordings
from coursekit.checks.framework import CHECKS, RESULTS_MIME, rerun
from coursekit.checks.transcript import ReplayError

REFUSED = "results refused"  # the events' kind (events.KINDS)
MESSAGE_LIMIT = 3000  # characters of a check's message in the feedback
# What one handed-over transcript may hold: it comes from the student's kernel.
PAYLOAD_LIMITS = recordings.Limits(
    stored_bytes=8_000_000,  # the compressed .npz (the cell's output cap is 5 MB)
    array_bytes=256_000_000,  # every array reference counted: no bomb of shared arrays
    nodes=200_000,  # values in the JSON tree
    depth=64,
)


# What reading data that is no transcript can raise.
UNREADABLE = (
    ValueError,
    LookupError,
    TypeError,
    AttributeError,
    OSError,
    zipfile.BadZipFile,
    RecursionError,
)


def bundles(cell, exercise, seed):
    """The transcripts a cell's run of ``exercise`` with ``seed`` displayed."""
    found = []
    for output in cell.get("outputs", []):
        bundle = output.get("data", {}).get(RESULTS_MIME)
        if isinstance(bundle, dict) and (bundle.get("exercise"), bundle.get("seed")) == (
            exercise,
            seed,
        ):
            found.append(bundle)
    return found


def read_transcript(bundle, limits=PAYLOAD_LIMITS):
    """The decoded transcript of a bundle; ``ValueError`` saying why it cannot be read."""
    text = bundle.get("transcript")
    if not isinstance(text, str) or len(text) > limits.stored_bytes * 4 // 3 + 4:
        raise ValueError("missing or larger than the grader reads")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("not base64") from error
    try:
        return recordings.from_bytes(data, limits)
    except recordings.TooLarge as error:
        raise ValueError(str(error)) from error
    except UNREADABLE as error:
        raise ValueError(f"not a transcript ({type(error).__name__})") from error


class Refused(str):
    """A message saying that a transcript was refused (unreadable, oversized, not the
    grader's run): worth the instructor's look, not only the student's."""


def judge_bundle(bundle, exercise, seed, source=None, recorded=None, limits=PAYLOAD_LIMITS):
    """None when the check, run again here on the bundle's transcript, passes; else the
    message that says what is wrong (a :class:`Refused` one when the transcript is)."""
    try:
        handed_over = read_transcript(bundle, limits)
    except ValueError as error:
        return Refused(f"{exercise}: the hidden test's results could not be read ({error}).")
    try:
        rerun(exercise, seed, handed_over, source, recorded)
    except AssertionError as wrong:
        text = str(wrong)  # it may quote what the kernel sent: kept short
        return f"{text[:MESSAGE_LIMIT]}{' …' if len(text) > MESSAGE_LIMIT else ''} (hidden test)"
    except NotImplementedError:
        return f"{exercise}: not answered yet (it raises NotImplementedError)."
    except ReplayError as error:
        return Refused(f"{exercise}: {error}, so the hidden test cannot be graded.")
    except Exception as error:  # noqa: BLE001  (data from the kernel the check could not use)
        kind = type(error).__name__
        return Refused(f"{exercise}: the hidden test's results could not be judged ({kind}).")
    return None


def hidden_cases(exercise, seed, hidden_dir=HIDDEN_DIR):
    """The recorded cases of a hidden seed, with their expectations (checks with recordings);
    None for checks that are all code."""
    if CHECKS[exercise].inputs is None:
        return None
    cases = recordings.read(recordings.recording_path(exercise, hidden_dir)).get(seed)
    if cases is None:
        raise FileNotFoundError(
            f"no hidden expectations for {exercise}, seed {seed}, in {hidden_dir}: run `make build`"
        )
    return cases


def judge_cell(cell, definitions, hidden_dir=HIDDEN_DIR, limits=PAYLOAD_LIMITS):
    """Messages for what is wrong in one graded cell (empty: every point is earned);
    :class:`Refused` ones where the kernel's answer was refused.

    ``definitions``: {name: source} (or a :class:`Definitions`) of what the notebook defines
    before the cell."""
    calls = HIDDEN_CALL.findall(cell.source)
    if not calls:
        return ["this graded cell runs no hidden test the grader can judge, so it scores 0."]
    import problem_unittests  # noqa: F401  (registers every check)

    failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
    messages = []
    wanted = Counter((exercise, int(seed)) for exercise, _, seed in calls)
    for exercise, name, seed in dict.fromkeys(calls):  # a call made twice shows two results
        if exercise not in CHECKS:
            messages.append(f"tests.test_{exercise} is no check the grader knows.")
            continue
        seed = int(seed)
        recorded = hidden_cases(exercise, seed, hidden_dir)
        found = bundles(cell, exercise, seed)
        if not found:
            missing = f"{exercise}: the hidden test's results did not reach the grader."
            # without an error in the cell, something in the kernel kept them back
            messages.append(missing if failed else Refused(missing))
        if len(found) > wanted[exercise, seed]:  # an honest kernel shows one per call
            messages.append(
                Refused(
                    f"{exercise}: the cell shows {len(found)} results of the hidden test for "
                    f"{wanted[exercise, seed]} call(s): the kernel displayed results of its "
                    "own, so none is graded."
                )
            )
            continue
        for bundle in found:
            message = judge_bundle(bundle, exercise, seed, definitions.get(name), recorded, limits)
            if message:
                messages.append(message)
    return messages


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


def judge_notebook(nb, hidden_dir=HIDDEN_DIR, limits=PAYLOAD_LIMITS, refused=None):
    """Judge every graded cell of an executed notebook: an error output where a point is not
    earned; then the transcripts leave the outputs. ``refused(grade_id, message)`` hears of
    each refused transcript."""
    definitions = Definitions()  # of the cells before the one judged: read once
    for cell in nb.cells:
        if cell.cell_type == "code" and is_test_cell(cell):
            cell.outputs = [shown_only(output) for output in cell.get("outputs", [])]
            messages = judge_cell(cell, definitions, hidden_dir, limits)
            for message in messages:  # all of them: the kernel may have said one already
                if refused is not None and isinstance(message, Refused):
                    refused(nbgrader_meta(cell).get("grade_id"), str(message))
            shown = " ".join(
                str(o.get("evalue", "")) for o in cell.outputs if o.get("output_type") == "error"
            )
            messages = [m for m in messages if m not in shown]
            if messages:
                cell.outputs.append(
                    nbformat.v4.new_output(
                        "error",
                        ename="AssertionError",
                        evalue="\n".join(messages),
                        traceback=["AssertionError: " + "\n".join(messages)],
                    ),
                )
        definitions.read(cell)
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(RESULTS_MIME, None)
    return nb


def shown_only(output):
    """An ``execute_result`` as a plain display: nbgrader would read a number in one as the
    cell's partial credit, and a graded cell's points are the grader's alone."""
    if output.get("output_type") != "execute_result":
        return output
    return nbformat.v4.new_output(
        "display_data", data=output.get("data", {}), metadata=output.get("metadata", {})
    )


class JudgeHiddenResults(NbGraderPreprocessor):
    """nbgrader preprocessor: :func:`judge_notebook`, after the execution pass."""

    hidden_dir = Unicode(str(HIDDEN_DIR), help="the hidden tests' recordings").tag(config=True)
    max_transcript_bytes = Integer(
        PAYLOAD_LIMITS.stored_bytes, help="largest transcript a kernel may hand over"
    ).tag(config=True)
    incident_log = Unicode(
        "", help="file for the refused transcripts, JSON lines (kind, cell, detail)"
    ).tag(config=True)

    def preprocess(self, nb, resources):
        limits = PAYLOAD_LIMITS._replace(stored_bytes=self.max_transcript_bytes)
        return judge_notebook(nb, self.hidden_dir, limits, self._refused), resources

    def _refused(self, grade_id, message):
        if not self.incident_log:
            return
        line = {"kind": REFUSED, "cell": grade_id, "detail": message}
        with open(self.incident_log, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
