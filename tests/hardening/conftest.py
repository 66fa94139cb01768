"""Fixtures of the hardening suite; writes its figures when ``GEOTRACK_HARDENING_FIGURES`` is set."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hardening._run import FIGURES


def pytest_sessionfinish(session, exitstatus):
    target = os.environ.get("GEOTRACK_HARDENING_FIGURES")
    if target:
        Path(target).write_text(json.dumps(dict(sorted(FIGURES.items())), indent=2) + "\n")
