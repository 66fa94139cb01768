"""The user's cache folder for things geotrack rebuilds on demand (compiled kernels, the Vega bundle).

``$XDG_CACHE_HOME/geotrack`` or ``~/.cache/geotrack`` when it can be written;
otherwise a private folder (mode 0700, owned by the user) in the temporary
directory.  A shared temporary folder someone else made or can write is never
used: what is cached there (machine code, page script) would run.
"""

from __future__ import annotations

__all__ = ["user_cache_dir"]

import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path


def _usable(folder: Path, *, private: bool) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = folder.stat()
        if private and (
            (hasattr(os, "getuid") and info.st_uid != os.getuid())
            or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        ):
            return False
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def user_cache_dir(*parts: str, environ: Mapping[str, str] = os.environ) -> Path | None:
    """A writable cache folder ``geotrack/<parts>`` for this user, created; None if there is none.

    Examples
    --------
    >>> import tempfile
    >>> home = tempfile.mkdtemp()
    >>> user_cache_dir("vega", environ={"XDG_CACHE_HOME": home}).relative_to(home).as_posix()
    'geotrack/vega'
    """
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    user = Path(base, "geotrack", *parts)
    if _usable(user, private=False):
        return user
    uid = os.getuid() if hasattr(os, "getuid") else os.getpid()
    top = Path(tempfile.gettempdir()) / f"geotrack-{uid}"
    if _usable(top, private=True):
        folder = top.joinpath(*parts)
        if _usable(folder, private=True):
            return folder
    return None
