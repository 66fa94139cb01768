"""A static PNG of a map page, through headless Chromium (for written reports).

Uses Playwright for Python driving Debian's Chromium (``/usr/bin/chromium``):
Playwright's own browser download is never used.  Every request except
``file:``, ``data:``, ``about:`` and ``blob:`` URLs is blocked unless
*allow_network* is true (for ``--online`` pages whose tiles should show).
"""

from __future__ import annotations

__all__ = ["CHROMIUM", "screenshot"]

import os
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from geotrack.errors import GeotrackError, StorageError, UsageError

#: The browser used (override with the GEOTRACK_CHROMIUM environment variable).
CHROMIUM = os.environ.get("GEOTRACK_CHROMIUM", "/usr/bin/chromium")
_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
_LOCAL = ("file", "data", "about", "blob")


class ScreenshotError(GeotrackError):
    """The headless browser is missing, failed, or the page did not finish loading."""


def screenshot(
    html: str | os.PathLike[str],
    png: str | os.PathLike[str],
    *,
    width: int = 1400,
    height: int = 900,
    overwrite: bool = False,
    allow_network: bool = False,
    timeout_s: float = 60.0,
) -> Path:
    """Save a PNG of the map page *html* as shown in a *width* × *height* window.

    Parameters
    ----------
    html : path-like
        A map page written by :func:`geotrack.render.map.write_html`.
    png : path-like
        The image to write (atomically).
    width, height : int
        Browser viewport in CSS pixels.
    overwrite : bool
        Replace an existing *png*.
    allow_network : bool
        Let the page fetch from other hosts (online tiles); off by default.
    timeout_s : float
        How long to wait, in all, for the page to load its markers and chart (an
        ``--online`` page without a network never gets ready).

    Returns
    -------
    Path

    Raises
    ------
    ScreenshotError
        Playwright or Chromium is missing, or the page failed.

    Examples
    --------
    Needs Debian's Chromium (``/usr/bin/chromium``); the browser tests run it::

        screenshot("maps/demo.html", "docs/demo-map.png", overwrite=True)
    """
    src = Path(html)
    out = Path(png)
    if out.exists() and not overwrite:
        raise UsageError(
            f"png={str(out)!r} exists: pass --overwrite to replace it, or choose another path"
        )
    if not src.is_file():
        raise UsageError(f"html={str(src)!r} is not a file: write the map first")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise ScreenshotError(
            "the PNG needs Playwright for Python: `pip install playwright`, and Debian's "
            "Chromium: `apt-get install chromium` (do not run `playwright install`)"
        ) from exc
    if not Path(CHROMIUM).is_file():
        raise ScreenshotError(
            f"browser={CHROMIUM!r} not found: install Debian's Chromium with "
            "`apt-get install chromium`, or set GEOTRACK_CHROMIUM to a Chromium binary"
        )
    private = tempfile.mkdtemp(prefix="geotrack-chromium-")
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "HOME"):
        d = os.path.join(private, var.lower())
        os.makedirs(d, exist_ok=True)
        env[var] = d
    errors: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=_ARGS, env=env
            )
            try:
                page = browser.new_page(viewport={"width": width, "height": height})

                def route(r):
                    if allow_network or urlsplit(r.request.url).scheme in _LOCAL:
                        return r.continue_()
                    return r.abort("blockedbyclient")

                page.route("**/*", route)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("dialog", lambda d: d.dismiss())
                deadline = time.monotonic() + timeout_s
                page.goto(src.resolve().as_uri(), wait_until="load", timeout=timeout_s * 1000)
                page.wait_for_function(
                    "() => window.geotrack && window.geotrack.ready === true"
                    " && window.geotrack.chartPending !== true",
                    timeout=max(1.0, deadline - time.monotonic()) * 1000,
                    polling=100,
                )
                page.wait_for_timeout(600)  # marker fade-in and cluster animation
                data = page.screenshot(type="png")
            finally:
                browser.close()
    except PlaywrightError as exc:
        hint = (
            " (an --online map loads Leaflet and tiles from the network: is it reachable?)"
            if allow_network
            else ""
        )
        raise ScreenshotError(
            f"headless Chromium failed on html={str(src)!r}: {str(exc).splitlines()[0]}{hint}"
        ) from exc
    finally:
        shutil.rmtree(private, ignore_errors=True)
    if errors:
        raise ScreenshotError(f"the page raised a script error: {errors[0]}")
    from geotrack.store import atomic_write

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, data)
    except OSError as exc:
        raise StorageError(f"png={str(out)!r} could not be written: {exc.strerror}") from exc
    return out
