"""Feedback checks for notebook 05, part 4: the ReLU network of any depth, dropout, training."""

import copy
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
    GRAD_TOLERANCE_RELU,
    all_close,
    bias_mistake,
    call_with,
    check_grads_structure,
    close,
    flat,
    gradient_error,
    gradient_mismatch,
    numerical_grads,
    one_hot,
    proportion,
    random_layers,
    scalar,
    scale_mistake,
    sigmoid,
    softmax,
)
from coursekit.checks.mlp_optimisers import adam
from coursekit.checks.mlp_training import blobs, xavier_mistake

__all__ = [
    "test_init_layers",
    "test_relu_network_forward",
    "test_dropout_forward",
    "test_relu_network_loss_and_grads",
    "test_train_network",
]

# --- the ReLU network -------------------------------------------------------------------


@feedback_check("init_layers")
def test_init_layers(init_layers, rng):
    for sizes in [
        [int(rng.integers(8, 14)), int(rng.integers(10, 16)), int(rng.integers(6, 10)), 3],
        [int(rng.integers(20, 30)), int(rng.integers(4, 8))],
    ]:
        seed = int(rng.integers(1000))
        layers = call_with(init_layers, sizes, np.random.default_rng(seed), passed={1})
        expect(
            isinstance(layers, (list, tuple)) and len(layers) == len(sizes) - 1,
            f"init_layers({sizes}, rng) should return a list of {len(sizes) - 1} (w, b) pairs, "
            "one per layer.",
        )
        for number, (layer, fan_in, fan_out) in enumerate(
            zip(layers, sizes[:-1], sizes[1:]), start=1
        ):
            expect(
                isinstance(layer, (list, tuple)) and len(layer) == 2,
                "init_layers: each layer should be a pair (w, b).",
            )
            w, b = layer
            expect_array(w, f"w of layer {number}", kind="f")
            mistake = xavier_mistake(w, fan_in, fan_out, f"w of layer {number}")
            expect(mistake is None, f"init_layers: {mistake}")
            expect_array(b, f"b of layer {number}")
            expect(
                b.shape == (1, fan_out),
                f"init_layers: b of layer {number} has shape {b.shape}, expected "
                f"(1, {fan_out}): one row that is added to every sample.",
            )
            expect(not np.any(b), "init_layers: the biases should start at zero (as in Keras).")
        again = call_with(init_layers, sizes, np.random.default_rng(seed), passed={1})
        other = call_with(init_layers, sizes, np.random.default_rng(seed + 1), passed={1})
        expect(
            np.array_equal(layers[0][0], again[0][0]),
            "init_layers gives different weights with two generators of the same seed: draw "
            "them with the rng argument (rng.uniform), not np.random.",
        )
        expect(
            not np.array_equal(layers[0][0], other[0][0]),
            "init_layers gives the same weights whatever the generator: use the rng argument.",
        )


def relu_forward(layers, data, hidden=lambda z: np.maximum(z, 0), output=softmax):
    a = data
    for w, b in layers[:-1]:
        a = hidden(a @ w + b)
    w, b = layers[-1]
    return output(a @ w + b)


def relu_problem(rng, depth):
    """Random layers of ``depth`` layers, data (N, d_in) and labels (N,).

    No hidden unit's z lies within 1e-3 of ReLU's kink at 0, where centred differences of
    step GRAD_STEP would straddle it.
    """
    while True:
        sizes = [int(rng.integers(3, 6))] + [int(rng.integers(4, 7)) for _ in range(depth - 1)]
        sizes.append(int(rng.integers(2, 5)))
        layers = random_layers(rng, sizes, scale=0.7)
        n = int(rng.integers(6, 10))
        data = rng.normal(size=(n, sizes[0]))
        a, kinks = data, False
        for w, b in layers[:-1]:
            z = a @ w + b
            kinks = kinks or np.abs(z).min() < 1e-3
            a = np.maximum(z, 0)
        if not kinks:
            return layers, data, rng.integers(0, sizes[-1], size=n)


DEPTH_HINT = "layers can hold any number of (w, b) pairs, one included: loop over them."


@feedback_check("relu_network_forward")
def test_relu_network_forward(relu_network_forward, rng):
    for depth in [2, 3, 1]:
        layers, data, _ = relu_problem(rng, depth)
        n, d_out = len(data), layers[-1][0].shape[1]
        result = call(relu_network_forward, layers, data, hint=DEPTH_HINT)
        expect_array(result, "relu_network_forward's result")
        expect(
            result.shape == (n, d_out),
            f"relu_network_forward returned shape {result.shape}, expected (N, d_out) = "
            f"({n}, {d_out}).",
        )
        if close(result, relu_forward(layers, data)):
            continue
        exp_scores = np.exp(relu_forward(layers, data, output=lambda z: z))
        variants = [
            (
                relu_forward(layers, data, output=lambda z: softmax(np.maximum(z, 0))),
                "no ReLU on the last layer: the softmax takes its raw scores.",
            ),
            (
                relu_forward(layers, data, hidden=sigmoid),
                "the hidden layers use ReLU here, not the sigmoid.",
            ),
            (
                relu_forward(layers, data, hidden=lambda z: z),
                "apply relu after every hidden layer.",
            ),
            (
                relu_forward(layers, data, output=lambda z: z),
                "apply the softmax to the last layer's scores.",
            ),
            (
                exp_scores / exp_scores.sum(axis=0, keepdims=True),
                "the softmax normalised each "
                "column; each row (one sample) must sum to 1: sum over axis=1.",
            ),
        ]
        for variant, message in variants:
            expect(not close(result, variant), f"relu_network_forward: {message}")
        raise AssertionError(
            f"relu_network_forward's probabilities are wrong for a network of {depth} "
            f"layer(s): ReLU after every layer but the last, softmax after the last."
        )
    layers[-1] = (layers[-1][0], layers[-1][1] + 1000)
    with np.errstate(all="ignore"):
        result = call(relu_network_forward, layers, data)
    expect(
        np.all(np.isfinite(result)),
        "relu_network_forward returned NaN for scores around 1000: subtract each row's "
        "largest score before np.exp.",
    )


@feedback_check("dropout_forward")
def test_dropout_forward(dropout_forward, rng):
    a = np.abs(rng.normal(size=(200, 50))) + 0.1
    for keep_prob in [float(rng.choice([0.5, 0.6])), 0.8]:
        seed = int(rng.integers(1000))
        result = call_with(
            dropout_forward, a, keep_prob, np.random.default_rng(seed), True, passed={2}
        )
        expect_tuple(result, "dropout_forward", 2)
        out, mask = result
        expect_array(out, "out (first value)", shape=a.shape)
        expect_array(mask, "mask (second value)", shape=a.shape)
        kept = np.mean(out != 0)
        if abs(kept - (1 - keep_prob)) < 0.03 and abs(kept - keep_prob) > 0.03:
            raise AssertionError(
                f"with keep_prob={keep_prob} you kept {kept:.0%} of the units: keep_prob is the "
                "probability to KEEP a unit (rng.random(a.shape) < keep_prob)."
            )
        expect(
            abs(kept - keep_prob) < 0.03,
            f"with keep_prob={keep_prob} about {keep_prob:.0%} of the units should be kept; "
            f"you kept {kept:.0%}. Draw the mask with rng.random(a.shape) < keep_prob.",
        )
        values = out[out != 0] / a[out != 0]
        if np.allclose(values, 1):
            raise AssertionError(
                "dropout not rescaled: inverted dropout divides the kept activations by "
                "keep_prob, so that their expected value stays the same (and nothing changes "
                "at test time)."
            )
        if np.allclose(values, keep_prob):
            raise AssertionError("divide the kept activations by keep_prob, do not multiply by it.")
        expect(
            np.allclose(values, 1 / keep_prob),
            "the kept activations should be a / keep_prob.",
        )
        expect(
            close(mask, (out != 0) / keep_prob),
            "return the mask that multiplies a: 0 for a dropped unit, 1 / keep_prob for a kept "
            "one (the backward pass multiplies the gradient by it).",
        )
        again = call_with(
            dropout_forward, a, keep_prob, np.random.default_rng(seed), True, passed={2}
        )[0]
        expect(
            np.array_equal(again, out),
            "dropout_forward drops other units with two generators of the same seed: draw the "
            "mask with the rng argument (rng.random), not np.random.",
        )
        other = call_with(
            dropout_forward, a, keep_prob, np.random.default_rng(seed + 1), True, passed={2}
        )[0]
        expect(
            not np.array_equal(other, out),
            "dropout_forward drops the same units whatever the generator: use the rng argument.",
        )
    result = call_with(dropout_forward, a, 0.5, np.random.default_rng(0), False, passed={2})
    expect_tuple(result, "dropout_forward", 2)
    out = result[0]
    expect_array(out, "out at test time", shape=a.shape)
    if close(out, a * 0.5):
        raise AssertionError(
            "at test time inverted dropout does nothing: return a unchanged (scaling by "
            "keep_prob at test time is the old, non-inverted dropout)."
        )
    expect(
        close(out, a),
        "dropout applied at test time: with training=False return a unchanged (and a mask "
        "of ones).",
    )
    a32 = a[:20].astype(np.float32)
    result = call_with(dropout_forward, a32, 0.8, np.random.default_rng(0), True, passed={2})
    expect(
        all(getattr(value, "dtype", None) == np.float32 for value in result),
        "dropout_forward turned float32 activations into float64: cast the mask, "
        "(rng.random(a.shape) < keep_prob).astype(a.dtype) / keep_prob. float32 networks "
        "train twice as fast.",
    )


def relu_loss(layers, data, labels):
    probs = relu_forward(layers, data)
    return -np.mean(np.log(probs[np.arange(len(data)), labels]))


def numerical_relu_grads(layers, data, labels):
    """Numerical gradients [dw1, db1, ...] of the ReLU network's loss."""
    work = copy.deepcopy(layers)
    return numerical_grads(lambda: relu_loss(work, data, labels), flat(work))


def relu_grads(layers, data, labels, mistake=None):
    """Gradients [(dw, db), ...] of the ReLU network's loss, or those of a known mistake."""
    a, caches = data, []
    for w, b in layers[:-1]:
        z = a @ w + b
        caches.append((a, z))
        a = np.maximum(z, 0)
    w, b = layers[-1]
    probs = softmax(a @ w + b)
    n = len(data)
    d_z = (probs - one_hot(labels, probs.shape[1])) / n
    grads = [(a.T @ d_z, d_z.sum(axis=0, keepdims=True))]
    for i in reversed(range(len(layers) - 1)):
        a_in, z = caches[i]
        d_a = d_z @ layers[i + 1][0].T
        if mistake == "relu derivative":
            d_z = d_a
        elif mistake == "sigmoid derivative":
            d_z = d_a * np.maximum(z, 0) * (1 - np.maximum(z, 0))
        else:
            d_z = d_a * (z > 0)
        grads.insert(0, (a_in.T @ d_z, d_z.sum(axis=0, keepdims=True)))
    return grads


RELU_MISTAKES = {
    "relu derivative": (
        "you forgot ReLU's derivative: multiply the incoming gradient by (z > 0), "
        "d_z = d_a * (z > 0)."
    ),
    "sigmoid derivative": "ReLU's derivative is (z > 0), not a * (1 - a) (the sigmoid's).",
}


def diagnose_relu_grads(student, numeric, errors, layers, data, labels):
    """Name the mistake of ReLU-network gradients that failed the numerical check."""
    n = len(data)
    mistake = scale_mistake(proportion(student, numeric), n)
    if mistake:
        return mistake
    for variant, message in RELU_MISTAKES.items():
        if all_close(student, flat(relu_grads(layers, data, labels, variant))):
            return message
    for k, (grad, num, error) in enumerate(zip(student, numeric, errors)):
        if error >= GRAD_TOLERANCE_RELU:
            what = f"{'wb'[k % 2]} of layer {k // 2 + 1}"
            mistake = bias_mistake(what, grad, num, n) if k % 2 else None
            return mistake or gradient_mismatch(
                what, error, f"(a network of {len(layers)} layer(s))", GRAD_TOLERANCE_RELU
            )
    return gradient_mismatch("the parameters", max(errors), tolerance=GRAD_TOLERANCE_RELU)


@feedback_check("relu_network_loss_and_grads")
def test_relu_network_loss_and_grads(relu_network_loss_and_grads, rng):
    name = "relu_network_loss_and_grads"
    for depth in [3, 2, 1]:
        layers, data, labels = relu_problem(rng, depth)
        n = len(data)
        result = call(
            relu_network_loss_and_grads,
            layers,
            data,
            labels,
            1.0,
            None,
            hint=DEPTH_HINT + " With keep_prob = 1 there is no dropout (rng is None).",
        )
        expect_tuple(result, name, 2)
        loss, grads = result
        loss = scalar(loss, f"The loss ({name}'s first value)")
        expected = relu_loss(layers, data, labels)
        if not close(loss, expected):
            expect(
                not close(loss, expected * n),
                f"{name}: the loss is a mean over the batch, not a sum.",
            )
            raise AssertionError(
                f"{name}: the loss is not the mean cross-entropy of the softmax outputs "
                f"(network of {depth} layer(s))."
            )
        check_grads_structure(grads, layers, name)
        numeric = numerical_relu_grads(layers, data, labels)
        student = flat(grads)
        errors = [gradient_error(g, h) for g, h in zip(student, numeric)]
        if max(errors) < GRAD_TOLERANCE_RELU:
            continue
        mistake = diagnose_relu_grads(student, numeric, errors, layers, data, labels)
        raise AssertionError(f"{name}: {mistake}")
    # dropout: the gradients must be those of the student's own loss with the same masks
    # (one hidden layer: its z does not depend on the masks, so it stays away from ReLU's kink)
    layers, data, labels = relu_problem(rng, 2)
    keep_prob, seed = 0.6, int(rng.integers(1000))
    result = call_with(
        relu_network_loss_and_grads,
        layers,
        data,
        labels,
        keep_prob,
        np.random.default_rng(seed),
        passed={4},
    )
    expect_tuple(result, name, 2)
    loss, grads = result
    loss = scalar(loss, f"The loss ({name}'s first value)")
    again = call_with(
        relu_network_loss_and_grads,
        layers,
        data,
        labels,
        keep_prob,
        np.random.default_rng(seed),
        passed={4},
    )
    expect(
        np.isclose(scalar(again[0], "The loss"), loss),
        f"{name} with dropout gives another loss for two generators of the same seed: draw the "
        "masks with rng (through dropout_forward), not np.random.",
    )
    expect(
        not np.isclose(loss, relu_loss(layers, data, labels)),
        f"{name} ignores keep_prob: with keep_prob < 1, apply dropout_forward (training=True) "
        "to the output of every hidden layer.",
    )
    check_grads_structure(grads, layers, name)
    work = copy.deepcopy(layers)

    def own_loss():
        loss = relu_network_loss_and_grads(
            work, data, labels, keep_prob, np.random.default_rng(seed)
        )[0]
        return float(loss)

    numeric = numerical_grads(own_loss, flat(work))
    error = max(gradient_error(g, h) for g, h in zip(flat(grads), numeric))
    expect(
        error < GRAD_TOLERANCE_RELU,
        f"{name}: with dropout (keep_prob={keep_prob}) your gradients do not match a numerical "
        f"gradient of your own loss with the same masks (relative error {error:.1e}, threshold "
        f"{GRAD_TOLERANCE_RELU:g}). In the backward pass, multiply the gradient by the same mask "
        "(0 or 1 / keep_prob) as the forward pass.",
    )


def reference_train(
    layers,
    data,
    labels,
    num_epoch,
    learning_rate,
    optimizer="momentum",
    beta=0.9,
    decay=0.0,
    reg_l2=0.0,
    reg_l1=0.0,
    mistake=None,
):
    """Full-batch training as train_network does it (one batch per epoch, no dropout)."""
    params = [p.copy() for p in flat(layers)]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    costs = []
    for t in range(num_epoch):
        pairs = list(zip(params[::2], params[1::2]))
        cost = relu_loss(pairs, data, labels)
        if mistake != "cost without penalties":
            cost += sum(reg_l2 * np.sum(w**2) + reg_l1 * np.sum(np.abs(w)) for w, _ in pairs)
        costs.append(cost)
        grads = flat(relu_grads(pairs, data, labels))
        if mistake != "no penalty gradients":
            for k in range(0, len(params), 2):
                grads[k] = grads[k] + 2 * reg_l2 * params[k] + reg_l1 * np.sign(params[k])
        eta = learning_rate / (1 + (t + (mistake == "decay from 1")) * decay)
        for k, grad in enumerate(grads):
            if optimizer == "sgd":
                params[k] = params[k] - eta * grad
            elif optimizer == "momentum":
                first[k] = beta * first[k] - eta * grad
                params[k] = params[k] + first[k]
            else:
                params[k], first[k], second[k] = adam(
                    params[k], grad, first[k], second[k], t + 1, eta, beta, 0.999, 1e-8
                )
    return params, costs


TRAIN_DEFAULTS = dict(
    optimizer="momentum", beta=0.9, decay=0.0, reg_l2=0.0, reg_l1=0.0, keep_prob=1.0, seed=0
)


def train_arguments(num_epoch, batch_size, learning_rate, **settings):
    """train_network's arguments after (layers, data, labels), all positional, in order.

    (Positional, so that a student's function whose keywords are misspelt still runs.)
    """
    return (num_epoch, batch_size, learning_rate, *{**TRAIN_DEFAULTS, **settings}.values())


@feedback_check("train_network")
def test_train_network(train_network, rng):
    name = "train_network"
    n = int(rng.integers(24, 31))
    data, labels = blobs(rng, n, 4, 3)
    layers = random_layers(rng, [4, 6, 3], scale=0.6)
    hint = (
        "train_network calls your minibatches, relu_network_loss_and_grads, the "
        "regularisations, decayed_learning_rate and the optimiser steps: check them first."
    )
    settings = [
        dict(optimizer="sgd", learning_rate=0.5),
        dict(optimizer="momentum", learning_rate=0.2, beta=0.8, decay=0.3),
        dict(optimizer="adam", learning_rate=0.05, beta=0.85, reg_l2=0.02, reg_l1=0.01),
    ]
    for setting in settings:
        described = ", ".join(f"{key}={value!r}" for key, value in setting.items())
        arguments = train_arguments(num_epoch=3, batch_size=n + 5, **setting)
        result = call_with(train_network, layers, data, labels, *arguments, hint=hint)
        expect_tuple(result, name, 2)
        trained, costs = result
        expect(
            isinstance(trained, (list, tuple))
            and len(trained) == len(layers)
            and all(isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in trained)
            and all(np.shape(a) == np.shape(b) for a, b in zip(flat(trained), flat(layers))),
            f"{name} should return the trained layers as a list of (w, b) pairs shaped like "
            "the layers it was given.",
        )
        expect(
            np.ndim(costs) == 1 and len(costs) == 3,
            f"{name} should return one cost per batch: 3 epochs of one batch give 3 costs, "
            f"not {len(costs) if np.ndim(costs) == 1 else type(costs).__name__}.",
        )
        params, expected_costs = reference_train(layers, data, labels, 3, **setting)
        if all_close(flat(trained), params, 1e-5) and close(costs, expected_costs, 1e-5):
            continue
        expect(
            not all_close(flat(trained), flat(layers)),
            f"{name} returned the initial layers: return the updated parameters.",
        )
        if setting.get("reg_l2"):
            expect(
                not close(
                    costs,
                    reference_train(
                        layers, data, labels, 3, **setting, mistake="cost without penalties"
                    )[1],
                    1e-5,
                ),
                f"{name}: each cost should include the penalties: loss + L2 penalty + L1 penalty.",
            )
            expect(
                not all_close(
                    flat(trained),
                    reference_train(
                        layers, data, labels, 3, **setting, mistake="no penalty gradients"
                    )[0],
                    1e-5,
                ),
                f"{name}: add the gradients of the L2 and L1 penalties to the loss's gradients "
                "before the update.",
            )
        if setting.get("decay"):
            expect(
                not all_close(
                    flat(trained),
                    reference_train(layers, data, labels, 3, **dict(setting, decay=0.0))[0],
                    1e-5,
                ),
                f"{name}: the learning rate must decay, decayed_learning_rate(learning_rate, "
                "t, decay) with t the number of steps taken.",
            )
            expect(
                not all_close(
                    flat(trained),
                    reference_train(layers, data, labels, 3, **setting, mistake="decay from 1")[0],
                    1e-5,
                ),
                f"{name}: t counts the steps taken before this one, 0 for the first batch.",
            )
        if setting["optimizer"] != "sgd":
            expect(
                not all_close(
                    flat(trained),
                    reference_train(layers, data, labels, 3, **dict(setting, optimizer="sgd"))[0],
                    1e-5,
                ),
                f"{name} ignores optimizer={setting['optimizer']!r}: it took plain gradient steps.",
            )
        if not close(costs, expected_costs, 1e-5):
            raise AssertionError(
                f"{name} ({described}; one batch of all samples, 3 epochs): the costs are "
                "not the loss plus penalties of each step, computed before its update."
            )
        raise AssertionError(
            f"{name} ({described}; one batch of all samples, 3 epochs): the trained "
            "parameters are not those of 3 steps of this optimiser."
        )
    batch_size, seed = int(rng.choice([5, 7])), int(rng.integers(1000))
    count = 2 * math.ceil(n / batch_size)

    def costs_of(**settings):
        arguments = train_arguments(
            num_epoch=2, batch_size=batch_size, learning_rate=0.1, **settings
        )
        result = call_with(train_network, layers, data, labels, *arguments, hint=hint)
        expect_tuple(result, name, 2)
        return np.asarray(result[1], dtype=float)

    costs = costs_of(seed=seed)
    expect(
        len(costs) == count,
        f"with {n} samples, batch_size={batch_size} and 2 epochs, {name} should return "
        f"{count} costs, one per batch, not {len(costs)}.",
    )
    expect(
        close(costs_of(seed=seed), costs, 1e-9),
        f"{name} gives other costs for the same seed: make every random choice with "
        "rng = np.random.default_rng(seed), created once at the start.",
    )
    expect(
        not close(costs_of(seed=seed + 1), costs, 1e-9),
        f"{name} gives the same costs whatever the seed: shuffle with rng = "
        "np.random.default_rng(seed), passed to minibatches.",
    )
    expect(
        not close(costs_of(seed=seed, keep_prob=0.5), costs, 1e-9),
        f"{name} ignores keep_prob: pass it (and rng) to relu_network_loss_and_grads.",
    )
