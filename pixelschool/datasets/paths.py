"""Where datasets live: the course data folder, the Keras cache and the synthetic cache."""

import os
from pathlib import Path

from pixelschool.config import env_flag

DATA_DIR_ENV = "COURSE_DATA_DIR"
KERAS_HOME_ENV = "KERAS_HOME"
OFFLINE_ENV = "COURSE_OFFLINE"
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def course_data_dir() -> Path | None:
    """The folder named by ``$COURSE_DATA_DIR``, or None when it is not set."""
    value = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(value).expanduser() if value else None


def keras_datasets_dir() -> Path:
    """Keras' download cache: ``$KERAS_HOME/datasets``, else ``~/.keras/datasets``."""
    home = os.environ.get(KERAS_HOME_ENV, "").strip()
    base = Path(home).expanduser() if home else Path.home() / ".keras"
    return base / "datasets"


def synthetic_cache_dir() -> Path:
    """Where synthetic stand-ins are written: ``$COURSE_DATA_DIR/synthetic`` or
    ``~/.cache/pixelschool/synthetic``."""
    data_dir = course_data_dir()
    if data_dir is not None:
        return data_dir / "synthetic"
    return Path.home() / ".cache" / "pixelschool" / "synthetic"


def offline() -> bool:
    """True when ``$COURSE_OFFLINE`` forbids downloads (any value but '', '0', 'false', 'no')."""
    return env_flag(OFFLINE_ENV)
