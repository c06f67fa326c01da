"""Tests of pixelschool.datasets: official formats, search order, fast-mode stand-ins, downloads.

Fixtures are written in the official formats by the few lines of pickle/struct/gzip below,
independently of the package's own writers. Nothing here touches the network or the real home.
"""

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from pixelschool.datasets import (
    CIFAR10_CLASSES,
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    DatasetError,
    cifar10_dir,
    download,
    fetch,
    formats,
    load_cifar10,
    load_fashion_mnist,
    load_mnist,
    paths,
    synthetic,
)

REAL_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}


# ----------------------------------------------------------------------------------------------
# Independent fixture writers (official formats, a few lines each)
# ----------------------------------------------------------------------------------------------


def write_batch(file, images, labels, protocol=2):
    """images (N, 32, 32, 3) uint8 -> an official CIFAR-10 python batch (channel-major rows)."""
    batch = {
        b"batch_label": b"fixture batch",
        b"labels": [int(y) for y in labels],
        b"data": images.transpose(0, 3, 1, 2).reshape(len(images), 3072).copy(),
        b"filenames": [b"img_%d.png" % i for i in range(len(images))],
    }
    with open(file, "wb") as f:
        pickle.dump(batch, f, protocol=protocol)


def write_cifar_folder(folder, n=3, label=None, seed=0):
    """Five data batches, test_batch and batches.meta of n random images each.

    Returns the (N, 32, 32, 3) train images and (N,) labels it wrote, then the test ones.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in CIFAR_FILES:
        images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n) if label is None else np.full(n, label)
        write_batch(folder / name, images, labels)
        written[name] = (images, labels)
    meta = {b"label_names": [c.encode() for c in CIFAR10_CLASSES], b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    train = [written[f"data_batch_{i}"] for i in range(1, 6)]
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return x_train, y_train, *written["test_batch"]


def idx_bytes(array):
    """The raw IDX encoding of a uint8 array: magic 0x000008nd, big-endian sizes, data."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_folder(folder, n_train=6, n_test=4, label=None, seed=0):
    """The four gzipped MNIST IDX files of random 28x28 images. Returns the arrays written."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        arrays["x_" + split] = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n) if label is None else np.full(n, label)
        arrays["y_" + split] = labels.astype(np.uint8)
    for key, name in IDX_NAMES.items():
        (folder / name).write_bytes(gzip.compress(idx_bytes(arrays[key])))
    return arrays


def write_npz(file, n_train=6, n_test=4, label=None, seed=0):
    """A Keras-style mnist.npz of random images. Returns the arrays written."""
    arrays = write_idx_folder(file.parent / "unused-idx", n_train, n_test, label, seed)
    file.parent.mkdir(parents=True, exist_ok=True)
    np.savez(file, **arrays)
    return arrays


def sha256_of(file):
    return hashlib.sha256(Path(file).read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No fast mode, no data folder, offline, and a fake home (the real one is never touched)."""
    for name in ("COURSE_FAST", "NBGRADER_EXECUTION", "COURSE_DATA_DIR", "KERAS_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setattr(paths, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian-package")
    return home


def keras_cache(home):
    return home / ".keras" / "datasets"


# ----------------------------------------------------------------------------------------------
# CIFAR-10 format
# ----------------------------------------------------------------------------------------------


def write_batch_everywhere(folder, images, labels):
    """The same batch as all six batches of ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in CIFAR_FILES:
        write_batch(folder / name, images, labels)


def test_cifar_folder_shapes_dtypes_and_channel_order(tmp_path):
    images = np.zeros((2, 32, 32, 3), dtype=np.uint8)
    images[0, 0, 0] = [255, 0, 0]  # pure red, top-left
    images[0, 0, 1] = [0, 255, 0]  # pure green, one to the right (row-major)
    images[1, 31, 0] = [0, 0, 255]  # pure blue, bottom-left
    write_batch_everywhere(tmp_path, images, [3, 9])

    (x_train, y_train), (x, y) = formats._read_cifar_folder(tmp_path)

    assert x.shape == (2, 32, 32, 3) and x.dtype == np.uint8 and x.flags.c_contiguous
    assert y.dtype == np.int64 and y.tolist() == [3, 9]
    assert x[0, 0, 0].tolist() == [255, 0, 0]
    assert x[0, 0, 1].tolist() == [0, 255, 0]
    assert x[1, 31, 0].tolist() == [0, 0, 255]
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(x_train, np.concatenate([images] * 5))
    assert y_train.tolist() == [3, 9] * 5


def test_no_dataset_reader_passes_a_notebook_exercise():
    """The runtime's CIFAR-10 reader is not notebook 01's read_cifar_batch or read_cifar."""
    import problem_unittests
    from tests.leaks import passes, student_functions

    readers = {
        name: fn for name, fn in student_functions().items() if name.startswith("pixelschool.datas")
    }
    assert "pixelschool.datasets.formats._read_cifar_folder" in readers
    for exercise in ("read_cifar_batch", "read_cifar"):
        check = getattr(problem_unittests, f"test_{exercise}")
        assert not [name for name, fn in readers.items() if passes(check, fn)], exercise

    def batch_reader(file):  # the contract the runtime's reader had: the search finds it
        rows, labels = formats._read_cifar_rows(file)
        return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels

    assert passes(problem_unittests.test_read_cifar_batch, batch_reader)


def test_load_cifar10_reads_all_batches_in_order(tmp_path):
    x_train, y_train, x_test, y_test = write_cifar_folder(tmp_path / "cifar-10-batches-py")

    data = load_cifar10(tmp_path / "cifar-10-batches-py")

    assert data.x_train.shape == (15, 32, 32, 3) and data.x_train.dtype == np.uint8
    assert data.y_train.shape == (15,) and data.y_train.dtype == np.int64
    np.testing.assert_array_equal(data.x_train, x_train)
    np.testing.assert_array_equal(data.y_train, y_train)
    np.testing.assert_array_equal(data.x_test, x_test)
    np.testing.assert_array_equal(data.y_test, y_test)
    assert data.class_names == CIFAR10_CLASSES
    assert not data.synthetic and str(tmp_path) in data.source


def test_cifar10_dir_accepts_the_batches_folder_or_its_parent(tmp_path):
    folder = tmp_path / "parent" / "cifar-10-batches-py"
    write_cifar_folder(folder, n=1)
    assert cifar10_dir(folder) == folder
    assert cifar10_dir(tmp_path / "parent") == folder


def test_cifar10_search_order(tmp_path, monkeypatch, isolated_env):
    explicit = tmp_path / "explicit" / "cifar-10-batches-py"
    data_dir = tmp_path / "data"
    keras3 = keras_cache(isolated_env) / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    keras2 = keras_cache(isolated_env) / "cifar-10-batches-py"
    for folder in (explicit, data_dir / "cifar-10-batches-py", keras3, keras2):
        write_cifar_folder(folder, n=1)
    monkeypatch.setenv("COURSE_DATA_DIR", str(data_dir))

    assert cifar10_dir(explicit) == explicit
    assert cifar10_dir() == data_dir / "cifar-10-batches-py"
    monkeypatch.delenv("COURSE_DATA_DIR")
    assert cifar10_dir() == keras3
    (keras3 / "test_batch").unlink()  # an incomplete folder is skipped
    assert cifar10_dir() == keras2


def test_cifar10_found_under_keras_home(tmp_path, monkeypatch):
    keras_home = tmp_path / "keras-home"
    folder = keras_home / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    write_cifar_folder(folder, n=1)
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    assert cifar10_dir() == folder


@pytest.mark.parametrize("fast", [False, True])
def test_explicit_path_without_the_files_is_an_error_not_a_fallback(tmp_path, monkeypatch, fast):
    if fast:
        monkeypatch.setenv("COURSE_FAST", "1")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "data_batch_1").write_bytes(b"")
    with pytest.raises(DatasetError, match="data_batch_1..5"):
        cifar10_dir(empty)
    with pytest.raises(DatasetError, match="does not exist"):
        load_cifar10(tmp_path / "missing-folder")
    with pytest.raises(DatasetError, match="IDX"):
        load_fashion_mnist(empty)
    with pytest.raises(DatasetError, match="MNIST"):
        load_mnist(empty)


def test_missing_cifar10_outside_fast_mode_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(DatasetError) as info:
        cifar10_dir()
    message = str(info.value)
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in message
    assert "COURSE_DATA_DIR" in message and "COURSE_OFFLINE" in message
    assert str(tmp_path / "data" / "cifar-10-batches-py") in message  # a place searched
    assert not (tmp_path / "data" / "synthetic").exists()


def test_truncated_or_hostile_cifar_pickle_is_a_clear_error(tmp_path):
    images = np.zeros((2, 32, 32, 3), dtype=np.uint8)
    write_batch(tmp_path / "good", images, [0, 1])
    assert formats._read_cifar_rows(tmp_path / "good")[0].shape == (2, 3072)
    (tmp_path / "truncated").write_bytes((tmp_path / "good").read_bytes()[:100])
    with pytest.raises(DatasetError, match="truncated"):
        formats._read_cifar_rows(tmp_path / "truncated")

    class Hostile:  # unpickling would call os.getcwd(): harmless, but code all the same
        def __reduce__(self):
            return (os.getcwd, ())

    (tmp_path / "hostile").write_bytes(pickle.dumps({b"data": Hostile()}, protocol=2))
    with pytest.raises(DatasetError, match="hostile.*refusing to load"):
        formats._read_cifar_rows(tmp_path / "hostile")

    (tmp_path / "nokeys").write_bytes(pickle.dumps({b"labels": [0]}, protocol=2))
    with pytest.raises(DatasetError, match="missing key"):
        formats._read_cifar_rows(tmp_path / "nokeys")

    write_batch(tmp_path / "badlabels", images, [0, 10])
    with pytest.raises(DatasetError, match=r"0\.\.9"):
        formats._read_cifar_rows(tmp_path / "badlabels")

    write_batch(tmp_path / "toofewlabels", images, [0])
    with pytest.raises(DatasetError, match="2 images but 1 labels"):
        formats._read_cifar_rows(tmp_path / "toofewlabels")


def test_cifar_writers_round_trip_in_the_official_format(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)
    labels = np.array([0, 9, 4, 4])
    formats.write_cifar_batch(tmp_path / "batch", images, labels, batch_label="training batch 1")
    formats.write_cifar_meta(tmp_path / "batches.meta", CIFAR10_CLASSES)

    raw = (tmp_path / "batch").read_bytes()
    assert raw[:2] == b"\x80\x02" and b"_codecs" not in raw  # protocol 2, Python-2 strings
    with open(tmp_path / "batch", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    assert batch[b"batch_label"] == b"training batch 1" and len(batch[b"filenames"]) == 4
    assert batch[b"data"].shape == (4, 3072) and batch[b"labels"] == [0, 9, 4, 4]
    np.testing.assert_array_equal(batch[b"data"][:, :1024].reshape(4, 32, 32), images[..., 0])

    for name in CIFAR_FILES:
        formats.write_cifar_batch(tmp_path / name, images, labels)
    (x_train, y_train), (x, y) = formats._read_cifar_folder(tmp_path)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert formats.read_cifar_meta(tmp_path / "batches.meta") == CIFAR10_CLASSES


def test_keras_reader_agrees_with_ours(tmp_path):
    keras_cifar = pytest.importorskip("keras.src.datasets.cifar")
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    # Keras refuses the `_codecs.encode` calls Python 3 writes for bytes at protocol 2, so
    # the independent fixture uses protocol 4; the package writer emits Python-2 strings.
    for folder in ("fixture", "ours"):
        (tmp_path / folder).mkdir()
    for name in CIFAR_FILES:
        write_batch(tmp_path / "fixture" / name, images, [1, 2, 3], protocol=4)
        formats.write_cifar_batch(tmp_path / "ours" / name, images, [1, 2, 3])
    for folder in ("fixture", "ours"):
        keras_data, keras_labels = keras_cifar.load_batch(str(tmp_path / folder / "test_batch"))
        _, (x, y) = formats._read_cifar_folder(tmp_path / folder)
        np.testing.assert_array_equal(keras_data.transpose(0, 2, 3, 1), x)
        assert list(keras_labels) == y.tolist()


# ----------------------------------------------------------------------------------------------
# IDX and mnist.npz formats
# ----------------------------------------------------------------------------------------------


def test_idx_reader_gzipped_and_raw(tmp_path):
    arrays = write_idx_folder(tmp_path)
    images = formats.read_idx_images(tmp_path / IDX_NAMES["x_train"])
    labels = formats.read_idx_labels(tmp_path / IDX_NAMES["y_train"])
    assert images.shape == (6, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (6,) and labels.dtype == np.int64
    np.testing.assert_array_equal(images, arrays["x_train"])
    np.testing.assert_array_equal(labels, arrays["y_train"])
    (tmp_path / "raw-idx3-ubyte").write_bytes(idx_bytes(arrays["x_test"]))
    np.testing.assert_array_equal(formats.read_idx(tmp_path / "raw-idx3-ubyte"), arrays["x_test"])


def test_bad_idx_files_are_clear_errors(tmp_path):
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    good = gzip.compress(idx_bytes(images))
    (tmp_path / "truncated.gz").write_bytes(good[: len(good) // 2])
    with pytest.raises(DatasetError, match="truncated.gz.*gzip"):
        formats.read_idx(tmp_path / "truncated.gz")

    wrong_magic = struct.pack(">I", 0x00000903) + idx_bytes(images)[4:]  # type 0x09 = int8
    (tmp_path / "magic").write_bytes(wrong_magic)
    with pytest.raises(DatasetError, match="magic"):
        formats.read_idx(tmp_path / "magic")

    (tmp_path / "short").write_bytes(idx_bytes(images)[:-1])
    with pytest.raises(DatasetError, match="truncated"):
        formats.read_idx(tmp_path / "short")
    (tmp_path / "long").write_bytes(idx_bytes(images) + b"\0")
    with pytest.raises(DatasetError, match="holds 1569 bytes"):
        formats.read_idx(tmp_path / "long")

    (tmp_path / "images").write_bytes(idx_bytes(images))
    with pytest.raises(DatasetError, match="swap"):
        formats.read_idx_labels(tmp_path / "images")
    (tmp_path / "labels").write_bytes(idx_bytes(np.array([0, 12], dtype=np.uint8)))
    with pytest.raises(DatasetError, match=r"0\.\.9"):
        formats.read_idx_labels(tmp_path / "labels")


def test_idx_writer_round_trips(tmp_path):
    images = np.random.default_rng(3).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    formats.write_idx(tmp_path / "x.gz", images)
    assert gzip.decompress((tmp_path / "x.gz").read_bytes()) == idx_bytes(images)
    np.testing.assert_array_equal(formats.read_idx_images(tmp_path / "x.gz"), images)


def test_mnist_npz_reader_writer_and_numpy_agree(tmp_path):
    arrays = write_npz(tmp_path / "mnist.npz")
    x_train, y_train, x_test, y_test = formats.read_mnist_npz(tmp_path / "mnist.npz")
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert y_train.dtype == np.int64

    formats.write_mnist_npz(tmp_path / "ours.npz", x_train, y_train, x_test, y_test)
    with np.load(tmp_path / "ours.npz", allow_pickle=False) as npz:
        for key, value in arrays.items():
            np.testing.assert_array_equal(npz[key], value)


def test_bad_mnist_npz_is_a_clear_error(tmp_path):
    arrays = write_npz(tmp_path / "good.npz")
    np.savez(tmp_path / "nokeys.npz", x_train=arrays["x_train"])
    with pytest.raises(DatasetError, match="nokeys.npz.*missing"):
        formats.read_mnist_npz(tmp_path / "nokeys.npz")
    (tmp_path / "cut.npz").write_bytes((tmp_path / "good.npz").read_bytes()[:200])
    with pytest.raises(DatasetError, match="cut.npz"):
        formats.read_mnist_npz(tmp_path / "cut.npz")
    np.savez(tmp_path / "mismatch.npz", **{**arrays, "y_train": arrays["y_train"][:-1]})
    with pytest.raises(DatasetError, match="mismatch.npz"):
        formats.read_mnist_npz(tmp_path / "mismatch.npz")
    np.savez(tmp_path / "labels.npz", **{**arrays, "y_test": arrays["y_test"] + 10})
    with pytest.raises(DatasetError, match=r"0\.\.9"):
        formats.read_mnist_npz(tmp_path / "labels.npz")


# ----------------------------------------------------------------------------------------------
# MNIST and Fashion-MNIST loaders
# ----------------------------------------------------------------------------------------------


def test_load_mnist_search_order(tmp_path, monkeypatch, isolated_env):
    write_npz(tmp_path / "explicit" / "mnist.npz", label=1)
    write_npz(tmp_path / "data" / "mnist.npz", label=2)
    write_idx_folder(tmp_path / "data" / "mnist", label=3)
    write_npz(keras_cache(isolated_env) / "mnist.npz", label=4)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))

    def marker(data):
        return set(data.y_train.tolist())

    assert marker(load_mnist(tmp_path / "explicit" / "mnist.npz")) == {1}
    assert marker(load_mnist(tmp_path / "explicit")) == {1}  # a folder holding mnist.npz
    assert marker(load_mnist(tmp_path / "data" / "mnist")) == {3}  # a folder of IDX files
    assert marker(load_mnist()) == {2}
    (tmp_path / "data" / "mnist.npz").unlink()
    assert marker(load_mnist()) == {3}
    monkeypatch.delenv("COURSE_DATA_DIR")
    data = load_mnist()
    assert marker(data) == {4} and data.class_names == MNIST_CLASSES and not data.synthetic


def test_load_mnist_shapes_with_and_without_channel_axis(tmp_path):
    arrays = write_idx_folder(tmp_path / "mnist")
    data = load_mnist(tmp_path / "mnist")
    assert data.x_train.shape == (6, 28, 28, 1) and data.x_test.shape == (4, 28, 28, 1)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int64
    flat = load_mnist(tmp_path / "mnist", channel_axis=False)
    assert flat.x_train.shape == (6, 28, 28)
    np.testing.assert_array_equal(flat.x_train, arrays["x_train"])


def test_load_fashion_mnist_search_order(tmp_path, monkeypatch, isolated_env):
    write_idx_folder(tmp_path / "explicit", label=1)
    write_idx_folder(tmp_path / "data" / "fashion-mnist", label=2)
    write_idx_folder(tmp_path / "debian", label=3)
    write_idx_folder(keras_cache(isolated_env) / "fashion-mnist", label=4)
    monkeypatch.setattr(paths, "DEBIAN_FASHION_MNIST", tmp_path / "debian")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))

    assert set(load_fashion_mnist(tmp_path / "explicit").y_train.tolist()) == {1}
    assert set(load_fashion_mnist().y_train.tolist()) == {2}
    monkeypatch.delenv("COURSE_DATA_DIR")
    data = load_fashion_mnist()
    assert set(data.y_train.tolist()) == {3} and data.class_names == FASHION_MNIST_CLASSES
    monkeypatch.setattr(paths, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    assert set(load_fashion_mnist().y_train.tolist()) == {4}


def test_mismatched_idx_files_are_a_clear_error(tmp_path):
    write_idx_folder(tmp_path / "f")
    labels = np.zeros(5, dtype=np.uint8)
    (tmp_path / "f" / IDX_NAMES["y_train"]).write_bytes(gzip.compress(idx_bytes(labels)))
    with pytest.raises(DatasetError, match="6 train images but 5 labels"):
        load_fashion_mnist(tmp_path / "f")


def test_missing_mnist_and_fashion_mnist_outside_fast_mode_say_how_to_get_them():
    with pytest.raises(DatasetError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist()
    with pytest.raises(DatasetError) as info:
        load_mnist()
    assert "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz" in str(
        info.value
    )


# ----------------------------------------------------------------------------------------------
# Fast mode stand-ins
# ----------------------------------------------------------------------------------------------


def test_fast_mode_never_downloads(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_OFFLINE")
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))

    def no_download(*args, **kwargs):
        raise AssertionError("fast mode tried to download")

    for name in ("fetch", "fetch_cifar10", "fetch_fashion_mnist"):
        monkeypatch.setattr(download, name, no_download)
    assert load_cifar10().synthetic
    assert load_fashion_mnist().synthetic
    assert load_mnist().synthetic


@pytest.mark.parametrize("variable", ["COURSE_FAST", "NBGRADER_EXECUTION"])
def test_fast_mode_cifar10_is_synthetic_in_the_official_format(
    tmp_path, monkeypatch, capsys, variable
):
    monkeypatch.setenv(variable, "1")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))

    folder = cifar10_dir()

    assert capsys.readouterr().out.startswith("[fast mode]")
    assert folder.parent.parent == tmp_path / "data" / "synthetic"
    assert sorted(p.name for p in folder.iterdir()) == sorted(CIFAR_FILES + ["batches.meta"])
    with open(folder / "data_batch_1", "rb") as f:  # readable the way students read it
        batch = pickle.load(f, encoding="bytes")
    assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape[1] == 3072
    assert len(batch[b"labels"]) == len(batch[b"data"]) >= 100
    with open(folder / "batches.meta", "rb") as f:
        assert pickle.load(f, encoding="bytes")[b"label_names"][0] == b"airplane"

    data = load_cifar10()
    assert data.synthetic and "synthetic stand-in" in data.source
    assert data.x_train.shape[1:] == (32, 32, 3) and data.y_train.dtype == np.int64
    assert np.bincount(data.y_train).tolist() == [len(data.y_train) // 10] * 10
    leftovers = [p.name for p in folder.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def nearest_centroid_accuracy(x_train, y_train, x_test, y_test):
    x_train = x_train.reshape(len(x_train), -1).astype(float)
    x_test = x_test.reshape(len(x_test), -1).astype(float)
    centroids = np.stack([x_train[y_train == k].mean(0) for k in range(10)])
    dists = ((x_test[:, None] - centroids[None]) ** 2).sum(-1)
    return (dists.argmin(1) == y_test).mean()


def test_synthetic_sets_are_deterministic_and_learnable():
    x1, y1 = synthetic.cifar_like(400, seed=5)
    x2, y2 = synthetic.cifar_like(400, seed=5)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert x1.shape == (400, 32, 32, 3) and x1.dtype == np.uint8
    x_test, y_test = synthetic.cifar_like(200, seed=6)
    assert nearest_centroid_accuracy(x1, y1, x_test, y_test) > 0.3  # chance is 0.1

    g1, h1 = synthetic.mnist_like(400, seed=5)
    np.testing.assert_array_equal(g1, synthetic.mnist_like(400, seed=5)[0])
    assert g1.shape == (400, 28, 28) and g1.dtype == np.uint8
    g_test, h_test = synthetic.mnist_like(200, seed=6)
    assert nearest_centroid_accuracy(g1, h1, g_test, h_test) > 0.6


def test_synthetic_cache_is_shared_safely_by_parallel_workers(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    with ThreadPoolExecutor(max_workers=4) as pool:
        folders = list(pool.map(lambda _: synthetic.mnist_dir(), range(4)))
    assert len(set(folders)) == 1
    assert sorted(p.name for p in folders[0].parent.iterdir()) == ["mnist"]  # no temp folders
    first = formats.read_idx_images(folders[0] / IDX_NAMES["x_train"])
    (folders[0].parent / "mnist").rename(tmp_path / "old")
    second = formats.read_idx_images(synthetic.mnist_dir() / IDX_NAMES["x_train"])
    np.testing.assert_array_equal(first, second)  # regenerated identically


def test_fast_mode_mnist_uses_fashion_mnist_then_synthetic(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    write_idx_folder(tmp_path / "debian", label=7)
    monkeypatch.setattr(paths, "DEBIAN_FASHION_MNIST", tmp_path / "debian")

    data = load_mnist(channel_axis=False)
    assert "Fashion-MNIST" in capsys.readouterr().out.split("\n")[0]
    assert data.class_names == FASHION_MNIST_CLASSES and "Fashion-MNIST" in data.source
    assert set(data.y_train.tolist()) == {7} and data.x_train.shape == (6, 28, 28)

    monkeypatch.setattr(paths, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    data = load_mnist()
    assert capsys.readouterr().out.startswith("[fast mode]")
    assert data.synthetic and data.class_names == MNIST_CLASSES
    assert data.x_train.shape[1:] == (28, 28, 1) and data.x_train.dtype == np.uint8
    fashion = load_fashion_mnist()
    assert fashion.synthetic and fashion.class_names == FASHION_MNIST_CLASSES


def test_real_fashion_mnist_from_debian(monkeypatch):
    if not all((REAL_FASHION_MNIST / name).is_file() for name in IDX_NAMES.values()):
        pytest.skip(
            f"real Fashion-MNIST not in {REAL_FASHION_MNIST}: apt-get install dataset-fashion-mnist"
        )
    monkeypatch.setattr(paths, "DEBIAN_FASHION_MNIST", REAL_FASHION_MNIST)
    data = load_fashion_mnist()
    assert data.x_train.shape == (60000, 28, 28, 1) and data.x_test.shape == (10000, 28, 28, 1)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int64
    assert np.bincount(data.y_train).tolist() == [6000] * 10
    assert set(data.y_test.tolist()) == set(range(10))
    assert 0 < data.x_train.mean() < 255 and not data.synthetic


# ----------------------------------------------------------------------------------------------
# Downloads (file:// URLs only)
# ----------------------------------------------------------------------------------------------


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE")


def test_fetch_verifies_sha256_and_md5(tmp_path, online):
    source = tmp_path / "server" / "file.bin"
    source.parent.mkdir()
    source.write_bytes(b"payload" * 1000)
    md5 = hashlib.md5(source.read_bytes()).hexdigest()
    dest = tmp_path / "cache" / "file.bin"

    assert fetch(source.as_uri(), dest, sha256=sha256_of(source), md5=md5) == dest
    assert dest.read_bytes() == source.read_bytes()
    assert [p.name for p in dest.parent.iterdir()] == ["file.bin"]


@pytest.mark.parametrize("kind", ["sha256", "md5"])
def test_fetch_checksum_mismatch_leaves_nothing(tmp_path, online, kind):
    source = tmp_path / "server" / "file.bin"
    source.parent.mkdir()
    source.write_bytes(b"tampered")
    cache = tmp_path / "cache"
    with pytest.raises(DatasetError, match="file.bin.*corrupt"):
        fetch(source.as_uri(), cache / "file.bin", **{kind: "0" * 64})
    assert list(cache.iterdir()) == []


def test_fetch_of_a_missing_url_names_it_and_leaves_nothing(tmp_path, online):
    url = (tmp_path / "server" / "nothing.bin").as_uri()
    with pytest.raises(DatasetError, match="nothing.bin"):
        fetch(url, tmp_path / "cache" / "nothing.bin")
    assert list((tmp_path / "cache").iterdir()) == []


def test_corrupt_file_in_the_cache_is_not_trusted(tmp_path, monkeypatch):
    source = tmp_path / "good.bin"
    source.write_bytes(b"good data")
    dest = tmp_path / "cache" / "good.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"half a downl")
    with pytest.raises(DatasetError, match="COURSE_OFFLINE"):  # offline: removed, not trusted
        fetch(source.as_uri(), dest, sha256=sha256_of(source))
    assert not dest.exists()

    monkeypatch.delenv("COURSE_OFFLINE")
    dest.write_bytes(b"half a downl")
    fetch(source.as_uri(), dest, sha256=sha256_of(source))
    assert dest.read_bytes() == b"good data"

    monkeypatch.setenv("COURSE_OFFLINE", "1")  # a verified file is reused without downloading
    assert fetch("https://example.invalid/good.bin", dest, sha256=sha256_of(source)) == dest


def test_fetch_refuses_to_download_when_offline(tmp_path):
    with pytest.raises(DatasetError, match="COURSE_OFFLINE"):
        fetch("https://example.invalid/x.tar.gz", tmp_path / "x.tar.gz")
    assert not (tmp_path / "x.tar.gz").exists()


def make_cifar_archive(tmp_path):
    """A cifar-10-python.tar.gz look-alike holding a small cifar-10-batches-py folder."""
    x_train, *_ = write_cifar_folder(tmp_path / "src" / "cifar-10-batches-py", n=1)
    archive = tmp_path / "server" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    return archive, x_train


def test_cifar10_download_extracts_atomically_into_the_cache(tmp_path, monkeypatch, online):
    archive, x_train = make_cifar_archive(tmp_path)
    real_fetch = download.fetch_cifar10
    monkeypatch.setattr(
        download,
        "fetch_cifar10",
        lambda dest: real_fetch(dest, url=archive.as_uri(), sha256=sha256_of(archive)),
    )
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))

    data = load_cifar10()

    np.testing.assert_array_equal(data.x_train, x_train)
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["cifar-10-batches-py"]


def test_cifar10_download_with_a_bad_checksum_leaves_nothing(tmp_path, monkeypatch, online):
    archive, _ = make_cifar_archive(tmp_path)
    real_fetch = download.fetch_cifar10
    monkeypatch.setattr(
        download,
        "fetch_cifar10",
        lambda dest: real_fetch(dest, url=archive.as_uri(), sha256="0" * 64),
    )
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(DatasetError, match="(?s)download failed.*corrupt"):
        cifar10_dir()
    assert list((tmp_path / "data").iterdir()) == []


def test_truncated_archive_is_not_extracted(tmp_path):
    archive, _ = make_cifar_archive(tmp_path)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    dest = tmp_path / "out" / "cifar-10-batches-py"
    with pytest.raises(DatasetError, match="cut.tar.gz"):
        download.extract_folder(cut, "cifar-10-batches-py", dest)
    assert list((tmp_path / "out").iterdir()) == []


def test_archive_with_unsafe_paths_is_refused(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    with pytest.raises(DatasetError, match="unsafe"):
        download.extract_folder(archive, "cifar-10-batches-py", tmp_path / "out" / "x")
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "out" / "x").exists()
