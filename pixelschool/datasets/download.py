"""Verified, atomic downloads: a failed or corrupt download leaves nothing a later run trusts.

Downloads are refused when ``$COURSE_OFFLINE`` is set (the test suite and CI set it).
"""

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from .atomic import publish_dir, scratch_dir
from .errors import DatasetError
from .paths import OFFLINE_ENV, offline

TIMEOUT_S = 30
# tarfile's "data" filter (Python >= 3.10.12) refuses unsafe entries; _check_members covers older.
_DATA_FILTER = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}

KERAS_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# Pinned by Keras 3 (keras/src/datasets/cifar10.py and mnist.py).
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
MNIST_URL = KERAS_BASE + "mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

# Keras pins no checksum for Fashion-MNIST: these md5 sums are the ones Zalando publishes.
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}


def file_digest(file: Path, algorithm: str) -> str:
    """Hex digest of a file's contents ("sha256" or "md5"), read in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    with open(file, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_problem(file: Path, *, sha256=None, md5=None) -> str | None:
    """None when ``file`` matches every checksum given, else a sentence saying which differs."""
    for algorithm, expected in (("sha256", sha256), ("md5", md5)):
        if expected is None:
            continue
        actual = file_digest(file, algorithm)
        if actual != expected.lower():
            return f"{algorithm} is {actual}, expected {expected}"
    return None


def _download(url: str, out: Path, timeout: float):
    with urllib.request.urlopen(url, timeout=timeout) as response, open(out, "wb") as f:
        shutil.copyfileobj(response, f, 1 << 20)


def fetch(url: str, dest, *, sha256=None, md5=None, timeout: float = TIMEOUT_S) -> Path:
    """Download ``url`` to ``dest`` and verify it; return ``dest``.

    A file already at ``dest`` is verified first and kept if it matches; one that does not
    match is deleted. The download goes to a temporary file beside ``dest`` and is renamed
    into place only after its checksum matches, so ``dest`` is either complete or absent.
    """
    dest = Path(dest)
    if dest.is_file():
        if checksum_problem(dest, sha256=sha256, md5=md5) is None:
            return dest
        dest.unlink()  # corrupt or partial: never trust it
    if offline():
        raise DatasetError(
            f"Not downloading {url}: downloads are off because {OFFLINE_ENV} is set. "
            f"Download it on a machine with internet access and copy it to {dest}."
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        _download(url, tmp, timeout)
        problem = checksum_problem(tmp, sha256=sha256, md5=md5)
        if problem is not None:
            raise DatasetError(
                f"Download of {url} is corrupt ({problem}); nothing was kept. Try again, or "
                f"download it by hand and copy it to {dest}."
            )
        os.replace(tmp, dest)
    except DatasetError:
        raise
    except Exception as exc:
        raise DatasetError(
            f"Could not download {url} ({type(exc).__name__}: {exc}). Check your internet "
            f"connection and try again, or download it by hand and copy it to {dest}."
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _check_members(tar: tarfile.TarFile, archive: Path):
    """Refuse archives with absolute paths, '..' or links (they could write outside the folder)."""
    for member in tar.getmembers():
        parts = Path(member.name).parts
        if (
            member.name.startswith(("/", "\\"))
            or ".." in parts
            or not (member.isfile() or member.isdir())
        ):
            raise DatasetError(f"{archive}: unsafe entry {member.name!r}; delete the archive.")


def extract_folder(archive, member: str, dest) -> Path:
    """Extract the folder ``member`` of a tar archive to ``dest``, atomically; return ``dest``.

    Everything is extracted into a temporary folder beside ``dest`` first, and ``member`` is
    renamed to ``dest`` only once extraction has finished.
    """
    archive, dest = Path(archive), Path(dest)
    with scratch_dir(dest) as scratch:
        try:
            with tarfile.open(archive) as tar:
                _check_members(tar, archive)
                tar.extractall(scratch, **_DATA_FILTER)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise DatasetError(
                f"{archive}: cannot extract ({exc}). The archive is truncated or corrupt: "
                "delete it and download it again."
            ) from exc
        folder = Path(scratch) / member
        if not folder.is_dir():
            raise DatasetError(f"{archive}: has no folder {member!r}; it is not the right archive.")
        return publish_dir(folder, dest)


def fetch_cifar10(dest, *, url: str = CIFAR10_URL, sha256: str = CIFAR10_SHA256) -> Path:
    """Download cifar-10-python.tar.gz; extract its ``cifar-10-batches-py`` folder to ``dest``."""
    dest = Path(dest)
    archive = fetch(url, dest.parent / "cifar-10-python.tar.gz", sha256=sha256)
    try:
        return extract_folder(archive, "cifar-10-batches-py", dest)
    finally:
        archive.unlink(missing_ok=True)


def fetch_fashion_mnist(dest_dir, *, base_url: str = KERAS_BASE) -> Path:
    """Download the four Fashion-MNIST IDX files into ``dest_dir`` (md5-verified)."""
    dest_dir = Path(dest_dir)
    for name, md5 in FASHION_MNIST_MD5.items():
        fetch(base_url + name, dest_dir / name, md5=md5)
    return dest_dir
