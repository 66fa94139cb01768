"""Everything the CLI writes to a terminal goes through :func:`geotrack.escape.terminal_safe`.

Commands escape what they print (tables, messages).  On top of that, while a
command runs, a standard stream that is a terminal is wrapped so that no
control sequence, bidi override or invisible character in *any* text reaches
it: data written as bytes (CSV to stdout), click's messages and a new
command's output alike.  Pipes and files get the data byte for byte.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import sys
from collections.abc import Iterator
from typing import IO, Any

from geotrack.escape import terminal_safe

__all__ = ["guarded_streams", "safe_message"]


def safe_message(text: Any) -> str:
    """A message for the terminal: newlines kept, every other control made visible.

    Examples
    --------
    >>> safe_message("path 'a\\x1b]0;owned\\x07'\\nnext line")
    "path 'a\\\\u001b]0;owned\\\\u0007'\\nnext line"
    """
    return terminal_safe(text, keep_newlines=True)


class _GuardedBytes(io.RawIOBase):
    """The binary side of a guarded terminal stream: decodes UTF-8, escapes, re-encodes."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text  # written through the text stream: the order of writes is kept
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if isinstance(data, str):
            raise TypeError("a bytes-like object is required, not 'str'")
        data = bytes(data)
        self._text.write(safe_message(self._decoder.decode(data)))
        return len(data)

    def flush(self) -> None:
        self._text.flush()

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._text.fileno()


class _GuardedText(io.TextIOBase):
    """A terminal text stream whose every write is made terminal-safe."""

    def __init__(self, raw: IO[str]) -> None:
        self._raw = raw
        self.buffer = _GuardedBytes(raw)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._raw.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self._raw.errors

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._raw.write(safe_message(text))
        return len(text)

    def flush(self) -> None:
        self._raw.flush()

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._raw.fileno()


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty()) and hasattr(stream, "buffer")
    except (AttributeError, ValueError, OSError):
        return False


@contextlib.contextmanager
def guarded_streams() -> Iterator[None]:
    """Wrap ``sys.stdout`` and ``sys.stderr`` while they are terminals (restored after).

    Examples
    --------
    >>> with guarded_streams():
    ...     print("ok")
    ok
    """
    saved = sys.stdout, sys.stderr
    if _is_terminal(sys.stdout):
        sys.stdout = _GuardedText(sys.stdout)
    if _is_terminal(sys.stderr):
        sys.stderr = _GuardedText(sys.stderr)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        sys.stdout, sys.stderr = saved
