"""What MathML costs a feedback page: each solution notebook made into a feedback page (the
course's exporter, template and sanitiser) with its maths as MathML, the first time (every
formula converted) and again (formulas cached, as for a class's pages), beside the same page
with nbconvert's own markdown filter (maths left as text for MathJax).

Run: python -m benchmarks.feedback_math [notebook ...]
"""

import copy
import statistics
import sys
import time
from pathlib import Path

import nbformat
from nbconvert.exporters import HTMLExporter

from pixelschool_admin.grading.results import mathml, sanitise
from pixelschool_admin.paths import SOLUTIONS_DIR

REPEATS = 5


def exporter(maths=True):
    """The feedback page's ``HTMLExporter`` as nbgrader builds it, with or without MathML."""
    settings = sanitise.page_config()
    config = copy.deepcopy(settings.HTMLExporter)
    config.merge(settings.GenerateFeedback.HTMLExporter)
    if not maths:  # nbconvert's markdown filter; no text/latex output in the solutions
        del config.filters["markdown2html"]
    bootstrap = Path(sanitise.nbgrader.__file__).parent / "server_extensions/formgrader/static"
    config.extra_template_paths = [str(bootstrap / "node_modules/bootstrap/dist/css")]
    return HTMLExporter(config=type(settings)(HTMLExporter=config))


def graded(path):
    """A solution notebook with nbgrader's scores in its graded cells."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("grade") or grading.get("task"):
            grading.update(score=0, points=grading.get("points", 0))
    return nb


def milliseconds(make, nb, cold=False):
    """Median milliseconds of one page, cache emptied first when ``cold``."""
    resources = {"nbgrader": {"notebook": "n", "score": 0, "max_score": 1, "late_penalty": 0}}
    times = []
    for _ in range(REPEATS):
        if cold:
            mathml.to_mathml.cache_clear()
        start = time.perf_counter()
        make.from_notebook_node(copy.deepcopy(nb), resources=copy.deepcopy(resources))
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main(argv=None):
    names = (sys.argv[1:] if argv is None else argv) or [
        p.stem for p in sorted(SOLUTIONS_DIR.glob("*.ipynb"))
    ]
    with_maths, without = exporter(), exporter(maths=False)
    print(f"{'notebook':<22}{'formulas':>9}{'MathJax text':>14}{'MathML cold':>13}{'cached':>9}")
    for name in names:
        nb = graded(SOLUTIONS_DIR / f"{name}.ipynb")
        count = sum(len(mathml.formulas(c.source)) for c in nb.cells if c.cell_type == "markdown")
        plain = milliseconds(without, nb)
        cold, warm = milliseconds(with_maths, nb, cold=True), milliseconds(with_maths, nb)
        print(f"{name:<22}{count:>9}{plain:>11.0f} ms{cold:>10.0f} ms{warm:>6.0f} ms")


if __name__ == "__main__":
    main()
