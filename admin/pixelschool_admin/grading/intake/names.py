"""One rule for names that come from outside: student ids, and file or folder names.

A student id (from the roster, nbgrader's exchange, or an LMS folder through the roster)
becomes a folder under ``submitted/``, ``autograded/`` and ``feedback/`` and a key in the
gradebook: it is 1 to 64 characters, letters of any script (with their combining marks),
digits, single spaces inside, and ``_ - . @ '``; no leading dot, no ``..``. ``/ \\ :`` would
make it a path, ``+`` is the separator in nbgrader's inbound folder names. Ids are NFC.

A file name (one component of a zip entry, an LMS folder, a notebook) is anything but empty,
``.``/``..``, dot-leading, a path separator, a colon (drive letter or Windows stream), a
control or format character, or more than 255 bytes. A zip entry is refused for those in
any part, and for a link, an absolute path, a drive letter, a backslash, ``__MACOSX/``,
encryption, or more nesting than ``folder/subfolder/file``.
"""

import re
import stat
import unicodedata
from pathlib import Path

from pixelschool_admin.grading.errors import GradingError

MAX_ID_CHARS = 64
MAX_NAME_BYTES = 255
ID_PUNCTUATION = "_-.@'"


class RefusedName(GradingError):
    """A name from outside that the kit will not use as a student id or a path."""


def _control(value):
    """The first control, format, surrogate or unassigned character of ``value``, or None."""
    return next((c for c in value if unicodedata.category(c).startswith("C")), None)


def _check_common(value, kind):
    """The checks student ids and file names share; returns the NFC value."""
    if not isinstance(value, str):
        raise RefusedName(f"{kind} {value!r} refused: not text")
    nfc = unicodedata.normalize("NFC", value)
    bad = _control(nfc)
    if bad is not None:
        reason = f"control or format character U+{ord(bad):04X}"
    elif not nfc:
        reason = "empty"
    elif "/" in nfc or "\\" in nfc:
        reason = "contains a path separator ('/' or '\\')"
    elif ":" in nfc:
        reason = "contains ':' (a drive letter or a Windows stream)"
    elif nfc in (".", ".."):
        reason = "'.' or '..'"
    elif nfc.startswith("."):
        reason = "starts with a dot"
    else:
        return nfc
    raise RefusedName(f"{kind} {value!r} refused: {reason}")


def student_id(text):
    """``text`` as a student id (NFC), or ``RefusedName`` saying why it is not one."""
    value = _check_common(text, "student id")
    reason = None
    if len(value) > MAX_ID_CHARS:
        reason = f"longer than {MAX_ID_CHARS} characters"
    elif value[0] == " " or value[-1] == " ":
        reason = "leading or trailing space"
    elif "  " in value:
        reason = "two spaces in a row"
    elif ".." in value:
        reason = "contains '..'"
    elif "+" in value:
        reason = "contains '+' (nbgrader's separator in exchange folder names)"
    else:
        for i, char in enumerate(value):
            category = unicodedata.category(char)
            if category[0] == "L" or category == "Nd" or char in ID_PUNCTUATION + " ":
                continue
            if category[0] == "M" and i > 0:  # a combining mark NFC could not fold in
                continue
            reason = (
                f"character {char!r} not allowed (letters, digits, single spaces and "
                f"{' '.join(ID_PUNCTUATION)} only)"
            )
            break
    if reason:
        raise RefusedName(f"student id {text!r} refused: {reason}")
    return value


def file_name(text):
    """``text`` as one path component (NFC), or ``RefusedName`` saying why it is not one."""
    value = _check_common(text, "name")
    if len(value.encode("utf-8")) > MAX_NAME_BYTES:
        raise RefusedName(f"name {text!r} refused: longer than {MAX_NAME_BYTES} bytes")
    return value


def safe_join(root, *parts):
    """``root/part/...`` with every part checked by ``file_name``, and inside ``root`` resolved."""
    root = Path(root).resolve()
    path = root.joinpath(*(file_name(part) for part in parts))
    if not path.resolve().is_relative_to(root):  # a link on the way leads out
        raise RefusedName(f"path {str(path)!r} refused: resolves outside {root}")
    return path


def zip_entry_parts(info):
    """The checked path parts of zip entry ``info`` (``folder/file``, or ``folder/sub/file``
    for extra files), or ``RefusedName`` saying why not."""
    name, kind = info.filename, stat.S_IFMT(info.external_attr >> 16)
    reason = None
    if kind == stat.S_IFLNK:
        reason = "a symbolic link"
    elif kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        reason = "not a regular file"
    elif info.flag_bits & 0x1:
        reason = "encrypted"
    elif name.startswith("/"):
        reason = "an absolute path"
    elif "\\" in name:
        reason = "a backslash in the name"
    elif re.match(r"[A-Za-z]:", name):
        reason = "a drive letter"
    elif name.split("/")[0] == "__MACOSX":
        reason = "macOS metadata (__MACOSX/)"
    if reason:
        raise RefusedName(f"entry {name!r}: {reason}")
    parts = name.rstrip("/").split("/") if info.is_dir() else name.split("/")
    try:
        parts = [file_name(part) for part in parts]
    except RefusedName as error:
        raise RefusedName(f"entry {name!r}: {error}") from error
    if not info.is_dir() and len(parts) < 2:
        raise RefusedName(f"entry {name!r}: not inside a submission folder")
    if len(parts) > 3:
        raise RefusedName(f"entry {name!r}: nested deeper than folder/subfolder/file")
    return parts
