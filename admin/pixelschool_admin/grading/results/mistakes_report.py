"""The report's section on the class's mistakes: what to re-teach, per exercise, with a plot.

From ``mistake_table`` (``results/mistakes.py``, the grader's own judgement of the graded
cells). Wrong answers (a named mistake, or ``no named mistake``: wrong values that no
recorded mistake or relation explains) are what an instructor re-teaches; they are in the
plot and the first table, most students first. What is no answer (``not answered``, the
template's placeholder) or was not judged (``results refused``, ``no results``, ``no hidden
test``: the per-student table says why) is counted apart, in a second table and not in the
plot. Each key shows one example message in words: the most common text the grader's judge
gave it, kept in its ``mistake`` events (never the kernel's outputs; escaped all the same).
"""

import html
from collections import Counter

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from pixelschool.checks.mistakes import NO_NAMED_MISTAKE, PLACEHOLDER  # noqa: E402
from pixelschool_admin.grading.record import hidden  # noqa: E402
from pixelschool_admin.grading.results.mistakes import (  # noqa: E402
    mistake_events,
    mistake_table,
    write_mistakes,
)

NO_ANSWER = {hidden.NOT_ANSWERED, PLACEHOLDER}
NOT_JUDGED = {hidden.RESULTS_REFUSED, hidden.NO_RESULTS, hidden.NO_HIDDEN_TEST}
APART = NO_ANSWER | NOT_JUDGED  # counted, but not wrong answers: not in the plot
PLOT_NAME = "mistakes_by_exercise.png"
TOP_KEYS = 3  # named mistakes per exercise with a bar segment of their own
NAMES_SHOWN = 12  # students listed per row; the CSV lists them all
EXAMPLE_LINES, EXAMPLE_CHARS = 2, 200
LABEL_ROOM, CHAR_WIDTH = 500, 5  # the bars' width and a label character's, in pixels
HIDDEN_SUFFIX = " (hidden test)"
NO_NAMED_HINT = (
    "wrong values that no named mistake explains: read these answers, and add the mistake "
    "to the answers module (a @wrong answer) so the checks name it"
)


def wrong_answers(table):
    """The rows of ``mistake_table`` that are wrong answers (not ``APART``)."""
    return table[~table["mistake"].isin(APART)]


def short(text):
    """The first ``EXAMPLE_LINES`` lines of a message, at most ``EXAMPLE_CHARS`` characters."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    text = " ".join(lines[:EXAMPLE_LINES]).removesuffix(HIDDEN_SUFFIX)
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def example_messages(logged, keys):
    """{(assignment, exercise, key): text}: for each of ``keys``, the most common text the
    grader's judge gave it in the ``mistake`` events ``logged`` (the grader's own words,
    never the outputs the student's kernel wrote)."""
    texts = {}
    for row in logged.itertuples():
        grade_id, exercise, key, text = hidden.read_mistake_detail(row.detail)
        found = (row.assignment, exercise or grade_id, key)
        if found in keys and text:
            texts.setdefault(found, Counter())[short(text)] += 1
    return {found: counts.most_common(1)[0][0] for found, counts in texts.items()}


def top_mistakes(course, n=5):
    """Lines for a terminal: the ``n`` wrong answers most students made, most first."""
    wrong = wrong_answers(mistake_table(course))
    wrong = wrong.assign(n=wrong["students"].map(len)).sort_values("n", ascending=False)
    return [
        f"{row.n:>3} student{'s' if row.n != 1 else ' '}  {row.assignment} {row.exercise}: "
        f"{row.mistake}"
        for row in wrong.head(n).itertuples()
    ]


def who(students):
    shown = ", ".join(students[:NAMES_SHOWN])
    more = len(students) - NAMES_SHOWN
    return f"{shown} and {more} more (mistakes.csv)" if more > 0 else shown


def exercise_order(table):
    """``table`` with the exercises of each assignment sorted by students with a wrong
    answer, most first, then each exercise's rows most students first."""
    count = table["students"].map(len)
    wrong = table.assign(n=count).groupby(["assignment", "exercise"])["n"].transform("sum")
    ordered = table.assign(n=count, total=wrong)
    ordered = ordered.sort_values(
        ["assignment", "total", "exercise", "n", "mistake"],
        ascending=[True, False, True, False, True],
    )
    return ordered.drop(columns=["total"])


def rows_html(table, examples=None):
    """An escaped HTML table of ``table``'s rows (``n`` added by :func:`exercise_order`):
    with an example message per key, or (``examples`` None) with the assignment instead."""
    with_example = examples is not None
    frame = pd.DataFrame(
        {
            **({} if with_example else {"assignment": table["assignment"]}),
            "exercise": table["exercise"],
            "mistake": table["mistake"],
            "students": table["n"],
            **(
                {
                    "what the grader said (one example)": [
                        NO_NAMED_HINT
                        if key == NO_NAMED_MISTAKE
                        else examples.get((assignment, exercise, key), "")
                        for assignment, exercise, key in table[
                            ["assignment", "exercise", "mistake"]
                        ].values
                    ]
                }
                if with_example
                else {}
            ),
            "who": table["students"].map(who),
        }
    )
    return frame.to_html(index=False, escape=True, border=0)


def top_sentence(wrong, examples):
    """One sentence: the most common wrong answers of the whole course."""
    if wrong.empty:
        return "<p>No wrong answers were judged: nothing to re-teach from the graded cells.</p>"
    named = wrong[wrong["mistake"] != NO_NAMED_MISTAKE]
    top = (named if len(named) else wrong).sort_values("n", ascending=False, kind="stable")
    parts = []
    for row in top.head(3).itertuples():
        said = examples.get((row.assignment, row.exercise, row.mistake))
        said = f" (“{html.escape(said)}”)" if said else ""
        parts.append(
            f"<b>{html.escape(row.exercise)}</b> in {html.escape(row.assignment)}: "
            f"{html.escape(row.mistake)}{said}, {row.n} student{'s' if row.n != 1 else ''}"
        )
    return "<p><b>To re-teach first</b> (most students affected): " + "; ".join(parts) + ".</p>"


def plot_mistakes(wrong, path):
    """Per exercise, a bar of the students with a wrong answer: one segment for each of the
    ``TOP_KEYS`` most common named mistakes (labelled), the other named ones together, and
    ``no named mistake`` (in the order of ``wrong``: :func:`exercise_order`)."""
    bars = []
    for (assignment, exercise), group in wrong.groupby(["assignment", "exercise"], sort=False):
        named = group[group["mistake"] != NO_NAMED_MISTAKE].sort_values("n", ascending=False)
        top = list(zip(named["mistake"], named["n"], strict=True))[:TOP_KEYS]
        top += [("", 0)] * (TOP_KEYS - len(top))
        other = int(named["n"].iloc[TOP_KEYS:].sum())
        unnamed = int(group.loc[group["mistake"] == NO_NAMED_MISTAKE, "n"].sum())
        label = f"{assignment.split('_')[0]} {exercise}"
        bars.append((label, top, other, unnamed))
    bars.reverse()  # the first exercise on top
    colours = ["#4c72b0", "#64b5cd", "#8fbc8f", "#bbbbbb", "#c44e52"]
    legend = ["most common mistake", "2nd", "3rd", "other named mistakes", NO_NAMED_MISTAKE]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(bars) + 1.4))
    y = range(len(bars))
    left = [0] * len(bars)
    widest = max(sum(n for _, n in top) + other + unnamed for _, top, other, unnamed in bars)
    for rank in range(TOP_KEYS + 2):
        if rank < TOP_KEYS:
            widths = [top[rank][1] for _, top, _, _ in bars]
        else:
            widths = [bar[2] if rank == TOP_KEYS else bar[3] for bar in bars]
        ax.barh(y, widths, left=left, color=colours[rank], height=0.75, label=legend[rank])
        if rank < TOP_KEYS:
            for i, (_, top, _, _) in enumerate(bars):
                key, n = top[rank]
                text = key.removeprefix("code:")[:28]
                if n / widest * LABEL_ROOM >= CHAR_WIDTH * len(text):  # the label fits
                    ax.text(left[i] + n / 2, i, text, ha="center", va="center", fontsize=7)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.set_yticks(list(y), [label for label, *_ in bars], fontsize=8)
    ax.set_ylim(-0.6, len(bars) - 0.4)
    for i in range(1, len(bars)):  # a line between assignments
        if bars[i][0].split()[0] != bars[i - 1][0].split()[0]:
            ax.axhline(i - 0.5, color="#888888", linewidth=0.6)
    ax.set(xlabel="students with a wrong answer", ylabel="")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", bbox_to_anchor=(1, 1), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def mistakes_section(course, out_dir):
    """Write ``reports/mistakes.csv`` and the plot (into ``out_dir``); return the report's
    HTML parts."""
    logged = mistake_events(course)  # read once: a class's events.csv is long
    table = mistake_table(course, logged)
    write_mistakes(course, table)
    head = "<h2>Mistakes counted: what to re-teach</h2>"
    if table.empty:
        return [head, "<p>No graded cell failed (or nothing is graded yet).</p>"]
    wrong = exercise_order(wrong_answers(table))
    keys = set(map(tuple, wrong[["assignment", "exercise", "mistake"]].values))
    examples = example_messages(logged, keys)
    parts = [head, top_sentence(wrong, examples)]
    parts.append(
        "<p>From the grader's own judgement of the hidden graded cells (the visible checks "
        "do not count). A student counts once per exercise and mistake. "
        f"<i>{html.escape(NO_NAMED_MISTAKE)}</i>: {html.escape(NO_NAMED_HINT)}. "
        "No answer and what the grader could not judge are counted apart, below, and not "
        "in the plot. All rows and every student: <code>reports/mistakes.csv</code>.</p>"
    )
    if len(wrong):
        plot_mistakes(wrong, out_dir / PLOT_NAME)
        parts.append(f"<img src='{PLOT_NAME}' alt='students per mistake, per exercise'>")
    for assignment, group in wrong.groupby("assignment", sort=True):
        parts += [f"<h3>{html.escape(assignment)}: wrong answers</h3>", rows_html(group, examples)]
    apart = exercise_order(table[table["mistake"].isin(APART)])
    if len(apart):
        parts += [
            "<h3>No answer, or not judged</h3>",
            "<p><i>not answered</i> and <i>template placeholder</i>: nothing to re-teach yet "
            "(unfinished work). <i>results refused</i>, <i>no results</i>, <i>no hidden "
            "test</i>: the grader could not judge the cell; the per-student table says why.</p>",
            rows_html(apart),
        ]
    return parts
