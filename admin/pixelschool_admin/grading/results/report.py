"""The grade report: per-question statistics, score plots (PNG) and one HTML page.

Per question: mean score, share of full marks and the most common failure message (the
first line of the error the graded test cell raised, read from the autograded notebooks).
The page also shows the sandbox's protections at the last autograde, the grading problems
(timeouts, time budgets, dead kernels, submissions too big or that could not be graded)
and, per student and assignment, everything worth a look: ``reports/events.csv`` (refused
entries and ids, unmatched folders, superseded and extra files, limits hit, blocked reads
and network, processes), the integrity scan (edited cells, tampering, imports of the kit's
own code), the gradebook (late work and penalties, stale manual grades) and
``autograde.csv`` (submissions far slower than the class median). That table is also
written as ``attention.csv``. Forged exchange submissions come first, above everything.
"""

import html
from collections import Counter

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from pixelschool_admin.authoring.notebooks import cell_grade_id, is_test_cell, readable_notebooks  # noqa: E402
from pixelschool_admin.grading import events  # noqa: E402
from pixelschool_admin.grading.results.export import (  # noqa: E402
    NOT_SUBMITTED,
    grade_table,
    read_gradebook,
    status_table,
)
from pixelschool_admin.grading.results.mistakes_report import mistakes_section  # noqa: E402
from pixelschool_admin.grading.results.similarity_report import similarity_section  # noqa: E402
from pixelschool_admin.grading.settings import SLOW_FACTOR, SLOW_MARGIN  # noqa: E402


def failure_messages(course, assignment, notebook):
    """{question: Counter of failure messages} from the autograded notebooks."""
    messages = {}
    paths = sorted(course.root.glob(f"autograded/*/{assignment}/{notebook}.ipynb"))
    for _, nb in readable_notebooks(paths):
        for cell in nb.cells:
            if not is_test_cell(cell):
                continue
            question = cell_grade_id(cell)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    first = (output.get("evalue") or "").strip().splitlines()
                    text = f"{output.get('ename')}: {first[0]}" if first else output.get("ename")
                    messages.setdefault(question, Counter())[text[:160]] += 1
    return messages


def question_stats(course, recorded=None):
    """One row per question: assignment, notebook, question, points, mean, full, common failure."""
    grades = grade_table(course, recorded)
    messages = {
        (assignment, notebook): failure_messages(course, assignment, notebook)
        for assignment, notebook in grades[["assignment", "notebook"]].drop_duplicates().values
    }
    rows = []
    for (assignment, notebook, question), group in grades.groupby(
        ["assignment", "notebook", "question"], sort=False
    ):
        points = group["points"].iloc[0]
        failures = messages[(assignment, notebook)].get(question, Counter())
        common, count = failures.most_common(1)[0] if failures else ("", 0)
        rows.append(
            {
                "assignment": assignment,
                "notebook": notebook,
                "question": question,
                "points": points,
                "students": len(group),
                "mean": group["score"].mean(),
                "full marks": (group["score"] >= points).mean(),
                "most common failure": f"{common} ({count}×)" if common else "",
            }
        )
    return pd.DataFrame(rows)


def plot_notebook_scores(grades, path):
    """Histogram of total scores, one panel per notebook."""
    totals = grades.groupby(["notebook", "student"])[["score", "points"]].sum().reset_index()
    notebooks = sorted(totals["notebook"].unique())
    fig, axes = plt.subplots(1, len(notebooks), figsize=(4.5 * len(notebooks), 3.2), squeeze=False)
    for ax, notebook in zip(axes[0], notebooks):
        part = totals[totals["notebook"] == notebook]
        top = part["points"].max()
        ax.hist(part["score"], bins=[x - 0.5 for x in range(int(top) + 2)], color="#4c72b0")
        ax.set(title=notebook, xlabel=f"score (points, of {top:g})", ylabel="students")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_question_scores(grades, path):
    """For each question, the share of students with zero, partial and full marks."""
    share = grades.assign(
        zero=grades["score"] <= 0,
        full=grades["score"] >= grades["points"],
    ).assign(partial=lambda g: ~g["zero"] & ~g["full"])
    labels = share["notebook"].str.split("_").str[0] + " " + share["question"]
    table = share.groupby(labels, sort=False)[["full", "partial", "zero"]].mean()
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(table) + 1.2))
    table.iloc[::-1].plot.barh(
        stacked=True, ax=ax, color=["#55a868", "#dd8452", "#c44e52"], width=0.8
    )
    ax.set(xlabel="share of students", ylabel="", xlim=(0, 1))
    ax.legend(
        ["full marks", "partial", "zero"], loc="upper left", bbox_to_anchor=(1, 1), fontsize=8
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _table(frame):
    return frame.to_html(index=False, escape=True, float_format=lambda x: f"{x:.2f}", border=0)


GRADING_KINDS = {
    "timeout",
    "time budget",
    "kernel died",
    "execution failed",
    "unreadable",
    "too big",
}
ALERT_KINDS = {"forged submission"}  # shown first, before the scores
COUNTED_KINDS = {"mistake"}  # counted in mistakes.csv, not a thing to look at per student


def status_events(course, recorded=None):
    """Late submissions and stale manual grades from the gradebook, as report rows."""
    rows = []
    for row in status_table(course, recorded=recorded).itertuples():
        if row.status == NOT_SUBMITTED:
            continue
        if row.late_seconds > 0:
            hours = row.late_seconds / 3600
            rows.append(
                (
                    row.student,
                    row.assignment,
                    "late",
                    f"{hours:.1f} h late, penalty {row.penalty:g}",
                )
            )
        if row.stale_cells:
            rows.append(
                (row.student, row.assignment, "stale manual grade", f"regrade: {row.stale_cells}")
            )
    return rows


def slow_rows(course):
    """Submissions far slower to grade than their class's median (``autograde.csv``)."""
    path = course.report_path("autograde.csv")
    if not path.exists():
        return []
    table = pd.read_csv(path, keep_default_na=False, dtype={"assignment": str, "student": str})
    rows = []
    for assignment, group in table.groupby("assignment"):
        seconds = pd.to_numeric(group["seconds"], errors="coerce")
        median = seconds.median()
        for student, took in zip(group["student"], seconds, strict=True):
            if took > SLOW_FACTOR * median and took - median > SLOW_MARGIN:
                times = f"{took / median:.0f}× " if median > 0 else ""
                detail = f"{took:.0f} s to grade, {times}the class median of {median:.0f} s"
                rows.append((student, assignment, "slow", detail))
    return rows


def attention_table(course, recorded=None):
    """One row per thing to look at: student, assignment, what, detail (all sources: the
    events of every step, the integrity scan's among them, and the gradebook)."""
    logged = events.read(course)
    logged = logged[~logged["kind"].isin(COUNTED_KINDS)]
    rows = [(e.student, e.assignment, e.kind, e.detail) for e in logged.itertuples()]
    rows += status_events(course, recorded) + slow_rows(course)
    table = pd.DataFrame(rows, columns=["student", "assignment", "kind", "detail"])
    table = table.drop_duplicates()
    table["what"] = table["kind"].map(lambda k: events.KINDS.get(k, k))
    table["student"] = table["student"].replace("", "(no valid id)")
    return table.sort_values(["student", "assignment", "kind"], key=lambda s: s.str.casefold())


def alert_section(attention):
    """Submissions refused as forged (another student's name, a future date), first."""
    alerts = attention[attention["kind"].isin(ALERT_KINDS)]
    if alerts.empty:
        return []
    return [
        "<h2 class='warn'>Refused as forged: handed in under another student's name or "
        "dated in the future</h2>",
        "<p>Not graded; each student's own latest submission was collected instead.</p>",
        _table(alerts[["student", "assignment", "what", "detail"]]),
    ]


def sandbox_section(course):
    path = course.report_path("sandbox.csv")
    if not path.exists():
        return []
    guards = pd.read_csv(path, keep_default_na=False)
    absent = guards[guards["in force"].astype(str) != "True"]
    head = "<h2>Sandbox at the last autograde</h2>"
    if absent.empty:
        return [head, "<p>Every protection was in force.</p>", _table(guards)]
    names = ", ".join(absent["protection"])
    return [head, f"<p class='warn'>Not in force: {html.escape(names)}.</p>", _table(guards)]


def write_report(course, out_dir=None):
    """Write the statistics (CSV), plots (PNG) and ``report.html`` into ``out_dir``; return it."""
    out_dir = out_dir or course.reports
    out_dir.mkdir(parents=True, exist_ok=True)
    recorded = read_gradebook(course)
    grades = grade_table(course, recorded)
    stats = question_stats(course, recorded)
    stats.to_csv(out_dir / "questions.csv", index=False, float_format="%.3f")
    attention = attention_table(course, recorded)
    attention.to_csv(out_dir / "attention.csv", index=False)
    sections = [f"<h1>Grade report: {html.escape(course.course_id)}</h1>"]
    sections += alert_section(attention)
    sections += sandbox_section(course)
    if grades.empty:
        sections.append("<p>No grades recorded yet: run autograde first.</p>")
    else:
        plot_notebook_scores(grades, out_dir / "scores_by_notebook.png")
        plot_question_scores(grades, out_dir / "scores_by_question.png")
        totals = grades.groupby(["assignment", "student"])[["score", "points"]].sum()
        means = totals.groupby("assignment").agg(
            submissions=("score", "size"), mean=("score", "mean"), of=("points", "max")
        )
        sections += [
            "<h2>Scores by notebook</h2>",
            "<p>Means over the students who handed the notebook in.</p>",
            _table(means.reset_index()),
            "<img src='scores_by_notebook.png' alt='score histograms'>",
            "<h2>Scores by question</h2>",
            "<img src='scores_by_question.png' alt='full, partial and zero marks per question'>",
            "<h2>Questions</h2>",
            _table(stats),
        ]
    sections += mistakes_section(course, out_dir)  # reports/mistakes.csv, its plot and table
    sections += similarity_section(course, out_dir)  # and reports/similarity.csv
    grading = attention[attention["kind"].isin(GRADING_KINDS)]
    sections.append("<h2>Grading problems</h2>")
    sections.append(
        _table(grading[["student", "assignment", "what", "detail"]])
        if len(grading)
        else "<p>None.</p>"
    )
    sections.append("<h2>For a look by hand, per student</h2>")
    if attention.empty:
        sections.append("<p>Nothing: no refused files, limits, late work or tampering.</p>")
    else:
        sections.append(_table(attention[["student", "assignment", "what", "detail"]]))
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Grade report</title>"
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto;padding:0 1em}"
        "img{max-width:100%;height:auto}table{border-collapse:collapse;max-width:100%}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left;"
        "overflow-wrap:break-word}.warn{color:#a00;font-weight:bold}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>"
    )
    # a lone surrogate (a JSON escape in a student's code) cannot be written as UTF-8
    (out_dir / "report.html").write_text(page, encoding="utf-8", errors="backslashreplace")
    return out_dir
