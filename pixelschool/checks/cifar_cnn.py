"""Feedback checks for notebook 08, a convolutional network on CIFAR-10.

Keras is imported only where a view of the student's network is made (``keras_views.py``),
so that ``import problem_unittests`` stays quick in the notebooks that do not use it. The
network checks (``data_augmentation``, ``cifar_net``) inspect the student's layers and run
them on small batches of random images, with one training step eagerly, in the kernel: a few
seconds at most; they hold no answer, so they stay code, and the grader runs them again on
the views the kernel recorded. ``per_class_accuracy`` compares with recorded expectations
(``recordings/per_class_accuracy.npz``).
"""

import numpy as np

from pixelschool.checks.compare import close, placeholder, verdict
from pixelschool.checks.framework import call, expect, expect_array, feedback_check
from pixelschool.checks.keras_cnn import outputs_on
from pixelschool.checks.keras_views import ModelView, all_layers, describer, to_numpy
from pixelschool.checks.mistakes import named

__all__ = ["test_data_augmentation", "test_cifar_net", "test_per_class_accuracy"]

PARAMETERS = (100_000, 3_000_000)  # the range the notebook states for a CIFAR-10 network
MAX_SHIFT = 0.25  # translation factors above this push the object out of a 32 x 32 picture
MAX_ROTATION = 0.1  # RandomRotation's factor is a fraction of a full turn: 0.1 is 36 degrees
RANGE_DRAWS = 4  # training-mode passes over the range batch (8 images each)
RANGE_SLACK = 1e-3  # how far outside [0, 1] an output may stray (round-off is ~1e-7)


def factors(value):
    """The largest absolute value of a layer factor given as a number or a (low, high) pair."""
    return float(np.max(np.abs(np.atleast_1d(np.asarray(value, dtype=np.float64)))))


def augmented(images, training):
    """A probe: the augmentation's output on ``images``."""
    return lambda layer: to_numpy(layer(images, training=training))


def value_span(images, draws):
    """A probe: ``[min, max]`` of the augmentation's outputs over ``draws`` training-mode
    passes on ``images`` (N, H, W, C) in [0, 1]; two floats, so the transcript stays small."""

    def probe(layer):
        outputs = [to_numpy(layer(images, training=True)) for _ in range(draws)]
        return [float(min(np.min(o) for o in outputs)), float(max(np.max(o) for o in outputs))]

    return probe


def range_images(rng):
    """(8, 32, 32, 3) float32 in [0, 1]: random pixels, and in every image whole rows at
    exactly 0 and 1, the values a brightness or contrast change pushes out of [0, 1] first."""
    images = rng.random((8, 32, 32, 3), dtype=np.float32)
    images[:, 10:12] = 0
    images[:, 20:22] = 1
    return images


def value_range_of(layer):
    """The layer's ``value_range`` as a pair of floats, or None when it has none."""
    try:
        low, high = (float(v) for v in layer.value_range)
    except (TypeError, ValueError):
        return None
    return low, high


# ----------------------------------------------------------------------------------------------
# data_augmentation()
# ----------------------------------------------------------------------------------------------


@feedback_check("data_augmentation")
def test_data_augmentation(data_augmentation, rng):
    sizes = [(32, 32), tuple(int(s) for s in rng.integers(12, 40, size=2))]
    batches = [rng.random((6, height, width, 3), dtype=np.float32) for height, width in sizes]
    probes = [
        (f"{mode} {i}", augmented(images, mode == "training"))
        for i, images in enumerate(batches)
        for mode in ("inference", "training")
    ]
    probes.append(("range", value_span(range_images(rng), RANGE_DRAWS)))
    augment = ModelView(call(data_augmentation, described_by=describer(probes)))
    expect(
        augment.is_layer,
        "data_augmentation() should return one Keras layer, a keras.Sequential([...]) of "
        f"preprocessing layers, not a {augment.kind}: wrap your list of layers in "
        "keras.Sequential so the network can use it as its first layer.",
        mistake="not_one_layer",
    )
    layers = all_layers(augment)
    flips = [layer for layer in layers if layer.is_a("RandomFlip")]
    expect(
        flips,
        "data_augmentation() has no keras.layers.RandomFlip: a mirrored car is still a car, so "
        "flipping left-right is the cheapest way to double the variety of the training images.",
        mistake="no_flip",
    )
    expect(
        all("vertical" not in str(layer.mode) for layer in flips),
        "your RandomFlip also flips images vertically (RandomFlip's default mode is "
        "'horizontal_and_vertical'). Upside-down ships and horses never appear in CIFAR-10's test "
        "set: use RandomFlip('horizontal').",
        mistake="vertical_flip",
    )
    shifts = [layer for layer in layers if layer.is_a("RandomTranslation")]
    expect(
        shifts,
        "data_augmentation() has no keras.layers.RandomTranslation: shifting the images by a few "
        "pixels teaches the network that an object is the same wherever it sits.",
        mistake="no_translation",
    )
    for axis in ("height", "width"):  # the shifts may come from more than one layer
        expect(
            any(factors(getattr(layer, f"{axis}_factor")) > 0 for layer in shifts),
            f"your RandomTranslation has {axis}_factor 0, so it never shifts the images along "
            f"their {axis}: shift them by up to 10 % of their height AND width, "
            "RandomTranslation(0.1, 0.1).",
            mistake="translation_no_width",
        )
    for layer in shifts:
        largest = max(factors(layer.height_factor), factors(layer.width_factor))
        expect(
            largest <= MAX_SHIFT,
            f"your RandomTranslation shifts images by up to {largest:.0%} of their size: on "
            "32 x 32 pictures that moves much of the object out of the frame. Keep the factors "
            f"at most {MAX_SHIFT} (0.1, about 3 pixels, is typical).",
            mistake="translation_too_far",
        )
    for layer in (layer for layer in layers if layer.is_a("RandomRotation")):
        turn = factors(layer.factor)
        expect(
            turn <= MAX_ROTATION,
            f"your RandomRotation turns images by up to {turn * 360:.0f} degrees: its factor is "
            "a fraction of a full turn (2 pi), not of a right angle. The exercise allows a small "
            f"rotation: a factor of at most {MAX_ROTATION} ({MAX_ROTATION * 360:.0f} degrees); "
            "0.05 (18 degrees) is typical.",
            mistake="rotation_too_far",
        )
    trained = []  # the training outputs the grader holds whole: their range is its own
    for i, images in enumerate(batches):
        results = {}
        for mode in ("inference", "training"):
            results[mode], error = augment.probe(f"{mode} {i}")
            if error:
                raise AssertionError(
                    f"your augmentation failed on a batch of shape {images.shape}: {error}"
                )
        for mode, result in [
            ("at inference", results["inference"]),
            ("in training", results["training"]),
        ]:
            expect(
                np.shape(result) == images.shape,
                f"your augmentation changes the shape of a batch {mode}: {images.shape} became "
                f"{np.shape(result)}. Augmentation must keep the image size (a RandomCrop or "
                "Resizing layer changes it: the network's input would no longer match).",
                mistake="shape_changed",
            )
        expect(
            np.allclose(results["inference"], images, atol=1e-6),
            "your augmentation changes the images at inference (training=False). Augmentation "
            "must be the identity when the network predicts; a layer such as Rescaling(1/255) "
            "is not augmentation (and the images are already in [0, 1]).",
            mistake="augments_at_inference",
        )
        expect(
            not np.allclose(results["training"], images, atol=1e-6),
            "your augmentation leaves the images unchanged in training (training=True): give the "
            "random layers non-zero factors.",
        )
        trained.append(results["training"])
    check_value_range(augment, layers, trained)
    expect(
        not any(layer.trainable_weights for layer in all_layers(augment)),
        "your augmentation has trainable weights: it should hold only random preprocessing "
        "layers; the convolutions belong in cifar_net.",
    )


def check_value_range(augment, layers, trained=()):
    """In training, images in [0, 1] stay in [0, 1] (up to ``RANGE_SLACK``), over several
    random draws (the range probe's [min, max]) and in the ``trained`` outputs of the other
    batches; a layer whose ``value_range`` is not (0, 1) is named as the likely cause."""
    span, error = augment.probe("range")
    if error:
        raise AssertionError(f"your augmentation failed in training on 8 images: {error}")
    low = min([float(span[0])] + [float(np.min(out)) for out in trained])
    high = max([float(span[1])] + [float(np.max(out)) for out in trained])
    if low >= -RANGE_SLACK and high <= 1 + RANGE_SLACK:
        return
    reached = f"values from {low:.3g} to {high:.3g}"
    assumed = [layer for layer in layers if value_range_of(layer) not in (None, (0.0, 1.0))]
    if assumed:
        suspects = ", ".join(
            f"{layer.kind} (value_range={tuple(layer.value_range)})" for layer in assumed
        )
        raise named(
            f"in training your augmentation turns images in [0, 1] into {reached}: {suspects} "
            "is told the pixels span value_range, but these images are in [0, 1] (Keras' "
            "default value_range is (0, 255), for uint8 images). The layer clips its output to "
            "value_range, not to [0, 1], and a brightness change shifts the pixels by up to "
            "factor x the width of value_range (0.1 x 255 = 25.5). Pass value_range=(0, 1).",
            "augmentation_range",
        )
    raise named(
        f"in training your augmentation turns images in [0, 1] into {reached}: the network "
        "gets pixels in [0, 1], and its augmented training images must stay there. Look for "
        "a layer that scales or adds to the pixels without clipping (a Rescaling, a "
        "GaussianNoise, a brightness or contrast change).",
        "augmentation_range",
    )


# ----------------------------------------------------------------------------------------------
# cifar_net(sample_shape, nb_classes)
# ----------------------------------------------------------------------------------------------


def one_training_step(images, targets):
    """A probe: one training step of the compiled model, eagerly; the loss."""

    def probe(model):
        model.run_eagerly = True  # one step: tracing a graph would take longer than the step
        result = model.train_on_batch(images, targets)
        return float(np.atleast_1d(np.asarray(result, dtype=np.float64))[0])

    return probe


@feedback_check("cifar_net")
def test_cifar_net(cifar_net, rng):
    other = [(28, 28, 1), (24, 24, 3), (40, 36, 3), (32, 32, 1)][rng.integers(4)]
    cases = [((32, 32, 3), 10), (other, int(rng.integers(3, 8)))]
    first = rng.random((4, *cases[0][0]), dtype=np.float32)
    targets = np.eye(10, dtype=np.float32)[rng.integers(10, size=len(first))]
    batches = [first, rng.random((4, *cases[1][0]), dtype=np.float32)]
    probes = [
        [("outputs", outputs_on(first)), ("training step", one_training_step(first, targets))],
        [("outputs", outputs_on(batches[1]))],
    ]
    for case, (sample_shape, nb_classes) in enumerate(cases):
        model = ModelView(
            call(cifar_net, sample_shape, nb_classes, described_by=describer(probes[case]))
        )
        name = f"cifar_net({sample_shape}, {nb_classes})"
        expect(
            model.is_model,
            f"{name} should return a Keras model (keras.Model or keras.Sequential), "
            f"not a {model.kind}.",
        )
        given = tuple((model.input_shape or (None,))[1:])
        expect(
            given == tuple(sample_shape),
            f"{name} takes inputs of shape {given}, expected "
            f"{sample_shape}: build the input from the argument, keras.Input(shape=sample_shape), "
            "rather than a hard-coded shape.",
            mistake="input_shape_hard_coded",
        )
        expect(
            tuple(model.output_shape or ()) == (None, nb_classes),
            f"{name} outputs shape {model.output_shape}, expected (None, {nb_classes}): "
            "the last Dense layer needs nb_classes units, one per class.",
            mistake="classes_hard_coded",
        )
        if case == 0:
            check_layers(model, name)
        outputs, error = model.probe("outputs")
        expect(
            error is None,
            f"{name} failed on a batch of shape {batches[case].shape}: {error}",
        )
        outputs = np.asarray(outputs, dtype=np.float64)
        expect(
            outputs.min() >= 0 and np.allclose(outputs.sum(axis=1), 1, atol=1e-4),
            f"the outputs of {name} are not probabilities (they should be non-negative and sum "
            "to 1 for each image): give the last Dense layer activation='softmax'.",
            mistake="not_probabilities",
        )
        if case == 0:
            check_training_step(model, name, targets)


def check_layers(model, name):
    layers = all_layers(model)
    expect(
        any(layer.is_a("Conv2D") for layer in layers),
        f"{name} has no Conv2D layer: this notebook is about convolutional networks.",
    )
    expect(
        any(layer.is_a("BatchNormalization") for layer in layers),
        f"{name} has no BatchNormalization layer: put one after each convolution (before the "
        "ReLU); it keeps the activations on a stable scale so a deeper network trains fast.",
        mistake="no_batch_normalisation",
    )
    expect(
        any(layer.is_a("Dropout") for layer in layers),
        f"{name} has no Dropout layer: with about 50 000 training images such a network "
        "overfits; drop a share of the activations after each block and before the last layer.",
        mistake="no_dropout",
    )
    expect(
        any(layer.kind.startswith("Random") for layer in layers),
        f"{name} has no augmentation: start the network with your data_augmentation() so the "
        "random flips and shifts happen during training only, inside the model.",
        mistake="no_augmentation",
    )
    low, high = PARAMETERS
    count = model.count_params()
    expect(isinstance(count, int), f"{name}: Keras cannot count its parameters (is it built?).")
    expect(
        count <= high,
        f"{name} has {count:,} parameters, more than {high:,}: most of them sit in a Dense "
        "layer after Flatten of a large feature map. Pool after each block (MaxPooling2D) so the "
        "map is small (4 x 4) before Flatten, or use GlobalAveragePooling2D.",
        mistake="too_many_parameters",
    )
    expect(
        count >= low,
        f"{name} has only {count:,} parameters, fewer than {low:,}: too small to reach the "
        "target accuracy. Use more filters (32, 64, 128) or more convolutions per block.",
    )


def check_training_step(model, name, targets):
    expect(
        model.compiled,
        f"{name} returns a model that is not compiled: call model.compile(optimizer=..., "
        "loss='categorical_crossentropy', metrics=['accuracy']) before returning it.",
        mistake="not_compiled",
    )
    loss, error = model.probe("training step")
    if error:
        raise named(
            f"one training step of {name} on one-hot labels of shape {targets.shape} failed: "
            f"{error}\nThe labels are one-hot, so compile "
            "with loss='categorical_crossentropy' (sparse_categorical_crossentropy expects "
            "integer labels).",
            "training_step_failed",
        )
    loss = float(loss)
    expect(np.isfinite(loss), f"one training step of {name} gave the loss {loss}.")


# ----------------------------------------------------------------------------------------------
# per_class_accuracy(labels, predictions, nb_classes)
# ----------------------------------------------------------------------------------------------


# What each wrong share students compute gets wrong (their results are recorded from the
# wrong answers in pixelschool_admin/answers/cifar_cnn.py).
PER_CLASS_MESSAGES = {
    "overall": "every entry of per_class_accuracy is the overall accuracy: compute one share "
    "per class, among the images whose true label is that class.",
    "precision": "per_class_accuracy divides by how often each class was predicted (that is "
    "the precision, the columns of the confusion matrix): divide by how many images truly are "
    "of each class (its row).",
    "counts": "per_class_accuracy returns the number of correct predictions per class; divide "
    "by the number of images of each class to get a share between 0 and 1.",
}


def predictions_for(rng, labels, nb_classes, all_predicted):
    """Predictions right about 60% of the time; optionally never predicting the last class."""
    wrong = rng.random(len(labels)) < 0.4
    predictions = np.where(wrong, rng.integers(nb_classes, size=len(labels)), labels)
    if all_predicted:
        predictions[:nb_classes] = np.arange(nb_classes)
    else:
        predictions[predictions == nb_classes - 1] = 0
    return predictions


def per_class_inputs(rng):
    """Argument tuples (labels (N,), predictions (N,), nb_classes), every class in labels: two
    small cases of known shares ([0.5, 1, 0] and [1, 1]), then random ones where every class is
    predicted, and where the last class never is."""
    cases = [
        (np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]), 3),
        (np.array([1, 0]), np.array([1, 0]), 2),
    ]
    for all_predicted in (True, False):
        nb_classes = int(rng.integers(3, 11))
        n = int(rng.integers(60, 200))
        labels = np.concatenate([np.arange(nb_classes), rng.integers(nb_classes, size=n)])
        labels = rng.permutation(labels)
        cases.append((labels, predictions_for(rng, labels, nb_classes, all_predicted), nb_classes))
    return cases


def same_shares(result, expected):
    """:func:`close`, a NaN (a mistake's 0 / 0 for a class never predicted) equal to a NaN."""
    try:
        result, expected = np.asarray(result, dtype=np.float64), np.asarray(expected, np.float64)
    except (TypeError, ValueError):
        return False
    nan = np.isnan(expected)
    return (
        result.shape == expected.shape
        and np.array_equal(np.isnan(result), nan)
        and close(result[~nan], expected[~nan])
    )


def shifted_by_one_class(result, case):
    expected = case.expected
    if len(expected) < 3:  # one entry compared: it says nothing
        return None
    if np.allclose(result[:-1], expected[1:]) or np.allclose(result[1:], expected[:-1]):
        return (
            f"{call_text(case)} is off by one class: entry k must be the accuracy on class k, "
            "and the classes are numbered 0 to nb_classes - 1."
        )
    return None


def percentages(result, case):
    if np.allclose(result, 100 * case.expected):
        return f"{call_text(case)} returns percentages; return shares between 0 and 1."
    return None


def call_text(case):
    return f"per_class_accuracy(labels, predictions, {case.args[2]})"


def judge_per_class(results, cases):
    for result, case in zip(results, cases):
        nb_classes, what = case.args[2], call_text(case)
        if isinstance(result, np.ndarray) and result.ndim == 1 and len(result) < nb_classes:
            raise named(
                f"{what} has shape {result.shape}, fewer entries than the {nb_classes} classes: "
                "a class that is never (correctly) predicted gets no count from np.bincount "
                "unless you pass minlength=nb_classes.",
                "classes_from_labels",
            )
        template = placeholder(result, case)
        expect(template is None, f"per_class_accuracy: {template}")
        expect_array(result, what, shape=(nb_classes,), kind="f")
    verdict(
        results,
        cases,
        "per_class_accuracy",
        PER_CLASS_MESSAGES,
        same=same_shares,
        relations=[shifted_by_one_class, percentages],
        otherwise=lambda result, case: (
            f"{call_text(case)} is wrong for some classes: entry k is the share of the images "
            "of true class k that were predicted as k (the diagonal of the confusion matrix "
            "divided by its row sums)."
        ),
    )


@feedback_check("per_class_accuracy", inputs=per_class_inputs, judge=judge_per_class)
def test_per_class_accuracy(per_class_accuracy, cases):
    cases.call_all(per_class_accuracy)
