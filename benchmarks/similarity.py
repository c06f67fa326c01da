"""Similar submissions (results/similarity.py) on 2,000 synthetic submissions of notebook 05.

Each synthetic student answers every answer cell of ``solutions/05_mlp.ipynb`` with one of
that exercise's answers (the reference, a correct variant or a wrong answer of
``admin/pixelschool_admin/answers``) changed at random: lines dropped, numbers changed,
statements of their own added. ``PLANTED`` pairs are copies with renamed variables and
changed comments. Prints the time, the peak memory (maximum resident set) and how many
planted pairs were found and other pairs reported.

Run: python -m benchmarks.similarity [students]   (2000 by default)
"""

import inspect
import random
import re
import resource
import sys
import textwrap
import time

from pixelschool_admin import answers
from pixelschool_admin.answers.registry import CORRECT_VARIANTS, REFERENCES, WRONG_ANSWERS
from pixelschool_admin.authoring.notebooks import read_notebook
from pixelschool_admin.grading.results.similarity import answers_of, similar_pairs
from pixelschool_admin.paths import SOLUTIONS_DIR

NOTEBOOK = "05_mlp"
PLANTED = 20
OWN = ["tmp = {v} * {n}", "assert {v} is not None", "{v} = {v} + 0 * {n}", "print({v}[:{n}])"]


def pool(key, source):
    """The answers a student may start from for the cell ``key``."""
    name = key.split(":")[1]
    functions = [REFERENCES.get(name)] + CORRECT_VARIANTS.get(name, [])
    functions += [w.fn for w in WRONG_ANSWERS.get(name, [])]
    found = [textwrap.dedent(inspect.getsource(f)) for f in functions if f is not None]
    return found or [source]


def mutated(source, rng):
    """``source`` with a few random changes of a student's own."""
    lines = source.splitlines()
    for _ in range(rng.randint(2, 5)):
        at = rng.randrange(1, max(2, len(lines)))
        indent = re.match(r"\s*", lines[at - 1]).group() or "    "
        names = re.findall(r"\b[a-z_]\w*\b", lines[at - 1]) or ["x"]
        what = rng.random()
        if what < 0.3 and len(lines) > 3:
            del lines[at]
        elif what < 0.6:
            lines[at - 1] = re.sub(r"\b\d+\b", str(rng.randint(2, 99)), lines[at - 1], count=1)
        else:
            own = rng.choice(OWN).format(v=rng.choice(names), n=rng.randint(2, 999))
            lines.insert(at, indent + own)
    return "\n".join(lines)


def disguised(source, rng):
    names = sorted(set(re.findall(r"\b[a-z_]\w*\b", source)))
    for name in rng.sample(names, min(5, len(names))):
        source = re.sub(rf"\b{name}\b", f"{name}_{rng.randint(1, 9)}", source)
    return re.sub(r"#.*", "# changed", source)


def main(students=2000):
    answers.import_all()
    rng = random.Random(0)
    reference = answers_of(read_notebook(SOLUTIONS_DIR / f"{NOTEBOOK}.ipynb"), NOTEBOOK)
    pools = {key: pool(key, source) for key, source in reference.items()}
    released = [re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "", s, flags=re.S)
                for s in reference.values()]  # fmt: skip
    submissions = {
        f"s{i:05d}": {key: mutated(rng.choice(pools[key]), rng) for key in reference}
        for i in range(students)
    }
    planted = set()
    for i in range(PLANTED):
        a, b = f"s{i:05d}", f"s{students - 1 - i:05d}"
        submissions[b] = {key: disguised(src, rng) for key, src in submissions[a].items()}
        planted.add((a, b))
    size = sum(len(s) for answers_ in submissions.values() for s in answers_.values())
    print(f"{students} students x {len(reference)} answer cells of {NOTEBOOK}, {size / 1e6:.1f} MB")
    start = time.perf_counter()
    pairs = similar_pairs(submissions, released)
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    found = {(a, b) for a, b, _ in pairs}
    print(f"time {took:.1f} s, peak memory (max RSS of the process) {peak:.0f} MiB")
    print(f"planted pairs found {len(found & planted)} of {len(planted)}; other pairs reported "
          f"{len(found - planted)} of {students * (students - 1) // 2}")  # fmt: skip


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
