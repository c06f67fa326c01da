"""Find and load the course datasets.

Search order for each dataset: an explicit ``path`` (no fallback if it lacks the files), then
``$COURSE_DATA_DIR``, then the usual local copies (Debian package, Keras cache), then a
download (unless ``$COURSE_OFFLINE`` is set or in fast mode). Only in fast mode is a missing
dataset replaced by a stand-in, with a one-line notice; otherwise a ``DatasetError`` says how
to get the data.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pixelschool.config import fast_mode

from . import download, formats, paths, synthetic
from .classes import CIFAR10_CLASSES, FASHION_MNIST_CLASSES, MNIST_CLASSES
from .errors import DatasetError

CIFAR10_FOLDER = "cifar-10-batches-py"
MNIST_NPZ = "mnist.npz"


@dataclass(repr=False, eq=False)
class Dataset:
    """A train/test split.

    x_train: (N, H, W, C) uint8, or (N, H, W) without the channel axis.
    y_train: (N,) int64 labels in 0..len(class_names)-1.
    x_test, y_test: the same for the M test images.
    class_names: name of each label. source: where the data came from.
    synthetic: True when the images are a synthetic stand-in, not real data.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    source: str
    synthetic: bool = False

    def __repr__(self):
        return (
            f"Dataset(x_train={self.x_train.shape}, x_test={self.x_test.shape}, "
            f"{len(self.class_names)} classes, source={self.source!r})"
        )


# ----------------------------------------------------------------------------------------------
# Shared search steps
# ----------------------------------------------------------------------------------------------


def _notice(message: str):
    """Print a one-line fast-mode notice."""
    print(f"[fast mode] {message}")


def _try_download(fetch) -> tuple[Path | None, str]:
    """Call ``fetch()`` unless offline. Returns (path or None, why there is no path).

    Fast mode never downloads: it must stay quick and work without a network (autograding).
    """
    if paths.offline():
        return None, f"Downloads are off because {paths.OFFLINE_ENV} is set."
    if fast_mode():
        return None, "Fast mode does not download."
    try:
        return fetch(), ""
    except DatasetError as exc:
        return None, f"The download failed: {exc}"


def _missing(name: str, places, why_no_download: str, how_to: str, entry: str) -> DatasetError:
    """The error for a dataset found nowhere: where we looked and how to get it.

    ``entry`` is what ``$COURSE_DATA_DIR`` must contain, e.g. "mnist.npz".
    """
    searched = "\n".join(f"  - {place}" for place in places)
    return DatasetError(
        f"{name} not found. Searched:\n{searched}\n{why_no_download}\n"
        f"To get it: {how_to}\n"
        f"Or set {paths.DATA_DIR_ENV} to a folder that holds {entry}. (For a quick run without "
        "the data, fast mode, COURSE_FAST=1, uses a small stand-in.)"
    )


def _explicit(path, find, what: str) -> Path:
    """Resolve an explicit ``path`` with ``find(path) -> Path | None``; error if it fails."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DatasetError(f"{path} does not exist. Pass the {what}.")
    found = find(path)
    if found is None:
        raise DatasetError(f"{path} does not hold {what}.")
    return found


# ----------------------------------------------------------------------------------------------
# CIFAR-10
# ----------------------------------------------------------------------------------------------


def has_cifar10_batches(folder: Path) -> bool:
    """True when ``folder`` holds data_batch_1..5 and test_batch."""
    return all((folder / name).is_file() for name in formats.CIFAR10_BATCH_FILES)


def _cifar10_in(path: Path) -> Path | None:
    """The batches folder: ``path`` itself, or its ``cifar-10-batches-py`` subfolder."""
    for folder in (path, path / CIFAR10_FOLDER):
        if has_cifar10_batches(folder):
            return folder
    return None


def cifar10_places() -> list[Path]:
    """Where CIFAR-10 is looked for, in order (after an explicit path)."""
    keras = paths.keras_datasets_dir()
    places = [
        keras / "cifar-10-batches-py-target" / CIFAR10_FOLDER,  # Keras 3
        keras / CIFAR10_FOLDER,  # Keras 2
    ]
    data_dir = paths.course_data_dir()
    if data_dir is not None:
        places.insert(0, data_dir / CIFAR10_FOLDER)
    return places


def cifar10_dir(path=None) -> Path:
    """The folder holding the official CIFAR-10 python batches (data_batch_1..5, test_batch).

    Looks at ``path`` (the batches folder or its parent), ``$COURSE_DATA_DIR``, the Keras cache,
    then downloads; in fast mode only, falls back to a synthetic folder in the same format.
    """
    if path is not None:
        what = (
            f"the CIFAR-10 python batches (data_batch_1..5 and test_batch, as extracted from "
            f"{download.CIFAR10_URL}): pass the {CIFAR10_FOLDER} folder or its parent"
        )
        return _explicit(path, _cifar10_in, what)
    places = cifar10_places()
    for place in places:
        if has_cifar10_batches(place):
            return place
    folder, why = _try_download(lambda: download.fetch_cifar10(places[0]))
    if folder is not None:
        return folder
    if fast_mode():
        folder = synthetic.cifar10_dir()
        _notice(f"CIFAR-10 not found; using a synthetic stand-in in the official format: {folder}")
        return folder
    how_to = (
        f"download {download.CIFAR10_URL} (163 MB) and extract it so that {places[0]} holds "
        "data_batch_1..5 and test_batch."
    )
    raise _missing("CIFAR-10", places, why, how_to, CIFAR10_FOLDER + "/")


def load_cifar10(path=None) -> Dataset:
    """Load CIFAR-10 (real: 50000 train and 10000 test images).

    Returns a Dataset with x_train (N, 32, 32, 3) uint8, y_train (N,) int64 and the test split.
    """
    folder = cifar10_dir(path)
    (x_train, y_train), (x_test, y_test) = formats._read_cifar_folder(folder)
    class_names = list(CIFAR10_CLASSES)
    if (folder / "batches.meta").is_file():
        class_names = formats.read_cifar_meta(folder / "batches.meta")
    is_synthetic = synthetic.is_synthetic(folder)
    source = f"CIFAR-10 python batches in {folder}"
    if is_synthetic:
        source = f"synthetic stand-in for CIFAR-10 in {folder}"
    return Dataset(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=class_names,
        source=source,
        synthetic=is_synthetic,
    )


# ----------------------------------------------------------------------------------------------
# MNIST and Fashion-MNIST (28x28 grey, IDX files or mnist.npz)
# ----------------------------------------------------------------------------------------------


def _idx_file(folder: Path, stem: str) -> Path | None:
    """``stem.gz`` or raw ``stem`` in ``folder``, whichever exists."""
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def has_idx_files(folder: Path) -> bool:
    """True when ``folder`` holds the four MNIST-style IDX files (gzipped or raw)."""
    return all(_idx_file(folder, stem) is not None for stem in formats.IDX_STEMS.values())


def _has_mnist(place: Path) -> bool:
    """True for an mnist.npz file or a folder of IDX files."""
    return place.is_file() if place.suffix == ".npz" else has_idx_files(place)


def _mnist_in(path: Path) -> Path | None:
    """An npz file, a folder of IDX files, or a folder holding mnist.npz."""
    if path.is_file():
        return path
    if has_idx_files(path):
        return path
    if (path / MNIST_NPZ).is_file():
        return path / MNIST_NPZ
    return None


def _read_idx_folder(folder: Path, num_classes: int) -> tuple:
    """Read the four IDX files: (x_train (N, 28, 28), y_train (N,), x_test, y_test)."""
    arrays = {}
    for key, stem in formats.IDX_STEMS.items():
        file = _idx_file(folder, stem)
        if file is None:
            raise DatasetError(f"{folder}: missing {stem}.gz.")
        if key.startswith("x"):
            arrays[key] = formats.read_idx_images(file)
        else:
            arrays[key] = formats.read_idx_labels(file, num_classes)
    for split in ("train", "test"):
        x, y = arrays["x_" + split], arrays["y_" + split]
        if len(x) != len(y):
            raise DatasetError(
                f"{folder}: {len(x)} {split} images but {len(y)} labels. "
                "One of the files is from another set: get all four again."
            )
    return arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"]


def _read_grey(place: Path) -> tuple:
    """Read mnist.npz or a folder of IDX files: (x_train, y_train, x_test, y_test)."""
    if place.is_file():
        return formats.read_mnist_npz(place)
    return _read_idx_folder(place, 10)


def _grey_dataset(place, class_names, source, channel_axis, is_synthetic=False) -> Dataset:
    """Read a 28x28 grey set; images (N, 28, 28, 1), or (N, 28, 28) without channel_axis."""
    x_train, y_train, x_test, y_test = _read_grey(Path(place))
    if channel_axis:
        x_train, x_test = x_train[..., np.newaxis], x_test[..., np.newaxis]
    return Dataset(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=list(class_names),
        source=source,
        synthetic=is_synthetic,
    )


def _synthetic_grey(name: str, class_names, channel_axis) -> Dataset:
    folder = synthetic.mnist_dir()
    _notice(f"{name} not found; using a synthetic stand-in (28x28 grey IDX files): {folder}")
    source = f"synthetic stand-in for {name} in {folder}"
    return _grey_dataset(folder, class_names, source, channel_axis, is_synthetic=True)


_FASHION_WHAT = (
    "the four Fashion-MNIST IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)"
)
_FASHION_HOW_TO = (
    "on Debian/Ubuntu run `sudo apt-get install dataset-fashion-mnist` (installs the files in "
    f"{paths.DEBIAN_FASHION_MNIST}), or download {_FASHION_WHAT} from {download.KERAS_BASE} "
    "into a folder named fashion-mnist."
)


def fashion_mnist_places() -> list[Path]:
    """Where Fashion-MNIST is looked for, in order (after an explicit path)."""
    places = [paths.DEBIAN_FASHION_MNIST, paths.keras_datasets_dir() / "fashion-mnist"]
    data_dir = paths.course_data_dir()
    if data_dir is not None:
        places.insert(0, data_dir / "fashion-mnist")
    return places


def _local_fashion_mnist() -> Path | None:
    """The first folder of Fashion-MNIST IDX files found without downloading, or None."""
    return next((p for p in fashion_mnist_places() if has_idx_files(p)), None)


def load_fashion_mnist(path=None, *, channel_axis: bool = True) -> Dataset:
    """Load Fashion-MNIST (real: 60000 train and 10000 test images, 28x28 grey).

    Returns a Dataset with x_train (N, 28, 28, 1) uint8 ((N, 28, 28) when channel_axis=False)
    and y_train (N,) int64, and the same for the test split.
    """
    if path is not None:
        folder = _explicit(path, lambda p: p if has_idx_files(p) else None, _FASHION_WHAT)
    else:
        places = fashion_mnist_places()
        folder = _local_fashion_mnist()
        why = ""
        if folder is None:
            dest = (paths.course_data_dir() or paths.keras_datasets_dir()) / "fashion-mnist"
            folder, why = _try_download(lambda: download.fetch_fashion_mnist(dest))
        if folder is None and fast_mode():
            return _synthetic_grey("Fashion-MNIST", FASHION_MNIST_CLASSES, channel_axis)
        if folder is None:
            raise _missing("Fashion-MNIST", places, why, _FASHION_HOW_TO, "fashion-mnist/")
    source = f"Fashion-MNIST IDX files in {folder}"
    return _grey_dataset(folder, FASHION_MNIST_CLASSES, source, channel_axis)


def mnist_places() -> list[Path]:
    """Where MNIST is looked for, in order (after an explicit path)."""
    places = [paths.keras_datasets_dir() / MNIST_NPZ]
    data_dir = paths.course_data_dir()
    if data_dir is not None:
        places[:0] = [data_dir / MNIST_NPZ, data_dir / "mnist"]
    return places


def load_mnist(path=None, *, channel_axis: bool = True) -> Dataset:
    """Load MNIST digits (real: 60000 train and 10000 test images, 28x28 grey).

    ``path`` may be an mnist.npz file or a folder with the IDX files or mnist.npz. In fast mode
    a missing MNIST is replaced by real Fashion-MNIST (same format and shapes; its class names
    are used), else by a synthetic set.

    Returns a Dataset with x_train (N, 28, 28, 1) uint8 ((N, 28, 28) when channel_axis=False)
    and y_train (N,) int64, and the same for the test split.
    """
    if path is not None:
        what = "MNIST: pass mnist.npz or a folder with the four IDX files or mnist.npz"
        place = _explicit(path, _mnist_in, what)
        return _grey_dataset(place, MNIST_CLASSES, f"MNIST from {place}", channel_axis)
    places = mnist_places()
    place = next((p for p in places if _has_mnist(p)), None)
    why = ""
    if place is None:
        place, why = _try_download(
            lambda: download.fetch(download.MNIST_URL, places[0], sha256=download.MNIST_SHA256)
        )
    if place is not None:
        return _grey_dataset(place, MNIST_CLASSES, f"MNIST from {place}", channel_axis)
    if not fast_mode():
        how_to = f"download {download.MNIST_URL} to {places[0]}."
        raise _missing("MNIST", places, why, how_to, MNIST_NPZ)
    fashion = _local_fashion_mnist()
    if fashion is None:
        return _synthetic_grey("MNIST", MNIST_CLASSES, channel_axis)
    _notice(f"MNIST not found; using real Fashion-MNIST (same format and shapes) from {fashion}")
    source = f"Fashion-MNIST stand-in for MNIST, IDX files in {fashion}"
    return _grey_dataset(fashion, FASHION_MNIST_CLASSES, source, channel_axis)
