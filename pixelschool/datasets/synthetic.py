"""Deterministic synthetic stand-ins, used only in fast mode when the real data is missing.

Each class is a distinct smooth pattern plus noise, so a classifier can learn it. The same
seed always gives the same images. The files are written in the official formats into a cache
folder (``$COURSE_DATA_DIR/synthetic`` or ``~/.cache/pixelschool/synthetic``), atomically, so
parallel test workers never see a half-written folder.
"""

from pathlib import Path

import numpy as np

from . import formats
from .atomic import publish_dir, scratch_dir
from .classes import CIFAR10_CLASSES
from .paths import synthetic_cache_dir

VERSION = "v1"  # bump when the generator changes, so stale caches are not reused
SEED = 0
NUM_CLASSES = 10
CIFAR_PER_BATCH = 300  # 5 training batches (1500 images) and a test batch of 300
MNIST_TRAIN, MNIST_TEST = 2000, 500


def balanced_labels(n: int, rng: np.random.Generator) -> np.ndarray:
    """Labels (n,) int64: each class equally often (up to one), in a shuffled order."""
    return rng.permutation(np.arange(n) % NUM_CLASSES).astype(np.int64)


def class_colours() -> np.ndarray:
    """(10, 3) floats in [0, 1]: one colour per class, spread around the hue circle."""
    hue = np.arange(NUM_CLASSES) / NUM_CLASSES
    # A smooth hue wheel: each channel is a shifted cosine of the hue angle.
    shifts = np.array([0.0, 1 / 3, 2 / 3])
    return 0.5 + 0.5 * np.cos(2 * np.pi * (hue[:, None] - shifts[None, :]))


def cifar_like(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic colour images: each class a tint and stripes at its own angle, plus noise.

    Returns:
        images: (n, 32, 32, 3) uint8.
        labels: (n,) int64 in 0..9.
    """
    rng = np.random.default_rng(seed)
    labels = balanced_labels(n, rng)
    yy, xx = np.mgrid[0:32, 0:32] / 32.0  # (32, 32) each
    angle = np.pi * labels / NUM_CLASSES  # (n,)
    phase = rng.uniform(0, 2 * np.pi, size=n)  # (n,)
    along = xx[None] * np.cos(angle)[:, None, None] + yy[None] * np.sin(angle)[:, None, None]
    stripes = np.sin(2 * np.pi * 3 * along + phase[:, None, None])  # (n, 32, 32)
    # Half the class colour, half a random one: colour alone does not give the class away.
    colour = 0.5 * class_colours()[labels] + 0.5 * rng.uniform(0, 1, size=(n, 3))  # (n, 3)
    brightness = rng.uniform(0.5, 1.0, size=(n, 1, 1, 1))
    images = brightness * colour[:, None, None, :] * (0.65 + 0.35 * stripes[..., None])
    images = 255 * images + rng.normal(0, 40, size=images.shape)
    return np.clip(images, 0, 255).astype(np.uint8), labels


def mnist_like(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic grey digits: a bright bar at a class-specific angle and a dot, on black.

    Returns:
        images: (n, 28, 28) uint8.
        labels: (n,) int64 in 0..9.
    """
    rng = np.random.default_rng(seed)
    labels = balanced_labels(n, rng)
    yy, xx = np.mgrid[0:28, 0:28].astype(float)
    centre = 13.5 + rng.integers(-2, 3, size=(n, 2))  # (n, 2) random shift of the drawing
    dy = yy[None] - centre[:, 0, None, None]  # (n, 28, 28)
    dx = xx[None] - centre[:, 1, None, None]
    bar_angle = (np.pi * labels / NUM_CLASSES)[:, None, None]
    along = dx * np.cos(bar_angle) + dy * np.sin(bar_angle)
    across = -dx * np.sin(bar_angle) + dy * np.cos(bar_angle)
    bar = np.exp(-(across**2) / 2.0) * (np.abs(along) < 9)
    dot_angle = (2 * np.pi * labels / NUM_CLASSES)[:, None, None]
    dot = np.exp(-((dx - 8 * np.cos(dot_angle)) ** 2 + (dy - 8 * np.sin(dot_angle)) ** 2) / 4.0)
    images = 255 * np.clip(bar + dot, 0, 1) + rng.normal(0, 10, size=(n, 28, 28))
    images[images < 30] = 0  # a clean black background, as in MNIST
    return np.clip(images, 0, 255).astype(np.uint8), labels


def write_cifar10_folder(folder) -> Path:
    """Write a synthetic CIFAR-10 folder in the official format: 5 data batches, test_batch,
    batches.meta. Returns the folder."""
    folder = Path(folder)
    for i, name in enumerate(formats.CIFAR10_BATCH_FILES):
        images, labels = cifar_like(CIFAR_PER_BATCH, SEED + i)
        label = "testing batch 1 of 1" if name == "test_batch" else f"training batch {i + 1} of 5"
        formats.write_cifar_batch(folder / name, images, labels, batch_label=label)
    formats.write_cifar_meta(folder / "batches.meta", CIFAR10_CLASSES, CIFAR_PER_BATCH)
    return folder


def write_mnist_folder(folder) -> Path:
    """Write a synthetic MNIST-shaped set as the four gzipped IDX files. Returns the folder."""
    folder = Path(folder)
    x_train, y_train = mnist_like(MNIST_TRAIN, SEED)
    x_test, y_test = mnist_like(MNIST_TEST, SEED + 1)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for key, stem in formats.IDX_STEMS.items():
        formats.write_idx(folder / f"{stem}.gz", arrays[key].astype(np.uint8))
    return folder


def _cached_folder(dest: Path, names, write) -> Path:
    """Return ``dest`` once it holds every file in ``names``, writing it atomically if needed."""
    if all((dest / name).is_file() for name in names):
        return dest
    with scratch_dir(dest) as scratch:
        folder = Path(scratch) / dest.name
        folder.mkdir()
        write(folder)
        return publish_dir(folder, dest)


def cifar10_dir() -> Path:
    """The cached synthetic CIFAR-10 folder (official python-batch format), created on first use."""
    dest = synthetic_cache_dir() / VERSION / "cifar-10-batches-py"
    names = formats.CIFAR10_BATCH_FILES + ["batches.meta"]
    return _cached_folder(dest, names, write_cifar10_folder)


def mnist_dir() -> Path:
    """The cached synthetic MNIST-shaped folder (four IDX gz files), created on first use."""
    dest = synthetic_cache_dir() / VERSION / "mnist"
    names = [stem + ".gz" for stem in formats.IDX_STEMS.values()]
    return _cached_folder(dest, names, write_mnist_folder)


def is_synthetic(path) -> bool:
    """True when ``path`` lies inside the synthetic cache folder."""
    return Path(synthetic_cache_dir()).resolve() in Path(path).resolve().parents
