"""The grade report: per-question statistics, score plots (PNG) and one HTML page.

Per question: mean score, share of full marks and the most common failure message (the
first line of the error the graded test cell raised, read from the autograded notebooks).
The page also lists what the integrity scan found and what went wrong while grading.
"""

import html
from collections import Counter

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from coursekit.authoring.notebooks import (  # noqa: E402
    NotebookError,
    is_test_cell,
    read_notebook,
)
from coursekit.grading import integrity  # noqa: E402
from coursekit.grading.export import grade_table, grades_by_student  # noqa: E402

GRADING_LOG = "autograde.csv"


def failure_messages(course, assignment, notebook):
    """{question: Counter of failure messages} from the autograded notebooks."""
    messages = {}
    for path in sorted(course.root.glob(f"autograded/*/{assignment}/{notebook}.ipynb")):
        try:
            nb = read_notebook(path)
        except NotebookError:
            continue
        for cell in nb.cells:
            if not is_test_cell(cell):
                continue
            question = cell.metadata["nbgrader"]["grade_id"]
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    first = (output.get("evalue") or "").strip().splitlines()
                    text = f"{output.get('ename')}: {first[0]}" if first else output.get("ename")
                    messages.setdefault(question, Counter())[text[:160]] += 1
    return messages


def question_stats(course):
    """One row per question: assignment, notebook, question, points, mean, full, common failure."""
    grades = grade_table(course)
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


def write_report(course, out_dir=None, findings=None):
    """Write the statistics (CSV), plots (PNG) and ``report.html`` into ``out_dir``; return it.

    ``findings``: the integrity scan's, when the caller already has them.
    """
    out_dir = out_dir or course.root / "reports"
    out_dir.mkdir(parents=True, exist_ok=True)
    grades = grade_table(course)
    stats = question_stats(course)
    stats.to_csv(out_dir / "questions.csv", index=False, float_format="%.3f")
    if findings is None:
        findings = integrity.scan(course)
    findings = pd.DataFrame(findings)
    by_student = grades_by_student(course)
    sections = [f"<h1>Grade report: {html.escape(course.course_id)}</h1>"]
    if grades.empty:
        sections.append("<p>No grades recorded yet: run autograde first.</p>")
    else:
        plot_notebook_scores(grades, out_dir / "scores_by_notebook.png")
        plot_question_scores(grades, out_dir / "scores_by_question.png")
        sections += [
            f"<p>{len(by_student)} students; mean total {by_student['total'].mean():.1f} "
            f"of {by_student['max'].iloc[0]:g}.</p>",
            "<h2>Scores by notebook</h2><img src='scores_by_notebook.png'>",
            "<h2>Scores by question</h2><img src='scores_by_question.png'>",
            "<h2>Questions</h2>",
            _table(stats),
        ]
    sections.append("<h2>For a look by hand</h2>")
    if findings.empty:
        sections.append("<p>The integrity scan found nothing.</p>")
    else:
        sections.append(_table(findings))
    log = out_dir / GRADING_LOG
    if log.exists():
        problems = pd.read_csv(log, keep_default_na=False)
        problems = problems[problems["problems"] != ""]
        sections.append("<h2>Grading problems</h2>")
        sections.append(_table(problems) if len(problems) else "<p>None.</p>")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Grade report</title>"
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto}"
        "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;"
        "text-align:left}</style></head><body>" + "\n".join(sections) + "</body></html>"
    )
    (out_dir / "report.html").write_text(page, encoding="utf-8")
    return out_dir
