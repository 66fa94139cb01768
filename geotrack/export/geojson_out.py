"""GeoJSON export per RFC 7946, with a same-name QGIS style (``.qml``) beside each file.

WGS 84 longitude/latitude and no ``crs`` member; every feature has a stable
``id`` (the crossing id, the county, the town name); dates are ISO 8601
(``2025-11-30``), times ISO 8601 in UTC with ``Z``.  One feature per line, so a
``diff`` of two exports reads feature by feature.  Text is written exactly as
stored (JSON can hold any character, NUL included).

QGIS loads ``crossings.qml`` as the default style of ``crossings.geojson``.
"""

from __future__ import annotations

__all__ = ["geojson_bytes", "write_geojson"]

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from geotrack.export._model import Layer, check_name, iso
from geotrack.export.qml import layer_qml
from geotrack.geojson import dumps_feature


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return iso(value)


def geojson_bytes(layer: Layer, *, extra: Mapping[str, Mapping[str, Any]] | None = None) -> bytes:
    """The layer as an RFC 7946 FeatureCollection, one feature per line.

    Parameters
    ----------
    layer : Layer
        The layer (geometries already in WGS 84, rounded).
    extra : mapping, optional
        Additional properties per feature key (the crossings' nested ``reports``).

    Examples
    --------
    >>> from geotrack.export._model import reference_layer
    >>> towns = reference_layer("towns", [{"type": "Feature", "properties": {"name": "Hyesan",
    ...     "country": "KP"}, "geometry": {"type": "Point", "coordinates": [128.18, 41.40]}}],
    ...     precision=5)
    >>> doc = orjson.loads(geojson_bytes(towns))
    >>> doc["features"][0]["id"], "crs" in doc
    ('Hyesan', False)
    """
    lines = []
    for feat in sorted(layer.features, key=lambda f: f.fid):
        props = {name: _plain(feat.properties.get(name)) for name in layer.field_names}
        if extra and feat.key in extra:
            props.update(_plain(dict(extra[feat.key])))
        lines.append(
            dumps_feature(
                {"type": "Feature", "id": feat.key, "geometry": feat.geometry, "properties": props}
            )
        )
    head = orjson.dumps({"type": "FeatureCollection", "name": layer.name})[:-1]
    return head + b',"features":[\n' + b",\n".join(lines) + b"\n]}\n"


def write_geojson(
    folder: str | os.PathLike[str],
    layers: Sequence[Layer],
    *,
    extra: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
) -> list[Path]:
    """Write ``<layer>.geojson`` and ``<layer>.qml`` for every layer with a geometry.

    Parameters
    ----------
    folder : path-like
        An existing folder (the caller's temporary folder).
    layers : sequence of Layer
        Layers without geometry (the reports table) are skipped: the
        crossings' features carry their reports as a nested ``reports`` list.
    extra : mapping, optional
        Per layer name, additional properties per feature key.

    Returns
    -------
    list of Path
        The files written.

    Examples
    --------
    >>> import tempfile
    >>> from geotrack.export._model import reference_layer
    >>> towns = reference_layer("towns", [], precision=5)
    >>> [p.name for p in write_geojson(tempfile.mkdtemp(), [towns])]
    ['towns.geojson', 'towns.qml']
    """
    folder = Path(folder)
    written = []
    for layer in layers:
        if layer.geometry_type is None:
            continue
        name = check_name(layer.name, what="layer name")
        data = folder / f"{name}.geojson"
        data.write_bytes(geojson_bytes(layer, extra=(extra or {}).get(layer.name)))
        style = folder / f"{name}.qml"
        style.write_text(layer_qml(layer), encoding="utf-8")
        written += [data, style]
    return written
