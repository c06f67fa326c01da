"""The report's section on similar submissions: a plot, and the top pairs' code side by side.

Writes ``reports/similarity.csv`` (results/similarity.py) and ``similarity.png`` (per
assignment, a histogram of the scores of the pairs that share any code of their own, with
the threshold). For the top ``TOP`` pairs it shows both students' code cells side by side
(their own code only, never outputs), the code they share highlighted. Student code is
escaped (markupsafe, through copydetect's ``highlight_overlap``): it never becomes markup.
"""

import html

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from copydetect.utils import filter_code, get_copied_slices, highlight_overlap  # noqa: E402

from pixelschool_admin.grading.results import similarity  # noqa: E402

TOP = 10  # pairs shown with their code
PLOT = "similarity.png"
MARK = ("<mark>", "</mark>")


def own_fingerprints(answers, notebook, released):
    """(F,) uint64: the fingerprints of ``answers``' cells ({cell key: source}) of
    ``notebook``, less the ``released`` ones: what a cell of the other student is marked
    against."""
    sources = [v for k, v in answers.items() if k.partition(":")[0] == notebook]
    return np.setdiff1d(similarity.boilerplate(sources), released)


def shared_slices(source, theirs):
    """(2, S) int: starts and ends, in ``source``'s own characters, of the code it shares
    with the fingerprints ``theirs`` (``own_fingerprints``). ``source`` is
    ``similarity.stripped`` already."""
    text, offsets = filter_code(source, "answer.py", language="python")
    at = np.flatnonzero(np.isin(similarity.kgram_hashes(text), theirs))
    slices = get_copied_slices(at, similarity.K).astype(np.int64)
    if slices.size and len(offsets):
        where = np.clip(np.searchsorted(offsets[:, 0], slices), 0, len(offsets) - 1)
        slices += offsets[:, 1][where]  # from the filtered text back to the source (copydetect)
    return slices


def highlighted(source, theirs):
    """``source`` as escaped HTML, the code it shares with the fingerprints ``theirs`` in
    ``<mark>``, and whether it shares any."""
    source = similarity.stripped(source)
    slices = shared_slices(source, theirs)
    if slices.size == 0:
        return html.escape(source), False
    marked, _ = highlight_overlap(source, slices, *MARK, escape_html=True)
    return marked, True


def pair_html(assignment, a, b, score, answers, released):
    """One pair: a heading and a table of both students' cells side by side, those that
    share code (with any cell of the other's same notebook), the shared code marked."""
    prints = {}  # (student, notebook): own_fingerprints, computed once per pair
    rows = []
    for key in dict.fromkeys([*answers[a], *answers[b]]):
        notebook = key.partition(":")[0]
        sides = []
        for mine, theirs in ((a, b), (b, a)):
            if (theirs, notebook) not in prints:
                prints[theirs, notebook] = own_fingerprints(answers[theirs], notebook, released)
            sides.append(highlighted(answers[mine].get(key, ""), prints[theirs, notebook]))
        if any(shares for _, shares in sides):
            left, right = (code for code, _ in sides)
            rows.append(
                f"<tr><th colspan='2'>{html.escape(key)}</th></tr>"
                f"<tr><td><pre>{left}</pre></td><td><pre>{right}</pre></td></tr>"
            )
    head = (
        f"<h3>{html.escape(assignment)}: {html.escape(a)} and {html.escape(b)}, "
        f"score {score:.2f}</h3>"
    )
    names = f"<tr><th>{html.escape(a)}</th><th>{html.escape(b)}</th></tr>"
    return head + "<table class='code'>" + names + "".join(rows) + "</table>"


def plot_scores(scores, threshold, path):
    """Histogram of pair scores, one panel per assignment ({assignment: (M,) scores})."""
    names = sorted(scores)
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        ax.hist(scores[name], bins=np.linspace(0, 1, 21), color="#4c72b0")
        ax.axvline(threshold, color="#c44e52", linestyle="--", label=f"threshold {threshold}")
        ax.set(
            title=name,
            xlabel="score (share of their own code in common)",
            ylabel="pairs sharing own code",
            xlim=(0, 1),
        )
        ax.set_yscale("symlog", linthresh=1)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def similarity_section(course, out_dir, threshold=similarity.THRESHOLD):
    """Write ``reports/similarity.csv`` and ``out_dir/similarity.png``; return the section's
    HTML parts."""
    rows, scores, shown = [], {}, []
    for assignment in course.assignments():
        answers, code, counts, pairs = similarity.assignment_pairs(course, assignment, threshold)
        scores[assignment] = similarity.scores(counts)
        rows += similarity.csv_rows(assignment, pairs)
        released = similarity.boilerplate(code)
        shown += [(s, assignment, x, y, answers, released) for x, y, s in pairs]
    similarity.write(course, rows)
    parts = [
        "<style>table.code td{vertical-align:top;width:50%}table.code pre{white-space:"
        "pre-wrap;margin:0}mark{background:#ffe08a}</style>",
        "<h2>Similar submissions</h2>",
        "<p><b>A prompt for a look by hand, never a grade.</b> A pair is listed when their "
        f"code cells share at least {threshold:.0%} of their own code (score {threshold} or "
        f"more), or {similarity.CONTAINED:.0%} of a long stretch of one student's own code is "
        "in the other's: comments, whitespace and names ignored, the released notebook's "
        "code and the code most of the class wrote left out. Short exercises have few ways to "
        "be written, so two students may write the same lines on their own: read the code "
        "before you ask anyone about it. All pairs: <code>similarity.csv</code>.</p>",
    ]
    if any(len(s) for s in scores.values()):
        plot_scores(scores, threshold, out_dir / PLOT)
        parts.append(
            f"<img src='{PLOT}' alt='histogram of the pair scores per assignment, "
            "with the threshold'>"
        )
    if not shown:
        return parts + ["<p>No pair at or above the threshold.</p>"]
    shown.sort(key=lambda p: (-p[0], p[1], p[2], p[3]))
    parts.append(
        f"<p>The top {min(TOP, len(shown))} of {len(shown)} pair(s), the code they share "
        "highlighted:</p>"
    )
    for score, assignment, a, b, answers, released in shown[:TOP]:
        parts.append(pair_html(assignment, a, b, score, answers, released))
    return parts
