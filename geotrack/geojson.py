"""GeoJSON wire formats: reading collections and sequences, writing deterministically.

Read: a FeatureCollection, a single Feature, a newline-delimited sequence or
an RS-delimited sequence (RFC 8142).  A legacy ``crs`` member is accepted only
when it names WGS 84 longitude/latitude (RFC 7946 has none).

Write: one feature per line, features sorted by id, keys in a fixed order and
coordinates rounded to 7 decimals (about 1 cm), so that ``git diff`` of a
layer shows one line per changed feature.
"""

from __future__ import annotations

__all__ = [
    "MAX_CONTAINERS",
    "MAX_NESTING",
    "dumps_collection",
    "dumps_feature",
    "loads",
    "parse_features",
    "round_coords",
]

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from geotrack.errors import ImportFileError

#: Deepest nesting a GeoJSON text may have (orjson itself stops at 1024).
MAX_NESTING = 64
#: Most JSON arrays and objects a text may hold: parsing costs ~150 bytes of memory each,
#: so this bounds a hostile file (``[],[],...``) to about 1 GB; a real layer of 256 MiB
#: holds well under it.
MAX_CONTAINERS = 8_000_000
_WGS84_NAMES = {
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "EPSG:4326",
    "CRS84",
}
_RS = "\x1e"


def loads(text: str | bytes, *, what: str = "input") -> Any:
    """Parse JSON text, turning every failure into an :class:`ImportFileError`.

    Examples
    --------
    >>> loads('{"a": 1}')
    {'a': 1}
    >>> loads('{"a": ')
    Traceback (most recent call last):
    ...
    geotrack.errors.ImportFileError: input is not valid JSON: ...
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ImportFileError(
            f"{what} is not valid JSON: {exc}. Fix the file or export it again as GeoJSON."
        ) from None


def _depth(obj: Any, limit: int) -> int:
    stack = [(obj, 1)]
    deepest = 0
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


def parse_features(text: str | bytes, *, what: str = "input") -> list[dict[str, Any]]:
    """Return the features of a GeoJSON text in any of the wire forms (or a bare Point).

    Parameters
    ----------
    text : str or bytes
        A FeatureCollection, a Feature, or a newline- or RS-delimited sequence.
    what : str
        A name for the input, used in messages.

    Raises
    ------
    ImportFileError
        Not JSON, not GeoJSON, nested too deep, or a ``crs`` other than WGS 84.

    Examples
    --------
    >>> fc = '{"type": "FeatureCollection", "features": [{"type": "Feature",'
    >>> fc += ' "geometry": {"type": "Point", "coordinates": [127.5, 41.5]}, "properties": {}}]}'
    >>> len(parse_features(fc))
    1
    >>> seq = '{"type": "Feature", "geometry": null, "properties": {}}\\n' * 2
    >>> len(parse_features(seq))
    2
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"{what} is not UTF-8 text ({exc.reason} at byte {exc.start}): GeoJSON must be UTF-8"
            ) from None
    containers = text.count("[") + text.count("{")
    if containers > MAX_CONTAINERS:
        raise ImportFileError(
            f"{what} holds {containers:,} JSON arrays and objects, more than the "
            f"{MAX_CONTAINERS:,} geotrack parses at once: split it into smaller files"
        )
    stripped = text.lstrip("\ufeff \t\r\n")
    docs: list[Any]
    if stripped.startswith(_RS):
        parts = stripped.split(_RS)
        docs = [
            loads(p, what=f"{what} (sequence item {i})") for i, p in enumerate(parts) if p.strip()
        ]
    else:
        try:
            docs = [orjson.loads(stripped)]
        except orjson.JSONDecodeError as exc:
            # split on "\n" only: str.splitlines() also splits at U+0085 and U+2028,
            # which JSON writers (orjson among them) leave unescaped inside strings
            lines = [line for line in stripped.split("\n") if line.strip()]
            if len(lines) < 2 or not _is_object(lines[0]):
                raise ImportFileError(
                    f"{what} is not valid JSON: {exc}. Fix the file or export it again as GeoJSON."
                ) from None
            docs = [loads(line, what=f"{what} (line {i})") for i, line in enumerate(lines, 1)]
    features: list[dict[str, Any]] = []
    for doc in docs:
        if _depth(doc, MAX_NESTING) > MAX_NESTING:
            raise ImportFileError(
                f"{what} is nested deeper than {MAX_NESTING} levels: not a GeoJSON layer geotrack reads"
            )
        if not isinstance(doc, dict):
            raise ImportFileError(f"{what}: expected a GeoJSON object, found {type(doc).__name__}")
        _check_crs(doc, what)
        kind = doc.get("type")
        if kind == "FeatureCollection":
            feats = doc.get("features")
            if not isinstance(feats, list):
                raise ImportFileError(f"{what}: a FeatureCollection needs a 'features' list")
            features.extend(feats)
        elif kind == "Feature":
            features.append(doc)
        elif kind in ("Point", "MultiPoint"):  # a bare geometry, as some tools write one point
            features.append({"type": "Feature", "geometry": doc, "properties": {}})
        else:
            raise ImportFileError(
                f"{what}: type={kind!r}: expected a FeatureCollection, a Feature, a Point or a "
                "sequence of Features"
            )
    for i, feat in enumerate(features, 1):
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            raise ImportFileError(f"{what}: item {i} is not a GeoJSON Feature")
        _check_crs(feat, what)
    return features


def _is_object(text: str) -> bool:
    try:
        return isinstance(orjson.loads(text), dict)
    except orjson.JSONDecodeError:
        return False


def _check_crs(doc: Mapping[str, Any], what: str) -> None:
    crs = doc.get("crs")
    if crs is None:
        return
    name = None
    if isinstance(crs, dict):
        props = crs.get("properties")
        if isinstance(props, dict):
            name = props.get("name")
    if name not in _WGS84_NAMES:
        raise ImportFileError(
            f"{what}: crs={name if name is not None else crs!r}: GeoJSON must be WGS 84 longitude/latitude "
            "(RFC 7946). Reproject it, e.g. `ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`."
        )


def round_coords(coords: Any, ndigits: int = 7) -> Any:
    """Round nested coordinate lists to *ndigits* decimals.

    Examples
    --------
    >>> round_coords([[127.123456789, 41.0], [1.5, 2.25]], 3)
    [[127.123, 41.0], [1.5, 2.25]]
    """
    if coords and isinstance(coords[0], (int, float)):
        return [round(float(c), ndigits) for c in coords]
    return [round_coords(c, ndigits) for c in coords]


def dumps_feature(feature: Mapping[str, Any]) -> bytes:
    """Serialise one feature compactly on one line (keys in insertion order).

    The bytes are a copy of exactly their length: the object ``orjson.dumps``
    returns keeps the whole block it wrote into (8 KiB or more), so holding one
    line per feature of a large layer would take eight times its size.

    Examples
    --------
    >>> dumps_feature({"type": "Feature", "id": "A", "geometry": None, "properties": {}})
    b'{"type":"Feature","id":"A","geometry":null,"properties":{}}'
    """
    return bytes(memoryview(orjson.dumps(feature)))


def dumps_collection(
    features: Iterable[Mapping[str, Any]], *, name: str, members: Mapping[str, Any] | None = None
) -> bytes:
    """Serialise a FeatureCollection with one feature per line.

    Parameters
    ----------
    features : iterable of mapping
        Already ordered features.
    name : str
        The layer name (a foreign member QGIS and GDAL show as the layer name).
    members : mapping, optional
        More foreign members, written before ``features``.

    Examples
    --------
    >>> dumps_collection([], name="crossings")
    b'{"type":"FeatureCollection","name":"crossings","features":[\\n]}\\n'
    """
    head = {"type": "FeatureCollection", "name": name, **(members or {})}
    out = [orjson.dumps(head)[:-1], b',"features":[\n']
    out.append(b",\n".join(orjson.dumps(f) for f in features))
    out.append(b"\n]}\n" if out[-1] else b"]}\n")
    return b"".join(out)
