"""Offline assets for the map page: Leaflet, MarkerCluster, Vega and geotrack's own JS/CSS.

Third-party JavaScript and CSS are read at run time from the PyPI packages that
ship them (``xstatic-leaflet`` 1.9.3, ``xstatic-leaflet-markercluster`` 1.4.1,
``vl-convert-python`` for the Vega / Vega-Lite / vega-embed bundle); nothing is
copied into this repository and nothing is downloaded.  geotrack's own scripts
and styles live in ``geotrack/render/static/``.

Everything returned here is safe to put inside an inline ``<script>`` or
``<style>`` element: :func:`script_safe` and :func:`style_safe` neutralise any
closing tag and HTML comment opener in the text.

For ``--online`` pages, :data:`CDN` gives the equivalent public URLs.
"""

from __future__ import annotations

__all__ = [
    "CDN",
    "PAGE_SCRIPT_SECTIONS",
    "AssetError",
    "asset_versions",
    "cdn_integrity",
    "leaflet_css",
    "leaflet_js",
    "markercluster_css",
    "markercluster_js",
    "own_css",
    "own_js",
    "script_safe",
    "style_safe",
    "vega_bundle",
]

import base64
import contextlib
import functools
import re
from importlib import resources
from pathlib import Path

from geotrack.errors import DataError

_LEAFLET_VERSION = "1.9.3"
_MARKERCLUSTER_VERSION = "1.4.1"

#: Public URLs of the same assets, used only by ``geotrack map --online``.
CDN: dict[str, str] = {
    "leaflet_js": f"https://unpkg.com/leaflet@{_LEAFLET_VERSION}/dist/leaflet.js",
    "leaflet_css": f"https://unpkg.com/leaflet@{_LEAFLET_VERSION}/dist/leaflet.css",
    "markercluster_js": (
        f"https://unpkg.com/leaflet.markercluster@{_MARKERCLUSTER_VERSION}"
        "/dist/leaflet.markercluster.js"
    ),
    "markercluster_css": (
        f"https://unpkg.com/leaflet.markercluster@{_MARKERCLUSTER_VERSION}/dist/MarkerCluster.css"
    ),
    "markercluster_default_css": (
        f"https://unpkg.com/leaflet.markercluster@{_MARKERCLUSTER_VERSION}"
        "/dist/MarkerCluster.Default.css"
    ),
}

#: Where each CDN asset's bytes are in the installed packages (module, package, file).
_CDN_FILES: dict[str, tuple[str, str, str]] = {
    "leaflet_js": ("leaflet", "xstatic-leaflet", "leaflet.js"),
    "leaflet_css": ("leaflet", "xstatic-leaflet", "leaflet.css"),
    "markercluster_js": (
        "leaflet_markercluster",
        "xstatic-leaflet-markercluster",
        "leaflet.markercluster.js",
    ),
    "markercluster_css": (
        "leaflet_markercluster",
        "xstatic-leaflet-markercluster",
        "MarkerCluster.css",
    ),
    "markercluster_default_css": (
        "leaflet_markercluster",
        "xstatic-leaflet-markercluster",
        "MarkerCluster.Default.css",
    ),
}

_STATIC = "static"
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.M)
_CSS_URL = re.compile(r"url\((?P<q>['\"]?)(?P<path>images/[A-Za-z0-9_.-]+\.png)(?P=q)\)")


class AssetError(DataError):
    """A packaged asset (Leaflet, MarkerCluster, Vega) is missing or unreadable."""


def _xstatic_dir(module: str, package: str) -> Path:
    try:
        mod = __import__(f"xstatic.pkg.{module}", fromlist=["BASE_DIR"])
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise AssetError(
            f"asset package={package!r} is not installed: the offline map inlines its files; "
            f"install it with `pip install {package}`"
        ) from exc
    return Path(mod.BASE_DIR)


def _read(path: Path, package: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AssetError(
            f"asset file={str(path)!r} from {package} cannot be read ({exc.strerror}); "
            f"reinstall it with `pip install --force-reinstall {package}`"
        ) from exc


@functools.cache
def cdn_integrity(name: str) -> str:
    """The Subresource Integrity value (``sha256-...``) of CDN asset *name* (a key of :data:`CDN`).

    Computed from the same file of the installed package that the offline page inlines,
    so a CDN that serves other bytes is refused by the browser.

    Examples
    --------
    >>> cdn_integrity("leaflet_js")
    'sha256-WBkoXOwTeyKclOHuWtc+i2uENFpDZ9YPdf5Hf+D7ewM='
    """
    import hashlib

    module, package, filename = _CDN_FILES[name]
    path = _xstatic_dir(module, package) / filename
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AssetError(
            f"asset file={str(path)!r} from {package} cannot be read ({exc.strerror}); "
            f"reinstall it with `pip install --force-reinstall {package}`"
        ) from exc
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def script_safe(js: str) -> str:
    """Make JavaScript safe to place inside an inline ``<script>`` element.

    ``</script`` and ``<!--`` only ever occur inside string or regular
    expression literals in valid JavaScript, where ``<\\/script`` and
    ``<\\!--`` mean the same.

    Examples
    --------
    >>> script_safe('var s = "</script>";')
    'var s = "<\\\\/script>";'
    """
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.I)
    return js.replace("<!--", "<\\!--")


def style_safe(css: str) -> str:
    """Make CSS safe to place inside an inline ``<style>`` element.

    Examples
    --------
    >>> style_safe("a{content:'</style>'}")
    "a{content:'<\\\\/style>'}"
    """
    return re.sub(r"</(style)", r"<\\/\1", css, flags=re.I)


@functools.cache
def leaflet_js() -> str:
    """Leaflet 1.9.3 (minified), from ``xstatic-leaflet``.

    Examples
    --------
    >>> "1.9.3" in leaflet_js()[:200]
    True
    """
    d = _xstatic_dir("leaflet", "xstatic-leaflet")
    return script_safe(_SOURCE_MAP.sub("", _read(d / "leaflet.js", "xstatic-leaflet")))


@functools.cache
def leaflet_css() -> str:
    """Leaflet's stylesheet with its images inlined as ``data:`` URIs.

    Examples
    --------
    >>> "images/layers.png" in leaflet_css()
    False
    """
    d = _xstatic_dir("leaflet", "xstatic-leaflet")
    css = _read(d / "leaflet.css", "xstatic-leaflet")

    def inline(m: re.Match[str]) -> str:
        try:
            data = (d / m.group("path")).read_bytes()
        except OSError as exc:
            raise AssetError(
                f"asset file={m.group('path')!r} missing from xstatic-leaflet; reinstall it"
            ) from exc
        return "url(data:image/png;base64," + base64.b64encode(data).decode("ascii") + ")"

    return style_safe(_CSS_URL.sub(inline, css))


@functools.cache
def markercluster_js() -> str:
    """Leaflet.markercluster 1.4.1 (minified), from ``xstatic-leaflet-markercluster``.

    Examples
    --------
    >>> "MarkerClusterGroup" in markercluster_js()
    True
    """
    pkg = "xstatic-leaflet-markercluster"
    d = _xstatic_dir("leaflet_markercluster", pkg)
    return script_safe(_SOURCE_MAP.sub("", _read(d / "leaflet.markercluster.js", pkg)))


@functools.cache
def markercluster_css() -> str:
    """MarkerCluster's two stylesheets (layout and default cluster colours).

    Examples
    --------
    >>> ".marker-cluster" in markercluster_css()
    True
    """
    pkg = "xstatic-leaflet-markercluster"
    d = _xstatic_dir("leaflet_markercluster", pkg)
    return style_safe(
        _read(d / "MarkerCluster.css", pkg) + "\n" + _read(d / "MarkerCluster.Default.css", pkg)
    )


@functools.cache
def vega_bundle(vl_version: str | None = None) -> str:
    """Vega, Vega-Lite and vega-embed as one script that defines ``window.vegaEmbed``.

    Made by ``vl_convert.javascript_bundle()`` from ``vl-convert-python``
    (no network), which takes seconds; the result is kept in the user's cache
    folder (``geotrack/vega``, see :mod:`geotrack._cache`), one file per
    version of vl-convert, of geotrack and of Vega-Lite asked for, written
    atomically, so that it is built once per installed version.

    Parameters
    ----------
    vl_version : str, optional
        Vega-Lite version the chart spec is written for (``"5.21"``); the
        newest bundled one if None.

    Examples
    --------
    >>> "vegaEmbed" in vega_bundle()
    True
    """
    try:
        import vl_convert
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise AssetError(
            "asset package='vl-convert-python' is not installed: the trade chart needs its "
            "Vega bundle; install it with `pip install vl-convert-python`"
        ) from exc
    cached = _bundle_file(vl_convert, vl_version)
    if cached is not None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return cached.read_text(encoding="utf-8")
    try:
        bundle = vl_convert.javascript_bundle(vl_version=vl_version)
    except ValueError as exc:
        raise AssetError(
            f"vl_version={vl_version!r} is not bundled by vl-convert-python "
            f"(it has {', '.join(vl_convert.get_vegalite_versions())}); upgrade vl-convert-python"
        ) from exc
    # The bundle declares many top-level names (one of them ``L``, which would replace
    # Leaflet's global): run it in its own function scope; it sets window.vegaEmbed itself.
    text = script_safe("(function () {\n" + _SOURCE_MAP.sub("", bundle) + "\n})();")
    if cached is not None:
        from geotrack.store import atomic_write

        with contextlib.suppress(OSError):
            atomic_write(cached, text.encode("utf-8"))
    return text


def _bundle_file(vl_convert, vl_version: str | None) -> Path | None:
    """Where the bundle for these versions is cached (None: no writable cache folder)."""
    from geotrack import __version__
    from geotrack._cache import user_cache_dir

    folder = user_cache_dir("vega")
    if folder is None:
        return None
    version = getattr(vl_convert, "__version__", "") or vl_convert.get_vega_version()
    key = "-".join([version, vl_version or "newest", __version__])
    return folder / f"bundle-{re.sub(r'[^A-Za-z0-9._-]', '_', key)}.js"


def _own(name: str) -> str:
    try:
        return resources.files("geotrack.render").joinpath(_STATIC, name).read_text("utf-8")
    except OSError as exc:  # pragma: no cover - broken install
        raise AssetError(
            f"asset file={name!r} is missing from geotrack/render/static; reinstall geotrack"
        ) from exc


#: The sections of geotrack's page script, in the order they run (``static/map_<name>.js``).
#: They share one function scope, run once the document is parsed; a new part of the page
#: adds its section here (after the sections whose functions and variables it uses).
PAGE_SCRIPT_SECTIONS: tuple[str, ...] = (
    "core",
    "symbols",
    "reference",
    "density",
    "crossings",
    "filters",
    "panel",
    "claims",
    "strip",
    "trade",
    "start",
    "labels",
)


def own_js() -> str:
    """geotrack's own page script (side panel, filters, strip, popups).

    The sections of :data:`PAGE_SCRIPT_SECTIONS`, joined in order inside one
    ``DOMContentLoaded`` handler.

    Examples
    --------
    >>> "geotrack-data" in own_js()
    True
    """
    body = "\n".join(_own(f"map_{name}.js") for name in PAGE_SCRIPT_SECTIONS)
    return script_safe(
        "document.addEventListener('DOMContentLoaded', function () {\n"
        "  'use strict';\n\n" + body + "});\n"
    )


def own_css() -> str:
    """geotrack's own page stylesheet.

    Examples
    --------
    >>> "#gt-panel" in own_css()
    True
    """
    return style_safe(_own("geotrack_map.css"))


def asset_versions() -> dict[str, str]:
    """Versions of the inlined third-party assets, for the page's provenance note.

    Examples
    --------
    >>> asset_versions()["leaflet"]
    '1.9.3'
    """
    out = {"leaflet": _LEAFLET_VERSION, "leaflet.markercluster": _MARKERCLUSTER_VERSION}
    try:
        import vl_convert

        out["vega"] = vl_convert.get_vega_version()
        out["vega-lite"] = vl_convert.get_vegalite_versions()[-1]
        out["vega-embed"] = vl_convert.get_vega_embed_version()
    except ImportError:  # pragma: no cover
        pass
    return out
