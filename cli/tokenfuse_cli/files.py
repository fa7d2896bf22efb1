"""Reading the files a command is given: a file that is missing, unreadable, a directory or not
UTF-8 is refused in one line naming it (exit 2, through :mod:`tokenfuse_cli.errors`)."""

import sys
from pathlib import Path

from tokenfuse_cli.errors import Refused

STDIN = "-"


def read_text(path: Path | str) -> str:
    """The file's text (``-``: stdin), decoded as UTF-8 (a byte-order mark is dropped)."""
    where = str(path)
    try:
        raw = sys.stdin.buffer.read() if where == STDIN else Path(path).read_bytes()
    except OSError as error:
        raise Refused(f"{where}: cannot read: {error.strerror or type(error).__name__}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Refused(
            f"{where}: not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})"
        ) from None
