"""Local text files (``raqib match``, ``backtest``, ``replay``): read safely, decoded as pages are.

Rules:
- :func:`list_text_files`: a path named directly is taken as it is; a directory gives its entries
  named ``*.txt`` that are not directories, sorted by name (not recursive);
- only regular files are read. A file is opened with ``O_NONBLOCK`` and checked with ``fstat`` on
  the open descriptor: a FIFO (even one named ``x.txt``), socket or device is refused without
  blocking, and a path swapped for another file after a check cannot slip in;
- at most :data:`MAX_TEXT_FILE_BYTES` are read (8 MiB; the environment variable
  ``RAQIB_MAX_TEXT_FILE_BYTES`` sets another bound): a larger file is refused, naming its size and
  the bound, before a byte of it is read; the read itself stops at the bound (a file that grows);
- bytes are decoded the way pages are (:func:`flows.text.decode.decode_undeclared`: byte-order
  mark, UTF-8, windows-1256 when the bytes read as Arabic, else charset-normalizer's guess); a
  leading BOM is not part of the text;
- a file with NUL bytes and no UTF-16/32 byte-order mark, or whose decoded text is more than 1 %
  control characters (tab, newlines and form feed aside), is binary and refused;
- a refused file is a :class:`TextFileError` naming the file and why; :func:`iter_text_files`
  hands it to the caller's ``on_error`` and goes on with the next file.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from pathlib import Path
from typing import Callable, Iterable, Iterator

__all__ = ["MAX_TEXT_FILE_BYTES", "TextFileError", "iter_text_files", "list_text_files", "max_text_file_bytes",
           "read_text_file"]

MAX_TEXT_FILE_BYTES = 8 * 1024 * 1024
MAX_TEXT_FILE_BYTES_ENV = "RAQIB_MAX_TEXT_FILE_BYTES"

_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory"))


class TextFileError(Exception):
    """A file that is not read, and why; ``str()`` is ``"<path>: <reason>"``."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def max_text_file_bytes() -> int:
    """The size bound: ``RAQIB_MAX_TEXT_FILE_BYTES`` when set to a positive integer, else the default."""
    raw = os.environ.get(MAX_TEXT_FILE_BYTES_ENV, "").strip()
    try:
        value = int(raw) if raw else MAX_TEXT_FILE_BYTES
    except ValueError:
        return MAX_TEXT_FILE_BYTES
    return value if value > 0 else MAX_TEXT_FILE_BYTES


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def read_bytes(path: Path, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; TextFileError otherwise."""
    limit = max_text_file_bytes() if max_bytes is None else max_bytes
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise TextFileError(path, "no such file") from None
    except IsADirectoryError:
        raise TextFileError(path, "is a directory") from None
    except OSError as exc:
        raise TextFileError(path, f"cannot open: {exc.strerror or exc.__class__.__name__}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
            raise TextFileError(path, f"is {kind}, not a regular file: skipped")
        if st.st_size > limit:
            raise TextFileError(path, f"is {_size(st.st_size)}, over the {_size(limit)} limit for a text file "
                                      f"({MAX_TEXT_FILE_BYTES_ENV}): skipped")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise TextFileError(path, f"grew over the {_size(limit)} limit while read: skipped")
    except OSError as exc:
        raise TextFileError(path, f"cannot read: {exc.strerror or exc.__class__.__name__}") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def decode_text(path: Path, data: bytes) -> str:
    """Text of a file's bytes (see the module rules); TextFileError for a binary file."""
    from flows.text.decode import decode_undeclared

    if b"\x00" in data and not data.startswith(_WIDE_BOMS):
        raise TextFileError(path, "binary file (NUL bytes), not text: skipped")
    text = decode_undeclared(data)
    if text.startswith("\ufeff"):
        text = text[1:]
    if text and len(_CONTROL_RE.findall(text)) > len(text) / 100:
        raise TextFileError(path, "binary file (control characters), not text: skipped")
    return text


def read_text_file(path: Path, max_bytes: int | None = None) -> str:
    """The decoded text of one regular file; TextFileError naming the file when it is refused."""
    path = Path(path)
    return decode_text(path, read_bytes(path, max_bytes))


def list_text_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named directly, and the ``.txt`` entries of directories (sorted, not directories)."""
    for p in paths:
        p = Path(p)
        if p.is_dir():
            yield from sorted(x for x in p.iterdir() if x.suffix == ".txt" and not x.is_dir())
        else:
            yield p


def iter_text_files(paths: Iterable[Path], on_error: Callable[[TextFileError], None],
                    max_bytes: int | None = None) -> Iterator[tuple[Path, str]]:
    """(path, text) for every readable text file of ``paths``; each refused one goes to ``on_error``."""
    for path in list_text_files(paths):
        try:
            text = read_text_file(path, max_bytes)
        except TextFileError as err:
            on_error(err)
            continue
        yield path, text
