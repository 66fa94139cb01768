"""numba for geotrack's compiled kernels: imported only by the kernel modules, cached on disk.

A module of kernels takes :func:`njit` and :data:`prange` from here; the
public modules import their kernel module inside the functions that run a
kernel, so a command that runs none never loads numba (about half a second).

Compiled machine code is cached across runs.  Unless ``NUMBA_CACHE_DIR`` is
set, the cache lives in the user's cache folder (``$XDG_CACHE_HOME/geotrack``
or ``~/.cache/geotrack``, else a private per-user folder in the temporary
directory; see :mod:`geotrack._cache`),
which also works for a read-only install, where numba's default place (beside
the source files) cannot be written.  :func:`announce_compile` logs, before a
kernel first runs, that it is about to be compiled (a one-off wait of seconds).
"""

from __future__ import annotations

__all__ = ["announce_compile", "cache_dir", "njit", "prange"]

import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from geotrack._cache import user_cache_dir

log = logging.getLogger("geotrack")


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The folder compiled kernels are cached in.

    ``NUMBA_CACHE_DIR`` when set; otherwise ``geotrack/numba`` in the user's
    cache folder (see :func:`geotrack._cache.user_cache_dir`), else a new
    private temporary folder (kernels then compile again in the next run).

    Examples
    --------
    >>> cache_dir({"NUMBA_CACHE_DIR": "/srv/kernels"}).as_posix()
    '/srv/kernels'
    >>> import tempfile
    >>> home = tempfile.mkdtemp()
    >>> cache_dir({"XDG_CACHE_HOME": home}).relative_to(home).as_posix()
    'geotrack/numba'
    """
    given = environ.get("NUMBA_CACHE_DIR")
    if given:
        return Path(given)
    return user_cache_dir("numba", environ=environ) or Path(
        tempfile.mkdtemp(prefix="geotrack-numba-")
    )


os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir()))

import numba  # noqa: E402  (after NUMBA_CACHE_DIR is set)

numba.config.reload_config()  # numba may have been imported before the variable was set

#: ``numba.prange``, for the kernel modules.
prange = numba.prange
_announced: set[str] = set()


def njit(**options):
    """``numba.njit`` with the on-disk cache always on.

    Examples
    --------
    >>> callable(njit(parallel=True))
    True
    """
    return numba.njit(cache=True, **options)


def _cached(kernel) -> bool:
    # compiled in this process, or an index of compiled versions on disk
    if kernel.signatures:
        return True
    cache_file = getattr(getattr(kernel, "_cache", None), "_cache_file", None)
    index = getattr(cache_file, "_index_path", None)
    return index is None or os.path.exists(index)


def announce_compile(what: str, *kernels) -> None:
    """Log, once per process, that *kernels* are about to be compiled when one is not cached.

    Parameters
    ----------
    what : str
        What the kernels compute, for the message (``"chainage"``).
    *kernels : numba dispatchers
        The kernels about to run.

    Examples
    --------
    >>> from geotrack import _linear_kernels
    >>> announce_compile("chainage", _linear_kernels.morton16)
    """
    if what in _announced or all(_cached(k) for k in kernels):
        return
    _announced.add(what)
    log.info(
        "compiling the %s kernels once (several seconds); cached in %s",
        what,
        numba.config.CACHE_DIR,
    )
