"""geotrack._cache: the user's cache folder, and never a temporary folder others control."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from geotrack import _cache


def test_the_user_cache_folder_is_created(tmp_path):
    got = _cache.user_cache_dir("vega", environ={"XDG_CACHE_HOME": str(tmp_path)})
    assert got == tmp_path / "geotrack" / "vega" and got.is_dir()


def test_an_unwritable_user_cache_falls_back_to_a_private_temporary_folder(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    got = _cache.user_cache_dir("numba", environ={"XDG_CACHE_HOME": str(blocked)})
    assert got is not None and got.name == "numba"
    assert got.parent.parent == Path(tempfile.gettempdir())
    assert got.parent.stat().st_mode & 0o077 == 0


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_folder_others_can_write_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert not _cache._usable(shared, private=True)
    shared.chmod(0o700)
    assert _cache._usable(shared, private=True)
