"""Feedback checks for notebook 05, part 3: minibatches, optimisers and regularisation."""

import math

import numpy as np

from coursekit.checks.framework import (
    call,
    expect,
    expect_array,
    expect_tuple,
    feedback_check,
)
from coursekit.checks.mlp_common import (
    GRAD_STEP,
    GRAD_TOLERANCE,
    all_close,
    call_with,
    check_grads_structure,
    close,
    gradient_error,
    gradient_mismatch,
    random_layers,
    random_sizes,
    scalar,
)
from coursekit.gradcheck import numerical_gradient

__all__ = [
    "test_minibatches",
    "test_momentum_step",
    "test_adam_step",
    "test_decayed_learning_rate",
    "test_l2_regularisation",
    "test_l1_regularisation",
]

# --- minibatches and optimisers ---------------------------------------------------------


@feedback_check("minibatches")
def test_minibatches(minibatches, rng):
    n = int(rng.integers(20, 40))
    for batch_size in [
        int(rng.choice([b for b in range(4, 9) if n % b])),
        n // 2 if n % 2 == 0 else n // 3 if n % 3 == 0 else 1,
        n + 3,
    ]:
        data = np.column_stack([rng.permutation(n) * 10.0, rng.normal(size=n)])
        labels = rng.integers(0, 5, size=n)
        seed = int(rng.integers(1000))
        result = call_with(
            minibatches, data, labels, batch_size, np.random.default_rng(seed), passed={3}
        )
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
            raise AssertionError(
                f"with {n} samples and batch_size={batch_size} you made {len(result)} batches: "
                "you dropped the last, smaller batch. Every sample must be used."
            )
        if len(result) == count + 1 and len(result[-1][1]) == 0:
            raise AssertionError(
                "your last batch is empty: stop when every sample is used (range(0, N, "
                "batch_size))."
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
        rows = np.concatenate([np.asarray(x) for x, _ in result])
        batch_labels = np.concatenate([np.asarray(y) for _, y in result])
        expect(
            rows.shape == data.shape,
            f"the batches' data should have shape (B, {data.shape[1]}): rows of data.",
        )
        index = np.rint(rows[:, 0] / 10).astype(int)
        order = np.argsort(data[:, 0])
        if len(np.unique(index)) < n:
            raise AssertionError(
                "some samples appear in two batches and others in none: you drew with "
                "replacement. Shuffle with a permutation, rng.permutation(N), and cut it."
            )
        original = order[index]  # the row of data each sample came from
        expect(
            np.array_equal(batch_labels, labels[original]),
            "the labels are no longer aligned with the data: index data and labels with the "
            "same permutation.",
        )
        if batch_size < n:
            expect(
                not np.array_equal(original, np.arange(n)),
                "the batches keep the samples in their original order: shuffle them first "
                "(rng.permutation), or every epoch sees the same batches, maybe sorted by class.",
            )
        again = call_with(
            minibatches, data, labels, batch_size, np.random.default_rng(seed), passed={3}
        )
        expect(
            all(np.array_equal(a[0], b[0]) for a, b in zip(result, again)),
            "minibatches gives different batches with two generators of the same seed: draw "
            "the permutation with the rng argument (rng.permutation), not np.random.",
        )
        other = call_with(
            minibatches, data, labels, batch_size, np.random.default_rng(seed + 1), passed={3}
        )
        expect(
            any(not np.array_equal(a[0], b[0]) for a, b in zip(result, other)),
            "minibatches gives the same batches whatever the generator: use the rng argument "
            "(a new np.random.default_rng(0) inside gives the same batches at every epoch).",
        )


@feedback_check("momentum_step")
def test_momentum_step(momentum_step, rng):
    for shape in [(3, 4), (1, int(rng.integers(2, 6)))]:
        param, grad, velocity = (rng.normal(size=shape) for _ in range(3))
        learning_rate, beta = float(rng.choice([0.05, 0.1, 0.2])), float(rng.choice([0.8, 0.9]))
        result = call(momentum_step, param, grad, velocity, learning_rate, beta)
        expect_tuple(result, "momentum_step", 2)
        new_param, new_velocity = result
        expect_array(new_param, "The new param (first value)", shape=shape)
        expect_array(new_velocity, "The new velocity (second value)", shape=shape)
        v = beta * velocity - learning_rate * grad
        if close(new_param, param + v) and close(new_velocity, v):
            continue
        upward = beta * velocity + learning_rate * grad
        torch = beta * velocity + grad
        variants = [
            (v, param + v, "return the new param first, then the new velocity."),
            (
                param + upward,
                upward,
                "momentum sign error: the velocity must move against "
                "the gradient, v = beta * v - learning_rate * grad, then param + v.",
            ),
            (
                param - v,
                v,
                "momentum sign error: the parameter moves by + v (v already points downhill).",
            ),
            (
                param - upward,
                upward,
                "momentum sign error: in this exercise the velocity is the "
                "step itself, v = beta * v - learning_rate * grad, and param + v.",
            ),
            (param + velocity, v, "move the parameter by the new velocity, after updating it."),
            (
                param - learning_rate * grad,
                -learning_rate * grad,
                "the velocity must keep beta "
                "times the previous velocity: v = beta * v - learning_rate * grad.",
            ),
            (
                param - learning_rate * torch,
                torch,
                "in this exercise the velocity includes the "
                "learning rate (Keras' convention): v = beta * v - learning_rate * grad.",
            ),
        ]
        for expected_param, expected_velocity, message in variants:
            if close(new_param, expected_param) and close(new_velocity, expected_velocity):
                raise AssertionError(f"momentum_step: {message}")
        raise AssertionError(
            "momentum_step: the new values do not follow v = beta * v - learning_rate * grad, "
            "param = param + v."
        )


def adam(param, grad, m, v, t, learning_rate, beta1, beta2, eps, mistake=None):
    """Adam's step, or a known mistake of it. Returns param, m, v."""
    if mistake == "betas swapped":
        beta1, beta2 = beta2, beta1
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * (grad if mistake == "grad" else grad**2)
    power = t + 1 if mistake == "t from 0" else t
    m_hat, v_hat = m / (1 - beta1**power), v / (1 - beta2**power)
    if mistake == "no bias correction":
        m_hat, v_hat = m, v
    with np.errstate(invalid="ignore"):
        root = np.sqrt(v_hat + eps) if mistake == "eps in sqrt" else np.sqrt(v_hat) + eps
    sign = -1 if mistake == "sign" else 1
    param = param - sign * learning_rate * m_hat / root
    if mistake == "corrected moments":
        return param, m_hat, v_hat
    return param, m, v


ADAM_MISTAKES = {
    "no bias correction": (
        "Adam without bias correction: m and v start at 0, so in the first steps they are too "
        "small. Divide: m_hat = m / (1 - beta1 ** t), v_hat = v / (1 - beta2 ** t)."
    ),
    "eps in sqrt": "add eps after the square root: sqrt(v_hat) + eps, not sqrt(v_hat + eps).",
    "grad": "the second moment v averages the squared gradients: (1 - beta2) * grad ** 2.",
    "corrected moments": (
        "return the running averages m and v, not the corrected m_hat and v_hat: the next "
        "step corrects them again."
    ),
    "sign": "your step goes uphill: param - learning_rate * m_hat / (sqrt(v_hat) + eps).",
    "t from 0": "t is the step number, 1 for the first step: correct with beta ** t, not t + 1.",
    "betas swapped": "beta1 is for m (the gradients), beta2 for v (the squared gradients).",
}


@feedback_check("adam_step")
def test_adam_step(adam_step, rng):
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
    cases = [
        (1, np.zeros(shape), np.zeros(shape), 1e-8),
        (int(rng.integers(2, 6)), 0.1 * rng.normal(size=shape), 0.1 * rng.random(shape), 1e-8),
        (int(rng.integers(2, 6)), 0.1 * rng.normal(size=shape), 0.1 * rng.random(shape), 0.1),
    ]
    for t, m, v, eps in cases:
        param, grad = rng.normal(size=shape), rng.normal(size=shape)
        learning_rate, beta1, beta2 = float(rng.choice([0.01, 0.05])), 0.9, 0.999
        arguments = (param, grad, m, v, t, learning_rate, beta1, beta2, eps)
        with np.errstate(invalid="ignore"):
            result = call(adam_step, *arguments)
        expect_tuple(result, "adam_step", 3)
        for what, value in zip(["param", "m", "v"], result):
            expect_array(value, f"The new {what}", shape=shape)
        if all_close(result, adam(*arguments)):
            continue
        for mistake, message in ADAM_MISTAKES.items():
            if all_close(result, adam(*arguments, mistake=mistake)):
                raise AssertionError(f"adam_step: {message}")
        raise AssertionError(
            f"adam_step (step t={t}, eps={eps:g}): the new values do not follow Adam's formulas: "
            "m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g**2, the corrected "
            "m_hat, v_hat, and param - learning_rate m_hat / (sqrt(v_hat) + eps)."
        )


@feedback_check("decayed_learning_rate")
def test_decayed_learning_rate(decayed_learning_rate, rng):
    eta0, d = float(rng.choice([0.1, 0.05, 0.5])), float(rng.choice([1e-3, 0.01, 0.1]))
    steps = np.array([0, 1, int(rng.integers(5, 20)), 100, 1000])
    hint = "At t = 0 the learning rate is eta0: eta0 / (1 + t * d)."
    values = [
        scalar(call(decayed_learning_rate, eta0, int(t), d, hint=hint), "The learning rate")
        for t in steps
    ]
    expected = eta0 / (1 + steps * d)
    if not close(values, expected):
        variants = [
            (
                eta0 * np.exp(-d * steps),
                "this is exponential decay; the exercise asks for "
                "inverse-time decay, eta0 / (1 + t * d).",
            ),
            (
                eta0 / (1 + d) ** steps,
                "this decays exponentially; the exercise asks for eta0 / (1 + t * d).",
            ),
            (eta0 / (1 + steps) * d, "mind the parentheses: eta0 / (1 + t * d)."),
            (eta0 / 1 + steps * d, "mind the parentheses: eta0 / (1 + t * d)."),
            (
                eta0 * (1 - steps * d),
                "this is a linear decay (it even goes negative); the "
                "exercise asks for eta0 / (1 + t * d).",
            ),
        ]
        expect(
            np.isclose(values[0], eta0),
            f"decayed_learning_rate: at t = 0 it must return "
            f"eta0 ({eta0}), the starting learning rate. {hint}",
        )
        for variant, message in variants:
            expect(not close(values, variant), f"decayed_learning_rate: {message}")
        raise AssertionError("decayed_learning_rate should return eta0 / (1 + t * d).")
    result = call(
        decayed_learning_rate,
        eta0,
        steps,
        d,
        hint="It must also work for an array of step numbers: use NumPy operations, "
        "not math.* functions or an `if` on t.",
    )
    expect(
        isinstance(result, np.ndarray) and close(result, expected),
        "decayed_learning_rate(eta0, t, d) with an array t should return the array of rates "
        "(whole-array operations work for numbers and arrays alike).",
    )


# --- regularisation ---------------------------------------------------------------------


def numerical_penalty_gradient(w, reg, norm):
    """Numerical gradient of reg * sum(norm(w)) with respect to w."""
    work = w.copy()
    return numerical_gradient(lambda: reg * np.sum(norm(work)), work, GRAD_STEP)


def check_regularisation(fn, rng, kind):
    """The shared check of l2_regularisation and l1_regularisation."""
    name = fn.__name__
    for count in [3, 4]:
        layers = random_layers(rng, random_sizes(rng, count))
        for w, _ in layers:  # away from L1's kink at 0, where the numerical gradient is off
            w += np.sign(w) * 0.05
        reg = float(rng.choice([0.01, 0.1, 0.5]))
        result = call(fn, layers, reg)
        expect_tuple(result, name, 2)
        penalty, grads = result
        penalty = scalar(penalty, f"The penalty ({name}'s first value)")
        weights = [w for w, _ in layers]
        biases = [b for _, b in layers]
        norm = np.square if kind == "l2" else np.abs
        expected = reg * sum(np.sum(norm(w)) for w in weights)
        if not close(penalty, expected):
            if close(penalty, expected + reg * sum(np.sum(norm(b)) for b in biases)):
                raise AssertionError(
                    f"{name}: you are regularising the biases: only the weights w are "
                    "penalised (a bias only shifts a unit's output)."
                )
            expect(
                not close(penalty, expected / 2),
                f"{name}: this course uses Keras' convention, reg * sum(w ** 2), without 1/2.",
            )
            expect(
                not close(penalty, reg * sum(np.mean(norm(w)) for w in weights)),
                f"{name}: sum over the weights (np.sum), do not average them.",
            )
            expect(
                not close(penalty, reg * np.sum(norm(weights[-1]))),
                f"{name}: penalise the weights of every layer, not only the last one.",
            )
            if kind == "l1":
                expect(
                    not close(penalty, reg * sum(np.sum(w**2) for w in weights)),
                    f"{name}: the L1 penalty sums |w| (np.abs), not w ** 2.",
                )
            raise AssertionError(
                f"{name}: the penalty should be reg * sum("
                + ("w ** 2" if kind == "l2" else "|w|")
                + ") over the weights of every layer."
            )
        check_grads_structure(grads, layers, name)
        for number, ((dw, db), (w, _)) in enumerate(zip(grads, layers), start=1):
            expect(
                not np.any(db),
                f"{name}: you are regularising the biases: their gradient must be zeros "
                "(np.zeros_like(b)), only the weights are penalised.",
            )
            numeric = numerical_penalty_gradient(w, reg, norm)
            error = gradient_error(dw, numeric)
            if error < GRAD_TOLERANCE:
                continue
            if kind == "l2":
                expect(
                    not close(dw, reg * w),
                    f"{name}: the derivative of reg * w ** 2 is 2 * reg * w, not reg * w.",
                )
            else:
                expect(
                    not close(dw, reg * w),
                    f"{name}: the derivative of |w| is sign(w) (np.sign), not w.",
                )
                expect(
                    not close(dw, reg * np.abs(w)),
                    f"{name}: the derivative of |w| is sign(w) (np.sign), not |w|.",
                )
            expect(not close(dw, -numeric), f"{name}: the gradient has the wrong sign.")
            expect(not close(dw * reg, numeric), f"{name}: multiply the gradient by reg.")
            raise AssertionError(f"{name}: {gradient_mismatch(f'w (layer {number})', error)}")


@feedback_check("l2_regularisation")
def test_l2_regularisation(l2_regularisation, rng):
    check_regularisation(l2_regularisation, rng, "l2")


@feedback_check("l1_regularisation")
def test_l1_regularisation(l1_regularisation, rng):
    check_regularisation(l1_regularisation, rng, "l1")
