"""Feedback checks for notebook 07, Keras convolutional networks on MNIST.

``normalise_images``, ``add_channel_axis`` and ``one_hot`` use notebook 01's checks
(``pixelschool.checks.data_preparation``). The model checks build the student's network for
several image shapes and numbers of classes, inspect its layers, run it on a small batch
and take one training step on 4 images, all on a view of the model made in the kernel
(``keras_views.py``): the grader judges the same views without Keras. Keras is imported
only where a view is made, so that ``import problem_unittests`` stays fast for notebooks
that do not use it.
"""

import math

import numpy as np

from pixelschool.checks.compare import verdict
from pixelschool.checks.framework import call, describe, expect, feedback_check
from pixelschool.checks.keras_views import ModelView, describer, to_numpy
from pixelschool.checks.mistakes import named

__all__ = ["test_conv_output_size", "test_net_1", "test_net_2"]


# ----------------------------------------------------------------------------------------------
# conv_output_size
# ----------------------------------------------------------------------------------------------


# What each formula students write by mistake gets wrong (their results are recorded from
# the wrong answers in pixelschool_admin/answers/keras_cnn.py).
CONV_SIZE_MESSAGES = {
    "no_plus_one": "you forgot the + 1: with k = n (no padding, any stride) the kernel fits "
    "exactly once, so the output has 1 pixel, not 0. The formula is floor((n + 2p - k) / s) + 1.",
    "padding_once": "you added the padding once, but `padding` zeros are added on each side of "
    "the axis: the padded axis has n + 2p pixels.",
    "no_stride": "you ignored the stride: with stride s the kernel moves s pixels at a time, so "
    "there are about s times fewer positions. Divide (n + 2p - k) by s (rounding down) before "
    "+ 1.",
    "minus_padding": "you subtracted the padding instead of adding it: zeros added on both "
    "sides make the axis longer, n + 2p pixels.",
    "rounds_up": "you rounded up: a last step that would stick out of the padded image is not "
    "taken, so round (n + 2p - k) / s down (floor, `//`).",
    "plus_one_divided": "you divided (n + 2p - k + 1) by the stride: the + 1 (the kernel's "
    "first position) comes after the division: floor((n + 2p - k) / s) + 1.",
    "no_defaults": "with the defaults (stride=1, padding=0, Keras' 'valid') the output has "
    "n - k + 1 pixels. Give `stride` the default 1 and `padding` the default 0.",
}


def conv_size_inputs(rng):
    """Argument tuples (n, k, s, p), n + 2p >= k, with every kind of stride and padding, then
    two calls (n, k) that rely on the defaults."""
    cases = [
        (28, 3, 1, 0),
        (28, 3, 2, 0),
        (27, 3, 2, 1),
        (32, 5, 1, 2),
        (13, 4, 3, 1),
        (5, 5, 1, 0),
    ]
    for _ in range(6):
        k = int(rng.integers(1, 8))
        p = int(rng.integers(0, 4))
        s = int(rng.integers(1, 5))
        n = int(rng.integers(max(k - 2 * p, 1), 64))
        cases.append((n, k, s, p))
    return cases + [(28, 3), (int(rng.integers(8, 40)), int(rng.integers(1, 6)))]


def judge_conv_size(results, cases):
    for result, case in zip(results, cases):
        expect(
            not isinstance(result, (bool, np.bool_))
            and isinstance(result, (int, np.integer, float, np.floating)),
            f"conv_output_size{case.args} returned {describe(result)}; return one number, an int.",
        )
        if isinstance(result, (float, np.floating)):
            raise named(
                f"conv_output_size{case.args} returned the float {result!r}: a size is a whole "
                "number of pixels. Use floor division `//`, not `/`, so the result is an int "
                "rounded down.",
                "float_size",
            )
    verdict(
        results,
        cases,
        "conv_output_size",
        {k: f"conv_output_size: {v}" for k, v in CONV_SIZE_MESSAGES.items()},
        otherwise=lambda result, case: (
            f"conv_output_size{case.args} returned {result}, which is wrong. Count the positions "
            "of the kernel along the padded axis of n + 2p pixels, moving s pixels at a time: "
            "floor((n + 2p - k) / s) + 1."
        ),
    )


@feedback_check("conv_output_size", inputs=conv_size_inputs, judge=judge_conv_size)
def test_conv_output_size(conv_output_size, cases):
    for case in cases:
        cases.call(conv_output_size, case)


# ----------------------------------------------------------------------------------------------
# net_1 and net_2
# ----------------------------------------------------------------------------------------------

IGNORED_LAYERS = {  # layers that do not change the architecture the exercise asks for
    "InputLayer",
    "Dropout",
    "SpatialDropout2D",
    "Activation",
    "ReLU",
    "Softmax",
    "BatchNormalization",
}
PARAMETER_RANGE = (1_100_000, 1_300_000)  # for (28, 28, 1) images and 10 classes
BUILD_HINT = (
    "Build the model from the arguments: keras.Sequential([keras.Input(shape=sample_shape), "
    "..., keras.layers.Dense(nb_classes, activation='softmax')])."
)


def kind(layer):
    """The layer's class name, with any pooling layer called 'pooling'."""
    return "Pooling" if "Pooling" in layer.kind else layer.kind


def structure(model):
    """The model's layers without dropout, activation and normalisation layers."""
    return [layer for layer in model.layers if layer.kind not in IGNORED_LAYERS]


def followed_by_relu(model, layer):
    """True when ``layer`` has a ReLU activation, or the next non-dropout layer is a ReLU."""
    if layer.activation == "relu":
        return True
    layers = model.layers
    for after in layers[layers.index(layer) + 1 :]:
        if after.kind in ("Dropout", "SpatialDropout2D", "BatchNormalization"):
            continue
        return after.kind == "ReLU" or (after.kind == "Activation" and after.activation == "relu")
    return False


def outputs_on(images):
    """A probe: the model's outputs on ``images`` at inference."""
    return lambda model: to_numpy(model(images, training=False))


def training_step(images, targets):
    """A probe: compile the model and take one training step; the loss and whether any weight
    changed."""

    def probe(model):
        import keras

        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=1e-3),
            loss="categorical_crossentropy",
            run_eagerly=True,  # one step: tracing a graph would cost more than the step
        )
        before = [w.numpy() for w in model.trainable_weights]
        loss = model.train_on_batch(images, targets)
        after = [w.numpy() for w in model.trainable_weights]
        changed = any(not np.array_equal(b, a) for b, a in zip(before, after))
        return {"loss": float(np.ravel(loss)[0]), "changed": changed}

    return probe


def build(fn, name, sample_shape, nb_classes, probes):
    """Call the student's function and check it returned a built keras.Model (a view of it,
    with ``probes`` run on it)."""
    model = ModelView(
        call(fn, sample_shape, nb_classes, hint=BUILD_HINT, described_by=describer(probes))
    )
    expect(
        model.is_model,
        f"{name}{(sample_shape, nb_classes)} returned {model.shown}; it should return the "
        "keras.Model itself (for example a keras.Sequential), not its summary, history or "
        "predictions.",
        mistake="returned_none",
    )
    expect(
        model.built,
        f"{name} returned a model that is not built (Keras does not know its input shape). "
        "Start the model with keras.Input(shape=sample_shape).",
    )
    return model


def check_shapes(model, name, sample_shape, nb_classes):
    """Input and output shapes, with the likely mistake named."""
    args = f"{name}({sample_shape}, {nb_classes})"
    given = tuple((model.input_shape or (None,))[1:])
    expect(
        given == tuple(sample_shape),
        f"{args} built a model for images of shape {given}, not {tuple(sample_shape)}: you "
        "hard-coded the input shape. Use keras.Input(shape=sample_shape).",
        mistake="input_shape_hard_coded",
    )
    out = tuple(model.output_shape or ())
    if len(out) != 2:
        expect(
            any(kind(layer) == "Flatten" for layer in model.layers),
            f"{args} outputs shape {out}: the Dense layers were applied to every pixel of the "
            "feature maps. You forgot keras.layers.Flatten() between the convolutions and the "
            "dense layers.",
            mistake="no_flatten",
        )
        raise AssertionError(
            f"{args} outputs shape {out}, expected (None, {nb_classes}): one probability per "
            "class for each image."
        )
    expect(
        out[1] == nb_classes,
        f"{args} outputs {out[1]} values per image, expected {nb_classes}: the last Dense "
        "layer must have nb_classes units (do not hard-code 10).",
        mistake="classes_hard_coded",
    )


def check_layers(model, name, expected):
    """The kinds and sizes of the layers, in order (dropout and the like ignored)."""
    layers = structure(model)
    kinds = [kind(layer) for layer in layers]
    wanted = [k for k, _ in expected]
    if name == "net_2" and "Pooling" in kinds:
        raise named(
            "net_2 still has a pooling layer: net_2 replaces max-pooling by a convolution with "
            "strides=2. Remove the pooling layer and give the second Conv2D strides=2.",
            "still_pooling",
        )
    if name == "net_1" and "Pooling" not in kinds:
        raise named(
            "net_1 has no pooling layer: add keras.layers.MaxPooling2D(pool_size=2) after the "
            "second convolution.",
            "no_pooling",
        )
    if name == "net_1" and kinds.count("Pooling") == 1:
        pool = layers[kinds.index("Pooling")]
        expect(
            pool.kind == "MaxPooling2D",
            f"net_1 uses {pool.kind}; the exercise asks for max-pooling, "
            "keras.layers.MaxPooling2D(pool_size=2).",
        )
    expect(
        kinds == wanted,
        f"{name}'s layers (leaving out dropout and activations) are {' -> '.join(kinds)}; "
        f"expected {' -> '.join(wanted)}. Check the order and that no layer is missing or extra.",
    )
    convs = [layer for layer in layers if kind(layer) == "Conv2D"]
    filters = [layer.filters for layer in convs]
    expect(
        filters == [32, 64],
        f"{name}'s convolutions have {filters} filters; expected 32 then 64.",
        mistake="filters_order",
    )
    for conv in convs:
        expect(
            tuple(conv.kernel_size or ()) == (3, 3),
            f"{name}: a convolution has a {conv.kernel_size} kernel; use kernel_size=3 (3 x 3).",
        )
        expect(
            conv.padding == "valid",
            f"{name}: a convolution uses padding='{conv.padding}'; keep Keras' default "
            "padding='valid' (no padding), as in the table.",
            mistake="padding_same",
        )
    dense = [layer for layer in layers if kind(layer) == "Dense"]
    expect(
        dense[0].units == 128,
        f"{name}'s first Dense layer has {dense[0].units} units; expected 128.",
    )
    for layer in [*convs, dense[0]]:
        expect(
            followed_by_relu(model, layer),
            f"{name}: the layer {layer.name} has no ReLU activation (it is "
            f"'{layer.activation}'). Without it, stacked layers collapse into one linear "
            "map: pass activation='relu'.",
            mistake="no_relu",
        )
    if name == "net_1":
        pool = layers[kinds.index("Pooling")]
        expect(
            tuple(pool.pool_size or ()) == (2, 2),
            f"net_1 pools over {pool.pool_size} blocks; use pool_size=2 (2 x 2).",
        )
        expect(
            all(tuple(conv.strides or ()) == (1, 1) for conv in convs),
            "net_1's convolutions have a stride: in net_1 only the pooling layer shrinks the "
            "image, the convolutions keep the default strides=1.",
        )
    else:
        strides = [tuple(conv.strides or ()) for conv in convs]
        expect(
            strides[1] == (2, 2),
            f"net_2's convolutions have strides {strides}: net_2 replaces the pooling by a "
            "stride of 2 in the second convolution, Conv2D(64, kernel_size=3, strides=2).",
            mistake="no_strides",
        )
        expect(
            strides[0] == (1, 1),
            f"net_2's first convolution has strides {strides[0]}; only the second one is "
            "strided (the first keeps strides=1).",
            mistake="first_conv_strided",
        )


def check_softmax(model, name):
    """The outputs are probabilities: non-negative, summing to 1 over the classes."""
    probs, error = model.probe("softmax")
    expect(error is None, f"{name} failed on a batch of 3 images: {error}")
    probs = np.asarray(probs, dtype=np.float64)
    sums = probs.sum(axis=1)
    expect(
        np.all(probs >= 0) and np.allclose(sums, 1, atol=1e-4),
        f"{name}'s outputs are not probabilities (they sum to {np.round(sums, 3)} over the "
        "classes, some may be negative): the last Dense layer needs activation='softmax'.",
        mistake="not_probabilities",
    )


def check_parameters(model, name):
    count = model.count_params()
    low, high = PARAMETER_RANGE
    expect(
        isinstance(count, int) and low <= count <= high,
        f"{name}((28, 28, 1), 10) has {count if count is None else format(count, ',')} "
        "parameters; the network described has about "
        f"1.2 million (between {low:,} and {high:,}), almost all in the first Dense layer: "
        "12 x 12 x 64 inputs times 128 units. Check the kernel sizes (3 x 3), the padding "
        "('valid') and how much the image shrinks before Flatten.",
    )


def check_training_step(model, name):
    """One training step on 4 images (made in the kernel): the weights must change."""
    step, error = model.probe("training step")
    expect(
        error is None,
        f"{name}: compiling the model and training it on 4 images failed with {error}",
    )
    loss = float(step["loss"])
    expect(math.isfinite(loss), f"{name}: one training step gave the loss {loss}.")
    expect(
        bool(step["changed"]),
        f"{name}: a training step did not change any weight: are the layers trainable?",
    )


def check_network(fn, name, expected, rng):
    """Everything both model checks test, for ``net_1`` or ``net_2``."""
    shapes = [((28, 28, 1), 10)]
    other = [(20, 24, 1), (32, 32, 3), (30, 26, 2)]
    sample_shape = other[int(rng.integers(len(other)))]
    shapes.append((sample_shape, int(rng.integers(2, 10))))
    batches = [rng.random((3, *shape), dtype=np.float32) for shape, _ in shapes]
    (sample_shape, nb_classes) = shapes[1]
    x = rng.random((4, *sample_shape), dtype=np.float32)
    y = np.eye(nb_classes, dtype=np.float32)[rng.integers(0, nb_classes, size=4)]
    probes = [
        [("softmax", outputs_on(batches[0]))],
        [("softmax", outputs_on(batches[1])), ("training step", training_step(x, y))],
    ]
    models = []
    for (sample_shape, nb_classes), probed in zip(shapes, probes):
        model = build(fn, name, sample_shape, nb_classes, probed)
        check_shapes(model, name, sample_shape, nb_classes)
        models.append(model)
    model = models[0]
    check_layers(model, name, expected)
    check_softmax(model, name)
    check_parameters(model, name)
    check_softmax(models[1], name)
    check_training_step(models[1], name)


NET_1_LAYERS = [("Conv2D", 32), ("Conv2D", 64), ("Pooling", 2), ("Flatten", None),
                ("Dense", 128), ("Dense", "K")]  # fmt: skip
NET_2_LAYERS = [("Conv2D", 32), ("Conv2D", 64), ("Flatten", None), ("Dense", 128),
                ("Dense", "K")]  # fmt: skip


@feedback_check("net_1")
def test_net_1(net_1, rng):
    check_network(net_1, "net_1", NET_1_LAYERS, rng)


@feedback_check("net_2")
def test_net_2(net_2, rng):
    check_network(net_2, "net_2", NET_2_LAYERS, rng)
