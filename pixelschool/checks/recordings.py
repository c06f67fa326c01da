"""Recorded expectations: what the solution and its named mistakes return on a check's inputs.

``make build`` runs each exercise's inputs (``inputs(rng)`` of its check, for one seed) through the
solution notebook's own function and through the wrong answers of ``pixelschool_admin/answers`` and
saves them here, so that the checks hold no answer: a check compares the student's result with the
recorded one, and names the mistake whose recorded result it matches. The visible seed's recordings
ship with the package (``checks/recordings/``); the hidden seeds' stay with the instructor
(``admin/hidden/``) and are compared by the grader.

A recording is an ``.npz`` file (no pickles) per exercise: the arrays, and one JSON tree
(``__tree__``) that holds everything else and points at the arrays by key.
"""

import hashlib
import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

PACKAGE_DIR = Path(__file__).with_name("recordings")  # the visible seed's recordings
VISIBLE_SEED = 0
TREE = "__tree__"


@dataclass(eq=False)
class Case:
    """One call of a check: its arguments, the solution's result, the mistakes' results.

    ``mistakes`` is a list of ``(mistake, result)`` pairs, in the order the wrong answers are
    registered; ``expected`` is None while the grader still holds it (hidden seeds).
    """

    args: tuple
    expected: object = None
    mistakes: list = field(default_factory=list)


# --- encoding: nested values with arrays <-> a JSON tree and named arrays -------------


def encode(value, arrays):
    """The JSON tree of ``value``; its arrays are added to ``arrays`` under new keys."""
    if isinstance(value, (np.ndarray, np.generic)):
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(value)
        return {"array": key, "scalar": isinstance(value, np.generic)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"tuple": [encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [encode(v, arrays) for v in value]
    if isinstance(value, dict):
        return {"dict": {str(k): encode(v, arrays) for k, v in value.items()}}
    if isinstance(value, Opaque):
        return {"opaque": type(value).__name__}
    raise TypeError(f"cannot record a {type(value).__name__}")


class Opaque:
    """Stands for a value that cannot be recorded (a model, a generator, an object array).

    It keeps the original type's name, so that a judge that says "should be a NumPy array,
    not a <type>" still names what the student returned.
    """

    def __repr__(self):
        return f"<{type(self).__name__}>"


def opaque(type_name):
    return type(type_name, (Opaque,), {})()


def loose(value):
    """``value`` with whatever :func:`encode` cannot hold replaced by :class:`Opaque` stand-ins.

    For a student's results, which may be anything.
    """
    if isinstance(value, np.ndarray) and value.dtype.hasobject:
        return opaque("object_array")
    if isinstance(value, (np.ndarray, np.generic, bool, int, float, str)) or value is None:
        return value
    if isinstance(value, tuple):
        return tuple(loose(v) for v in value)
    if isinstance(value, list):
        return [loose(v) for v in value]
    if isinstance(value, dict):
        return {str(k): loose(v) for k, v in value.items()}
    return opaque(type(value).__name__)


class Limits(NamedTuple):
    """What :func:`from_bytes` reads of data from outside (a kernel's transcript)."""

    stored_bytes: int  # the .npz as handed over
    array_bytes: int  # the arrays' bytes, each reference counted (shared arrays are not free)
    nodes: int  # values in the tree
    depth: int  # nesting
    tree_bytes: int = 16_000_000  # the JSON tree, before it is parsed
    members: int = 10_000  # arrays (files in the .npz)


class TooLarge(ValueError):
    """Data over its :class:`Limits`."""


class Budget:
    """What is left of :class:`Limits` while one tree is decoded (None: no limits)."""

    def __init__(self, limits):
        self.limits, self.nodes, self.array_bytes = limits, 0, 0

    def take(self, depth, array=None):
        if self.limits is None:
            return
        self.nodes += 1
        self.array_bytes += 0 if array is None else array.nbytes
        if self.nodes > self.limits.nodes or depth > self.limits.depth:
            raise TooLarge(f"more than {self.limits.nodes} values or {self.limits.depth} levels")
        if self.array_bytes > self.limits.array_bytes:
            raise TooLarge(f"arrays of more than {self.limits.array_bytes:,} bytes in all")


def decode(tree, arrays, budget=None, depth=0):
    """The value that :func:`encode` turned into ``tree``.

    Without a budget each array is a copy (no check can change a recording); with one (data
    from outside) references share one read-only array, and each counts against the budget."""
    budget = budget or Budget(None)
    budget.take(depth)
    if isinstance(tree, list):
        return [decode(v, arrays, budget, depth + 1) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "array" in tree:
        array = arrays[tree["array"]]
        budget.take(depth, array)
        if budget.limits is None:
            array = np.array(array)
        return array[()] if tree["scalar"] else array
    if "tuple" in tree:
        return tuple(decode(v, arrays, budget, depth + 1) for v in tree["tuple"])
    if "opaque" in tree:
        return opaque(str(tree["opaque"]))
    return {str(k): decode(v, arrays, budget, depth + 1) for k, v in tree["dict"].items()}


def to_bytes(value):
    """``value`` (nested lists, tuples, dicts, arrays, numbers) as ``.npz`` bytes."""
    arrays = {}
    tree = encode(value, arrays)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays, **{TREE: np.frombuffer(json.dumps(tree).encode(), "u1")})
    return buffer.getvalue()


def from_bytes(data, limits=None):
    """The value that :func:`to_bytes` wrote. ``limits``: data from outside, whose sizes are
    checked before anything is read (``TooLarge``)."""
    if limits is not None:
        check_archive(data, limits)
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    if limits is not None:
        for array in arrays.values():
            array.flags.writeable = False
    return decode(json.loads(arrays.pop(TREE).tobytes()), arrays, Budget(limits))


# What np.savez_compressed writes; other methods (bzip2, LZMA) expand without a bound per read.
COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def check_archive(data, limits):
    """Raise ``TooLarge`` (or ``ValueError``) unless ``data`` is an .npz within ``limits``:
    its size, its members (.npy files of the method NumPy writes), the arrays each header
    announces (no more bytes than the member holds: NumPy allocates what a header announces
    before reading it, and an array of empty items costs no byte but takes forever to copy or
    compare), the JSON tree (before it is parsed). Only headers are read."""
    if len(data) > limits.stored_bytes:
        raise TooLarge(f"{len(data):,} bytes, more than the {limits.stored_bytes:,} read")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > limits.members:
            raise TooLarge(f"more than {limits.members:,} members")
        if sum(m.file_size for m in members) > limits.array_bytes:
            raise TooLarge(f"more than {limits.array_bytes:,} bytes unpacked")
        for member in members:
            if member.compress_type not in COMPRESSIONS or not member.filename.endswith(".npy"):
                raise ValueError(f"{member.filename}: not an array as NumPy writes it")
            if member.filename == f"{TREE}.npy" and member.file_size > limits.tree_bytes:
                raise TooLarge(f"a tree of more than {limits.tree_bytes:,} bytes")
            with archive.open(member) as f:
                check_header(f, member.file_size)


def check_header(f, stored):
    """Raise ``ValueError`` unless the .npy header read from ``f`` announces an array of
    non-empty items (or none) whose data fits in the ``stored`` bytes of its member."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f"an .npy header of version {version}")
    count = math.prod(shape)
    if dtype.hasobject or (count and not dtype.itemsize) or count * dtype.itemsize > stored:
        raise ValueError(f"an array header ({shape}, {dtype}) that its data does not fill")


def digest(value):
    """A short fingerprint of ``value`` (arrays by dtype, shape and bytes)."""
    arrays = {}
    tree = encode(value, arrays)
    hasher = hashlib.sha256(json.dumps(tree, sort_keys=True).encode())
    for key in sorted(arrays, key=lambda k: int(k[1:])):
        array = np.ascontiguousarray(arrays[key])
        hasher.update(f"{array.dtype.str}{array.shape}".encode())
        hasher.update(array.tobytes())
    return hasher.hexdigest()[:16]


# --- files: {seed: [Case, ...]} per exercise -----------------------------------------


def case_tree(case):
    return {"args": case.args, "expected": case.expected, "mistakes": case.mistakes}


def write(path, seeds):
    """Save ``{seed: [Case, ...]}`` to ``path`` (an ``.npz``)."""
    value = {str(seed): [case_tree(case) for case in cases] for seed, cases in seeds.items()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(to_bytes(value))


def read(path):
    """``{seed: [Case, ...]}`` from ``path``; ``{}`` when there is no such file."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return {}
    seeds = from_bytes(data)
    return {
        int(seed): [
            Case(tuple(c["args"]), c["expected"], [tuple(m) for m in c["mistakes"]]) for c in cases
        ]
        for seed, cases in seeds.items()
    }


def recording_path(exercise, folder=PACKAGE_DIR):
    return Path(folder) / f"{exercise}.npz"


def visible_cases(exercise):
    """The recorded cases of the visible seed, from the package; None if not recorded."""
    return read(recording_path(exercise)).get(VISIBLE_SEED)
