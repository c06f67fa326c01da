"""A demo class: submissions made by program from ``solutions/`` and the check tests' wrong answers.

Every submission starts from the released student notebook, as a student's would, and has
its answer cells filled in:

- ``full``: the solution's answers;
- ``partial``: the solution with one to three exercises replaced by wrong answers from
  ``pixelschool_admin.answers`` (the realistic mistakes each check is tested against);
- both also write the written answers graded by hand (the solution's model answer, without
  its rubric), so those wait for a grader ("pending manual grading") instead of scoring 0;
- ``blank``: the notebook as released;
- ``copy``: a planted copy, for the similarity report: the answers of a ``partial``
  classmate (``Student.pair``), local variables renamed and comments changed;
- ``HOSTILE``: one student per attack the grader must survive;
- ``ROUTE_CASES``: attacks on the way in: a folder forged in a classmate's name (``forge``).
"""

import ast
import importlib
import inspect
import io
import os
import random
import re
import textwrap
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

import nbformat

from pixelschool_admin.answers import MODULES, registry
from pixelschool_admin.authoring.notebooks import (
    answer_cells,
    cell_grade_id,
    is_test_cell,
    read_notebook,
    written_cells,
)
from pixelschool_admin.paths import REPO_ROOT, SOLUTIONS_DIR

FIRST = "Amara Bruno Chen Dario Elif Farid Greta Hana Ivo Jonas Kofi Lena Mateo Nadia Omar Priya"
LAST = "Okafor Rossi Wang Silva Yilmaz Haddad Berg Sato Petrov Weber Mensah Novak Garcia Khan Ali"


@dataclass
class Student:
    id: str
    first_name: str
    last_name: str
    lms_id: str
    kind: str  # full, partial, blank, or a HOSTILE key
    route: str = "exchange"  # or "lms"
    notes: list = field(default_factory=list)  # what was done to each notebook
    pair: str = ""  # the original's id, for the copier and the student copied (``copy``)


def hostile_cells(course_root):
    """Code that each hostile student puts in their first answer cell, by case."""
    gradebook = course_root / "gradebook.db"
    solution = SOLUTIONS_DIR / "01_data_preparation.ipynb"
    probe = textwrap.dedent(
        """\
        for _path in [{solution!r}, {gradebook!r}]:
            try:
                print("read", _path, open(_path, "rb").read(64))
            except OSError as _error:
                print("blocked:", _error)
        """
    ).format(solution=str(solution), gradebook=str(gradebook))
    return {
        "infinite loop": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "while True:\n    pass",
        "memory bomb": "_hog = []\nwhile True:\n    _hog.append(bytearray(2**28))",
        "kernel crash": "import ctypes\nctypes.string_at(0)  # reads address 0: segfault",
        "reads solutions and gradebook": probe,
        "network": "import socket\ntry:\n"
        "    socket.create_connection(('pypi.org', 443), timeout=5)\n    print('connected')\n"
        "except OSError as _error:\n    print('blocked:', _error)",
        "overwrites the checks": "tests.test_one_hot = lambda *args, **kwargs: print('✔ fine')\n"
        "tests.test_read_cifar_batch = tests.test_one_hot",
        "50 MB of output": "print('x' * 50_000_000)",
        "fork loop": FORK_LOOP,
        "vandal": VANDAL.format(home=str(course_root.parent), course=str(course_root)),
        "imports the kit's checks": "from pixelschool.checks import data_preparation as _kit",
        "blanks the graded cells": BLANKER,
        "hides its errors": HIDER,
        "script in output": SCRIPT_IN_OUTPUT,
    }


# On a blank notebook: every cell that mentions the autograder becomes `pass` (an IPython
# input transformer), or every error is hidden (no traceback, the cell's error cleared).
# nbgrader alone gives a graded cell that raises nothing its points.
BLANKER = """\
def _blank(lines):
    return ["pass\\n"] if any("Autograder:" in line for line in lines) else lines
get_ipython().input_transformers_cleanup.append(_blank)"""
HIDER = """\
_ip = get_ipython()
_ip.showtraceback = lambda *args, **kwargs: None
_ip._showtraceback = lambda *args, **kwargs: None
def _clear(result):
    result.error_in_exec = None
_ip.events.register("post_run_cell", _clear)"""
# Hostile cases that come with no answer of their own: the attack alone must earn nothing.
ON_BLANK = ("blanks the graded cells", "hides its errors")


FORK_LOOP = """\
import os, time
_children = []
try:
    for _ in range(300):
        _pid = os.fork()
        if _pid == 0:
            time.sleep(5)
            os._exit(0)
        _children.append(_pid)
    print("forked", len(_children))
except OSError as _error:
    print("fork refused after", len(_children), _error)"""
VANDAL = """\
import os
for _folder in [{home!r}, {course!r}, os.path.expanduser("~root")]:
    try:
        print("listed", _folder, len(os.listdir(_folder)))
    except OSError as _error:
        print("blocked:", _error)
for _name in os.listdir("."):
    try:
        os.remove(_name)
        print("deleted", _name)
    except OSError as _error:
        print("kept:", _error)
try:
    for _i in range(4):
        with open(f"junk{{_i}}", "wb") as _f:
            _f.write(bytes(200 * 2**20))
    print("wrote 800 MB")
except OSError as _error:
    print("disk:", _error)"""

# Scripts in outputs, for the grader's browser. The word the page would show is built when
# the cell runs: only an output that still holds a script can hold it.
SCRIPT_IN_OUTPUT = """\
from IPython.display import display as _display
_mark = "document.title = '%s'" % ("PW" + "NED")
_display({"text/html": f"<script>{_mark}</script>"}, raw=True)
_display({"text/html": f"<img src='x' onerror=\\"{_mark}\\">"}, raw=True)
_display({"application/javascript": _mark}, raw=True)"""

# Cases that change the notebook file rather than a cell.
FILE_CASES = ("not valid JSON", "deleted locked cell", "edited locked cell")
# Cases that change how work reaches the grader: the forger hands in their own work, and a
# blank notebook in the inbound folder under a classmate's id, dated 2099, owned by another
# account ("nobody") where the demo runs as root.
ROUTE_CASES = ("forged exchange submission",)
FORGED_TIME = "2099-01-01 00:00:00.000000 UTC"


def forgery_victim(students):
    """The classmate the forger hands in for: the first full-marks student on the exchange."""
    return next(s for s in students if s.kind == "full" and s.route == "exchange")


def forge(exchange_root, course_id, victim, notebook, text):
    """Write the forged folder in ``victim``'s name, as a student with the exchange's
    write access could: ``{victim}+{notebook}+2099...`` with ``text`` as the notebook."""
    folder = exchange_root / course_id / "inbound" / f"{victim}+{notebook}+{FORGED_TIME}"
    folder.mkdir()
    (folder / f"{notebook}.ipynb").write_text(text, encoding="utf-8")
    (folder / "timestamp.txt").write_text(FORGED_TIME)
    if getattr(os, "geteuid", lambda: None)() == 0:  # root: hand it to another account
        import pwd

        nobody = pwd.getpwnam("nobody")
        for path in [folder, *folder.iterdir()]:
            os.lchown(path, nobody.pw_uid, nobody.pw_gid)


def answers_modules(notebook):
    """The answers modules of ``02_knn`` and the like: those named after its topic (``knn``)
    or starting with it (``knn_distances``, ``knn_classifier``)."""
    topic = notebook.split("_", 1)[1]
    return [
        importlib.import_module(f"{registry.__package__}.{name}")
        for name in MODULES
        if name == topic or name.startswith(f"{topic}_")
    ]


def pasted_imports(module):
    """``(source, names)`` of ``module``'s imports that a student's kernel can run too: all
    but the instructor's own (``pixelschool_admin``: the registry)."""
    source = inspect.getsource(module)
    kept = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.Import | ast.ImportFrom)
        and not any(
            name.split(".")[0] == "pixelschool_admin"
            for name in [getattr(node, "module", None) or ""] + [a.name for a in node.names]
        )
    ]
    names = {alias.asname or alias.name.split(".")[0] for node in kept for alias in node.names}
    return "\n".join(ast.get_source_segment(source, node) for node in kept), names


def standalone_wrong_answers(notebook):
    """{exercise: [source, ...]} of the wrong answers that need nothing but their imports."""
    return {
        exercise: [source for _, source in pairs]
        for exercise, pairs in wrong_answer_sources(notebook).items()
    }


@cache
def wrong_answer_sources(notebook):
    """{exercise: [(WrongAnswer, source), ...]} of the wrong answers that need nothing but
    their imports, each with the source a student pastes (renamed to the exercise).

    Cached, so the demo class builds it once per notebook: read it, do not change it.
    """
    defined = set(defined_functions("\n".join(solution_answers(notebook).values())))
    found = {}
    for module in answers_modules(notebook):
        imports, known = pasted_imports(module)
        known |= defined  # names a pasted answer may use: its imports, the notebook's own
        for exercise, wrong_answers in registry.WRONG_ANSWERS.items():
            for answer in wrong_answers:
                if answer.fn.__module__ != module.__name__:
                    continue
                if not set(inspect.getclosurevars(answer.fn).globals) <= known:
                    continue  # it needs a helper from the answers module
                source = undecorated_source(answer.fn)
                source = re.sub(rf"def {answer.fn.__name__}\(", f"def {exercise}(", source, count=1)
                found.setdefault(exercise, []).append((answer, f"{imports}\n\n\n{source}"))
    return found


def undecorated_source(fn):
    """``fn``'s source from its ``def`` line on (its decorators, one line or more, left out)."""
    source = textwrap.dedent(inspect.getsource(fn))
    definition = ast.parse(source).body[0]
    return "".join(source.splitlines(keepends=True)[definition.lineno - 1 :])


def solution_answers(notebook):
    """{grade_id: source} of the solution's answer cells (a new dict: callers change it)."""
    return dict(_solution_answers(notebook))


@cache
def _solution_answers(notebook):
    nb = read_notebook(SOLUTIONS_DIR / f"{notebook}.ipynb")
    return tuple((cell_grade_id(cell), cell.source) for cell in answer_cells(nb))


def written_answers(notebook):
    """{grade_id: text} of what a good student writes in each hand-graded answer: the
    solution's model answer, without the solution markers and the rubric."""
    return dict(_written_answers(notebook))


@cache
def _written_answers(notebook):
    nb = read_notebook(SOLUTIONS_DIR / f"{notebook}.ipynb")
    answers = []
    for cell in written_cells(nb):
        text = cell.source.split("**Rubric")[0]
        text = "\n".join(line for line in text.splitlines() if "SOLUTION" not in line)
        answers.append((cell_grade_id(cell), text.strip()))
    return tuple(answers)


def defined_functions(source):
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]


def fill(released, answers):
    """A copy of the released notebook with answer cells, code or written, replaced by
    ``answers`` (by grade id)."""
    nb = nbformat.from_dict(released)
    for cell in answer_cells(nb) + written_cells(nb):
        grade_id = cell_grade_id(cell)
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def partial_answers(notebook, rng, how_many, used=None):
    """The solution's answers with ``how_many`` exercises replaced by wrong ones; and notes
    (``wrong <exercise> (<wrong answer's name>)``, see :func:`noted_wrong_answers`).

    ``used`` (a Counter of the wrong answers classmates handed in, by name; updated): each
    exercise's least used wrong answers first. Real students who make one mistake write it
    in their own words; pasted verbatim from one small pool, it would make them a similar
    pair (``results/similarity.py``) where the class has no copy but the planted one."""
    used = Counter() if used is None else used
    answers = solution_answers(notebook)
    wrong = wrong_answer_sources(notebook)
    by_cell = {
        grade_id: [name for name in defined_functions(source) if name in wrong]
        for grade_id, source in answers.items()
    }
    choices = [(g, name) for g, names in by_cell.items() for name in names]
    notes = []
    for grade_id, exercise in rng.sample(choices, min(how_many, len(choices))):
        least = min(used[a.fn.__name__] for a, _ in wrong[exercise])
        answer, mistake = rng.choice(
            [w for w in wrong[exercise] if used[w[0].fn.__name__] == least]
        )
        used[answer.fn.__name__] += 1
        # The wrong definition follows the solution's, so it is the one the notebook uses.
        answers[grade_id] += f"\n\n\n# a mistake:\n{mistake}"
        notes.append(f"wrong {exercise} ({answer.fn.__name__})")
    return answers, notes


NOTE = re.compile(r"(?P<notebook>[^:]+): wrong (?P<exercise>\w+) \((?P<name>\w+)\)")


def noted_wrong_answers(student):
    """[(notebook, WrongAnswer), ...] that ``student``'s notes say were handed in."""
    found = []
    for note in student.notes:
        match = NOTE.fullmatch(note)
        if match:
            exercise, name = match["exercise"], match["name"]
            answers = registry.WRONG_ANSWERS[exercise]
            found.append((match["notebook"], next(a for a in answers if a.fn.__name__ == name)))
    return found


def local_names(source):
    """The names that ``source``'s functions assign to (parameters and globals left out:
    callers and other cells may name them)."""
    tree = ast.parse(source)
    top = {
        n.id
        for statement in tree.body
        if not isinstance(statement, ast.FunctionDef)
        for n in ast.walk(statement)
        if isinstance(n, ast.Name)
    }
    found = set()
    for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        params = {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)}
        stored = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)
                  and isinstance(n.ctx, ast.Store)}  # fmt: skip
        found |= stored - params
    return found - top


def disguised(source):
    """``source`` as a copier hands it in: local variables renamed ``my_<name>``, every
    comment replaced; the layout kept (tokens edited in place)."""
    local = local_names(source)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    lines = source.splitlines(keepends=True)
    edits, depth = [], 0
    for i, tok in enumerate(tokens):
        depth += tok.string in "([{" and tok.type == tokenize.OP
        depth -= tok.string in ")]}" and tok.type == tokenize.OP
        if tok.type == tokenize.COMMENT:
            edits.append((tok.start, tok.end, "# my own words"))
        elif tok.type == tokenize.NAME and tok.string in local:
            after = tokens[i + 1].string if i + 1 < len(tokens) else ""
            if tokens[i - 1].string != "." and not (depth and after == "="):
                edits.append((tok.start, tok.end, f"my_{tok.string}"))
    for (row, start), (_, end), text in reversed(edits):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + text + line[end:]
    return "".join(lines)


def planted_pair(students):
    """(original, copier): the students of the planted copy."""
    copier = next(s for s in students if s.kind == "copy")
    return next(s for s in students if s.id == copier.pair), copier


def planted_usage(students, notebook):
    """A Counter of the wrong answers the planted pair hands in for ``notebook``, by name:
    ``partial_answers``' ``used`` to start the class with, so classmates avoid them."""
    original, _ = planted_pair(students)
    _, notes = paired_answers(original, notebook)
    return Counter(NOTE.fullmatch(f"{notebook}: {note}")["name"] for note in notes)


def paired_answers(student, notebook):
    """The answers of a planted pair's original (their own seed: the same for the copier)."""
    return partial_answers(notebook, random.Random(f"{student.pair}/{notebook}"), 3)


def hostile_notebook(case, released, notebook, course_root):
    """The submission of the hostile student ``case`` (a notebook, or bytes for bad JSON)."""
    answers = solution_answers(notebook)
    first = next(iter(answers))
    if case in FILE_CASES:
        nb = fill(released, answers)
        tests = [cell for cell in nb.cells if is_test_cell(cell)]
        if case == "not valid JSON":
            return nbformat.writes(nb)[:5000]  # cut off mid-file, as a crashed upload
        if case == "deleted locked cell":
            nb.cells.remove(tests[0])
        else:
            tests[0].source = "# the test was here\npass"
        return nb
    cells = hostile_cells(course_root)
    if case in ON_BLANK:
        answers = {cell_grade_id(cell): cell.source for cell in answer_cells(released)}
    answers[first] = f"{cells[case]}\n\n\n{answers[first]}"
    if case == "overwrites the checks":  # ... to hide a wrong answer
        wrong = standalone_wrong_answers(notebook)["one_hot"][0]
        cell = next(g for g, source in answers.items() if "one_hot" in defined_functions(source))
        answers[cell] += f"\n\n\n{wrong}"
    nb = fill(released, answers)
    if case == "50 MB of output":  # the file itself, as saved in JupyterLab, is 50 MB too
        answer = answer_cells(nb)[0]
        answer.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 50_000_000)]
    return nb


def make_class(size=32, seed=0):
    """The demo roster: ``size`` students (at least one per case) with their kinds."""
    rng = random.Random(seed)
    kinds = ["full"] * 6 + ["blank"] * 3 + ["missing one"]
    kinds += list(hostile_cells(REPO_ROOT)) + list(FILE_CASES) + list(ROUTE_CASES)
    kinds += ["partial"] * max(2, size - len(kinds) - 2)
    firsts, lasts = FIRST.split(), LAST.split()
    students = []
    for number, kind in enumerate(kinds):
        first, last = firsts[number % len(firsts)], lasts[(number * 7) % len(lasts)]
        student_id = f"{first[0]}{last}{number:02d}".lower()
        students.append(Student(student_id, first, last, str(41000 + number), kind))
    # Ids with spaces and non-ASCII letters, as a roster exported from a platform may have.
    students.append(Student("Ana María López", "Ana María", "López", "41900", "full"))
    students.append(Student("Søren Ødegård", "Søren", "Ødegård", "41901", "partial"))
    original, copier = [s for s in students if s.kind == "partial"][:2]
    copier.kind, copier.pair = "copy", original.id  # the planted pair
    original.pair = original.id
    for number, student in enumerate(students):
        student.route = "lms" if number % 2 else "exchange"
    for student in students:  # the big and the broken files come through the LMS zip
        if student.kind in ("50 MB of output", "not valid JSON"):
            student.route = "lms"
        if student.kind in ROUTE_CASES:
            student.route = "exchange"
    rng.shuffle(students)
    return students


def submission(student, notebook, released, course_root, rng, first_notebook, used=None):
    """What ``student`` hands in for ``notebook``: a notebook, bytes, or None (nothing);
    ``used``: ``partial_answers``' (the class's wrong answers so far)."""
    written = written_answers(notebook)
    if student.kind == "full":
        return fill(released, solution_answers(notebook) | written)
    if student.kind == "blank":
        return released
    if student.kind == "missing one":
        if notebook != first_notebook:
            return None
        return fill(released, solution_answers(notebook) | written)
    if student.kind in FILE_CASES or student.kind in hostile_cells(course_root):
        if notebook == first_notebook:
            return hostile_notebook(student.kind, released, notebook, course_root)
    if student.pair:
        answers, notes = paired_answers(student, notebook)
        if student.kind == "copy":
            answers = {grade_id: disguised(source) for grade_id, source in answers.items()}
            notes = [f"a copy of {student.pair}'s notebook, variables renamed, comments changed"]
    else:
        answers, notes = partial_answers(notebook, rng, rng.randint(1, 3), used)
    student.notes += [f"{notebook}: {note}" for note in notes]
    return fill(released, answers | written)
