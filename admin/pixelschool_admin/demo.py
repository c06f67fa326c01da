"""The main job, ``make demo``: a whole term's grading of a demo class, offline, in fast mode.

Builds and checks the course, releases two notebooks, makes a class of 34 students whose
submissions come from ``solutions/`` and the check tests' wrong answers (full, partial,
blank, missing, and one per hostile case), hands half of them in through nbgrader's exchange
and half through an LMS zip, collects, autogrades in parallel in the sandbox, writes
feedback, the grades CSV and the report, and prints what happened to each hostile case.
"""

import csv
import random
import shutil
import time
import zipfile
from pathlib import Path

import nbformat

from pixelschool_admin import democlass
from pixelschool_admin.authoring.build import generate_student_versions
from pixelschool_admin.authoring.lint import check_course
from pixelschool_admin.grading.course import Course
from pixelschool_admin.grading.intake import exchange, lms
from pixelschool_admin.grading.intake.roster import Roster
from pixelschool_admin.grading.record.autograde import autograde
from pixelschool_admin.grading.results.export import export, grade_table
from pixelschool_admin.grading.results.feedback import generate_feedback
from pixelschool_admin.grading.results.mistakes_report import top_mistakes
from pixelschool_admin.grading.results.report import attention_table, write_report
from pixelschool_admin.grading.sandbox.bubblewrap import protections
from pixelschool_admin.grading.settings import Settings
from pixelschool_admin.paths import REPO_ROOT, SOLUTIONS_DIR

OUT_DIR = REPO_ROOT / "demo"
NOTEBOOKS = ("01_data_preparation", "03_softmax")
CELL_TIMEOUT = 20  # seconds: the infinite loop costs this much of the demo


def step(message):
    print(f"\n== {message}", flush=True)


def hand_in(course, students, notebooks, out_dir, seed=0):
    """Write each student's submissions; exchange students submit, the rest go in LMS zips."""
    rng = random.Random(seed)
    zips = {}
    for notebook in notebooks:
        released = nbformat.read(course.path("release", ".", notebook) / f"{notebook}.ipynb", 4)
        archive = course.root / "lms" / f"{notebook}-all-submissions.zip"
        zips[notebook] = archive
        used = democlass.planted_usage(students, notebook)  # each their own wrong answers
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as lms:
            for student in students:
                work = democlass.submission(
                    student, notebook, released, course.root, rng, notebooks[0], used
                )
                if work is None:
                    continue
                text = work if isinstance(work, str) else nbformat.writes(work)
                if student.route == "lms":
                    folder = f"{student.first_name} {student.last_name}_{student.lms_id}"
                    lms.writestr(f"{folder}_assignsubmission_file_/{notebook}.ipynb", text)
                    continue
                home = out_dir / "students" / student.id / notebook
                home.mkdir(parents=True, exist_ok=True)
                (home / f"{notebook}.ipynb").write_text(text, encoding="utf-8")
                exchange.submit(course.exchange, course.course_id, student.id, home)
                if student.kind in democlass.ROUTE_CASES and notebook == notebooks[0]:
                    victim = democlass.forgery_victim(students).id
                    blank = nbformat.writes(released)
                    democlass.forge(course.exchange, course.course_id, victim, notebook, blank)
            # Someone who is not on the roster: kept aside, reported, never graded.
            lms.writestr(
                f"Pat Unknown_99999_assignsubmission_file_/{notebook}.ipynb",
                nbformat.writes(released),
            )
    return zips


def outputs_text(course, student, notebook):
    """All outputs of the student's autograded notebook, as text ('' if there is none)."""
    path = course.path("autograded", student, notebook) / f"{notebook}.ipynb"
    if not path.exists():
        return ""
    nb = nbformat.read(path, 4)
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts += [output.get("text", ""), output.get("ename", ""), output.get("evalue", "")]
    return "\n".join(parts)


# case -> (the protection it needs, from sandbox.protections(); None: nbgrader or the kit)
NEEDS = {
    "infinite loop": "cell time limit",
    "memory bomb": "memory limit",
    "kernel crash": None,
    "reads solutions and gradebook": "files hidden",
    "network": "no network",
    "overwrites the checks": None,
    "50 MB of output": None,
    "fork loop": "process limit",
    "vandal": "disk limit",
    "imports the kit's checks": None,
    "blanks the graded cells": None,
    "hides its errors": None,
    "script in output": None,
    "not valid JSON": None,
    "deleted locked cell": None,
    "edited locked cell": None,
    "forged exchange submission": None,
}


def hostile_verdicts(course, students, attention, notebook, guards):
    """(case, student, score, verdict, what happened) per hostile student; verdict is
    "held", "FAILED", or "absent here" when this machine lacks the protection."""
    grades = grade_table(course)
    grades = grades[grades["notebook"] == notebook]
    scores = grades.groupby("student")["score"].sum()
    one_hot = grades[grades["question"] == "test_one_hot"].set_index("student")["score"]
    in_force = {name: ok for name, ok, _ in guards}
    victim = democlass.forgery_victim(students).id
    told = attention[(attention["student"] == victim) & (attention["assignment"] == notebook)]
    victim_full = scores.get(victim) == grades.groupby("student")["points"].sum().get(victim)
    rows = []
    for s in students:
        if s.kind not in NEEDS:
            if s.id.isascii() and " " not in s.id:
                continue
            verdict = "held" if s.id in scores.index else "FAILED"
            rows.append((f"id {s.id!r}", s.id, scores.get(s.id, 0.0), verdict, "graded under it"))
            continue
        seen = attention[(attention["student"] == s.id) & (attention["assignment"] == notebook)]
        kinds = set(seen["kind"])
        text = outputs_text(course, s.id, notebook)
        path = course.path("autograded", s.id, notebook) / f"{notebook}.ipynb"
        page = course.root / "feedback" / s.id / notebook / f"{notebook}.html"
        pages = [p.read_text(encoding="utf-8") for p in (path, page) if p.exists()]
        checks = {
            "infinite loop": ("timeout" in kinds, f"cell stopped after {CELL_TIMEOUT} s; reported"),
            "memory bomb": (
                bool({"memory limit", "kernel died"} & kinds),
                "MemoryError or a dead kernel, later cells graded; reported",
            ),
            "kernel crash": ("kernel died" in kinds, "kernel restarted, later cells graded"),
            "reads solutions and gradebook": (
                text.count("blocked:") >= 2 and "read /" not in text,
                "both reads failed, the files are not in the sandbox; reported"
                if "read /" not in text
                else "the reads succeeded; reported",
            ),
            "network": (
                "blocked:" in text and "connected" not in text,
                "no route out; reported" if "connected" not in text else "it connected; reported",
            ),
            "overwrites the checks": (
                one_hot.get(s.id) == 0 and "tampering" in kinds,
                "its wrong one_hot still scored 0; flagged",
            ),
            "50 MB of output": (
                path.exists() and path.stat().st_size < 10_000_000 and "output cut" in kinds,
                "outputs cleared, then cut to 5 MB per cell; reported",
            ),
            "fork loop": (
                "process limit" in kinds,
                "fork refused at the process limit; reported"
                if "process limit" in kinds
                else "processes started without a limit; reported",
            ),
            "vandal": (
                "disk limit" in kinds and "kept:" in text and "blocked file" in kinds,
                "its files read-only, writes stopped at the disk cap, snooping reported"
                if "disk limit" in kinds
                else "writes went through (per-file cap only); reported",
            ),
            "imports the kit's checks": ("kit import" in kinds, "flagged for a look by hand"),
            "blanks the graded cells": (
                scores.get(s.id, 0.0) == 0
                and ("did not reach the grader" in text or "not answered yet" in text),
                "0 points: no graded cell earned a point the grader did not judge",
            ),
            "hides its errors": (
                scores.get(s.id, 0.0) == 0 and "not answered yet" in text,
                "0 points: the grader found each exercise unanswered",
            ),
            "script in output": (
                len(pages) == 2 and "PWNED" not in "".join(pages) and "active content" in kinds,
                "scripts removed before the autograded notebook and feedback page held them; "
                "reported",
            ),
            "not valid JSON": ("unreadable" in kinds, "kept as .unreadable, graded 0"),
            "deleted locked cell": ("locked cell" in kinds, "flagged, its cell scored 0"),
            "edited locked cell": ("locked cell" in kinds, "restored by nbgrader, flagged"),
            "forged exchange submission": (
                victim_full and "forged submission" in set(told["kind"]),
                f"refused and reported under {victim}, whose own work got full marks",
            ),
        }
        held, how = checks[s.kind]
        needs = NEEDS[s.kind]
        verdict = "held" if held else "absent here" if needs and not in_force[needs] else "FAILED"
        rows.append((s.kind, s.id, scores.get(s.id, 0.0), verdict, how))
    return rows


def banner(guards):
    """Print which protections are in force on this machine, and how to get the others."""
    print(f"{'protection':<18}{'here':<8}how")
    for name, ok, how in guards:
        print(f"{name:<18}{'yes' if ok else 'ABSENT':<8}{how}")
    if not all(ok for _, ok, _ in guards):
        print(
            "Absent protections are reported, not failed: install bubblewrap (Debian/Ubuntu: "
            "apt-get install bubblewrap) and grade on Linux to have them all."
        )


def build_and_check(out_dir):
    """Build the student notebooks into ``out_dir/notebooks`` and check the course; return
    the problems. The repository is only read: notebooks/ and the recordings are the
    committed ones, which the course check compares with fresh builds and recordings."""
    built = generate_student_versions(SOLUTIONS_DIR, Path(out_dir) / "notebooks")
    problems = check_course()
    print(
        f"built {len(built)} student notebooks in {Path(out_dir) / 'notebooks'}; "
        f"course check: {len(problems)} problem(s)"
    )
    for problem in problems:
        print(f"  problem: {problem}")
    return problems


def print_similar(course, students):
    """The similar pairs found, and whether the planted copy is one of them."""
    with open(course.report_path("similarity.csv"), newline="", encoding="utf-8") as rows:
        pairs = list(csv.DictReader(rows))
    original, copier = democlass.planted_pair(students)
    found = [p for p in pairs if {p["student_a"], p["student_b"]} == {original.id, copier.id}]
    where = ", ".join(f"{p['assignment']} score {float(p['score']):.2f}" for p in found)
    print(
        f"\nsimilar pairs (a prompt for a look by hand, never a grade): {len(pairs)}; the planted "
        f"copy, {copier.id} of {original.id}: {where or 'NOT FOUND'}"
    )


def run_demo(out_dir=OUT_DIR, notebooks=NOTEBOOKS, jobs=None):
    """Run the whole pipeline on a demo class; return a process exit code."""
    start = time.perf_counter()
    out_dir = Path(out_dir)
    step("build and check the course")
    shutil.rmtree(out_dir, ignore_errors=True)
    problems = build_and_check(out_dir)

    step(f"release {', '.join(notebooks)}")
    course = Course(out_dir / "course")
    for notebook in notebooks:
        course.add_assignment(notebook)
        print(f"released {notebook}: exchange and {exchange.release(course, notebook).name}")

    step("the demo class hands in")
    students = democlass.make_class()
    roster = Roster(
        [
            {
                "id": s.id,
                "first_name": s.first_name,
                "last_name": s.last_name,
                "email": f"{s.lms_id}@example.edu",
                "lms_id": s.lms_id,
            }
            for s in students
        ]
    )
    roster.write(course.root / "roster.csv")
    roster.add_to_gradebook(course)
    zips = hand_in(course, students, notebooks, out_dir)
    print(
        f"{len(students)} students: {sum(s.route == 'lms' for s in students)} through the LMS, "
        f"the others through nbgrader's exchange"
    )

    step("collect")
    for notebook in notebooks:
        from_exchange = exchange.collect(course, notebook)
        from_lms = lms.collect_lms_zip(course, zips[notebook], notebook, roster)
        print(
            f"{notebook}: {len(from_exchange.collected)} from the exchange, "
            f"{len(from_lms.collected)} from the LMS zip; not on the roster, kept in unmatched/: "
            f"{', '.join(from_lms.unmatched) or 'none'}"
        )

    step("autograde in parallel, in the sandbox")
    settings = Settings(timeout=CELL_TIMEOUT)
    guards = protections(settings.limits)
    banner(guards)
    t0 = time.perf_counter()
    outcomes = autograde(course, notebooks, jobs=jobs, settings=settings, log=lambda *_: None)
    grading_seconds = time.perf_counter() - t0
    print(
        f"graded {len(outcomes)} submissions in {grading_seconds:.0f} s "
        f"({len(outcomes) / grading_seconds * 60:.0f} per minute)"
    )

    step("feedback, grades and report")
    feedback = [path for n in notebooks for path in generate_feedback(course, n)]
    exported = [export(course, fmt, roster=roster)[0] for fmt in ("csv", "moodle", "canvas")]
    report_dir = write_report(course)
    attention = attention_table(course)
    print(
        f"{len(feedback)} feedback pages; {', '.join(p.name for p in exported)}; report with "
        f"{len(attention)} lines for a look by hand"
    )

    step("hostile submissions")
    verdicts = hostile_verdicts(course, students, attention, notebooks[0], guards)
    print(f"{'case':<32}{'student':<16}{'score':>6}  verdict: what happened")
    for case, student, score, verdict, how in verdicts:
        print(f"{case:<32}{student:<16}{score:>6.1f}  {verdict}: {how}")

    step("summary")
    totals = grade_table(course).groupby(["notebook", "student"])["score"].sum()
    print(f"{'notebook':<24}{'students':>9}{'mean score':>12}")
    for notebook, scores in totals.groupby("notebook"):
        print(f"{notebook:<24}{len(scores):>9}{scores.mean():>12.2f}")
    print_similar(course, students)
    print(
        f"\ngrades:    {exported[0]} (and for Moodle and Canvas: {exported[1].name}, "
        f"{exported[2].name})"
    )
    print(f"report:    {report_dir / 'report.html'}")
    print(f"mistakes:  {course.report_path('mistakes.csv')}; the most common:")
    print("\n".join(f"  {line}" for line in top_mistakes(course)) or "  none")
    print(f"feedback:  {course.root / 'feedback'}")
    print(f"gradebook: {course.root / 'gradebook.db'} (open it with `make formgrader`)")
    print(f"demo finished in {time.perf_counter() - start:.0f} s")
    failed = [v for v in verdicts if v[3] == "FAILED"]
    if failed:
        print(f"{len(failed)} case(s) not handled although this machine has the protection")
    return 1 if problems or failed else 0
