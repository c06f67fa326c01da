"""Wrong answers to notebook 01 (the references are the solution notebook's own functions)."""

import pickle
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("01_data_preparation")

# --- read_cifar_batch --------------------------------------------------------------


@wrong("read_cifar_batch", says="channel-major", mistake="layout")
def read_cifar_batch_rows_as_images(file):
    with open(file, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    return batch[b"data"].reshape(-1, 32, 32, 3), np.array(batch[b"labels"])


@wrong("read_cifar_batch", says="channels-first", mistake="layout")
def read_cifar_batch_channels_first(file):
    with open(file, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    return batch[b"data"].reshape(-1, 3, 32, 32), np.array(batch[b"labels"])


@wrong("read_cifar_batch", says="flat rows", mistake="layout")
def read_cifar_batch_flat(file):
    with open(file, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    return batch[b"data"], np.array(batch[b"labels"])


@wrong("read_cifar_batch", says="Keep the images as stored, uint8", mistake="not_uint8")
def read_cifar_batch_float64(file):
    with open(file, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    data = batch[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(float)
    return data, np.array(batch[b"labels"])


@wrong("read_cifar_batch", says="should be a NumPy array, not a list")
def read_cifar_batch_labels_list(file):
    with open(file, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    return batch[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), batch[b"labels"]


@wrong("read_cifar_batch", says="raised ValueError")
def read_cifar_batch_hard_coded_size(file):
    with open(file, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    data = batch[b"data"].reshape(10000, 3, 32, 32).transpose(0, 2, 3, 1)
    return data, np.array(batch[b"labels"])


@wrong("read_cifar_batch", says="KeyError")
def read_cifar_batch_str_keys(file):
    with open(file, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    return batch["data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.array(batch["labels"])


# --- read_cifar --------------------------------------------------------------------

BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


@wrong("read_cifar", says="add test_batch too", mistake="missing_batches")
def read_cifar_no_test_batch(path):
    parts = [solution.read_cifar_batch(Path(path) / name) for name in BATCHES[:5]]
    return np.concatenate([d for d, _ in parts]), np.concatenate([lab for _, lab in parts])


@wrong("read_cifar", says="only one batch", mistake="missing_batches")
def read_cifar_first_batch(path):
    return solution.read_cifar_batch(Path(path) / "data_batch_1")


@wrong("read_cifar", says="no longer aligned", mistake="labels_misaligned")
def read_cifar_labels_reversed(path):
    parts = [solution.read_cifar_batch(Path(path) / name) for name in BATCHES]
    labels = np.concatenate([lab for _, lab in parts[::-1]])
    return np.concatenate([d for d, _ in parts]), labels


@wrong("read_cifar", says="raised KeyError")
def read_cifar_every_file(path):
    parts = [solution.read_cifar_batch(file) for file in sorted(Path(path).iterdir())]
    return np.concatenate([d for d, _ in parts]), np.concatenate([lab for _, lab in parts])


@wrong("read_cifar", says="images that are not in the files", mistake="images_garbled")
def read_cifar_raw_rows(path):
    parts = [read_cifar_batch_rows_as_images(Path(path) / name) for name in BATCHES]
    return np.concatenate([d for d, _ in parts]), np.concatenate([lab for _, lab in parts])


@wrong(
    "read_cifar",
    says="read data_batch_1 to data_batch_5 first, then test_batch",
    mistake="batch_order",
)
def read_cifar_test_batch_first(path):
    names = ["test_batch"] + BATCHES[:5]
    parts = [solution.read_cifar_batch(Path(path) / name) for name in names]
    return np.concatenate([d for d, _ in parts]), np.concatenate([lab for _, lab in parts])


@wrong("read_cifar", says="in the order data_batch_5, data_batch_4", mistake="batch_order")
def read_cifar_batches_reversed(path):
    parts = [solution.read_cifar_batch(Path(path) / name) for name in BATCHES[4::-1]]
    parts.append(solution.read_cifar_batch(Path(path) / "test_batch"))
    return np.concatenate([d for d, _ in parts]), np.concatenate([lab for _, lab in parts])


# --- split_dataset -----------------------------------------------------------------


@wrong("split_dataset", says="in this order", mistake="returns_reordered")
def split_dataset_sklearn_order(data, labels, split):
    return train_test_split(data, labels, train_size=split, random_state=0)


@wrong("split_dataset", says="shuffle before splitting", mistake="not_shuffled")
def split_dataset_no_shuffle(data, labels, split):
    n = int(split * len(data))
    return data[:n], labels[:n], data[n:], labels[n:]


@wrong("split_dataset", says="no longer aligned", mistake="labels_misaligned")
def split_dataset_separate_shuffles(data, labels, split):
    rng = np.random.default_rng(0)
    data, labels = rng.permutation(data), rng.permutation(labels)
    n = int(split * len(data))
    return data[:n], labels[:n], data[n:], labels[n:]


@wrong("split_dataset", says="as the test share", mistake="split_as_test_share")
def split_dataset_test_share(data, labels, split):
    data_train, data_test, labels_train, labels_test = train_test_split(
        data, labels, test_size=split, random_state=0
    )
    return data_train, labels_train, data_test, labels_test


@wrong("split_dataset", says="fix the seed", mistake="not_reproducible")
def split_dataset_unseeded(data, labels, split):
    data_train, data_test, labels_train, labels_test = train_test_split(
        data, labels, train_size=split
    )
    return data_train, labels_train, data_test, labels_test


@wrong("split_dataset", says="in place")
def split_dataset_shuffles_input(data, labels, split):
    order = np.random.default_rng(0).permutation(len(data))
    data[:], labels[:] = data[order], labels[order]
    n = int(split * len(data))
    return data[:n], labels[:n], data[n:], labels[n:]


# --- normalise_images --------------------------------------------------------------


@wrong("normalise_images", says="min and max of the batch", mistake="batch_min_max")
def normalise_images_min_max(images):
    images = images.astype(np.float32)
    return (images - images.min()) / (images.max() - images.min())


@wrong("normalise_images", says="scaled by the max of the batch", mistake="batch_max")
def normalise_images_by_max(images):
    return images.astype(np.float32) / images.max()


@wrong("normalise_images", says="Integer division")
def normalise_images_integer_division(images):
    return images // 255


@wrong("normalise_images", says="integer division (//) throws away")
def normalise_images_float_floor_division(images):
    return images.astype(np.float32) // 255


@wrong("normalise_images", says="not 256", mistake="by_256")
def normalise_images_by_256(images):
    return images.astype(np.float32) / 256


@wrong("normalise_images", says="Return float32")
def normalise_images_float64(images):
    return images / 255


@wrong("normalise_images", says="in place")
def normalise_images_in_place(images):
    images[...] = images / 255
    return images.astype(np.float32)


@wrong("normalise_images", says="[-1, 1]", mistake="centred")
def normalise_images_centred(images):
    return images.astype(np.float32) / 127.5 - 1


@right("normalise_images")
def normalise_images_float64_then_float32(images):
    return (images / 255.0).astype(np.float32)


@right("normalise_images")
def normalise_images_divide_into_float32(images):
    return np.divide(images, np.float32(255), dtype=np.float32)


# --- one_hot -----------------------------------------------------------------------


@wrong("one_hot", says="rows and columns are swapped", mistake="swapped")
def one_hot_transposed(vector, number_classes):
    return np.eye(number_classes)[vector].T


@wrong("one_hot", says="does not depend on `vector`", mistake="identity")
def one_hot_identity(vector, number_classes):
    return np.eye(number_classes)


@wrong("one_hot", says="one column to the left", mistake="one_based")
def one_hot_one_based(vector, number_classes):
    return np.eye(number_classes)[vector - 1]


@wrong("one_hot", says="not the largest label", mistake="classes_from_labels")
def one_hot_classes_from_data(vector, number_classes):
    return np.eye(vector.max() + 1)[vector]


@wrong("one_hot", says="should be a NumPy array")
def one_hot_nested_lists(vector, number_classes):
    return [[1 if label == k else 0 for k in range(number_classes)] for label in vector]


@wrong("one_hot", says="exactly one 1", mistake="not_one_per_row")
def one_hot_cumulative(vector, number_classes):
    return (np.arange(number_classes) <= vector[:, None]).astype(int)


# --- add_channel_axis --------------------------------------------------------------


@wrong("add_channel_axis", says="channel axis went first", mistake="channels_first")
def add_channel_axis_first(images):
    return images[:, np.newaxis]


@wrong("add_channel_axis", says="in front of the samples", mistake="axis_in_front")
def add_channel_axis_axis_zero(images):
    return np.expand_dims(images, 0)


@wrong("add_channel_axis", says="do not hard-code 28")
def add_channel_axis_hard_coded(images):
    return images.reshape(-1, 28, 28, 1)


@wrong("add_channel_axis", says="in place")
def add_channel_axis_sets_shape(images):
    images.shape = (*images.shape, 1)
    return images


@wrong("add_channel_axis", says="should not change the dtype", mistake="dtype_changed")
def add_channel_axis_float(images):
    return images.reshape(*images.shape, 1).astype(np.float32)
