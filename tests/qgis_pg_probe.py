#!/usr/bin/python3
"""Open a geotrack PostGIS store in real QGIS (its PostGIS provider), edit it, report as JSON.

Run with Debian's system Python (python3-qgis), by ``tests/test_pgstore_qgis.py``::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_pg_probe.py CONNINFO SCHEMA REPORT.json

CONNINFO is a libpq connection string (``dbname=... host=... port=... user=...``).  The
report says whether the crossings table loads as a valid point layer, its CRS, feature
count, the fields QGIS sees, the renderer of the default style QGIS found in
``public.layer_styles``, and the outcome of two edits through the provider: a valid one
(status of the first crossing) and one the database must refuse (an unknown kind).
Nothing is written to $HOME: QGIS' profile goes to a temporary folder.
"""

import json
import os
import sys
import tempfile


def main(conninfo, schema, report_path):
    base = tempfile.mkdtemp(prefix="geotrack-qgis-pg-")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        os.makedirs(os.path.join(base, var.lower()), mode=0o700)
        os.environ[var] = os.path.join(base, var.lower())
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import QgsApplication, QgsVectorLayer

    app = QgsApplication([], False, os.path.join(base, "profile"))
    app.initQgis()
    try:
        # as QGIS' Data Source Manager writes it for a PostGIS point table with a primary key
        uri = f'{conninfo} key=\'id\' srid=4326 type=Point table="{schema}"."crossings" (geom)'
        layer = QgsVectorLayer(uri, "crossings", "postgres")
        out = {"valid": layer.isValid()}
        if layer.isValid():
            renderer = layer.renderer()
            out.update(
                crs=layer.crs().authid(),
                geometry=layer.geometryType(),
                count=layer.featureCount(),
                fields=[f.name() for f in layer.fields()],
                renderer=renderer.type() if renderer else None,
                category_field=getattr(renderer, "classAttribute", lambda: None)(),
                categories=[c.value() for c in getattr(renderer, "categories", list)()],
                styles=list(layer.listStylesInDatabase()[2])
                if layer.listStylesInDatabase()[0]
                else [],
            )
            feats = sorted(layer.getFeatures(), key=lambda f: f["id"])
            first = feats[0]
            out["first"] = {"id": first["id"], "status": first["status"], "kind": first["kind"]}
            layer.startEditing()
            layer.changeAttributeValue(first.id(), layer.fields().indexOf("status"), "destroyed")
            out["valid_edit_committed"] = layer.commitChanges()
            out["valid_edit_errors"] = layer.commitErrors()
            layer.startEditing()
            layer.changeAttributeValue(first.id(), layer.fields().indexOf("kind"), "bridge")
            out["bad_edit_committed"] = layer.commitChanges()
            out["bad_edit_errors"] = layer.commitErrors()
            layer.rollBack()
        with open(report_path, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2, default=str)
    finally:
        app.exitQgis()


if __name__ == "__main__":
    main(*sys.argv[1:4])
