"""Similar submissions: pairs of students whose code cells share much of their own code.

A prompt for a look by hand, never a grade: short exercises have few ways to be written,
and two students may well write the same lines on their own.

How a pair's score is made, for one assignment:

- each code cell of a submission but the locked test cells (answer cells by grade id; any
  other cell that is not the released code, by its place) is tokenised by copydetect's
  ``filter_code`` (pygments): comments and whitespace dropped, every name a ``V``, every
  defined function's name an ``F``, every string an ``S``; so renamed variables and changed
  comments change nothing;
- its fingerprints are the hashes of every ``K``-character slice of that text (copydetect's
  defaults, noise threshold = guarantee threshold, winnow nothing away), hashed here with a
  fixed polynomial hash rather than Python's ``hash``, which changes from run to run;
  each function is fingerprinted apart (the text is cut before every ``def``), so
  reordering functions changes nothing;
- the fingerprints of the released notebook's code (scaffolding, signatures, docstrings)
  are subtracted, and each remaining one is keyed by its notebook, so a line counts only
  against the same notebook, wherever it sits there: answers moved to other cells, or cells
  whose nbgrader metadata was removed (which grades the same), are compared all the same;
- fingerprints that more than ``COMMON_SHARE`` of the class share (and over ``COMMON_MIN``
  students) are the class's common idiom, not a copy: dropped too (MOSS's ``-m``);
- a pair's score is the Jaccard index of the two students' fingerprint sets (shared / all
  of both), 0 to 1; or, where ``CONTAINED`` or more of one student's own code, and a long
  stretch of it (``CONTAINED_MIN`` fingerprints), is in the other's, that share: a copy
  padded with code of its own (12 KB took a copy's Jaccard index to 0.22). Only pairs that
  share ``MIN_SHARED`` fingerprints or more and score at least ``THRESHOLD`` are reported
  (compared on integers, in thousandths, so no last-bit float difference moves a pair over
  the line).

A copy of a student whose every answer is the class's common one shares nothing rare: it
cannot be told from two students who wrote the common answer, and is not reported.

Scale: an index (students x fingerprints, a sparse matrix) whose product with itself counts
the shared fingerprints of every pair that shares any; no pair is compared in full.
``benchmarks/similarity.py`` measures 2,000 students. The threshold comes from the scores of
independently written correct answers (``tests/grading/results/test_similarity.py``).
"""

import csv
import hashlib
import re
from pathlib import Path

import numpy as np
from copydetect.utils import filter_code
from numpy.lib.stride_tricks import sliding_window_view
from scipy import sparse

from pixelschool_admin.authoring.notebooks import (
    answer_cells,
    cell_grade_id,
    is_test_cell,
    readable_notebooks,
)

K = 25  # characters of filtered code per fingerprint (copydetect's noise threshold)
THRESHOLD = 0.5  # a pair at this score or above is reported
MIN_SHARED = 40  # ... and only if it shares this many fingerprints (about 40 characters)
CONTAINED = 0.9  # a pair is scored by containment if this share of the smaller set is shared
CONTAINED_MIN = 500  # ... and that many fingerprints: a stretch of code, not a pasted line
COMMON_SHARE = 0.05  # a fingerprint of more than this share of the class is common idiom
COMMON_MIN = 20  # ... and of more than this many students
COLUMNS = ["assignment", "student_a", "student_b", "score"]
# What one student's answers to one assignment may cost: the course's longest answer cell has
# 2,700 characters, its notebooks 26 answer cells and 15,000 characters of answers at most.
MAX_CELL_CHARS = 20_000  # characters of one answer cell read
MAX_ANSWER_CHARS = 100_000  # ... of all of them
MAX_ANSWER_CELLS = 100  # answer cells read

_BASE = np.uint64(0x100000001B3)  # FNV's 64-bit prime: a fixed polynomial hash
_POWERS = _BASE ** np.arange(K, dtype=np.uint64)[::-1]  # wraps modulo 2**64, on every CPU


def stripped(source):
    """``source`` without trailing whitespace on its lines (the same tokens): pygments'
    Python lexer takes quadratic time over lines of whitespace (20,000 characters of
    " \\n": 3.5 s, a megabyte: hours), so no code reaches it unstripped."""
    return "\n".join(line.rstrip() for line in source.split("\n"))


def filtered(source):
    """``source`` tokenised as copydetect does: no comments or whitespace, names ``V``."""
    text, _ = filter_code(stripped(source), "answer.py", language="python")
    return text


def kgram_hashes(text, k=K):
    """(len(text) - k + 1,) uint64: a fixed hash of every ``k``-character slice of ``text``."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(
        np.uint64
    )
    if len(codes) < k:
        return np.empty(0, dtype=np.uint64)
    powers = _POWERS if k == K else _BASE ** np.arange(k, dtype=np.uint64)[::-1]
    with np.errstate(over="ignore"):
        return sliding_window_view(codes, k) @ powers


def _salt(key):
    return np.uint64(
        int.from_bytes(
            hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big"
        )
    )


def cell_hashes(source):
    """The ``kgram_hashes`` of a cell's code, function by function: no slice straddles two
    functions, so their order in the cell changes nothing."""
    parts = [kgram_hashes(part) for part in re.split(r"(?=defF\()", filtered(source))]
    return np.concatenate(parts)


def boilerplate(sources):
    """(M,) uint64: the fingerprints of the released code ``sources`` (cells' text)."""
    parts = [cell_hashes(s) for s in sources]
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.uint64)


def bounded(answers):
    """``answers`` ({cell key: source}) cut to ``MAX_ANSWER_CELLS`` cells, ``MAX_CELL_CHARS``
    characters each and ``MAX_ANSWER_CHARS`` in all: the tokeniser takes about 2 s a
    megabyte, and a submission padded with megabytes must not hold up the class."""
    kept, left = {}, MAX_ANSWER_CHARS
    for key, source in list(answers.items())[:MAX_ANSWER_CELLS]:
        kept[key] = source[: min(MAX_CELL_CHARS, left)]
        left -= len(kept[key])
    return kept


def fingerprints(answers, released=()):
    """(F,) uint64, unique: the fingerprints of one student's ``answers`` ({cell key: source}),
    less those of ``released`` (a ``boilerplate`` array), each keyed by its notebook (the
    key's part before ``:``)."""
    parts = []
    for key, source in bounded(answers).items():
        hashes = np.setdiff1d(cell_hashes(source), released)
        parts.append(hashes ^ _salt(key.partition(":")[0]))  # keyed by the notebook
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.uint64)


def pair_counts(submissions, released=()):
    """(students, a, b, shared, union, smaller) of every pair that shares a fingerprint that
    is not the class's idiom: ``students`` sorted, ``a < b`` (M,) indices into it, ``shared``,
    ``union`` and ``smaller`` (M,) int64 fingerprint counts (of both, of either, of the
    smaller set), so the pair's Jaccard index is shared / union.

    ``submissions``: {student: {cell key: answer source}}; ``released``: the released
    notebook's code cells (sources), subtracted.
    """
    students = sorted(submissions)
    empty = np.empty(0, dtype=np.int64)
    if len(students) < 2:
        return students, empty, empty, empty, empty, empty
    released = boilerplate(released)
    sets = [fingerprints(submissions[s], released) for s in students]
    rows = np.repeat(np.arange(len(students)), [len(f) for f in sets])
    values, columns = np.unique(np.concatenate(sets), return_inverse=True)
    index = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.int32), (rows, columns)), shape=(len(students), len(values))
    )
    share = np.asarray(index.sum(axis=0)).ravel()
    common = share > max(COMMON_MIN, COMMON_SHARE * len(students))
    index = index[:, np.flatnonzero(~common)].tocsr()  # the class's idiom: in no set
    sizes = np.asarray(index.sum(axis=1)).ravel().astype(np.int64)
    shared = sparse.triu(index @ index.T, k=1).tocoo()  # only pairs that share something
    a, b, both = shared.row, shared.col, shared.data.astype(np.int64)
    return students, a, b, both, sizes[a] + sizes[b] - both, np.minimum(sizes[a], sizes[b])


def similar_pairs(submissions, released=(), threshold=THRESHOLD, min_shared=MIN_SHARED):
    """[(student_a, student_b, score)] of the pairs at ``threshold`` or above, best first.

    ``submissions``: {student: {cell key: answer source}}; ``released``: the released
    notebook's code cells (sources), subtracted. Scores (``scores``) are in [0, 1].
    """
    return pairs_above(pair_counts(submissions, released), threshold, min_shared)


def contained(counts):
    """(M,) bool: the pairs of ``pair_counts``' ``counts`` that share ``CONTAINED`` or more
    of the smaller set (on integers, in thousandths), and ``CONTAINED_MIN`` or more."""
    _, _, _, both, _, smaller = counts
    share = both * 1000 >= round(CONTAINED * 1000) * np.maximum(smaller, 1)
    return share & (both >= CONTAINED_MIN)


def scores(counts):
    """(M,) float in [0, 1]: each pair's score, its Jaccard index or, if ``contained``, the
    share of the smaller set that is shared."""
    _, _, _, both, union, smaller = counts
    inside = contained(counts)
    return np.where(inside, both / np.maximum(smaller, 1), both / np.maximum(union, 1))


def pairs_above(counts, threshold=THRESHOLD, min_shared=MIN_SHARED):
    """``similar_pairs`` from ``pair_counts``' ``counts``, so a caller counts only once."""
    students, a, b, both, union, _ = counts
    # on integers, in thousandths: no last-bit float difference moves a pair over the line
    jaccard = both * 1000 >= round(threshold * 1000) * union
    keep = (both >= min_shared) & (jaccard | contained(counts))
    score = scores(counts)[keep]
    found = sorted(zip(a[keep], b[keep], score, strict=True), key=lambda p: (-p[2], p[0], p[1]))
    return [(students[i], students[j], float(s)) for i, j, s in found]


def answers_of(nb, notebook, released=None):
    """{"<notebook>:<grade id>": source} of a notebook's answer cells; given ``released``
    (the released code cells' sources), also {"<notebook>:cell <n>": source} of its other
    code cells (the n-th code cell) that are neither locked tests nor released code as it was.
    """
    answers = answer_cells(nb)
    found = {f"{notebook}:{cell_grade_id(cell)}": cell.source for cell in answers}
    if released is None:
        return found
    answered = {id(cell) for cell in answers}
    code = [cell for cell in nb.cells if cell.get("cell_type") == "code"]
    for n, cell in enumerate(code):
        source = cell.get("source")
        if id(cell) in answered or is_test_cell(cell) or not isinstance(source, str):
            continue
        if source not in released:
            found[f"{notebook}:cell {n}"] = source
    return found


def released_code(course, assignment):
    """The sources of every code cell of the assignment's released notebooks."""
    paths = sorted((course.root / "release" / assignment).glob("*.ipynb"))
    return [
        cell.source
        for _, nb in readable_notebooks(paths)
        for cell in nb.cells
        if cell.cell_type == "code"
    ]


def submitted_answers(course, assignment, code=None):
    """{student: {cell key: source}} of the students' submitted notebooks (``submitted/``);
    ``code``: ``released_code``'s, read here if not given."""
    code = released_code(course, assignment) if code is None else code
    found, released = {}, frozenset(code)
    for student in course.students(assignment):
        folder = course.root / "submitted" / student / assignment
        answers = {}
        for path, nb in readable_notebooks(sorted(folder.glob("*.ipynb"))):
            answers.update(answers_of(nb, Path(path).stem, released))
        if answers:
            found[student] = bounded(answers)  # what is scored is what the report shows
    return found


def assignment_pairs(course, assignment, threshold=THRESHOLD):
    """(answers, code, counts, pairs) of one assignment, each read or computed once:
    ``submitted_answers``, ``released_code``, ``pair_counts`` and ``pairs_above``'s."""
    code = released_code(course, assignment)
    answers = submitted_answers(course, assignment, code)
    counts = pair_counts(answers, code)
    return answers, code, counts, pairs_above(counts, threshold)


def csv_rows(assignment, pairs):
    """``pairs`` (``similar_pairs``') as rows of ``reports/similarity.csv`` (``COLUMNS``)."""
    return [(assignment, a, b, round(score, 3)) for a, b, score in pairs]


def similarity_table(course, assignments=None, threshold=THRESHOLD):
    """[(assignment, student_a, student_b, score)] for ``assignments`` (all by default)."""
    rows = []
    for assignment in assignments or course.assignments():
        rows += csv_rows(assignment, assignment_pairs(course, assignment, threshold)[3])
    return rows


def write(course, rows):
    """Write ``rows`` (``similarity_table``'s) as ``reports/similarity.csv``; return its path."""
    path = course.report_path("similarity.csv")
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


def write_similarity(course, assignments=None, threshold=THRESHOLD):
    """Write ``reports/similarity.csv`` (``COLUMNS``); return its path."""
    return write(course, similarity_table(course, assignments, threshold))
