"""The course command line: ``python -m pixelschool_admin <command>`` (also ``make <command>``)."""

import argparse
import sys
from pathlib import Path

from pixelschool_admin.authoring.build import generate_student_versions
from pixelschool_admin.authoring.lint import check_course
from pixelschool_admin.authoring.notebooks import NotebookError
from pixelschool_admin.authoring.record import write_recordings
from pixelschool_admin.grading.errors import GradingError
from pixelschool_admin.paths import (
    DEFAULT_COURSE,
    DEFAULT_ROSTER,
    NOTEBOOKS_DIR,
    REPO_ROOT,
    SOLUTIONS_DIR,
)


def build(args):
    """Regenerate notebooks/ from solutions/, then check the result."""
    try:
        written = generate_student_versions(SOLUTIONS_DIR, NOTEBOOKS_DIR, only=args.notebooks)
    except NotebookError as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"built {path.relative_to(REPO_ROOT)}")
    recorded = write_recordings()
    for path in recorded:
        print(f"recorded {path.relative_to(REPO_ROOT)}")
    if not written and not recorded:
        print("the student notebooks and the recordings were current: nothing written")
    return check(args)


def check(args):
    """Report metadata problems, leaked solutions and student notebooks out of date."""
    problems = check_course(SOLUTIONS_DIR, NOTEBOOKS_DIR)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    print(f"course check: {len(problems)} problem(s)")
    return 1 if problems else 0


def demo(args):
    """Grade a demo class end to end: release, hand in, collect, autograde, report."""
    from pixelschool_admin.demo import run_demo

    return run_demo(jobs=args.jobs)


def _course(args):
    from pixelschool_admin.grading.course import Course

    return Course(args.course)


def _assignments(args, course):
    return args.assignments or course.assignments()


def release(args):
    """Release notebooks to the exchange and as zips for an LMS (course/lms/)."""
    from pixelschool_admin.grading.intake import exchange, names

    course = _course(args)
    for name in args.assignments:
        course.add_assignment(names.file_name(name))
        print(f"released {name} to {course.exchange} and {exchange.release(course, name)}")
    return 0


def collect(args):
    """Collect submissions from the exchange, or from an LMS zip (--zip) via the roster."""
    from pixelschool_admin.grading.intake import exchange, lms
    from pixelschool_admin.grading.intake.roster import Roster

    course = _course(args)
    if args.zip:
        if len(args.assignments) != 1:
            raise GradingError("--zip needs exactly one assignment name")
        roster = Roster.read(args.roster)
        name = args.assignments[0]
        results = [(name, lms.collect_lms_zip(course, args.zip, name, roster))]
    else:
        results = [(name, exchange.collect(course, name)) for name in _assignments(args, course)]
    for name, result in results:
        print(
            f"{name}: collected {len(result.collected)} submission(s) now (new or replaced); "
            f"{len(result.refused)} refused, {len(result.unmatched)} unmatched, "
            f"{len(result.superseded)} superseded"
        )
        for detail in result.refused:
            print(f"  refused: {detail}")
        for folder in result.unmatched:
            print(f"  not on the roster, kept in {course.root / 'unmatched' / name}: {folder}")
        for detail in result.superseded:
            print(f"  superseded: {detail}")
    return 0


def autograde(args):
    """Grade submissions in parallel, each in a sandbox, into nbgrader's gradebook."""
    from pixelschool_admin.grading.record.autograde import autograde
    from pixelschool_admin.grading.settings import GIB, MIB, Limits, Settings

    course = _course(args)
    caps = {"notebook_timeout": args.notebook_timeout, "max_cells": args.max_cells}
    if args.max_notebook_mb is not None:
        caps["max_notebook_bytes"] = int(args.max_notebook_mb * MIB)
    settings = Settings(
        timeout=args.timeout,
        limits=Limits(memory=int(args.memory * GIB)),
        allow_unprotected=args.allow_unprotected,
        warm_kernels=not args.cold_kernels,
        keras_home=str(Path(args.datasets).absolute()) if args.datasets else None,
        **{name: value for name, value in caps.items() if value is not None},
    )
    students = set(args.student) if args.student else None
    try:
        outcomes = autograde(
            course,
            args.assignments or None,
            students,
            args.jobs,
            settings,
            cluster=args.cluster,
            force=args.force,
        )
    except KeyboardInterrupt:
        print("autograde: interrupted; what was recorded stays, run it again to go on")
        return 130
    for outcome in outcomes:
        for problem in outcome.problems:
            print(f"{outcome.assignment} {outcome.student}: {problem}")
    print(f"graded {sum(o.ok for o in outcomes)} of {len(outcomes)} submissions")
    return 0


def feedback(args):
    """Write feedback HTML for each student and notebook (course/feedback/)."""
    from pixelschool_admin.grading.results.feedback import generate_feedback

    course = _course(args)
    for name in _assignments(args, course):
        print(f"{name}: {len(generate_feedback(course, name))} feedback pages")
    return 0


def export(args):
    """Write grades as CSV for the instructor, or for import into Moodle or Canvas."""
    from pixelschool_admin.grading.results.export import export as write_grades

    roster = args.roster
    if roster is None and DEFAULT_ROSTER.exists():
        roster = DEFAULT_ROSTER
    if roster is None:
        print(f"note: no roster at {DEFAULT_ROSTER}: names and emails from the gradebook only")
    path, notes = write_grades(_course(args), args.format, args.output, roster)
    for note in notes:
        print(f"note: {note}")
    print(f"wrote {path}")
    return 0


def report(args):
    """Write per-question statistics, score plots and report.html (course/reports/)."""
    from pixelschool_admin.grading.results.report import write_report

    print(f"wrote {write_report(_course(args)) / 'report.html'}")
    return 0


def similarity(args):
    """Write pairs of students whose code cells share much code (reports/similarity.csv)."""
    from pixelschool_admin.grading.results.similarity import THRESHOLD, similarity_table, write

    course = _course(args)
    rows = similarity_table(course, args.assignments or None)
    path = write(course, rows)
    for assignment, a, b, score in rows:
        print(f"{assignment}: {a} and {b}: {score:.2f}")
    print(f"{len(rows)} pair(s) at {THRESHOLD} or above, for a look by hand (never a grade); "
          f"wrote {path}")  # fmt: skip
    return 0


def classify(args):
    """Print the top classes of image files with a saved .keras model."""
    from pixelschool import classify as images

    names = None
    if args.classes:
        names = [name.strip() for name in args.classes.split(",") if name.strip()]
    try:
        results = list(images.classify_files(args.model, args.images, names, args.top))
    except images.ModelError as error:
        print(f"classify: {error}", file=sys.stderr)
        return 1
    failed = 0
    for path, result in results:
        if isinstance(result, images.ImageError):
            print(f"classify: {result}", file=sys.stderr)
            failed += 1
            continue
        print(f"{path}:")
        for name, probability in result:
            print(f"  {name:<12} {probability:6.1%}")
    return 1 if failed else 0


COMMANDS = {
    "build": build,
    "check": check,
    "release": release,
    "collect": collect,
    "autograde": autograde,
    "feedback": feedback,
    "export": export,
    "report": report,
    "similarity": similarity,
    "demo": demo,
    "classify": classify,
}
GRADING = ("release", "collect", "autograde", "feedback", "export", "report", "similarity")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pixelschool-admin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        commands.add_parser(name, help=command.__doc__.splitlines()[0])
    commands.choices["build"].add_argument(
        "notebooks", nargs="*", help="notebook names to build, e.g. 02_knn (default: all)"
    )
    for name in GRADING:
        sub = commands.choices[name]
        sub.add_argument("--course", default=str(DEFAULT_COURSE), help="the course folder")
        sub.add_argument(
            "assignments",
            nargs="+" if name == "release" else "*",
            help="notebook names, e.g. 01_data_preparation"
            + (" (required)" if name == "release" else " (default: all in the course)"),
        )
    commands.choices["collect"].add_argument("--zip", help="an LMS download of all submissions")
    commands.choices["collect"].add_argument(
        "--roster", default=str(DEFAULT_ROSTER), help="CSV mapping LMS ids to student ids"
    )
    grade = commands.choices["autograde"]
    grade.add_argument(
        "--jobs", "-j", type=int, help="parallel kernels on this machine (default: all cores)"
    )
    grade.add_argument(
        "--cluster",
        help="where submissions run: local:N (N worker processes here; default: local with "
        "--jobs or all cores), tcp://HOST:PORT (a running `dask scheduler`), or slurm, pbs, "
        "sge, lsf, htcondor (dask-jobqueue; options: c.ClusterGrading.jobqueue in "
        "admin/nbgrader_config.py)",
    )
    grade.add_argument(
        "--force",
        action="store_true",
        help="regrade every submission (default: only those changed since they were graded: "
        "submission, source notebook, kit or settings)",
    )
    grade.add_argument(
        "--allow-unprotected",
        action="store_true",
        help="let remote workers without a sandbox (bubblewrap) grade; the report says so",
    )
    grade.add_argument(
        "--cold-kernels",
        action="store_true",
        help="start every kernel from scratch, not forked from a warm zygote (slower)",
    )
    grade.add_argument(
        "--datasets",
        metavar="DIR",
        help="a Keras folder (datasets/ in it) that graded notebooks may read, read-only, at "
        "this path on every node; a node without it fails its canary (default: each "
        "worker's own Keras cache, ~/.keras or $KERAS_HOME, when it holds datasets)",
    )
    grade.add_argument("--timeout", type=int, default=120, help="seconds per cell (120)")
    grade.add_argument(
        "--notebook-timeout",
        type=int,
        metavar="SECONDS",
        help="seconds of cell execution per notebook, re-runs included; what is not run "
        "within it scores 0; 0: none (default: a multiple of the assignment's canary's time)",
    )
    grade.add_argument(
        "--max-cells",
        type=int,
        metavar="N",
        help="a submitted notebook with more cells is graded 0 unread (default: see README)",
    )
    grade.add_argument(
        "--max-notebook-mb",
        type=float,
        metavar="MIB",
        help="so is a notebook over this size, submitted or executed (default: see README)",
    )
    grade.add_argument("--memory", type=float, default=4, help="GiB per kernel (4)")
    grade.add_argument("--student", action="append", help="only this student (repeatable)")
    export_parser = commands.choices["export"]
    export_parser.add_argument("--output", type=Path, help="CSV file to write")
    export_parser.add_argument(
        "--format", choices=("csv", "moodle", "canvas"), default="csv", help="(default: csv)"
    )
    export_parser.add_argument(
        "--roster", type=Path, help=f"who is in the class (default: {DEFAULT_ROSTER}, if any)"
    )
    commands.choices["demo"].add_argument("--jobs", "-j", type=int, help="parallel kernels")
    classify_parser = commands.choices["classify"]
    classify_parser.add_argument("model", help="a model saved in the native format (.keras)")
    classify_parser.add_argument("images", nargs="+", help="image files (PNG, JPEG, any size)")
    classify_parser.add_argument(
        "--classes",
        help="comma-separated class names, one per model output (default: the names saved "
        "with the model, else CIFAR-10's)",
    )
    classify_parser.add_argument(
        "--top", "-k", type=int, default=3, help="how many classes to print (default: 3)"
    )
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except GradingError as error:
        print(f"{args.command}: {error}", file=sys.stderr)
        return 1
