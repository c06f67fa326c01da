"""What a grader should look at by hand: changed locked cells and code that tampers.

Autograde scans each submission it grades, on the bytes it read (``scan_submission``), and
its findings are ``integrity`` events in ``reports/events.csv`` that the report shows.

nbgrader restores locked cells from the gradebook before grading (a deleted graded test
cell scores zero), so neither gains points; this scan only tells the instructor who did it.
The code scan reads every code cell the student wrote (answer cells, cells they added,
locked cells they edited) as IPython runs it (magics turned into Python, and the code
given to magics such as ``%time``), and names what it cannot parse. It is static and names
constructs, not intentions: a student who prints ``tests.__file__`` is listed too, and
obfuscated code is not.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

from IPython.core.inputtransformer2 import TransformerManager
from nbgrader.utils import compute_checksum

from pixelschool_admin.authoring.notebooks import (
    NotebookError,
    cell_grade_id,
    is_test_cell,
    nbgrader_meta,
    parse_notebook,
    read_notebook,
)
from pixelschool_admin.grading.events import Event

CHECK_NAMES = {"tests", "problem_unittests"}
KIT = "pixelschool"  # the course kit's own package: checks, reference code, grading
IMPORTERS = {"__import__", "import_module"}
SUSPICIOUS_MODULES = {
    "socket": "opens network connections",
    "urllib": "opens network connections",
    "requests": "opens network connections",
    "http": "opens network connections",
    "subprocess": "runs programs",
    "ctypes": "calls C directly",
    "signal": "changes signal handling",
    "builtins": "changes Python's builtins",
    "gc": "reaches the interpreter's objects (the watch's among them)",
}
# Attributes whose use changes how the kernel reads, runs or reports a cell
HOOK_ATTRIBUTES = dict.fromkeys(
    ("input_transformers_cleanup", "input_transformers_post", "input_transformer_manager"),
    "rewrites cells before they run (IPython's input transformers)",
)
HOOK_ATTRIBUTES |= {
    "ast_transformers": "rewrites cells before they run (IPython's AST transformers)",
    "showtraceback": "changes how errors are reported",
    "_showtraceback": "changes how errors are reported",
    "set_custom_exc": "changes how errors are reported",
    "InteractiveTB": "changes how errors are reported",
    "excepthook": "changes how errors are reported",
    "displayhook": "changes how results are shown",
    "display_pub": "changes how results are shown",
    "shell_handlers": "changes how the kernel handles the grader's requests",
    "settrace": "sets a trace function",
    "setprofile": "sets a trace function",
    "addaudithook": "adds an audit hook",
    "__code__": "swaps the code of functions",
    "__closure__": "reaches into functions' variables",
    "cell_contents": "reaches into functions' variables",
}
# Magics (and ``!``) whose code the scan cannot read: shell, other files, other languages
OPAQUE_MAGICS = {"system", "getoutput", "run", "load", "writefile", "bash", "sh", "script"}
OPAQUE_MAGICS |= {"python", "python3", "pypy", "perl", "ruby", "sx", "sc"}
MAGIC_CALLS = {"run_line_magic", "run_cell_magic", "system", "getoutput"}


@dataclass(frozen=True)
class Finding:
    student: str
    assignment: str
    notebook: str
    cell: str  # grade id
    what: str


def locked_cells(released):
    """{grade_id: checksum} of the cells a student must not change."""
    return {
        cell_grade_id(cell): nbgrader_meta(cell).get("checksum")
        for cell in released.cells
        if nbgrader_meta(cell).get("locked") or is_test_cell(cell)
    }


def tampering(tree):
    """Sentences naming the tampering constructs in a parsed code cell."""
    said = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in HOOK_ATTRIBUTES:
            said.append(f"{HOOK_ATTRIBUTES[node.attr]} ({node.attr})")
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "register"
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "events"
        ):
            said.append("registers IPython event callbacks (events.register)")
        if isinstance(node, ast.Call) and _callee(node.func) in MAGIC_CALLS:
            said += magic(node)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
            targets = node.targets if hasattr(node, "targets") else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and _name(target.value) in CHECK_NAMES:
                    said.append(f"replaces {_name(target.value)}.{target.attr}")
        elif isinstance(node, ast.Call) and _name(node.func) == "setattr" and node.args:
            if _name(node.args[0]) in CHECK_NAMES:
                said.append("replaces a check with setattr")
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "modules"
            and _name(node.value) == "sys"
        ):
            said.append("edits sys.modules")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for name in names:
                root = (name or "").split(".")[0]
                if root in SUSPICIOUS_MODULES:
                    said.append(f"imports {root} ({SUSPICIOUS_MODULES[root]})")
                elif root == KIT:
                    said.append(f"imports {name} (the course kit's own code)")
        elif (
            isinstance(node, ast.Call)
            and _callee(node.func) in IMPORTERS
            and any(_kit_string(arg) for arg in node.args)
        ):
            said.append("imports the course kit's own code by name")
        elif (
            isinstance(node, ast.Attribute)
            and _name(node.value) in CHECK_NAMES
            and not node.attr.startswith("test_")
        ):
            said.append(f"reaches into the checks ({_name(node.value)}.{node.attr})")
    return sorted(set(said))


def magic(call):
    """Sentences for a magic (or ``!``) as IPython's transform wrote it: the code it is given
    scanned as a cell, or said to be out of the scan's reach."""
    strings = [a.value for a in call.args if isinstance(a, ast.Constant)]
    strings = [s for s in strings if isinstance(s, str)]
    name = "system" if _callee(call.func) in ("system", "getoutput") else (strings[:1] or [""])[0]
    if name in OPAQUE_MAGICS:
        return [f"runs code the scan cannot read (%{name})"]
    said = []
    for code in strings[1:]:
        try:
            said += tampering(ast.parse(TransformerManager().transform_cell(code)))
        except SyntaxError:
            pass  # an argument, not code (%matplotlib inline)
    return said


def _name(node):
    return node.id if isinstance(node, ast.Name) else None


def _callee(node):
    return node.attr if isinstance(node, ast.Attribute) else _name(node)


def _kit_string(node):
    return isinstance(node, ast.Constant) and str(node.value).split(".")[0] == KIT


def event_kind(what):
    """The report's kind (``events.KINDS``) for a finding's sentence."""
    if "course kit" in what:
        return "kit import"
    if what.startswith(NOT_SCANNED):
        return "not scanned"
    if what.startswith("locked cell"):
        return "locked cell"
    if what.startswith("not a readable"):
        return "unreadable"
    return "tampering"


def scan_notebook(path, released, student, assignment):
    """Findings for one submitted notebook against its released version."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        data = b""  # not a readable notebook
    return scan_bytes(data, Path(path).stem, released, student, assignment)


def scan_bytes(data, notebook, released, student, assignment):
    """``scan_notebook`` of a notebook's bytes ``data``, named ``notebook``."""
    try:
        nb = parse_notebook(data, notebook)
    except NotebookError:
        return [Finding(student, assignment, notebook, "", "not a readable notebook")]
    findings = []
    submitted = {cell_grade_id(c): c for c in nb.cells if nbgrader_meta(c)}
    for grade_id, checksum in locked_cells(released).items():
        cell = submitted.get(grade_id)
        if cell is None:
            findings.append(Finding(student, assignment, notebook, grade_id, "locked cell deleted"))
        elif checksum and compute_checksum(cell) != checksum:
            findings.append(Finding(student, assignment, notebook, grade_id, "locked cell edited"))
    given = {cell.source for cell in released.cells if cell.cell_type == "code"}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.source in given:  # the instructor's code
            continue
        where = cell_grade_id(cell) or f"cell {index + 1}"
        said = scan_code(cell.source)
        findings += [Finding(student, assignment, notebook, where, what) for what in said]
    return findings


NOT_SCANNED = "cannot be parsed, so not scanned"


def scan_code(source):
    """Sentences for one code cell as IPython runs it (magics included)."""
    try:
        return tampering(ast.parse(TransformerManager().transform_cell(source)))
    except SyntaxError as error:
        return [f"{NOT_SCANNED} ({error.msg}, line {error.lineno})"]


def scan_submission(submission, released):
    """Findings for a ``record.submission.Submission`` (its bytes as read once), against the
    ``released`` notebooks of its assignment ({name: notebook})."""
    findings = []
    for name, nb in released.items():
        data = submission.files.get(f"{name}.ipynb")
        if data is not None and f"{name}.ipynb" not in submission.unreadable:
            findings += scan_bytes(data, name, nb, submission.student, submission.assignment)
    return findings


def released_notebooks(course, assignment):
    """{name: notebook} of the assignment's released notebooks."""
    release = course.path("release", ".", assignment)
    return {p.stem: read_notebook(p) for p in sorted(release.glob("*.ipynb"))}


def events_of(findings):
    """The findings as ``integrity`` events for the report (unreadable notebooks are said by
    autograde's own events)."""
    return [
        Event("integrity", f.assignment, f.student, kind, f"{f.cell}: {f.what}".strip(": "))
        for f in findings
        if (kind := event_kind(f.what)) != "unreadable"
    ]


def scan(course, assignments=None):
    """Findings for every submission of ``assignments`` (default: all), sorted by student."""
    findings = []
    for assignment in assignments or course.assignments():
        released = released_notebooks(course, assignment)
        for student in course.students(assignment):
            folder = course.path("submitted", student, assignment)
            for name, nb in released.items():
                path = folder / f"{name}.ipynb"
                if path.exists():
                    findings += scan_notebook(path, nb, student, assignment)
                elif (folder / f"{name}.ipynb.unreadable").exists():
                    findings.append(
                        Finding(student, assignment, name, "", "not a readable notebook")
                    )
    return sorted(findings, key=lambda f: (f.student, f.assignment, f.notebook, f.cell))
