#!/usr/bin/env bash
# A throwaway PostgreSQL 15 + PostGIS 3 cluster for geotrack's tests and for trying the shared store.
#
#   scripts/dev-postgis.sh start DIR [PORT]   initdb in DIR, start on a Unix socket in DIR (no TCP),
#                                             create database geotrack_test; prints the store URL
#   scripts/dev-postgis.sh stop DIR           stop it (DIR can then be removed)
#
# Needs Debian's postgresql-15 and postgresql-15-postgis-3 (scripts/test.sh installs them). As root,
# the server runs as the `postgres` user (PostgreSQL refuses to run as root). Authentication is
# `trust` on the socket in DIR only (which only this machine's users who can reach DIR may use),
# except for members of the role geotrack_password_auth, who must give a password.
set -euo pipefail
BIN=/usr/lib/postgresql/15/bin
cmd=${1:?usage: $0 start DIR [PORT] | stop DIR}
dir=${2:?usage: $0 start DIR [PORT] | stop DIR}
port=${3:-55432}
as_owner=()
if [ "$(id -u)" -eq 0 ]; then as_owner=(runuser -u postgres --); fi
case "$cmd" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; chmod 0755 "$dir"; fi
    "${as_owner[@]}" "$BIN/initdb" -D "$dir/data" -A trust -U geotrack -E UTF8 --no-sync >"$dir/initdb.log"
    # members of geotrack_password_auth must give a password (the tests of bad credentials)
    "${as_owner[@]}" sed -i '1i local all +geotrack_password_auth scram-sha-256' "$dir/data/pg_hba.conf"
    "${as_owner[@]}" "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -p $port -c listen_addresses='' -c fsync=off -c max_connections=60" start >&2
    "${as_owner[@]}" "$BIN/createdb" -h "$dir" -p "$port" -U geotrack geotrack_test
    "${as_owner[@]}" "$BIN/psql" -q -h "$dir" -p "$port" -U geotrack -d geotrack_test \
      -c "CREATE ROLE geotrack_password_auth NOLOGIN" >&2
    echo "postgresql://geotrack@/geotrack_test?host=$dir&port=$port"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      "${as_owner[@]}" "$BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2
    fi
    ;;
  *) echo "usage: $0 start DIR [PORT] | stop DIR" >&2; exit 2 ;;
esac
