"""Reading an untrusted input within a size limit, decoding its text, guessing its format."""

from __future__ import annotations

__all__ = ["MAX_INPUT_BYTES", "decode_text", "guess_format", "read_limited", "read_source", "size"]

import codecs
import os
import stat
from pathlib import Path
from typing import BinaryIO

from geotrack.errors import ImportFileError

#: The largest input read (bytes, after decompression for KMZ).
MAX_INPUT_BYTES = 256 * 1024 * 1024


def size(n: int) -> str:
    """A byte count for messages.

    Examples
    --------
    >>> size(3 * 1024 * 1024), size(12)
    ('3.0 MiB', '12 bytes')
    """
    return f"{n / (1024 * 1024):.1f} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def read_limited(stream: BinaryIO, limit: int, what: str) -> bytes:
    """All of *stream*, refusing more than *limit* bytes.

    Examples
    --------
    >>> import io
    >>> read_limited(io.BytesIO(b"abc"), 10, "input")
    b'abc'
    """
    chunks, total = [], 0
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise ImportFileError(
                f"{what} is larger than {size(limit)}: split it into smaller files "
                "(nothing was imported)"
            )
        chunks.append(chunk)


def _regular_file_size(stream: BinaryIO) -> int | None:
    """The size of *stream* when it is a regular file (a pipe or socket has none)."""
    try:
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def read_source(source: str | Path | BinaryIO, limit: int) -> tuple[bytes, str | None]:
    """The bytes of a path or binary stream and its name (None for an unnamed stream).

    Examples
    --------
    >>> import io
    >>> read_source(io.BytesIO(b"lon,lat"), 100)
    (b'lon,lat', None)
    """
    name = getattr(source, "name", None) if not isinstance(source, (str, Path)) else str(source)
    if isinstance(name, int):  # a stream over a file descriptor
        name = None
    what = name or "input"
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            n = path.stat().st_size
            if n > limit:
                raise ImportFileError(
                    f"{path} is {size(n)}, over the {size(limit)} limit: split it into "
                    "smaller files (nothing was imported)"
                )
            with path.open("rb") as fh:
                return read_limited(fh, limit, what), name
        except FileNotFoundError:
            raise ImportFileError(f"file={str(path)!r} does not exist") from None
        except IsADirectoryError:
            raise ImportFileError(f"file={str(path)!r} is a folder, not a file") from None
        except PermissionError:
            raise ImportFileError(f"file={str(path)!r} cannot be read: permission denied") from None
    n = _regular_file_size(source)
    if n is not None and n > limit:  # an opened file (the CLI's): refuse before reading
        raise ImportFileError(
            f"{what} is {size(n)}, over the {size(limit)} limit: split it into "
            "smaller files (nothing was imported)"
        )
    return read_limited(source, limit, what), name


def decode_text(data: bytes, what: str, encoding: str | None) -> str:
    """Text of *data*: in *encoding*, else UTF-8/UTF-16 by byte-order mark, else UTF-8.

    Examples
    --------
    >>> decode_text("é".encode("utf-16"), "input", None)
    'é'
    """
    if encoding:
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except LookupError:
            raise ImportFileError(f"encoding={encoding!r} is not a known text encoding") from None
        except UnicodeError as exc:  # UnicodeDecodeError, or a bare one (punycode, idna)
            where = f"{exc.reason} at byte {exc.start}" if hasattr(exc, "start") else str(exc)
            raise ImportFileError(
                f"{what} is not {encoding}: {where}; re-save it as UTF-8 or name its real "
                "encoding with --encoding"
            ) from None
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(enc)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{what} is not UTF-8 ({exc.reason} at byte {exc.start}): save it as UTF-8, or name its "
            "encoding with --encoding (e.g. --encoding latin-1 or cp949)"
        ) from None


def guess_format(name: str | None, data: bytes) -> str:
    """The format of an input from its name, else from its first bytes.

    Examples
    --------
    >>> guess_format("a.KMZ", b""), guess_format(None, b'{"type": "Feature"}')
    ('kmz', 'geojson')
    """
    suffix = Path(name).suffix.lower().lstrip(".") if name else ""
    if suffix in ("geojson", "json", "geojsonl", "geojsons", "ndjson"):
        return "geojson"
    if suffix in ("csv", "txt", "tsv"):
        return "csv"
    if suffix in ("kml", "kmz", "gpkg"):
        return suffix
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n\x1e")
    if data[:16] == b"SQLite format 3\x00":
        return "gpkg"
    if data[:2] == b"PK":
        return "kmz"
    if head.startswith((b"{", b"[")):
        return "geojson"
    if head.startswith(b"<"):
        return "kml"
    return "csv"
