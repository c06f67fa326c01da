"""Similar submissions (results/similarity.py): planted copies found, independent answers not.

The independent answers are the correct variants of ``admin/pixelschool_admin/answers``
(``@right``) and each exercise's reference: every pair of answers to the same exercise is
scored as a one-cell submission, the hardest case (short answers, no class to tell common
idiom from copying). Some variants are the reference with one line changed, so the rate
measured here is an upper bound on the false positives of independent work.
"""

import csv
import inspect
import itertools
import re
import textwrap

import pytest

from benchmarks.similarity import (
    KINDS,
    false_positive_rates,
    independent_scores,
    synthetic_class,
)
from benchmarks.similarity import (
    disguised as benchmark_disguised,
)
from pixelschool_admin import answers
from pixelschool_admin.answers.registry import CORRECT_VARIANTS, REFERENCES
from pixelschool_admin.authoring.notebooks import read_notebook
from pixelschool_admin.grading.course import report_path
from pixelschool_admin.grading.results import similarity
from pixelschool_admin.grading.results.similarity import THRESHOLD, answers_of, similar_pairs
from pixelschool_admin.paths import SOLUTIONS_DIR

NOTEBOOK = "03_softmax"
SOLUTION = re.compile(r"### BEGIN SOLUTION.*?### END SOLUTION", re.S)
NAMES = {"scores": "s", "probs": "p", "labels": "targets", "shifted": "z", "exp_scores": "e"}


def released(source):
    """An answer cell as nbgrader releases it: the solution cleared."""
    return SOLUTION.sub("# YOUR CODE HERE\nraise NotImplementedError()", source)


@pytest.fixture(scope="module")
def reference():
    """{cell key: source} of the solution notebook's answer cells, and its released cells."""
    cells = answers_of(read_notebook(SOLUTIONS_DIR / f"{NOTEBOOK}.ipynb"), NOTEBOOK)
    return cells, [released(source) for source in cells.values()]


def disguised(source):
    """``source`` with its variables renamed and its comments and blank lines changed."""
    for old, new in NAMES.items():
        source = re.sub(rf"\b{old}\b", new, source)
    source = re.sub(r"#.*", "# my own words", source)
    return source.replace("\n\n", "\n\n\n")


def score(a, b, released_cells=()):
    found = similar_pairs({"a": a, "b": b}, released_cells, threshold=0, min_shared=1)
    return found[0][2] if found else 0.0


def test_renamed_variables_and_changed_comments_are_the_same_code(reference):
    cells, released_cells = reference
    copy = {key: disguised(source) for key, source in cells.items()}
    assert copy != cells
    assert score(cells, copy, released_cells) == 1.0


def test_reordered_functions_are_found(reference):
    cells, released_cells = reference
    keys = list(cells)
    first, second = cells[keys[0]], cells[keys[1]]
    a = {"cell": first + "\n\n" + second}
    b = {"cell": disguised(second) + "\n\n" + disguised(first)}
    assert score(a, b, released_cells) > 0.9


def test_a_copy_with_one_function_rewritten_is_found(reference):
    answers.import_all()
    cells, released_cells = reference
    copy = {key: disguised(source) for key, source in cells.items()}
    key = next(k for k in cells if k.endswith(":softmax_loss_and_grad"))
    own = textwrap.dedent(inspect.getsource(CORRECT_VARIANTS["softmax_loss_and_grad"][0]))
    copy[key] = own
    found = score(cells, copy, released_cells)
    assert THRESHOLD <= found < 1.0


def test_the_released_code_is_subtracted(reference):
    cells, released_cells = reference
    untouched = {key: released(source) for key, source in cells.items()}
    submissions = {"a": untouched, "b": dict(untouched), "c": cells}
    assert similar_pairs(submissions, released_cells, threshold=0, min_shared=1) == []


def test_independent_correct_answers_are_rarely_flagged():
    found = independent_scores()
    rates = false_positive_rates(found)
    assert len(found) >= 150  # the measurement means something
    # measured: 1 of 200 pairs (0.5 %) at 0.5, cross_validate_default_argsort, the reference
    # with one call changed (its names and layout are the reference's); 0.3: 1 %, 0.7: 0
    assert rates[THRESHOLD] <= 0.01, [row for row in found if row[0] >= THRESHOLD]
    assert rates[0.7] <= rates[0.5] <= rates[0.3] <= 0.02


def test_the_synthetic_class_copies_are_found_and_nothing_else():
    """The benchmark's class, small: every planted kind found, no other pair reported."""
    submissions, planted, released = synthetic_class(80)
    assert set(planted.values()) == set(KINDS)
    found = {(a, b) for a, b, _ in similar_pairs(submissions, released)}
    assert found == set(planted)


def test_the_disguise_renames_variables_only():
    import random

    source = (
        "def f(x, n):\n    total = len(x)  # count\n    for i in range(n):\n"
        "        total += x.sum()\n    return total"
    )
    copy = benchmark_disguised(source, random.Random(0))
    assert copy != source
    assert similarity.filtered(copy) == similarity.filtered(source)


def test_scores_are_compared_on_integers():
    """A Jaccard index of exactly the threshold is reported, whatever its float spelling."""
    a = {"c": "def f(v):\n    return v.reshape(-1).astype(float).sum() * 2 + v.mean()"}
    b = {"c": a["c"] + "\n\ndef g(w):\n    return w.reshape(-1).astype(int).max() * 3 + 1"}
    exact = score(a, b)
    assert 0 < exact < 1  # a Jaccard index: a's code is in b's, but too short to count as such
    assert similar_pairs({"a": a, "b": b}, threshold=exact, min_shared=1)
    assert not similar_pairs({"a": a, "b": b}, threshold=exact + 0.002, min_shared=1)


def test_a_copy_padded_with_code_of_its_own_is_found(reference):
    """The red team's cheap way out: 12 KB of unrelated code took a copy's Jaccard index to
    0.22. Almost all of the original's own code is in the copy: that share is the score."""
    cells, released_cells = reference
    copy = {key: disguised(source) for key, source in cells.items()}
    first = next(iter(copy))
    copy[first] += "".join(
        f"\n\ndef pad{i}(x):\n    return [x * {i} for _ in range({i})][{i} % 3:]"
        for i in range(300)
    )
    counts = similarity.pair_counts({"a": cells, "b": copy}, released_cells)
    assert counts[3][0] / counts[4][0] < 0.3  # what the Jaccard index alone says
    [(_, _, found)] = similar_pairs({"a": cells, "b": copy}, released_cells)
    assert found >= similarity.CONTAINED


def test_a_short_shared_stretch_is_scored_by_the_jaccard_index():
    """One pasted line or function in common (a small class pasting the same wrong answer)
    is not a padded copy: under ``CONTAINED_MIN`` fingerprints, the Jaccard index scores it."""
    line = "def f(v):\n    return v.reshape(-1).astype(float).sum() * 2 + v.mean()"
    other = "\n\ndef g(w):\n    return sorted(w.tolist(), key=abs)[::3] + [w.max(), w.min()]"
    pair = {"a": {"c": line}, "b": {"c": line + other}}
    [(_, _, found)] = similar_pairs(pair, threshold=0, min_shared=1)
    assert found < similarity.CONTAINED


def test_the_index_finds_what_comparing_every_pair_finds():
    """The sparse index's scores equal the Jaccard index of every pair, computed in full."""
    answers.import_all()
    pool = [textwrap.dedent(inspect.getsource(f)) for f in CORRECT_VARIANTS["svm_loss_and_grad"]]
    pool += [textwrap.dedent(inspect.getsource(REFERENCES["svm_loss_and_grad"]))]
    submissions = {f"s{i}": {"softmax": source} for i, source in enumerate(pool)}
    sets = {s: set(similarity.fingerprints(a).tolist()) for s, a in submissions.items()}
    expected = {}
    for a, b in itertools.combinations(sorted(sets), 2):
        both = len(sets[a] & sets[b])
        if both:
            expected[(a, b)] = both / len(sets[a] | sets[b])
    found = similar_pairs(submissions, threshold=0, min_shared=1)
    assert {(a, b): pytest.approx(s) for a, b, s in found} == expected


class FakeCourse:
    """What write_similarity reads of a Course: its folders, students and report path."""

    def __init__(self, root):
        self.root = root

    def assignments(self):
        return [NOTEBOOK]

    def students(self, assignment):
        return sorted(p.name for p in (self.root / "submitted").iterdir())

    def report_path(self, name):
        return report_path(self.root, name)


def test_the_report_names_the_copied_pair(tmp_path):
    import nbformat

    nb = read_notebook(SOLUTIONS_DIR / f"{NOTEBOOK}.ipynb")
    release = tmp_path / "release" / NOTEBOOK
    release.mkdir(parents=True)
    blank = nbformat.from_dict(nb)
    for cell in blank.cells:
        cell.source = released(cell.source)
    nbformat.write(blank, release / f"{NOTEBOOK}.ipynb")
    for student, change in [("ada", None), ("bob", disguised), ("cy", released)]:
        copy = nbformat.from_dict(nb)
        for cell in copy.cells:
            cell.source = change(cell.source) if change else cell.source
        folder = tmp_path / "submitted" / student / NOTEBOOK
        folder.mkdir(parents=True)
        nbformat.write(copy, folder / f"{NOTEBOOK}.ipynb")
    path = similarity.write_similarity(FakeCourse(tmp_path))
    with open(path, newline="") as rows:
        table = list(csv.DictReader(rows))
    assert table == [
        {"assignment": NOTEBOOK, "student_a": "ada", "student_b": "bob", "score": "1.0"}
    ]
