"""geotrack._jit: where compiled kernels are cached, and the message before a first compile."""

from __future__ import annotations

import importlib
import logging
import sys
import tempfile
from pathlib import Path

import numba
import pytest

from geotrack import _jit

KERNEL_SOURCE = """
from geotrack._jit import njit


@njit()
def add_one(x):
    return x + 1
"""


def test_cache_dir_prefers_the_variable_then_the_user_cache(tmp_path):
    assert _jit.cache_dir({"NUMBA_CACHE_DIR": str(tmp_path / "k")}) == tmp_path / "k"
    assert _jit.cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "geotrack" / "numba"
    assert (tmp_path / "geotrack" / "numba").is_dir()


def test_cache_dir_falls_back_to_the_temporary_folder_when_the_user_cache_is_not_writable(
    tmp_path,
):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    got = _jit.cache_dir({"XDG_CACHE_HOME": str(blocked)})
    assert got.parent.parent == Path(tempfile.gettempdir())
    assert got.name == "numba" and got.parent.name.startswith("geotrack-")


@pytest.fixture
def kernel_module(tmp_path, monkeypatch):
    """A module with one tiny kernel, cached in a fresh folder."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "tiny_kernels.py").write_text(KERNEL_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    numba.config.reload_config()
    monkeypatch.setattr(_jit, "_announced", set())
    yield lambda: importlib.import_module("tiny_kernels")
    sys.modules.pop("tiny_kernels", None)
    monkeypatch.undo()
    numba.config.reload_config()


def test_a_first_compile_is_announced_and_a_cached_kernel_is_not(kernel_module, caplog):
    caplog.set_level(logging.INFO, logger="geotrack")
    mod = kernel_module()
    _jit.announce_compile("tiny", mod.add_one)
    assert mod.add_one(1) == 2
    _jit.announce_compile("tiny", mod.add_one)  # once per process
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "compiling the tiny kernels once" in messages[0]
    assert str(Path(numba.config.CACHE_DIR)) in messages[0]

    # a fresh dispatcher (as in the next run) finds the compiled code on disk: no message
    sys.modules.pop("tiny_kernels")
    caplog.clear()
    again = kernel_module()
    assert again.add_one is not mod.add_one and not again.add_one.signatures
    _jit.announce_compile("tiny again", again.add_one)
    assert caplog.records == []
    assert again.add_one(2) == 3
    assert again.add_one.stats.cache_hits
