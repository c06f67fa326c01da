"""Feedback checks for notebook 05, part 4: the ReLU network of any depth and dropout
(``train_network``'s check is in ``mlp_network_training``).

``relu_network_forward`` and ``relu_network_loss_and_grads`` (no dropout) are judged against the
solution's recorded results, their usual mistakes named from the recorded results of the wrong
answers in ``pixelschool_admin/answers/mlp_deep.py``. What is random is checked by its properties:
``dropout_forward``, gradients with dropout (a gradient check of the student's own loss, same
masks; where dropout acts). The layers the network is composed of and
``init_layers`` are mlp_modular's.
"""

import numpy as np

from pixelschool.checks.compare import close, verdict
from pixelschool.checks.framework import expect, expect_array, expect_tuple, feedback_check
from pixelschool.checks.gradient_checks import (
    GRADIENT_FLOOR,
    GRADIENT_STEP,
    GRADIENT_TOLERANCE,
    call_passing,
    centred_differences,
    check_dropout_statistics,
    check_grads_structure,
    expect_number_and_grads,
    flat,
    relative_errors,
    relu_problem,
)
from pixelschool.checks.mlp_common import all_finite
from pixelschool.checks.mlp_common import scalar as one_number

__all__ = [
    "test_relu_network_forward",
    "test_dropout_forward",
    "test_relu_network_loss_and_grads",
]

DEPTH_HINT = "layers can hold any number of (w, b) pairs, one included: loop over them."


# --- relu_network_forward ------------------------------------------------------------------

FORWARD_MESSAGES = {
    "relu_output": "relu_network_forward: no ReLU on the last layer: the softmax takes its raw "
    "scores.",
    "sigmoid_hidden": "relu_network_forward: the hidden layers use ReLU here, not the sigmoid.",
    "linear_hidden": "relu_network_forward: apply relu after every hidden layer.",
    "no_softmax": "relu_network_forward: apply the softmax to the last layer's scores.",
    "columns": "relu_network_forward: the softmax normalised each column; each row (one "
    "sample) must sum to 1: sum over axis=1.",
}


def forward_inputs(rng):
    """(layers, data): a worked example of 2 layers, random networks of 2, 3 and 1 layers,
    then one whose last scores are around 1000."""
    example = [(np.array([[1.0, -1.0]]), np.zeros((1, 2))), (np.eye(2), np.zeros((1, 2)))]
    cases = [(example, np.array([[np.log(3)]]))]
    cases += [relu_problem(rng, depth)[:2] for depth in [2, 3, 1]]
    layers, data, _ = relu_problem(rng, 2)
    return cases + [([*layers[:-1], (layers[-1][0], layers[-1][1] + 1000)], data)]


def overflowed(result, case):
    """A relation: NaN or inf where the probabilities are finite."""
    if not np.all(np.isfinite(result)):
        return (
            "relu_network_forward returned NaN for scores around 1000: subtract each row's "
            "largest score before np.exp."
        )
    return None


def forward_otherwise(result, case):
    return (
        f"relu_network_forward's probabilities are wrong for a network of {len(case.args[0])} "
        "layer(s): ReLU after every layer but the last, softmax after the last."
    )


def judge_forward(results, cases):
    for result, case in zip(results, cases):
        expect_array(result, "relu_network_forward's result")
        expect(
            result.shape == case.expected.shape,
            f"relu_network_forward returned shape {result.shape}, expected (N, d_out) = "
            f"{case.expected.shape}.",
        )
    verdict(
        results,
        cases,
        "relu_network_forward",
        FORWARD_MESSAGES,
        relations=[overflowed],
        otherwise=forward_otherwise,
    )


@feedback_check("relu_network_forward", inputs=forward_inputs, judge=judge_forward)
def test_relu_network_forward(relu_network_forward, cases):
    with np.errstate(all="ignore"):  # an unstable softmax overflows: judged later
        for case in cases:
            cases.call(relu_network_forward, case, hint=DEPTH_HINT)


# --- dropout_forward (random: checked by its properties) ----------------------------------

TEST_TIME_HINT = (
    "With training=False no random number is drawn (relu_network_loss_and_grads passes "
    "rng=None when keep_prob is 1): return a and a mask of ones first."
)


@feedback_check("dropout_forward")
def test_dropout_forward(dropout_forward, rng):
    a = np.abs(rng.normal(size=(200, 50))) + 0.1

    def dropout(a, keep_prob, seed, training=True):
        """dropout_forward's (out, mask) with a generator of ``seed`` (None: no generator)."""
        generator = None if seed is None else np.random.default_rng(seed)
        hint = TEST_TIME_HINT if seed is None else ""
        result = call_passing(
            dropout_forward, a, keep_prob, generator, training, passed={2}, hint=hint
        )
        expect_tuple(result, "dropout_forward", 2)
        expect_array(result[0], "out (first value)", shape=a.shape)
        expect_array(result[1], "mask (second value)", shape=a.shape)
        return result

    for keep_prob in [0.25, float(rng.choice([0.5, 0.6])), 0.8]:
        seed = int(rng.integers(1000))
        out, mask = dropout(a, keep_prob, seed)
        check_dropout_statistics(out, mask, a, keep_prob)
        expect(
            np.array_equal(dropout(a, keep_prob, seed)[0], out),
            "dropout_forward drops other units with two generators of the same seed: draw the "
            "mask with the rng argument (rng.random), not np.random.",
            mistake="rng_ignored",
        )
        expect(
            not np.array_equal(dropout(a, keep_prob, seed + 1)[0], out),
            "dropout_forward drops the same units whatever the generator: use the rng argument.",
        )
    out = dropout(a, 0.5, 0, training=False)[0]
    expect(
        not close(out, a * 0.5),
        "at test time inverted dropout does nothing: return a unchanged (scaling by keep_prob "
        "at test time is the old, non-inverted dropout).",
        mistake="scaled_at_test",
    )
    expect(
        close(out, a),
        "dropout applied at test time: with training=False return a unchanged (and a mask of "
        "ones).",
        mistake="dropout_at_test",
    )
    dropout(a, 0.5, None, training=False)
    expect(
        all(v.dtype == np.float32 for v in dropout(a[:20].astype(np.float32), 0.8, 0)),
        "dropout_forward turned float32 activations into float64: cast the mask, "
        "(rng.random(a.shape) < keep_prob).astype(a.dtype) / keep_prob. float32 networks "
        "train twice as fast.",
        mistake="float64",
    )


# --- relu_network_loss_and_grads ----------------------------------------------------------


def per_batch(text):
    """A message that names the batch size N of its case (``{n}`` in ``text``)."""
    return lambda result, case: "relu_network_loss_and_grads: " + text.format(n=len(case.args[1]))


LOSS_MESSAGES = {
    "batch_factor": per_batch(
        "your gradient is N = {n} times too large (N, the batch size). The loss is a mean over "
        "the N samples, so its gradient carries the batch-size factor 1 / N: divide by N once, "
        "where the backward pass starts."
    ),
    "divided_twice": per_batch(
        "your gradient is N = {n} times too small: you divided by the batch size N twice. "
        "Divide once, where the gradient of the loss starts."
    ),
    "bias_mean": per_batch(
        "the gradients of the biases are N = {n} times too small: you averaged over the batch "
        "(np.mean), but d_z already holds the factor 1 / N. A bias is added to every sample, "
        "so its gradient sums their contributions: np.sum(d_z, axis=0, keepdims=True)."
    ),
    "relu_derivative": "relu_network_loss_and_grads: you forgot ReLU's derivative: multiply the "
    "incoming gradient by (z > 0), d_z = d_a * (z > 0).",
    "sigmoid_derivative": "relu_network_loss_and_grads: ReLU's derivative is (z > 0), not "
    "a * (1 - a) (the sigmoid's).",
    "loss_sum": "relu_network_loss_and_grads: the loss is a mean over the batch, not a sum.",
}
UNSTABLE = (
    "relu_network_loss_and_grads returned NaN or inf for scores around 1000: np.exp overflows "
    "there. Use the stable log-softmax of section 4: subtract each row's largest score first, "
    "log_probs = shifted - log(sum(exp(shifted)))."
)


def loss_inputs(rng):
    """(layers, data, labels, 1.0, None), no dropout: a network of zeros, random networks of 3,
    2 and 1 layers, then one whose last scores are around 1000 (an unshifted log-softmax
    overflows there)."""
    zeros = [(np.zeros((2, 3)), np.zeros((1, 3))), (np.zeros((3, 4)), np.zeros((1, 4)))]
    cases = [(zeros, np.ones((2, 2)), np.array([0, 0]))]
    cases += [relu_problem(rng, depth) for depth in [3, 2, 1]]
    layers, data, labels = relu_problem(rng, 2)
    cases.append(([*layers[:-1], (layers[-1][0], layers[-1][1] + 1000)], data, labels))
    return [(*case, 1.0, None) for case in cases]


def loss_overflowed(result, case):
    """A relation: NaN or inf in the loss or the gradients where the solution's are finite."""
    if not all_finite(result):
        return UNSTABLE
    return None


def bias_summed_over_all(result, case):
    """A relation: a bias gradient that repeats the sum of all the entries of d_z."""
    for number, ((_, db), (_, expected)) in enumerate(zip(result[1], case.expected[1]), 1):
        if db.size > 1 and np.allclose(db, db.flat[0]) and close(db.flat[0], expected.sum()):
            return (
                f"relu_network_loss_and_grads: the gradient of b of layer {number} is one number "
                "repeated: you summed d_z over all its axes. Sum over the samples only, "
                "np.sum(d_z, axis=0, keepdims=True)."
            )
    return None


def loss_otherwise(result, case):
    depth = len(case.args[0])
    if not close(result[0], case.expected[0]):
        return (
            "relu_network_loss_and_grads: the loss is not the mean cross-entropy of the softmax "
            f"outputs (network of {depth} layer(s))."
        )
    pairs = zip(flat(result[1]), flat(case.expected[1]))
    k = next(k for k, (grad, expected) in enumerate(pairs) if not close(grad, expected))
    return (
        f"relu_network_loss_and_grads: the gradient of {'wb'[k % 2]} of layer {k // 2 + 1} is "
        f"wrong (a network of {depth} layer(s)). Backpropagate through every layer: "
        "dw = a_in.T @ d_z, db = sum of d_z over the samples, and d_z = (d_z_next @ "
        "w_next.T) * (z > 0) for a hidden layer."
    )


def judge_loss_and_grads(results, cases):
    name = "relu_network_loss_and_grads"
    expect_number_and_grads(results, cases, name, "The loss")
    verdict(
        results,
        cases,
        name,
        LOSS_MESSAGES,
        relations=[loss_overflowed, bias_summed_over_all],
        otherwise=loss_otherwise,
    )


def dropout_gradient_errors(run, layers):
    """The relative error of each gradient ``run(layers)[1]`` returns, [w1, b1, w2, ...], against
    centred differences of the loss ``run(layers)[0]``; ``run`` draws the same masks at every
    call."""
    work = [(w.copy(), b.copy()) for w, b in layers]
    numeric = centred_differences(lambda: run(work)[0], flat(work))
    return relative_errors(run(layers)[1], numeric)


DROPOUT_KEEP_PROB = 0.6  # of the gradient check with dropout


def check_dropout_gradients(relu_network_loss_and_grads, rng):
    """With dropout, the gradients are those of the student's own loss with the same masks (one
    hidden layer: its z does not depend on the masks, so it stays away from ReLU's kink).
    Demanded only when they are so without dropout: other mistakes are the recorded cases'."""
    name = "relu_network_loss_and_grads"
    layers, data, labels = relu_problem(rng, 2)
    seed = int(rng.integers(1000))

    def runner(keep_prob):
        def run(layers):
            """The loss and [dw1, db1, ...], the masks drawn from a new generator of ``seed``."""
            generator = np.random.default_rng(seed)
            arguments = (layers, data, labels, keep_prob, generator)
            result = call_passing(relu_network_loss_and_grads, *arguments, passed={4}, watch=False)
            expect_tuple(result, name, 2)
            check_grads_structure(result[1], layers, name)
            return one_number(result[0], f"The loss ({name}'s first value)"), flat(result[1])

        return run

    loss = runner(DROPOUT_KEEP_PROB)(layers)[0]
    expect(
        np.isclose(runner(DROPOUT_KEEP_PROB)(layers)[0], loss),
        f"{name} with dropout gives another loss for two generators of the same seed: draw the "
        "masks with rng (through dropout_forward), not np.random.",
    )
    expect(
        not np.isclose(runner(1.0)(layers)[0], loss),
        f"{name} ignores keep_prob: with keep_prob < 1, apply dropout_forward (training=True) "
        "to the output of every hidden layer.",
        mistake="keep_prob_ignored",
    )
    error = max(dropout_gradient_errors(runner(DROPOUT_KEEP_PROB), layers))
    expect(
        error < GRADIENT_TOLERANCE
        or max(dropout_gradient_errors(runner(1.0), layers)) >= GRADIENT_TOLERANCE,
        f"{name}: with dropout (keep_prob={DROPOUT_KEEP_PROB}) your gradients do not match a "
        f"numerical gradient of your own loss with the same masks: relative error {error:.1e}, "
        f"above the threshold {GRADIENT_TOLERANCE:g} (step {GRADIENT_STEP:g}, floor "
        f"{GRADIENT_FLOOR:g}). "
        "In the backward pass, multiply the gradient by the same mask (0 or 1 / keep_prob) as "
        "the forward pass.",
        mistake="dropout_gradients",
    )


def check_dropout_placement(relu_network_loss_and_grads, rng):
    """Dropout acts on the hidden layers' outputs only. With one sample and one hidden unit
    (active), inverted dropout either drops the unit (the scores are b2) or keeps it scaled
    by 1 / keep_prob (as if w2 were w2 / keep_prob): the loss with dropout is one of these
    losses, computed by the student's own function without dropout (the unscaled one too: a
    dropout_forward without 1 / keep_prob is its own check's to name). A mask on the input data
    or on the scores gives other losses."""
    name = "relu_network_loss_and_grads"
    data = rng.uniform(0.5, 1.5, size=(1, 4))
    w1, b1 = rng.uniform(0.5, 1.0, size=(4, 1)), np.full((1, 1), 0.5)  # the unit is active
    w2, b2 = rng.normal(size=(1, 3)), rng.normal(size=(1, 3))
    labels = np.array([int(rng.integers(3))])

    def loss_of(output_weights, keep_prob, generator=None):
        layers = [(w1, b1), (output_weights, b2)]
        arguments = (layers, data, labels, keep_prob, generator)
        result = call_passing(relu_network_loss_and_grads, *arguments, passed={4}, watch=False)
        expect_tuple(result, name, 2)
        return one_number(result[0], f"The loss ({name}'s first value)")

    allowed = [loss_of(w, 1.0) for w in (0 * w2, w2 / DROPOUT_KEEP_PROB, w2)]
    for seed in range(8):
        loss = loss_of(w2, DROPOUT_KEEP_PROB, np.random.default_rng(seed))
        expect(
            any(np.isclose(loss, value, rtol=1e-6, atol=1e-9) for value in allowed),
            f"{name}: with dropout, a network of one hidden unit on one sample must give the "
            "loss with that unit dropped, or kept and scaled by 1 / keep_prob; yours gives "
            f"{loss:.6g}, not {allowed[0]:.6g} nor {allowed[1]:.6g}. Apply dropout_forward to "
            "the hidden layers' outputs only (after each ReLU): not to the input data, not to "
            "the scores.",
            mistake="dropout_misplaced",
        )


@feedback_check("relu_network_loss_and_grads", inputs=loss_inputs, judge=judge_loss_and_grads)
def test_relu_network_loss_and_grads(relu_network_loss_and_grads, cases):
    hint = DEPTH_HINT + " With keep_prob = 1 there is no dropout (rng is None)."
    with np.errstate(all="ignore"):  # an unstable log-softmax overflows: judged later
        for case in cases:
            cases.call(relu_network_loss_and_grads, case, hint=hint)
    check_dropout_gradients(relu_network_loss_and_grads, cases.rng)
    check_dropout_placement(relu_network_loss_and_grads, cases.rng)
