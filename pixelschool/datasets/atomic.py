"""Publish a folder atomically, so a half-written folder is never left where readers look."""

import os
import tempfile
from pathlib import Path


def scratch_dir(dest: Path) -> tempfile.TemporaryDirectory:
    """A temporary folder beside ``dest`` (same file system, so a rename is atomic).

    Use it as a context manager; it is removed on exit, whatever happens.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)


def publish_dir(src: Path, dest: Path) -> Path:
    """Rename the finished folder ``src`` to ``dest`` in one step.

    If another process published ``dest`` first, keep theirs (ours is left in ``src``
    for the caller's scratch folder to clean up).
    """
    try:
        os.rename(src, dest)
    except OSError:
        if not dest.is_dir():
            raise
    return dest
