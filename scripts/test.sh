#!/usr/bin/env bash
# Install everything the test suite needs and run all of it.
# Debian packages: Chromium (map tests in a real browser), python3-qgis (export tests in real QGIS),
# PostgreSQL 15 + PostGIS 3 (the shared store's tests, on a throwaway cluster started here).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
APT=(apt-get -o DPkg::Lock::Timeout=900)
if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/tmux ] || ! [ -x /usr/bin/jq ] || ! [ -x /usr/bin/ogr2ogr ] || ! [ -d /usr/share/fonts/truetype/nanum ] || ! /usr/bin/python3 -c "import qgis.core" 2>/dev/null \
   || ! [ -x /usr/lib/postgresql/15/bin/initdb ] || ! [ -f /usr/share/postgresql/15/extension/postgis.control ]; then
  echo "installing Debian packages: chromium python3-qgis, CJK fonts, tmux (terminal test), jq and gdal-bin (help examples), postgresql-15 and postgresql-15-postgis-3 (the shared store)" >&2
  $SUDO "${APT[@]}" update -q >&2
  DEBIAN_FRONTEND=noninteractive $SUDO "${APT[@]}" install -y -q --no-install-recommends chromium python3-qgis \
    fonts-wqy-microhei fonts-nanum tmux jq gdal-bin postgresql-15 postgresql-15-postgis-3 >&2
fi
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >&2
.venv/bin/python -m pip install -q -e '.[test]' >&2
.venv/bin/ruff check geotrack tests benchmarks scripts
.venv/bin/ruff format --check geotrack tests benchmarks scripts
.venv/bin/lint-imports
# A throwaway PostgreSQL + PostGIS cluster on a Unix socket for the PostGIS store's tests,
# stopped and removed however the tests end.
PGDIR=$(mktemp -d /tmp/geotrack-pg.XXXXXX)
trap 'bash scripts/dev-postgis.sh stop "$PGDIR" || true; rm -rf "$PGDIR"' EXIT
GEOTRACK_TEST_PG=$(bash scripts/dev-postgis.sh start "$PGDIR" "${GEOTRACK_TEST_PG_PORT:-55432}")
export GEOTRACK_TEST_PG
.venv/bin/python -m pytest "$@"
