"""Feedback checks for notebook 05, part 3: minibatches and optimisers (momentum, RMSProp, Adam,
the learning-rate schedule); the penalties are in ``mlp_regularisation``.

The optimisers and the schedule are judged against the solution's recorded results
(``recordings/<exercise>.npz``); the usual mistakes are named from the recorded results of the wrong
answers in ``pixelschool_admin/answers/mlp_optimisers.py`` (the ``*_MESSAGES`` say what each one
gets wrong). ``minibatches`` draws at random, so its check is all code: every sample in exactly one
batch, with its label, shuffled with the ``rng`` argument.
"""

import math

import numpy as np

from pixelschool.checks.compare import close, verdict
from pixelschool.checks.framework import expect, expect_array, expect_tuple, feedback_check
from pixelschool.checks.gradient_checks import call_passing
from pixelschool.checks.mistakes import named
from pixelschool.checks.mlp_common import scalar as one_number

__all__ = [
    "test_minibatches",
    "test_momentum_step",
    "test_rmsprop_step",
    "test_adam_step",
    "test_decayed_learning_rate",
]

# --- minibatches (random: checked by its properties) -------------------------------------


def check_batches(result, n, batch_size):
    """The count and sizes of minibatches' batches of ``n`` samples."""
    expect(
        isinstance(result, (list, tuple)),
        f"minibatches should return a list of (data_batch, labels_batch) pairs, not a "
        f"{type(result).__name__}.",
    )
    expect(
        all(isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in result),
        "each item of minibatches' list should be a pair (data_batch, labels_batch).",
    )
    count = math.ceil(n / batch_size)
    if n % batch_size and len(result) == n // batch_size:
        raise named(
            f"with {n} samples and batch_size={batch_size} you made {len(result)} batches: "
            "you dropped the last, smaller batch. Every sample must be used.",
            "last_batch_dropped",
        )
    if len(result) == count + 1 and len(result[-1][1]) == 0:
        raise AssertionError(
            "your last batch is empty: stop when every sample is used (range(0, N, batch_size))."
        )
    expect(
        len(result) == count,
        f"with {n} samples and batch_size={batch_size} there should be {count} batches, "
        f"not {len(result)}.",
    )
    sizes = [len(np.asarray(y)) for _, y in result]
    expect(
        all(size == batch_size for size in sizes[:-1]) and 0 < sizes[-1] <= batch_size,
        f"every batch should hold batch_size={batch_size} samples, the last one the rest; "
        f"yours hold {sizes}.",
    )


def check_samples(result, data, labels, shuffled):
    """Every row of ``data`` (N, 2), whose first column is 10 * its rank, in one batch, with its
    label; in another order than the original when ``shuffled``."""
    rows = np.concatenate([np.asarray(x) for x, _ in result])
    batch_labels = np.concatenate([np.asarray(y) for _, y in result])
    expect(
        rows.shape == data.shape,
        f"the batches' data should have shape (B, {data.shape[1]}): rows of data.",
    )
    index = np.rint(rows[:, 0] / 10).astype(int)
    if len(np.unique(index)) < len(data):
        raise named(
            "some samples appear in two batches and others in none: you drew with "
            "replacement. Shuffle with a permutation, rng.permutation(N), and cut it.",
            "with_replacement",
        )
    original = np.argsort(data[:, 0])[index]  # the row of data each sample came from
    expect(
        np.array_equal(batch_labels, labels[original]),
        "the labels are no longer aligned with the data: index data and labels with the "
        "same permutation.",
        mistake="labels_misaligned",
    )
    expect(
        not shuffled or not np.array_equal(original, np.arange(len(data))),
        "the batches keep the samples in their original order: shuffle them first "
        "(rng.permutation), or every epoch sees the same batches, maybe sorted by class.",
        mistake="not_shuffled",
    )


@feedback_check("minibatches")
def test_minibatches(minibatches, rng):
    n = int(rng.integers(20, 40))
    sizes = [
        (5, 2),  # 2 + 2 + 1
        (n, int(rng.choice([b for b in range(4, 9) if n % b]))),
        (n, n // 2 if n % 2 == 0 else n // 3 if n % 3 == 0 else 1),
        (n, n + 3),
    ]
    for count, batch_size in sizes:
        data = np.column_stack([rng.permutation(count) * 10.0, rng.normal(size=count)])
        labels = rng.integers(0, 5, size=count)
        seed = int(rng.integers(1000))

        def batches(seed, arguments=(data, labels, batch_size)):
            generator = np.random.default_rng(seed)
            return call_passing(minibatches, *arguments, generator, passed={3})

        result = batches(seed)
        check_batches(result, count, batch_size)
        large = count >= 20  # a small shuffle may give the same order by chance
        check_samples(result, data, labels, shuffled=large and batch_size < count)
        if not large:
            continue
        expect(
            all(np.array_equal(a[0], b[0]) for a, b in zip(result, batches(seed))),
            "minibatches gives different batches with two generators of the same seed: draw "
            "the permutation with the rng argument (rng.permutation), not np.random.",
            mistake="rng_ignored",
        )
        expect(
            any(not np.array_equal(a[0], b[0]) for a, b in zip(result, batches(seed + 1))),
            "minibatches gives the same batches whatever the generator: use the rng argument "
            "(a new np.random.default_rng(0) inside gives the same batches at every epoch).",
            mistake="rng_unused",
        )


# --- momentum_step -----------------------------------------------------------------------

MOMENTUM_RULE = "v = beta * v - learning_rate * grad, then param + v"
MOMENTUM_MESSAGES = {
    "velocity_uphill": "momentum_step: momentum sign error: the velocity must move against the "
    f"gradient, {MOMENTUM_RULE}.",
    "param_minus_velocity": "momentum_step: momentum sign error: the parameter moves by + v "
    "(v already points downhill).",
    "step_minus_uphill_velocity": "momentum_step: momentum sign error: in this exercise the "
    f"velocity is the step itself, {MOMENTUM_RULE}.",
    "old_velocity": "momentum_step: move the parameter by the new velocity, after updating it.",
    "no_beta": "momentum_step: the velocity must keep beta times the previous velocity: "
    "v = beta * v - learning_rate * grad.",
    "torch_convention": "momentum_step: in this exercise the velocity includes the learning "
    "rate (Keras' convention): v = beta * v - learning_rate * grad.",
}


def momentum_inputs(rng):
    """(param, grad, velocity, learning_rate, beta): a worked example, then random arrays of
    shapes (3, 4) and (1, k)."""
    cases = [(np.ones(2), np.array([1.0, -1.0]), np.array([0.5, 0.5]), 0.1, 0.9)]
    for shape in [(3, 4), (1, int(rng.integers(2, 6)))]:
        param, grad, velocity = (rng.normal(size=shape) for _ in range(3))
        learning_rate, beta = float(rng.choice([0.05, 0.1, 0.2])), float(rng.choice([0.8, 0.9]))
        cases.append((param, grad, velocity, learning_rate, beta))
    return cases


def swapped_pair(result, case):
    """A relation: (velocity, param) returned instead of (param, velocity)."""
    if close(list(result[::-1]), list(case.expected)):
        return "momentum_step: return the new param first, then the new velocity."
    return None


def judge_momentum(results, cases):
    for result, case in zip(results, cases):
        expect_tuple(result, "momentum_step", 2)
        shape = case.expected[0].shape
        expect_array(result[0], "The new param (first value)", shape=shape)
        expect_array(result[1], "The new velocity (second value)", shape=shape)
    verdict(
        results,
        cases,
        "momentum_step",
        MOMENTUM_MESSAGES,
        relations=[swapped_pair],
        otherwise="momentum_step: the new values do not follow v = beta * v - learning_rate * "
        "grad, param = param + v.",
    )


@feedback_check("momentum_step", inputs=momentum_inputs, judge=judge_momentum)
def test_momentum_step(momentum_step, cases):
    for case in cases:
        cases.call(momentum_step, case)


# --- rmsprop_step --------------------------------------------------------------------------

RMSPROP_RULE = (
    "v = beta * v + (1 - beta) * grad ** 2, then param - learning_rate * grad / (sqrt(v) + eps)"
)
RMSPROP_MESSAGES = {
    "no_sqrt": "rmsprop_step: divide by the square root of v (the root mean square of the "
    "gradients): grad / (np.sqrt(v) + eps), not grad / (v + eps).",
    "not_decayed": "rmsprop_step: v must forget old gradients: v = beta * v + (1 - beta) * "
    "grad ** 2. Adding grad ** 2 to v without decay is AdaGrad, whose steps shrink for ever.",
    "no_one_minus_beta": "rmsprop_step: v is a running AVERAGE of the squared gradients: weigh "
    "the new one by (1 - beta), v = beta * v + (1 - beta) * grad ** 2.",
    "beta_swapped": "rmsprop_step: beta weighs the OLD v (it is the share kept from step to "
    "step, 0.9 or 0.99): v = beta * v + (1 - beta) * grad ** 2, not the other way round.",
    "eps_in_sqrt": "rmsprop_step: add eps after the square root, as in Adam: grad / "
    "(np.sqrt(v) + eps), not grad / np.sqrt(v + eps). With small gradients, or a large eps, "
    "the two differ a lot.",
    "old_v": "rmsprop_step: update v first, then divide by the square root of the NEW v.",
    "uphill": "rmsprop_step: your step goes uphill: param - learning_rate * grad / "
    "(np.sqrt(v) + eps).",
}


def rmsprop_inputs(rng):
    """(param, grad, v, learning_rate, beta, eps): a worked first step, then random arrays: a
    first step (v = 0), a later one, one with a large eps and one of tiny gradients (where eps
    inside the root changes the step a thousandfold)."""
    cases = [(np.zeros(2), np.array([2.0, -0.5]), np.zeros(2), 0.01, 0.9, 1e-8)]
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
    states = [
        (np.zeros(shape), 1.0, 1e-8),
        (0.5 * rng.random(shape), 1.0, 1e-8),
        (0.5 * rng.random(shape), 1.0, 0.1),
        (np.zeros(shape), 1e-6, 1e-8),
    ]
    for v, size, eps in states:
        param, grad = rng.normal(size=shape), size * rng.normal(size=shape)
        learning_rate, beta = float(rng.choice([0.001, 0.01])), float(rng.choice([0.9, 0.99]))
        cases.append((param, grad, v, learning_rate, beta, eps))
    return cases


def judge_rmsprop(results, cases):
    for result, case in zip(results, cases):
        expect_tuple(result, "rmsprop_step", 2)
        for what, value in zip(["param", "v"], result):
            expect_array(value, f"The new {what}", shape=case.expected[0].shape, kind="f")
    verdict(
        results,
        cases,
        "rmsprop_step",
        RMSPROP_MESSAGES,
        relations=[rmsprop_swapped_pair],
        otherwise=lambda result, case: (
            f"rmsprop_step (beta={case.args[4]}, eps={case.args[5]:g}): the new values do not "
            f"follow {RMSPROP_RULE}."
        ),
    )


def rmsprop_swapped_pair(result, case):
    """A relation: (v, param) returned instead of (param, v)."""
    if close(list(result[::-1]), list(case.expected)):
        return "rmsprop_step: return the new param first, then the new v."
    return None


@feedback_check("rmsprop_step", inputs=rmsprop_inputs, judge=judge_rmsprop)
def test_rmsprop_step(rmsprop_step, cases):
    cases.call_all(rmsprop_step)


# --- adam_step ---------------------------------------------------------------------------

ADAM_MESSAGES = {
    "no_bias_correction": "adam_step: Adam without bias correction: m and v start at 0, so in "
    "the first steps they are too small. Divide: m_hat = m / (1 - beta1 ** t), "
    "v_hat = v / (1 - beta2 ** t).",
    "eps_in_sqrt": "adam_step: add eps after the square root: sqrt(v_hat) + eps, not "
    "sqrt(v_hat + eps).",
    "grad_not_squared": "adam_step: the second moment v averages the squared gradients: "
    "(1 - beta2) * grad ** 2.",
    "corrected_moments": "adam_step: return the running averages m and v, not the corrected "
    "m_hat and v_hat: the next step corrects them again.",
    "uphill": "adam_step: your step goes uphill: param - learning_rate * m_hat / "
    "(sqrt(v_hat) + eps).",
    "t_from_zero": "adam_step: t is the step number, 1 for the first step: correct with "
    "beta ** t, not t + 1.",
    "betas_swapped": "adam_step: beta1 is for m (the gradients), beta2 for v (the squared "
    "gradients).",
}


def adam_inputs(rng):
    """(param, grad, m, v, t, learning_rate, beta1, beta2, eps): a worked first step, then
    random arrays: a first step (m = v = 0), a later one, and one with a large eps."""
    cases = [
        (np.zeros(2), np.array([2.0, -0.5]), np.zeros(2), np.zeros(2), 1, 0.01, 0.9, 0.999, 1e-8)
    ]
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
    states = [
        (1, np.zeros(shape), np.zeros(shape), 1e-8),
        (int(rng.integers(2, 6)), 0.1 * rng.normal(size=shape), 0.1 * rng.random(shape), 1e-8),
        (int(rng.integers(2, 6)), 0.1 * rng.normal(size=shape), 0.1 * rng.random(shape), 0.1),
    ]
    for t, m, v, eps in states:
        param, grad = rng.normal(size=shape), rng.normal(size=shape)
        cases.append((param, grad, m, v, t, float(rng.choice([0.01, 0.05])), 0.9, 0.999, eps))
    return cases


def same_or_both_nan(result, expected):
    """:func:`close`, NaN where both hold NaN counting as equal (a wrong answer's negative v
    has a NaN square root: a student's result is named by it when its NaN are the same)."""
    if isinstance(expected, (tuple, list)):
        return (
            isinstance(result, (tuple, list))
            and len(result) == len(expected)
            and all(map(same_or_both_nan, result, expected))
        )
    nan = np.isnan(expected)
    if not np.array_equal(np.isnan(result), nan):
        return False
    return close(np.where(nan, 0, result), np.where(nan, 0, expected))


def judge_adam(results, cases):
    for result, case in zip(results, cases):
        expect_tuple(result, "adam_step", 3)
        for what, value in zip(["param", "m", "v"], result):
            expect_array(value, f"The new {what}", shape=case.expected[0].shape, kind="f")
    verdict(
        results,
        cases,
        "adam_step",
        ADAM_MESSAGES,
        same=same_or_both_nan,
        otherwise=lambda result, case: (
            f"adam_step (step t={case.args[4]}, eps={case.args[8]:g}): the new values do not "
            "follow Adam's formulas: m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) "
            "g**2, the corrected m_hat, v_hat, and param - learning_rate m_hat / "
            "(sqrt(v_hat) + eps)."
        ),
    )


@feedback_check("adam_step", inputs=adam_inputs, judge=judge_adam)
def test_adam_step(adam_step, cases):
    with np.errstate(invalid="ignore"):  # a wrong v may be negative: its sqrt is judged later
        for case in cases:
            cases.call(adam_step, case)


# --- decayed_learning_rate -----------------------------------------------------------------

DECAY_RULE = "eta0 / (1 + t * d)"
START_HINT = f"At t = 0 the learning rate is eta0: {DECAY_RULE}."
ARRAY_HINT = (
    "It must also work for an array of step numbers: use NumPy operations, not math.* "
    "functions or an `if` on t."
)
DECAY_MESSAGES = {
    "exponential": "decayed_learning_rate: this is exponential decay; the exercise asks for "
    f"inverse-time decay, {DECAY_RULE}.",
    "power": "decayed_learning_rate: this decays exponentially; the exercise asks for "
    f"{DECAY_RULE}.",
    "parentheses": f"decayed_learning_rate: mind the parentheses: {DECAY_RULE}.",
    "no_parentheses": f"decayed_learning_rate: mind the parentheses: {DECAY_RULE}.",
    "linear": "decayed_learning_rate: this is a linear decay (it even goes negative); the "
    f"exercise asks for {DECAY_RULE}.",
}


def decay_inputs(rng):
    """(eta0, t, d) for steps t = 0, 1, ..., 1000 one at a time, then as an array, and the
    notebook's example with an array."""
    eta0, d = float(rng.choice([0.1, 0.05, 0.5])), float(rng.choice([1e-3, 0.01, 0.1]))
    steps = [0, 1, int(rng.integers(5, 20)), 100, 1000]
    cases = [(eta0, t, d) for t in steps]
    return cases + [(eta0, np.array(steps), d), (0.1, np.array([0, 10, 30]), 0.1)]


def judge_decay(results, cases):
    for result, case in zip(results, cases):
        if isinstance(case.args[1], np.ndarray):
            expect(
                isinstance(result, np.ndarray) and result.shape == case.args[1].shape,
                "decayed_learning_rate(eta0, t, d) with an array t should return the array of "
                "rates, one per step (whole-array operations work for numbers and arrays alike).",
            )
        else:
            one_number(result, "The learning rate")
    verdict(
        results,
        cases,
        "decayed_learning_rate",
        DECAY_MESSAGES,
        relations=[not_eta0_at_start],
        otherwise=f"decayed_learning_rate should return {DECAY_RULE}.",
    )


def not_eta0_at_start(result, case):
    """A relation: at step 0 the rate is eta0 itself."""
    eta0, t, _ = case.args
    if np.ndim(t) == 0 and t == 0:
        return (
            f"decayed_learning_rate: at t = 0 it must return eta0 ({eta0}), the starting "
            f"learning rate. {START_HINT}"
        )
    return None


@feedback_check("decayed_learning_rate", inputs=decay_inputs, judge=judge_decay)
def test_decayed_learning_rate(decayed_learning_rate, cases):
    for case in cases:
        hint = ARRAY_HINT if isinstance(case.args[1], np.ndarray) else START_HINT
        cases.call(decayed_learning_rate, case, hint=hint)
