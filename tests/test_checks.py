"""Every feedback check passes its reference and rejects every realistic wrong answer."""

import numpy as np
import pytest

import problem_unittests
from coursekit.checks import framework
from tests.answers import (  # noqa: F401  (importing a module registers its answers)
    backprop,
    cifar_cnn,
    data_preparation,
    keras_cnn,
    knn,
    mlp,
    softmax,
)
from tests.answers.registry import REFERENCES, WRONG_ANSWERS

SEEDS = [0, 1, 2, 3]
WRONG = [answer for answers in WRONG_ANSWERS.values() for answer in answers]


def check_for(exercise):
    return getattr(problem_unittests, f"test_{exercise}")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("exercise", sorted(REFERENCES))
def test_reference_passes(exercise, seed, capsys):
    check_for(exercise)(REFERENCES[exercise], seed=seed)
    assert capsys.readouterr().out.strip() == f"\u2714 {exercise}: all tests passed."


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("answer", WRONG, ids=[answer.id for answer in WRONG])
def test_wrong_answer_is_named(answer, seed, capsys):
    with pytest.raises(AssertionError) as failure:
        check_for(answer.exercise)(answer.fn, seed=seed)
    assert answer.says in str(failure.value)
    assert "all tests passed" not in capsys.readouterr().out


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
        framework.forbid_loops(fn)


def test_forbid_loops_accepts_whole_array_code():
    framework.forbid_loops(lambda x: x**2)
    framework.forbid_loops(np.square)  # no Python source: nothing to inspect


def test_call_stops_an_endless_loop(monkeypatch):
    monkeypatch.setattr(framework, "CALL_TIME_LIMIT", 0.2)

    def spin(x):
        while True:
            x = x + 1

    with pytest.raises(AssertionError, match="still running after 0.2 s"):
        framework.call(spin, 0)


def test_numerical_gradient_matches_a_known_gradient():
    from coursekit.gradcheck import numerical_gradient, relative_error

    x = np.random.default_rng(0).normal(size=(3, 4))
    before = x.copy()
    grad = numerical_gradient(lambda: np.sum(np.sin(x) * x), x)
    assert relative_error(grad, np.cos(x) * x + np.sin(x)) < 1e-8
    assert np.array_equal(x, before)  # every entry restored
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0


def test_loop_depth_counts_nesting():
    def nested(x):
        return [[a * b for b in x] for a in x]

    assert framework.loop_depth(squares_loop) == 1
    assert framework.loop_depth(squares_comprehension) == 1
    assert framework.loop_depth(nested) == 2
    assert framework.loop_depth(np.square) is None


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
