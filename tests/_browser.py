"""Headless Chromium for tests: open a local page with every network request blocked.

Reusable by any test module (the map tests, the hardening suite).  Uses
Debian's ``/usr/bin/chromium`` through Playwright's ``executable_path``;
Playwright's own browser download is never used.

    with open_page(path) as page:          # a PageRun
        page.wait_ready()
        page.evaluate("window.geotrack.shownCount")
        assert page.console_errors == [] and page.page_errors == []
        assert page.external_requests == []
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CHROMIUM = os.environ.get("GEOTRACK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
LOCAL_SCHEMES = ("file", "data", "about", "blob")


def chromium_available() -> bool:
    """True when Chromium and Playwright for Python are both installed."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).is_file()


@dataclass
class PageRun:
    """A loaded page and everything it did."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    console_warnings: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    @property
    def external_requests(self) -> list[str]:
        """Requests for anything but file:, data:, about: or blob: URLs."""
        return [u for u in self.requests if urlsplit(u).scheme not in LOCAL_SCHEMES]

    def evaluate(self, js: str, arg: Any = None) -> Any:
        """Evaluate *js* in the page."""
        return self.page.evaluate(js, arg) if arg is not None else self.page.evaluate(js)

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Wait until geotrack's page script says it has loaded every marker and the chart."""
        self.page.wait_for_function(
            "() => window.geotrack && window.geotrack.ready === true"
            " && window.geotrack.chartPending !== true",
            timeout=timeout_s * 1000,
            polling=100,
        )
        # then for events, not for time: the chart's view has run, no cluster animation is on
        self.page.wait_for_function(
            "() => window.geotrack.chartRan === true || !window.geotrack.chartView",
            timeout=timeout_s * 1000,
            polling=100,
        )
        self.page.wait_for_function(
            "() => !document.querySelector('.leaflet-cluster-anim')",
            timeout=timeout_s * 1000,
            polling=100,
        )


@contextlib.contextmanager
def open_page(
    path: str | os.PathLike[str],
    *,
    width: int = 1400,
    height: int = 900,
    timeout_s: float = 60.0,
) -> Iterator[PageRun]:
    """Open a local HTML file in headless Chromium, network blocked; yield a :class:`PageRun`."""
    from playwright.sync_api import sync_playwright

    private = tempfile.mkdtemp(prefix="gt-chromium-")
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "HOME"):
        d = os.path.join(private, var.lower())
        os.makedirs(d, exist_ok=True)
        env[var] = d
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=env
            )
            try:
                ctx = browser.new_context(viewport={"width": width, "height": height})
                page = ctx.new_page()
                run = PageRun(page)

                def route(r):
                    url = r.request.url
                    run.requests.append(url)
                    if urlsplit(url).scheme in LOCAL_SCHEMES:
                        return r.continue_()
                    run.blocked.append(url)
                    return r.abort("blockedbyclient")

                page.route("**/*", route)
                page.on(
                    "request",
                    lambda r: None if r.url in run.requests else run.requests.append(r.url),
                )
                page.on(
                    "console",
                    lambda m: run.console_errors.append(m.text) if m.type == "error" else None,
                )
                page.on(
                    "console",
                    lambda m: run.console_warnings.append(m.text) if m.type == "warning" else None,
                )
                page.on("pageerror", lambda e: run.page_errors.append(str(e)))

                def on_dialog(d):
                    run.dialogs.append(f"{d.type}: {d.message}")
                    d.dismiss()

                page.on("dialog", on_dialog)
                page.goto(
                    Path(path).resolve().as_uri(), wait_until="load", timeout=timeout_s * 1000
                )
                yield run
            finally:
                browser.close()
    finally:
        shutil.rmtree(private, ignore_errors=True)
