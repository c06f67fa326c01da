"""Every feedback check passes its reference and rejects every realistic wrong answer.

Each check runs with the visible seed (judged in the check) and with each hidden seed the
solutions' graded cells use (checks that are all code: a few seeds), judged as the grader
judges them (``pixelschool_admin.grading.record.hidden``): the check runs again outside the
kernel on the transcript the kernel handed over, and its verdict is the one that counts.
Whatever the kernel's own run concluded, the grader's run must conclude the same.
"""

import inspect

import IPython.display
import numpy as np
import pytest

import problem_unittests
from pixelschool.checks import exercise_modules, framework, loops, recordings
from pixelschool.checks.framework import CHECKS, RESULTS_MIME
from pixelschool_admin.answers import MODULES, import_all
from pixelschool_admin.answers.registry import CORRECT_VARIANTS, REFERENCES, WRONG_ANSWERS
from pixelschool_admin.authoring.record import HIDDEN_DIR, hidden_seeds
from pixelschool_admin.grading.record.hidden import hidden_cases, judge_results
from pixelschool_admin.grading.worker.executor import SandboxedExecute

import_all()
UNRECORDED_SEEDS = [0, 1, 2, 3]
HIDDEN_SEEDS = hidden_seeds()
WRONG = [answer for answers in WRONG_ANSWERS.values() for answer in answers]


def seeds_of(exercise):
    if CHECKS[exercise].judge is None:
        return UNRECORDED_SEEDS
    return [recordings.VISIBLE_SEED, *HIDDEN_SEEDS.get(exercise, [])]


def check_for(exercise):
    return getattr(problem_unittests, f"test_{exercise}")


def source_of(fn):
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return None


def graded(exercise, fn, seed, monkeypatch):
    """Run ``test_<exercise>(fn, seed)`` as the autograder does: the kernel's part, then,
    for a hidden seed, the grader's judgement of what the kernel handed over, which must
    agree with whatever the kernel's own run said."""
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda data, raw=False: shown.append(data))
    in_kernel = None
    try:
        check_for(exercise)(fn, seed=seed)
    except AssertionError as error:
        in_kernel = error
    if seed == recordings.VISIBLE_SEED:
        if in_kernel:
            raise in_kernel
        return
    [bundle] = [data[RESULTS_MIME] for data in shown if RESULTS_MIME in data]
    recorded = (
        hidden_cases(exercise, seed, HIDDEN_DIR) if seed in HIDDEN_SEEDS.get(exercise, []) else None
    )
    message = judge_results(bundle, exercise, seed, source_of(fn), recorded)
    if in_kernel is not None:
        assert message == f"{in_kernel} (hidden test)", (str(in_kernel), message)
    if message:
        raise AssertionError(message)
    return bundle


RUNS = [(exercise, seed) for exercise in sorted(REFERENCES) for seed in seeds_of(exercise)]
WRONG_RUNS = [(answer, seed) for answer in WRONG for seed in seeds_of(answer.exercise)]


@pytest.mark.parametrize("exercise, seed", RUNS, ids=[f"{e}-{s}" for e, s in RUNS])
def test_reference_passes(exercise, seed, capsys, monkeypatch):
    bundle = graded(exercise, REFERENCES[exercise], seed, monkeypatch)
    assert capsys.readouterr().out.startswith(f"\u2714 {exercise}: ")
    if bundle:  # the transcript is an output of the graded cell: well within its cap
        cap = SandboxedExecute.max_output_bytes.default_value
        assert len(str(bundle)) < cap * 0.6


VARIANT_RUNS = [
    (exercise, fn, seed)
    for exercise, variants in sorted(CORRECT_VARIANTS.items())
    for fn in variants
    for seed in seeds_of(exercise)
]


@pytest.mark.parametrize(
    "exercise, fn, seed",
    VARIANT_RUNS,
    ids=[f"{e}-{fn.__name__}-{s}" for e, fn, s in VARIANT_RUNS],
)
def test_correct_variant_passes(exercise, fn, seed, capsys, monkeypatch):
    graded(exercise, fn, seed, monkeypatch)
    assert capsys.readouterr().out.startswith(f"\u2714 {exercise}: ")


@pytest.mark.parametrize("answer, seed", WRONG_RUNS, ids=[f"{a.id}-{s}" for a, s in WRONG_RUNS])
def test_wrong_answer_is_named(answer, seed, capsys, monkeypatch):
    with pytest.raises(AssertionError) as failure:
        graded(answer.exercise, answer.fn, seed, monkeypatch)
    assert answer.says in str(failure.value)


@pytest.mark.parametrize("exercise", sorted(REFERENCES))
def test_every_exercise_has_four_wrong_answers(exercise):
    assert len(WRONG_ANSWERS.get(exercise, [])) >= 4


@pytest.mark.parametrize("exercise", sorted(REFERENCES))
def test_unanswered_exercise_raises_not_implemented(exercise):
    def unanswered(*args):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        check_for(exercise)(unanswered)


def test_passing_a_result_instead_of_the_function_is_explained():
    with pytest.raises(AssertionError, match=r"tests.test_one_hot\(one_hot\)"):
        problem_unittests.test_one_hot(np.eye(3))


def test_seed_spelling_of_normalise_check_is_kept():
    assert problem_unittests.test_normalize_images is problem_unittests.test_normalise_images


def test_problem_unittests_holds_the_checks_of_every_exercise_module_found():
    modules = exercise_modules()
    assert {check.run.__module__ for check in CHECKS.values()} == {m.__name__ for m in modules}
    names = [name for module in modules for name in module.__all__]
    assert len(names) == len(set(names)), "two exercise modules export the same name"
    assert {f"test_{name}" for name in CHECKS} <= set(problem_unittests.__all__) == set(names)


def test_answers_sit_in_the_answers_module_named_like_their_check_module():
    def name(module):
        return module.rsplit(".", 1)[1]

    assert set(MODULES) == {name(module.__name__) for module in exercise_modules()}
    answers = [(a.exercise, a.fn) for a in WRONG] + [
        (exercise, fn) for exercise, fns in CORRECT_VARIANTS.items() for fn in fns
    ]
    for exercise, fn in answers:
        assert name(fn.__module__) == name(CHECKS[exercise].run.__module__), fn.__name__


# --- the framework's own building blocks --------------------------------------------


def test_call_reports_mutation_by_parameter_name():
    def scale(images):
        images *= 2
        return images

    with pytest.raises(AssertionError, match="changed its argument `images` in place"):
        framework.call(scale, np.ones(3))


def test_call_wraps_errors_with_the_call_described():
    def broken(x):
        return x.reshape(5)

    with pytest.raises(
        AssertionError, match=r"broken\(array\(shape=\(3,\), dtype=float64\)\) raised"
    ):
        framework.call(broken, np.ones(3))


def squares_loop(x):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = x[i] ** 2
    return out


def squares_comprehension(x):
    return np.array([v**2 for v in x])


def squares_vectorize(x):
    return np.vectorize(lambda v: v**2)(x)


def squares_while(x):
    i, out = 0, x.copy()
    while i < len(x):
        out[i] **= 2
        i += 1
    return out


@pytest.mark.parametrize(
    "fn, kind",
    [
        (squares_loop, "`for` loop"),
        (squares_comprehension, "list comprehension"),
        (squares_vectorize, "vectorize"),
        (squares_while, "`while` loop"),
    ],
)
def test_forbid_loops_names_the_loop(fn, kind):
    with pytest.raises(AssertionError, match=kind):
        loops.forbid_loops(fn)


def test_forbid_loops_accepts_whole_array_code():
    loops.forbid_loops(lambda x: x**2)
    loops.forbid_loops(np.square)  # no Python source: nothing to inspect


def test_call_stops_an_endless_loop(monkeypatch):
    monkeypatch.setattr(framework, "CALL_TIME_LIMIT", 0.2)

    def spin(x):
        while True:
            x = x + 1

    with pytest.raises(AssertionError, match="still running after 0.2 s"):
        framework.call(spin, 0)


def test_gradient_check_reports_each_parameter(capsys):
    from pixelschool.gradcheck import gradient_check

    x = np.random.default_rng(0).normal(size=(3, 4))
    before = x.copy()
    right = np.cos(x) * x + np.sin(x)
    errors = gradient_check(lambda: np.sum(np.sin(x) * x), {"x": x}, {"x": right})
    assert errors["x"] < 1e-8 and np.array_equal(x, before)
    assert gradient_check(lambda: np.sum(np.sin(x) * x), {"x": x}, {"x": 2 * right})["x"] > 0.1
    assert "WRONG" in capsys.readouterr().out


def test_loop_depth_counts_nesting():
    def nested(x):
        return [[a * b for b in x] for a in x]

    assert loops.loop_depth(squares_loop) == 1
    assert loops.loop_depth(squares_comprehension) == 1
    assert loops.loop_depth(nested) == 2
    assert loops.loop_depth(np.square) is None


def test_peak_memory_sees_a_large_intermediate():
    small = framework.peak_memory(lambda x: x.sum(), np.ones(1000))
    large = framework.peak_memory(lambda x: (x[:, None] * x[None, :]).sum(), np.ones(1000))
    assert large > 8 * 1000 * 1000 > small


def test_call_passes_uncopied_arguments_and_keywords_as_they_are():
    rng = np.random.default_rng(0)

    def draw(x, generator, scale=1.0):
        return x + scale * generator.random()

    framework.call(draw, np.zeros(2), rng, uncopied={1}, scale=2.0)
    assert rng.random() == np.random.default_rng(0).random(2)[1]  # the caller's rng advanced

    def shuffle(x, generator):
        generator.shuffle(x)

    with pytest.raises(AssertionError, match="changed its argument `x` in place"):
        framework.call(shuffle, np.arange(5), rng, uncopied={1})


def test_the_gradient_check_of_the_students_own_layers_runs(monkeypatch, capsys):
    """A check that runs another check (the forward's own, before the gradient check of the
    backward) still reaches the student's functions through the crossings."""
    from pixelschool.checks import gradient_checks

    ran = []
    errors = gradient_checks.upstream_gradient_errors
    monkeypatch.setattr(
        gradient_checks, "upstream_gradient_errors", lambda *a: ran.append(1) or errors(*a)
    )
    problem_unittests.test_affine_backward(REFERENCES["affine_backward"])
    assert ran and "all tests passed" in capsys.readouterr().out
