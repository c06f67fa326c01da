"""What the instructor must be told: one log of events, ``reports/events.csv``.

Every step that meets something worth a look (collect refusing a zip entry, the sandbox
cutting a cell, a stale manual grade, a late submission) records an ``Event``; the report
groups them per student and assignment. Each step *replaces* its own earlier events for the
same scope, so a rerun never piles up stale lines and never erases another step's.

Only the instructor's process writes this file (one writer, like the gradebook).
"""

import csv
from dataclasses import asdict, dataclass, fields

import pandas as pd

from pixelschool_admin.grading.course import report_path

# kind -> how the report names it. A kind not listed here is still shown, under its own name.
KINDS = {
    # collect
    "forged submission": "exchange submission refused as forged: made by another student's "
    "account, or dated in the future",
    "refused entry": "zip or exchange entry refused (unsafe name, link or size)",
    "refused id": "student id refused",
    "unmatched folder": "LMS folder matching nobody on the roster",
    "superseded": "an older or second notebook for the same assignment, not graded",
    "extra file": "file handed in besides the notebook, ignored by grading",
    # autograde
    "timeout": "cell stopped at the time limit",
    "time budget": "notebook stopped at its time budget (re-runs included); the rest scored 0",
    "kernel died": "kernel died (memory, crash or exit) and was restarted",
    "output cut": "output cut to the per-cell cap",
    "notebook output cut": "output cut to the cap for the whole notebook",
    "too big": "notebook over the size or cell cap: graded 0 without being read",
    "slow": "far slower to grade than the class median",
    "memory limit": "memory limit hit",
    "process limit": "process limit hit",
    "disk limit": "file or disk limit hit",
    "blocked file": "tried to read or write outside its folder",
    "blocked network": "tried to use the network",
    "kit import": "answer imports the course kit's own code",
    "tampering": "answer tampers with the checks or the interpreter",
    "results refused": "hidden-test results kept back, unreadable or not the grader's run: 0",
    "kernel tampering": "kernel changed how cells are read, run or reported; put back",
    "kernel unchecked": "kernel could not be checked before a graded cell (its watch switched off,"
    " cut or forged): that cell was not run",
    "not scanned": "code the integrity scan could not parse (a syntax error?), so not scanned",
    "locked cell": "locked cell deleted or edited",
    "active content": "script or other active content removed from outputs or markdown "
    "before any page showed it",
    "unreadable": "not a readable notebook",
    "execution failed": "could not be graded",
    "unprotected": "graded on a node without a sandbox (--allow-unprotected)",
    "mistake": "a graded cell's mistake, as the grader's judge named it (counted in "
    "mistakes.csv, not shown per student)",
    # gradebook
    "late": "submitted after the due date",
    "stale manual grade": "answer changed since it was graded by hand",
}


@dataclass(frozen=True)
class Event:
    step: str  # "collect", "autograde", "record", ...
    assignment: str
    student: str  # "" when there is no (valid) student id, e.g. a refused zip entry
    kind: str  # a key of KINDS
    detail: str  # one line, for the instructor: what exactly, and what was done


COLUMNS = [f.name for f in fields(Event)]


def path(course):
    return report_path(course.root, "events.csv")


def read(course):
    """All events as a DataFrame with ``COLUMNS`` (empty when none were recorded)."""
    file = path(course)
    if not file.exists():
        return pd.DataFrame(columns=COLUMNS)
    return pd.read_csv(file, keep_default_na=False, dtype=str)


def replace(course, step, assignment, events, students=None):
    """Record ``events`` of ``step`` on ``assignment``, dropping that step's earlier events there.

    ``students``: limit the drop to these ids (a rerun for one student keeps the others').
    """
    return replace_all(course, step, {assignment: (events, students)})


def replace_all(course, step, found):
    """``replace`` for several assignments in one write: ``found`` maps each assignment to
    (its events, the students whose earlier events are dropped, or None for all)."""
    old = read(course)
    drop = pd.Series(False, index=old.index)
    for assignment, (_, students) in found.items():
        here = (old["step"] == step) & (old["assignment"] == assignment)
        if students is not None:
            here &= old["student"].isin(list(students))
        drop |= here
    rows = [asdict(event) for events, _ in found.values() for event in events]
    table = pd.concat([old[~drop], pd.DataFrame(rows, columns=COLUMNS)], ignore_index=True)
    file = path(course)
    table.to_csv(file, index=False, quoting=csv.QUOTE_MINIMAL)
    return file
