"""Write the import corpus of tests/data/import/ (run from the repository root).

    .venv/bin/python tests/data/import/build_corpus.py

Every record is SYNTHETIC: made-up crossings at points taken on the bundled
stretch line (so that they pass the border-distance check), in the shapes real
tools write.  The GDAL-written files are written by GDAL itself (through
pyogrio); the QGIS-written GeoJSON by QGIS itself (QgsVectorFileWriter, run
with Debian's /usr/bin/python3 and python3-qgis).  See README.md for what each
file imitates.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Points on the stretch line (geotrack.workspace: stretch.line_wgs84.interpolate(f, normalized)).
POINTS = [
    (127.13953, 41.59642),
    (127.25493, 41.48839),
    (127.59794, 41.42698),
    (127.8931, 41.43356),
    (128.09628, 41.36949),
    (128.30007, 41.60042),
]
ACLED_COLUMNS = [
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2",
    "interaction", "civilian_targeting", "iso", "region", "country", "admin1", "admin2",
    "admin3", "location", "latitude", "longitude", "geo_precision", "source", "source_scale",
    "notes", "fatalities", "tags", "timestamp",
]  # fmt: skip


def _csv(rows: list[list[object]], *, delimiter: str = ",") -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


def acled() -> bytes:
    rows: list[list[object]] = [ACLED_COLUMNS]
    for i, ((lon, lat), prec, tprec) in enumerate(
        zip(POINTS[:4], ("1", "2", "3", "1"), ("1", "2", "3", "1"), strict=True), 1
    ):
        rows.append([
            f"PRK{9000 + i}", f"2024-0{i}-1{i}", 2024, tprec, "Strategic developments",
            "Strategic developments", "Other", "Military Forces of North Korea (2011-)", "",
            1, "", "", 0, 10, "", 408, "East Asia", "North Korea", "Ryanggang", "Hyesan", "",
            f"SYNTHETIC place {i}", lat, lon, prec, "SYNTHETIC Daily NK", "National",
            f"SYNTHETIC: a made-up note {i}; not a real event.", 0, "", 1718000000 + i,
        ])  # fmt: skip
    return _csv(rows)


def ushahidi() -> bytes:
    head = ["#", "INCIDENT TITLE", "INCIDENT DATE", "LOCATION", "DESCRIPTION", "CATEGORY",
            "LATITUDE", "LONGITUDE", "APPROVED", "VERIFIED"]  # fmt: skip
    rows: list[list[object]] = [head]
    for i, (lon, lat) in enumerate(POINTS[2:5], 1):
        rows.append([
            i, f"SYNTHETIC report {i}", f"2025-0{i}-0{i} 14:3{i}:00", f"SYNTHETIC place {i}",
            "SYNTHETIC: made up for the geotrack tests.", "1. Crossing,", lat, lon, "YES",
            "NO" if i % 2 else "YES",
        ])  # fmt: skip
    return _csv(rows)


def semicolon_dms() -> bytes:
    """A European spreadsheet's CSV: ';', decimal commas, one coordinate in DMS."""
    rows: list[list[object]] = [["Nom", "Longitude", "Latitude", "Type", "Source", "Date"]]
    (lon1, lat1), (lon2, lat2) = POINTS[0], POINTS[5]
    rows.append(["SYNTHETIC gué A", f"{lon1}".replace(".", ","), f"{lat1}".replace(".", ","),
                 "ford", "SYNTHETIC source", "2025-11-02"])  # fmt: skip
    d, m = int(lat2), (lat2 - int(lat2)) * 60
    s = (m - int(m)) * 60
    lond, lonm = int(lon2), (lon2 - int(lon2)) * 60
    lons = (lonm - int(lonm)) * 60
    rows.append(["SYNTHETIC pont B", f"{lond}°{int(lonm)}'{lons:.2f}\"E",
                 f"{d}°{int(m)}'{s:.2f}\"N", "pontoon", "SYNTHETIC source", "2025-11-03"])  # fmt: skip
    return _csv(rows, delimiter=";")


def networklink_kmz() -> bytes:
    ns = "http://www.opengis.net/kml/2.2"
    doc = f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="{ns}"><Document><name>SYNTHETIC KMZ with NetworkLinks</name>
<Placemark><name>SYNTHETIC ford in doc.kml</name>
<ExtendedData><Data name="kind"><value>ford</value></Data>
<Data name="source_name"><value>SYNTHETIC</value></Data></ExtendedData>
<Point><coordinates>{POINTS[1][0]},{POINTS[1][1]},0</coordinates></Point></Placemark>
<NetworkLink><name>part</name><Link><href>files/part.kml</href></Link></NetworkLink>
<NetworkLink><name>web</name><Link><href>https://example.org/more.kml</href></Link></NetworkLink>
</Document></kml>"""
    part = f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="{ns}"><Document><Folder><name>part</name>
<TimeSpan><begin>2025-09</begin><end>2025-10</end></TimeSpan>
<Placemark><name>SYNTHETIC pontoon in files/part.kml</name>
<ExtendedData><Data name="kind"><value>pontoon</value></Data>
<Data name="source_name"><value>SYNTHETIC</value></Data></ExtendedData>
<Point><coordinates>{POINTS[3][0]},{POINTS[3][1]}</coordinates></Point></Placemark>
</Folder></Document></kml>"""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("doc.kml", doc)
        z.writestr("files/part.kml", part)
    return buf.getvalue()


def gdal_files() -> None:
    """A KML and a CSV (WKT geometry) written by GDAL from the same points."""
    import geopandas as gpd
    import shapely

    gdf = gpd.GeoDataFrame(
        {
            "Name": [f"SYNTHETIC site {i}" for i in range(1, 4)],
            "Description": ["SYNTHETIC: written by GDAL for the geotrack tests."] * 3,
            "kind": ["ford", "ferry_boat", "cable"],
            "source_name": ["SYNTHETIC"] * 3,
        },
        geometry=[shapely.Point(x, y) for x, y in POINTS[:3]],
        crs="EPSG:4326",
    )
    for name in ("gdal_written.kml", "gdal_written.csv"):
        (HERE / name).unlink(missing_ok=True)
    gdf.to_file(HERE / "gdal_written.kml", driver="KML", engine="pyogrio")
    gdf.to_file(
        HERE / "gdal_written.csv",
        driver="CSV",
        engine="pyogrio",
        layer_options={"GEOMETRY": "AS_WKT"},
    )


QGIS_SCRIPT = """
import sys
from qgis.core import (QgsApplication, QgsVectorLayer, QgsFeature, QgsGeometry, QgsPointXY,
                       QgsField, QgsVectorFileWriter, QgsCoordinateTransformContext)
from qgis.PyQt.QtCore import QVariant
app = QgsApplication([], False); app.initQgis()
layer = QgsVectorLayer("Point?crs=EPSG:4326", "crossings", "memory")
pr = layer.dataProvider()
pr.addAttributes([QgsField("id", QVariant.Int), QgsField("Type", QVariant.String),
                  QgsField("Source", QVariant.String), QgsField("Date", QVariant.Date),
                  QgsField("certainty", QVariant.Double)])
layer.updateFields()
for i, (x, y) in enumerate(%s, 1):
    f = QgsFeature(layer.fields())
    f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
    f.setAttributes([i, "ford", "SYNTHETIC analyst", "2025-0%%d-15" %% i, 0.5])
    pr.addFeature(f)
opts = QgsVectorFileWriter.SaveVectorOptions(); opts.driverName = "GeoJSON"
err = QgsVectorFileWriter.writeAsVectorFormatV3(layer, sys.argv[1],
                                                QgsCoordinateTransformContext(), opts)
app.exitQgis()
sys.exit(0 if err[0] == QgsVectorFileWriter.NoError else 1)
"""


def qgis_geojson() -> None:
    out = HERE / "qgis_written.geojson"
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as home:  # QGIS writes its profile there
        subprocess.run(
            ["/usr/bin/python3", "-c", QGIS_SCRIPT % json.dumps(POINTS[3:6]), str(out)],
            check=True,
            env={
                "QT_QPA_PLATFORM": "offscreen",
                "PATH": "/usr/bin:/bin",
                "HOME": home,
                "XDG_RUNTIME_DIR": home,
            },
        )


def main() -> None:
    (HERE / "acled_events.csv").write_bytes(acled())
    (HERE / "ushahidi_reports.csv").write_bytes(ushahidi())
    (HERE / "semicolon_dms.csv").write_bytes(semicolon_dms())
    (HERE / "networklink.kmz").write_bytes(networklink_kmz())
    gdal_files()
    qgis_geojson()


if __name__ == "__main__":
    main()
