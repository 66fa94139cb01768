#!/usr/bin/env bash
# Install everything the test suite needs and run all of it.
# Debian packages: Chromium (map tests in a real browser) and python3-qgis (export tests in real QGIS).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/tmux ] || ! [ -x /usr/bin/jq ] || ! [ -x /usr/bin/ogr2ogr ] || ! [ -d /usr/share/fonts/truetype/nanum ] || ! /usr/bin/python3 -c "import qgis.core" 2>/dev/null; then
  echo "installing Debian packages: chromium python3-qgis, CJK fonts, tmux (terminal test), jq and gdal-bin (help examples)" >&2
  $SUDO apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium python3-qgis fonts-wqy-microhei fonts-nanum tmux jq gdal-bin >&2
fi
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >&2
.venv/bin/python -m pip install -q -e '.[test]' >&2
.venv/bin/ruff check geotrack tests benchmarks scripts
.venv/bin/ruff format --check geotrack tests benchmarks scripts
.venv/bin/lint-imports
exec .venv/bin/python -m pytest "$@"
