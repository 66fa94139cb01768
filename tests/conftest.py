"""Shared fixtures; under CI=true a skipped test is an error (browser and QGIS tests must run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from geotrack.workspace import Workspace, init_workspace

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped under CI=true, which is an error here: {reason}"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A fresh workspace with the bundled reference layers and no crossings."""
    return init_workspace(tmp_path / "ws")


@pytest.fixture
def record() -> dict:
    """A valid crossing record (lon/lat on the Yalu near Kimhyongjik-up)."""
    return {
        "lon": 127.2696,
        "lat": 41.5195,
        "kind": "pontoon",
        "status": "active",
        "source_name": "Test source (made up for a unit test)",
        "reported": "2025-12-16",
        "event_start": "2025-10",
        "event_end": "2025-11",
        "reliability": "B",
        "credibility": 3,
    }


#: A PostgreSQL server with PostGIS for the PostGIS store's tests: scripts/test.sh starts a
#: throwaway one and exports its URL (a role that may create schemas; libpq finds the rest).
PG_URL = os.environ.get("GEOTRACK_TEST_PG", "")


@pytest.fixture
def pg_schema(request):
    """A fresh schema in the test server for one test (dropped afterwards), as a store URL."""
    if not PG_URL:
        pytest.skip("no PostgreSQL test server: run `bash scripts/test.sh` or set GEOTRACK_TEST_PG")
    from _pg import fresh_schema

    with fresh_schema(PG_URL) as url:
        yield url


@pytest.fixture(params=["folder", "postgis"])
def any_store(request, tmp_path):
    """Each store in turn: a workspace folder, then a PostGIS schema (the contract suite)."""
    if request.param == "folder":
        from geotrack.store import FolderStore

        folder = tmp_path / "store"
        folder.mkdir()
        return FolderStore(folder, lock_timeout=10)
    url = request.getfixturevalue("pg_schema")
    from geotrack.pgstore import open_store

    store = open_store(url, create=True)
    request.addfinalizer(store.close)
    return store


@pytest.fixture
def layer(any_store):
    """The crossings layer of :func:`any_store`, existing and empty."""
    layer = any_store.layer("crossings")
    layer.ensure_exists()
    return layer
