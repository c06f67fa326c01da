"""The course command line: ``python -m coursekit <command>`` (also ``make <command>``)."""

import argparse
import sys

from coursekit.authoring.build import generate_student_versions
from coursekit.authoring.lint import check_course
from coursekit.authoring.notebooks import NotebookError
from coursekit.config import NOTEBOOKS_DIR, REPO_ROOT, SOLUTIONS_DIR


def build(args):
    """Regenerate notebooks/ from solutions/, then check the result."""
    try:
        written = generate_student_versions(SOLUTIONS_DIR, NOTEBOOKS_DIR, only=args.notebooks)
    except NotebookError as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"built {path.relative_to(REPO_ROOT)}")
    return check(args)


def check(args):
    """Report metadata problems, leaked solutions and student notebooks out of date."""
    problems = check_course(SOLUTIONS_DIR, NOTEBOOKS_DIR)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    print(f"course check: {len(problems)} problem(s)")
    return 1 if problems else 0


def demo(args):
    """Build and check the course, then run every solution notebook in fast mode."""
    from coursekit.demo import run_demo

    return run_demo()


def classify(args):
    """Print the top classes of image files with a saved .keras model."""
    from coursekit import classify as images

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


COMMANDS = {"build": build, "check": check, "demo": demo, "classify": classify}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="coursekit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        commands.add_parser(name, help=command.__doc__.splitlines()[0])
    commands.choices["build"].add_argument(
        "notebooks", nargs="*", help="notebook names to build, e.g. 02_knn (default: all)"
    )
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
    return COMMANDS[args.command](args)
