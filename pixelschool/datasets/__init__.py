"""Course datasets: CIFAR-10, MNIST and Fashion-MNIST, read from the official file formats.

    from pixelschool.datasets import load_cifar10
    data = load_cifar10()          # data.x_train: (50000, 32, 32, 3) uint8, data.y_train: (50000,)

See ``loaders`` for where each dataset is looked for, and when a stand-in is used (fast mode).
"""

from .classes import CIFAR10_CLASSES, FASHION_MNIST_CLASSES, MNIST_CLASSES
from .download import fetch
from .errors import DatasetError
from .loaders import Dataset, cifar10_dir, load_cifar10, load_fashion_mnist, load_mnist

__all__ = [
    "CIFAR10_CLASSES",
    "FASHION_MNIST_CLASSES",
    "MNIST_CLASSES",
    "Dataset",
    "DatasetError",
    "cifar10_dir",
    "fetch",
    "load_cifar10",
    "load_fashion_mnist",
    "load_mnist",
]
