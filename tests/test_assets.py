"""geotrack.render.assets: the Vega bundle is built once per installed version, then read."""

from __future__ import annotations

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
