"""Readers and writers for the official on-disk formats.

* CIFAR-10 python batches: a Python-2 pickle of a dict with ``b"data"`` (N, 3072) uint8 in
  channel-major order (1024 red, 1024 green, 1024 blue values, each a row-major 32x32 plane),
  ``b"labels"``, ``b"batch_label"`` and ``b"filenames"``; ``batches.meta`` holds
  ``b"label_names"``.
* IDX files (MNIST, Fashion-MNIST), gzipped or raw: a big-endian magic number
  ``0x0000 | type code (0x08 = uint8) | ndim``, then ndim big-endian uint32 sizes, then the data.
* Keras' ``mnist.npz``: arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``.

Every reader raises ``DatasetError`` naming the file and the fix when the input is bad.
"""

import gzip
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .errors import DatasetError

CIFAR_SIDE = 32
CIFAR_VALUES = 3 * CIFAR_SIDE * CIFAR_SIDE  # 3072 values per image
IDX_UBYTE = 0x08
MNIST_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")

# The official file names.
CIFAR10_DATA_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
CIFAR10_BATCH_FILES = CIFAR10_DATA_BATCHES + ["test_batch"]
IDX_STEMS = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

# The only globals a CIFAR-10 pickle needs: numpy's array reconstruction, and `_codecs.encode`,
# which Python 3 uses for bytes in protocol 2. Anything else (os.system, eval...) is refused.
_PICKLE_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("_codecs", "encode"),
    }
)


# ----------------------------------------------------------------------------------------------
# CIFAR-10 python batches
# ----------------------------------------------------------------------------------------------


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickler that builds numpy arrays and plain containers, nothing else."""

    def find_class(self, module, name):
        if (module, name) in _PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


class _Python2Pickler(pickle._Pickler):
    """Protocol-2 pickler that writes ``bytes`` as Python-2 ``str`` opcodes, like cPickle did.

    Python 3 writes bytes at protocol 2 as calls to ``_codecs.encode``, which Keras' restricted
    unpickler refuses; the official CIFAR-10 files use plain string opcodes.
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def save_python2_str(self, obj):
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_python2_str


def _load_pickle(file: Path) -> dict:
    """Load a Python-2 pickle (``encoding="bytes"``) that must hold a dict."""
    try:
        with open(file, "rb") as f:
            obj = _ArraysOnlyUnpickler(f, encoding="bytes").load()
    except FileNotFoundError as exc:
        raise DatasetError(f"{file}: file not found.") from exc
    except Exception as exc:
        raise DatasetError(
            f"{file}: not a readable CIFAR-10 pickle ({type(exc).__name__}: {exc}). The file is "
            "truncated or corrupt: delete it and extract cifar-10-python.tar.gz again."
        ) from exc
    if not isinstance(obj, dict):
        raise DatasetError(f"{file}: expected a pickled dict, got {type(obj).__name__}.")
    return obj


def _require_keys(obj: dict, keys, file: Path):
    missing = [k for k in keys if k not in obj]
    if missing:
        raise DatasetError(
            f"{file}: missing key(s) {missing} (found {sorted(obj)}). This is not an official "
            "CIFAR-10 python batch: use the files from cifar-10-python.tar.gz."
        )


def check_labels(labels: np.ndarray, num_classes: int, file) -> np.ndarray:
    """Labels (N,) as int64; raise DatasetError if any is outside 0..num_classes-1."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DatasetError(
            f"{file}: labels must be a 1-D array of integers, got shape {labels.shape} "
            f"and dtype {labels.dtype}. The file is corrupt: get it again."
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise DatasetError(
            f"{file}: labels must be in 0..{num_classes - 1}, found {labels.min()}.."
            f"{labels.max()}. The file is corrupt or from another dataset: get it again."
        )
    return labels.astype(np.int64)


def _read_cifar_rows(file) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch as stored, checked.

    Returns:
        rows: (N, 3072) uint8, one channel-major image per row (1024 red, green, blue values).
        labels: (N,) int64 in 0..9.
    """
    file = Path(file)
    batch = _load_pickle(file)
    _require_keys(batch, (b"data", b"labels"), file)
    rows = np.asarray(batch[b"data"])
    if rows.dtype != np.uint8 or rows.ndim != 2 or rows.shape[1] != CIFAR_VALUES:
        raise DatasetError(
            f"{file}: b'data' must be an (N, {CIFAR_VALUES}) uint8 array, got shape "
            f"{rows.shape} and dtype {rows.dtype}. The file is corrupt: extract it again."
        )
    labels = check_labels(np.asarray(batch[b"labels"]), 10, file)
    if len(labels) != len(rows):
        raise DatasetError(
            f"{file}: {len(rows)} images but {len(labels)} labels. The file is corrupt: "
            "extract it again."
        )
    return rows, labels


def _read_cifar_folder(folder):
    """Read a CIFAR-10 python batches folder into Keras' layout.

    Returns ``(x_train, y_train), (x_test, y_test)``: images (N, 32, 32, 3) uint8, channels
    last (RGB), and labels (N,) int64 in 0..9; the training set is data_batch_1..5 in order.

    It reads the whole folder at once on purpose: a reader of one batch into images, or of
    the folder into one (images, labels) pair, would be notebook 01's answer (read_cifar_batch,
    read_cifar), and the student runtime ships no answer.
    """
    folder = Path(folder)
    splits = []
    for names in (CIFAR10_DATA_BATCHES, ["test_batch"]):
        batches = [_read_cifar_rows(folder / name) for name in names]
        rows = np.concatenate([rows for rows, _ in batches])
        images = rows.reshape(-1, 3, CIFAR_SIDE, CIFAR_SIDE).transpose(0, 2, 3, 1)
        splits.append((np.ascontiguousarray(images), np.concatenate([y for _, y in batches])))
    return tuple(splits)


def read_cifar_meta(file) -> list[str]:
    """Read ``batches.meta``: the 10 class names, in label order."""
    file = Path(file)
    meta = _load_pickle(file)
    _require_keys(meta, (b"label_names",), file)
    return [n.decode() if isinstance(n, bytes) else str(n) for n in meta[b"label_names"]]


def _dump_python2_pickle(obj: dict, file: Path):
    with open(file, "wb") as f:
        _Python2Pickler(f, protocol=2).dump(obj)


def write_cifar_batch(file, images: np.ndarray, labels, batch_label: str = "batch"):
    """Write images (N, 32, 32, 3) uint8 and labels (N,) as an official CIFAR-10 python batch."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.shape[1:] != (CIFAR_SIDE, CIFAR_SIDE, 3):
        raise ValueError(f"images must be (N, 32, 32, 3) uint8, got {images.shape} {images.dtype}")
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    data = images.transpose(0, 3, 1, 2).reshape(len(images), CIFAR_VALUES)
    batch = {
        b"batch_label": batch_label.encode(),
        b"labels": [int(y) for y in labels],
        b"data": np.ascontiguousarray(data),
        b"filenames": [f"image_{i:05d}.png".encode() for i in range(len(images))],
    }
    _dump_python2_pickle(batch, Path(file))


def write_cifar_meta(file, label_names, images_per_batch: int = 10000):
    """Write ``batches.meta`` with the given class names."""
    meta = {
        b"num_cases_per_batch": int(images_per_batch),
        b"label_names": [name.encode() for name in label_names],
        b"num_vis": CIFAR_VALUES,
    }
    _dump_python2_pickle(meta, Path(file))


# ----------------------------------------------------------------------------------------------
# IDX (MNIST, Fashion-MNIST)
# ----------------------------------------------------------------------------------------------


def _read_maybe_gzipped(file: Path) -> bytes:
    """The bytes of ``file``, gunzipped when it starts with the gzip magic 1f 8b."""
    try:
        raw = file.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            return gzip.decompress(raw)
        return raw
    except FileNotFoundError as exc:
        raise DatasetError(f"{file}: file not found.") from exc
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DatasetError(
            f"{file}: truncated or corrupt gzip file ({exc}). Delete it and get it again."
        ) from exc


def read_idx(file) -> np.ndarray:
    """Read an IDX file (gzipped or raw) of unsigned bytes: an array of the stored shape, uint8."""
    file = Path(file)
    raw = _read_maybe_gzipped(file)
    if len(raw) < 4:
        raise DatasetError(f"{file}: too short to be an IDX file. Delete it and get it again.")
    zero, type_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or type_code != IDX_UBYTE or ndim == 0:
        raise DatasetError(
            f"{file}: wrong magic number 0x{raw[:4].hex()} (expected 0x000008 followed by the "
            "number of dimensions, e.g. 0x00000803 for images, 0x00000801 for labels). This is "
            "not an MNIST-style IDX file of unsigned bytes: get the official file."
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{file}: IDX header is truncated. Delete it and get it again.")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header != expected:
        raise DatasetError(
            f"{file}: header says shape {shape} ({expected} bytes) but the file holds "
            f"{len(raw) - header} bytes of data. The file is truncated or corrupt: get it again."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def read_idx_images(file) -> np.ndarray:
    """Read an ``*-idx3-ubyte`` file: images (N, H, W) uint8."""
    images = read_idx(file)
    if images.ndim != 3:
        raise DatasetError(
            f"{file}: expected 3 dimensions (images, magic 0x00000803), got {images.ndim}. "
            "Did you swap the images and labels files?"
        )
    return images


def read_idx_labels(file, num_classes: int = 10) -> np.ndarray:
    """Read an ``*-idx1-ubyte`` file: labels (N,) int64 in 0..num_classes-1."""
    labels = read_idx(file)
    if labels.ndim != 1:
        raise DatasetError(
            f"{file}: expected 1 dimension (labels, magic 0x00000801), got {labels.ndim}. "
            "Did you swap the images and labels files?"
        )
    return check_labels(labels, num_classes, file)


def write_idx(file, array: np.ndarray):
    """Write a uint8 array of any shape as a gzipped IDX file."""
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim == 0:
        raise ValueError(f"IDX writer needs a uint8 array with ndim >= 1, got {array.dtype}")
    header = struct.pack(">HBB", 0, IDX_UBYTE, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(file, "wb", compresslevel=6) as f:
        f.write(header + np.ascontiguousarray(array).tobytes())


# ----------------------------------------------------------------------------------------------
# Keras mnist.npz
# ----------------------------------------------------------------------------------------------


def read_mnist_npz(file) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read Keras' ``mnist.npz``.

    Returns:
        x_train (N, 28, 28) uint8, y_train (N,) int64, x_test (M, 28, 28) uint8, y_test (M,) int64.
    """
    file = Path(file)
    try:
        with np.load(file, allow_pickle=False) as npz:
            missing = [k for k in MNIST_NPZ_KEYS if k not in npz.files]
            if missing:
                raise DatasetError(
                    f"{file}: missing array(s) {missing} (found {npz.files}). This is not "
                    "Keras' mnist.npz: delete it and get it again."
                )
            x_train, y_train, x_test, y_test = (npz[k] for k in MNIST_NPZ_KEYS)
    except DatasetError:
        raise
    except FileNotFoundError as exc:
        raise DatasetError(f"{file}: file not found.") from exc
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetError(
            f"{file}: not a readable .npz file ({exc}). It is truncated or corrupt: "
            "delete it and get it again."
        ) from exc
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.dtype != np.uint8 or x.ndim != 3:
            raise DatasetError(
                f"{file}: x_{name} must be (N, H, W) uint8, got shape {x.shape} and dtype "
                f"{x.dtype}. Delete the file and get it again."
            )
        if y.shape != (len(x),):
            raise DatasetError(
                f"{file}: x_{name} holds {len(x)} images but y_{name} has shape {y.shape}. "
                "Delete the file and get it again."
            )
    return x_train, check_labels(y_train, 10, file), x_test, check_labels(y_test, 10, file)


def write_mnist_npz(file, x_train, y_train, x_test, y_test):
    """Write the four arrays as a Keras-style ``mnist.npz`` (labels stored as uint8)."""
    with open(file, "wb") as f:  # a file object, so numpy does not append ".npz" to the name
        np.savez_compressed(
            f,
            x_train=np.asarray(x_train, dtype=np.uint8),
            y_train=np.asarray(y_train, dtype=np.uint8),
            x_test=np.asarray(x_test, dtype=np.uint8),
            y_test=np.asarray(y_test, dtype=np.uint8),
        )
