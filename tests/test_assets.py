"""geotrack.render.assets: the Vega bundle is built once per installed version, then read."""

from __future__ import annotations

import base64
import hashlib
import importlib
import re
from importlib import metadata
from pathlib import Path

import pytest
import vl_convert

from geotrack.render import assets


def test_the_vega_bundle_is_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assets.vega_bundle.cache_clear()
    built = assets.vega_bundle()
    files = list((tmp_path / "geotrack" / "vega").iterdir())
    assert len(files) == 1 and files[0].read_text(encoding="utf-8") == built
    assert files[0].name.startswith("bundle-") and "-newest-" in files[0].name

    def refuse(**kwargs):
        raise AssertionError("the bundle was built again")

    monkeypatch.setattr(vl_convert, "javascript_bundle", refuse)
    assets.vega_bundle.cache_clear()
    assert assets.vega_bundle() == built  # read from the file, not rebuilt
    assets.vega_bundle.cache_clear()


# The version each bundled file says it is: the header of the package's JavaScript
# (the minified markercluster has none: its unminified twin in the same package carries it).
_HEADERS = {
    "leaflet": ("leaflet.js", re.compile(r"^ \* Leaflet (\d+\.\d+\.\d+),", re.M)),
    "leaflet.markercluster": (
        "leaflet.markercluster-src.js",
        re.compile(r"^ \* Leaflet\.markercluster (\d+\.\d+\.\d+)[+,]", re.M),
    ),
}
_CDN_URL = re.compile(
    r"^https://unpkg\.com/(?P<pkg>[a-z.]+)@(?P<ver>\d+\.\d+\.\d+)/dist/(?P<file>.+)$"
)


@pytest.mark.parametrize("name", sorted(assets.CDN))
def test_each_cdn_url_names_the_version_of_the_file_its_hash_is_made_from(name):
    # the integrity hash is computed from the installed xstatic file; a bump of the URL's
    # version without the package (or the other way round) must fail here
    m = _CDN_URL.match(assets.CDN[name])
    assert m, assets.CDN[name]
    module, package, filename = assets._CDN_FILES[name]
    assert m["file"] == filename  # the same file name as the one hashed
    xs = importlib.import_module(f"xstatic.pkg.{module}")
    assert m["ver"] == xs.VERSION, (name, xs.VERSION)
    assert metadata.version(package).startswith(m["ver"] + "."), metadata.version(package)
    header_file, header = _HEADERS[m["pkg"]]
    text = (Path(xs.BASE_DIR) / header_file).read_text(encoding="utf-8")[:400]
    found = header.search(text)
    assert found and found[1] == m["ver"], (name, text[:120])
    data = (Path(xs.BASE_DIR) / filename).read_bytes()
    want = "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
    assert assets.cdn_integrity(name) == want
