"""Feedback checks for notebook 01, data preparation.

Each ``test_<name>(fn, seed=0)`` calls the student's function on random inputs and names the
mistake when the answer is wrong. ``normalise_images`` compares with recorded expectations
(``recordings/normalise_images.npz``). The others hold no answer, so they stay code: their
expectation is the input itself (the CIFAR readers read batches the check wrote in the
official format to a temporary folder; ``add_channel_axis`` keeps the pixels) or a relation
to it (``one_hot``: the 1 of row i is in column vector[i]; ``split_dataset``: any seeded
shuffle is right, so train and test must partition the samples, aligned with their labels).
"""

import math
import tempfile
from pathlib import Path

import numpy as np

from pixelschool.checks import mistakes
from pixelschool.checks.compare import RTOL_FLOAT32, close, placeholder, verdict
from pixelschool.checks.framework import (
    call,
    expect,
    expect_array,
    expect_tuple,
    feedback_check,
)
from pixelschool.checks.mistakes import named
from pixelschool.datasets.formats import CIFAR10_BATCH_FILES, write_cifar_batch, write_cifar_meta

__all__ = [
    "test_read_cifar_batch",
    "test_read_cifar",
    "test_split_dataset",
    "test_normalize_images",
    "test_normalise_images",
    "test_one_hot",
    "test_add_channel_axis",
]

CIFAR_SHAPE = (32, 32, 3)
BATCH_HINT = (
    "The check writes small batches in the official format: open the file with "
    "pickle.load(f, encoding='bytes'), use the bytes keys b'data' and b'labels', and do not "
    "hard-code the 10000 images of a real batch."
)


def random_cifar(rng, n):
    """Random CIFAR-like images (n, 32, 32, 3) uint8 and labels (n,) in 0..9."""
    images = rng.integers(0, 256, size=(n, *CIFAR_SHAPE), dtype=np.uint8)
    return images, rng.integers(0, 10, size=n)


def diagnose_cifar_layout(images, expected):
    """Name the layout mistake when ``images`` hold the right bytes in the wrong order."""
    n = len(expected)
    rows = expected.transpose(0, 3, 1, 2).reshape(n, -1)  # the file's channel-major rows
    if images.shape == (n, 3072):
        return "you returned the flat rows of the file; reshape each row into an image (32, 32, 3)."
    if images.shape == (n, 3, 32, 32):
        return (
            "your images are channels-first (N, 3, 32, 32); move the channel axis last "
            "to get (N, 32, 32, 3), e.g. with .transpose(0, 2, 3, 1)."
        )
    if images.shape == expected.shape:
        if np.array_equal(images, rows.reshape(n, *CIFAR_SHAPE)):
            return (
                "you reshaped each row straight to (32, 32, 3), but CIFAR-10 rows are "
                "channel-major: 1024 red values, then 1024 green, then 1024 blue. Reshape to "
                "(N, 3, 32, 32) first, then move the channel axis last."
            )
        if np.array_equal(images, expected.transpose(0, 2, 1, 3)):
            return (
                "height and width are swapped: after reshaping to (N, 3, 32, 32), move the "
                "axes with .transpose(0, 2, 3, 1)."
            )
    return None


@feedback_check("read_cifar_batch")
def test_read_cifar_batch(read_cifar_batch, rng):
    for n in rng.choice([3, 7, 12, 20], size=2, replace=False):
        images, labels = random_cifar(rng, int(n))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "data_batch_1"
            write_cifar_batch(path, images, labels)
            result = call(
                read_cifar_batch, str(path), hint=BATCH_HINT, recorded_as=(images, labels)
            )
        expect_tuple(result, "read_cifar_batch", 2)
        data, data_labels = result
        expect_array(data, "The images (first value)")
        mistake = diagnose_cifar_layout(data, images)
        expect(mistake is None, f"read_cifar_batch: {mistake}", mistake="layout")
        expect(
            data.shape == images.shape,
            f"read_cifar_batch returned images of shape {data.shape} for a batch of {n} "
            f"images; expected ({n}, 32, 32, 3). Use the number of rows in the file, not a "
            "hard-coded 10000.",
            mistake="hard_coded_size",
        )
        expect(
            data.dtype == np.uint8,
            f"Keep the images as stored, uint8 (you returned {data.dtype}): 60000 float64 "
            "images take 1.4 GB, uint8 only 184 MB. normalise_images converts them later.",
            mistake="not_uint8",
        )
        expect(
            np.array_equal(data, images),
            "read_cifar_batch: the pixel values are not the file's.",
            mistake=mistakes.NO_NAMED_MISTAKE,
        )
        expect_array(data_labels, "The labels (second value)", shape=(n,), kind="iu")
        expect(
            np.array_equal(data_labels, labels),
            "read_cifar_batch: the labels are not the file's.",
            mistake="wrong_labels",
        )


@feedback_check("read_cifar")
def test_read_cifar(read_cifar, rng):
    sizes = rng.choice(
        np.arange(2, 12), size=len(CIFAR10_BATCH_FILES), replace=False
    )  # tells batches apart
    batches = [random_cifar(rng, int(n)) for n in sizes]
    with tempfile.TemporaryDirectory() as folder:
        for name, (images, labels) in zip(CIFAR10_BATCH_FILES, batches):
            write_cifar_batch(Path(folder) / name, images, labels)
        write_cifar_meta(Path(folder) / "batches.meta", [f"class {i}" for i in range(10)])
        result = call(
            read_cifar,
            folder,
            hint=BATCH_HINT + " batches.meta is not a batch.",
            recorded_as=batches,
        )
    expect_tuple(result, "read_cifar", 2)
    data, labels = result
    expect_array(data, "The images (first value)")
    expect_array(labels, "The labels (second value)", kind="iu")
    total = int(sizes.sum())
    counts = {
        int(sizes[:5].sum()): "only the five data batches: add test_batch too",
        int(sizes[0]): "only one batch: read data_batch_1 to data_batch_5 and test_batch",
        int(sizes[5]): "only test_batch: read the five data batches too",
    }
    expect(
        len(data) == total or len(data) not in counts,
        f"read_cifar read {len(data)} images, {counts.get(len(data))}.",
        mistake="missing_batches",
    )
    expect(
        data.shape == (total, *CIFAR_SHAPE),
        f"read_cifar returned images of shape {data.shape}; the folder holds {total} images, "
        f"so expected ({total}, 32, 32, 3) (all six batches, concatenated).",
        mistake="images_shape",
    )
    expect(
        labels.shape == (total,),
        f"read_cifar returned labels of shape {labels.shape}, expected ({total},).",
        mistake="labels_shape",
    )
    label_of = {
        image.tobytes(): label for images, ls in batches for image, label in zip(images, ls)
    }
    expect(
        all(image.tobytes() in label_of for image in data),
        "read_cifar returned images that are not in the files: check the reshape and "
        "transpose (use your read_cifar_batch).",
        mistake="images_garbled",
    )
    expect(
        all(label_of[image.tobytes()] == label for image, label in zip(data, labels)),
        "read_cifar: images and labels are no longer aligned; concatenate both in the same "
        "order of batches.",
        mistake="labels_misaligned",
    )
    in_order = np.concatenate([images for images, _ in batches])
    if not np.array_equal(data, in_order):
        order = batch_order(data, batches)
        read = f"in the order {', '.join(order)}" if order else "in another order"
        raise named(
            f"read_cifar read the batches {read}: read data_batch_1 to data_batch_5 first, "
            "then test_batch, so that the first 50000 images are the training set and the "
            "last 10000 the test set (sort the names, or list them in that order).",
            "batch_order",
        )


def batch_order(data, batches):
    """The names of the batches in the order ``data`` holds them, or None when ``data`` is not
    whole batches one after the other."""
    by_name = dict(zip(CIFAR10_BATCH_FILES, batches))
    order, start = [], 0
    while start < len(data):
        name = next(
            (
                name
                for name, (images, _) in by_name.items()
                if name not in order and np.array_equal(data[start : start + len(images)], images)
            ),
            None,
        )
        if name is None:
            return None
        order.append(name)
        start += len(by_name[name][0])
    return order


def split_sizes(n, split):
    """The acceptable numbers of training samples for a split share of ``n``."""
    return {math.floor(split * n), math.ceil(split * n), round(split * n)}


@feedback_check("split_dataset")
def test_split_dataset(split_dataset, rng):
    n, split = int(rng.integers(40, 80)), float(rng.choice([0.6, 0.7, 0.8, 0.9]))
    data = rng.permutation(n * 12).reshape(n, 2, 2, 3).astype(np.float32)  # unique values
    labels = rng.integers(0, 10, size=n)
    result = call(split_dataset, data, labels, split)
    expect_tuple(result, "split_dataset", 4)
    data_train, labels_train, data_test, labels_test = result
    for value, what in zip(result, ["data_train", "labels_train", "data_test", "labels_test"]):
        expect_array(value, what)
    if labels_train.ndim != 1 or data_test.ndim == 1:
        raise named(
            "split_dataset must return data_train, labels_train, data_test, labels_test in "
            "this order. train_test_split returns X_train, X_test, y_train, y_test: reorder them.",
            "returns_reordered",
        )
    n_train = len(data_train)
    if n_train in split_sizes(n, 1 - split) - split_sizes(n, split):
        raise named(
            f"split={split} is the share of the data used for training; your training set "
            f"holds {n_train} of {n} samples, so you used it as the test share.",
            "split_as_test_share",
        )
    expect(
        n_train in split_sizes(n, split),
        f"With {n} samples and split={split} the training set should hold about "
        f"{round(split * n)} samples; yours holds {n_train}.",
        mistake="train_size",
    )
    expect(
        len(labels_train) == n_train and len(data_test) == len(labels_test) == n - n_train,
        "split_dataset: the data and label arrays of a set must have the same length, and "
        "train plus test must hold every sample once.",
        mistake="lengths_differ",
    )
    expect(
        data_train.shape[1:] == data.shape[1:] and data_test.shape[1:] == data.shape[1:],
        "split_dataset must keep each sample's shape (split along the first axis only).",
        mistake="sample_shape",
    )
    together = np.concatenate([data_train, data_test])
    expect(
        np.array_equal(np.sort(together[:, 0, 0, 0]), np.sort(data[:, 0, 0, 0])),
        "train and test together must hold every sample exactly once.",
        mistake="samples_lost",
    )
    index = np.argsort(data[:, 0, 0, 0])  # each sample's row, found by its unique first value
    rows = index[np.searchsorted(data[index, 0, 0, 0], together[:, 0, 0, 0])]
    expect(
        np.array_equal(np.concatenate([labels_train, labels_test]), labels[rows]),
        "images and labels are no longer aligned: shuffle data and labels with the same "
        "permutation (train_test_split(data, labels, ...) does it for you).",
        mistake="labels_misaligned",
    )
    expect(
        not np.array_equal(rows[:n_train], np.arange(n_train)),
        "the training set is the first samples in their original order: shuffle before "
        "splitting, the files may be sorted by class.",
        mistake="not_shuffled",
    )
    again = call(split_dataset, data, labels, split)
    expect(
        all(np.array_equal(a, b) for a, b in zip(result, again)),
        "split_dataset gives a different split each call: fix the seed (random_state=...) so "
        "results are reproducible.",
        mistake="not_reproducible",
    )


# What each scaling students write by mistake gets wrong (their results are recorded from
# the wrong answers in pixelschool_admin/answers/data_preparation.py).
NORMALISE_MESSAGES = {
    "batch_min_max": "you scaled by the min and max of the batch, not by 255: a pixel of 255 "
    "must map to 1.0 whatever the batch holds, so divide by 255.",
    "batch_max": "you scaled by the max of the batch, not by 255: a pixel of 255 must map to "
    "1.0 whatever the batch holds, so divide by 255.",
    "by_256": "divide by 255, the largest uint8 value, not 256: white must map to 1.0.",
    "centred": "the values should lie in [0, 1], not [-1, 1]: divide by 255 and do not centre.",
}


def normalise_inputs(rng):
    """Argument tuples (images,), uint8 of several shapes: a 2 x 2 image of known values, a
    dark batch (20..200, so the batch's min and max are not 0 and 255), a batch that spans
    0..255, then a random one."""
    known = np.array([[0, 51], [102, 255]], dtype=np.uint8)
    dark = rng.integers(20, 201, size=(int(rng.integers(2, 6)), 5, 4, 3), dtype=np.uint8)
    dark[0, 0, 0, :2] = 20, 200
    full = rng.integers(0, 256, size=(3, 6, 6, 1), dtype=np.uint8)
    full[0, 0, :2, 0] = 0, 255
    shape = tuple(int(n) for n in rng.integers(2, 8, size=3))
    return [(known,), (dark,), (full,), (rng.integers(0, 256, size=shape, dtype=np.uint8),)]


def only_zeros_and_ones(result, case):
    if set(np.unique(result).tolist()) <= {0, 1}:
        return (
            "normalise_images returned only zeros and ones: integer division (//) throws away "
            "the fraction. Divide with / on floats."
        )
    return None


def judge_normalise(results, cases):
    for result, case in zip(results, cases):
        template = placeholder(result, case)
        expect(template is None, f"normalise_images: {template}")
        expect_array(result, "normalise_images' result", shape=case.args[0].shape)
        expect(
            result.dtype.kind == "f",
            f"normalise_images returned {result.dtype} values: the result should be floats "
            "in [0, 1]. Integer division (//) or casting back to an integer type loses "
            "everything but 0 and 1.",
            mistake="integer_result",
        )
    verdict(
        results,
        cases,
        "normalise_images",
        NORMALISE_MESSAGES,
        same=lambda result, expected: close(result, expected, RTOL_FLOAT32),
        relations=[only_zeros_and_ones],
        otherwise="normalise_images: the values are not pixel / 255.",
    )
    for result in results:
        expect(
            result.dtype == np.float32,
            f"Return float32 (you returned {result.dtype}): it halves the memory of float64 "
            "and is what Keras computes in.",
            mistake="float64",
        )


@feedback_check("normalise_images", inputs=normalise_inputs, judge=judge_normalise)
def check_normalise_images(normalise_images, cases):
    cases.call_all(normalise_images)


# The seed's spelling, kept for notebooks released before. A graded cell calls
# test_normalise_images: the grader finds a hidden test by its exercise's name.
test_normalize_images = check_normalise_images
test_normalise_images = check_normalise_images
del check_normalise_images


@feedback_check("one_hot")
def test_one_hot(one_hot, rng):
    cases = [
        (int(rng.integers(6, 12)), 4),
        (5, 10),
        (4, 4),
    ]  # more, fewer, as many labels as classes
    for n, k in cases:
        vector = rng.integers(0, k, size=n)
        vector[0] = 0
        if k < n:
            vector[-1] = k - 1
        else:
            vector[vector == k - 1] = 0  # the last class absent: its column must still exist
        result = call(one_hot, vector, k)
        expect_array(result, "one_hot's result")
        if result.shape == (k, n) and n != k:
            raise named(
                "rows and columns are swapped: one_hot(vector, number_classes) returns one "
                f"row per label, shape (len(vector), number_classes) = ({n}, {k}); you "
                f"returned {result.shape}.",
                "swapped",
            )
        if result.shape == (k, k) and n != k:
            raise named(
                f"one_hot returned shape ({k}, {k}) for {n} labels: the result does not depend "
                "on `vector`. Did you return np.eye(number_classes)? Pick its rows with the "
                "labels.",
                "identity",
            )
        expect(
            result.shape == (n, k),
            f"one_hot(vector of {n} labels, number_classes={k}) returned shape {result.shape}, "
            f"expected ({n}, {k}). Use number_classes, not the largest label in vector.",
            mistake="classes_from_labels",
        )
        expect(
            set(np.unique(result).tolist()) <= {0, 1},
            "one_hot should hold only zeros and ones.",
            mistake="not_zeros_and_ones",
        )
        expect(
            np.all(result.sum(axis=1) == 1),
            "each row of one_hot should hold exactly one 1.",
            mistake="not_one_per_row",
        )
        if np.array_equal(result.argmax(axis=1), (vector - 1) % k):
            raise named(
                "the ones are one column to the left: label 0 belongs in column 0 (labels are "
                "0-based, do not subtract 1).",
                "one_based",
            )
        if n == k and np.array_equal(result, np.eye(k)):
            raise named(
                "one_hot returned the identity matrix: the result does not depend on `vector`.",
                "identity",
            )
        expect(
            np.array_equal(result.argmax(axis=1), vector),
            "one_hot: the 1 of row i must be in column vector[i].",
            mistake=mistakes.NO_NAMED_MISTAKE,
        )


@feedback_check("add_channel_axis")
def test_add_channel_axis(add_channel_axis, rng):
    for shape in [(int(rng.integers(2, 6)), 28, 28), (3, 32, 20)]:
        images = rng.integers(0, 256, size=shape, dtype=np.uint8)
        result = call(
            add_channel_axis,
            images,
            hint="The check uses images of several sizes: take them from images.shape, "
            "do not hard-code 28.",
        )
        expect_array(result, "add_channel_axis' result")
        n, h, w = shape
        if result.shape == (n, 1, h, w):
            raise named(
                f"the channel axis went first, shape {result.shape}; Keras expects it last: "
                f"({n}, {h}, {w}, 1).",
                "channels_first",
            )
        if result.shape == (1, n, h, w):
            raise named(
                "the new axis went in front of the samples; add it at the end (axis=-1).",
                "axis_in_front",
            )
        expect(
            result.shape == (n, h, w, 1),
            f"for images of shape {shape} add_channel_axis returned {result.shape}, expected "
            f"({n}, {h}, {w}, 1). Take the sizes from images.shape, do not hard-code 28.",
            mistake="hard_coded_size",
        )
        expect(
            result.dtype == images.dtype,
            "add_channel_axis should not change the dtype.",
            mistake="dtype_changed",
        )
        expect(
            np.array_equal(result[..., 0], images),
            "add_channel_axis changed the pixel values.",
            mistake=mistakes.NO_NAMED_MISTAKE,
        )
