#!/usr/bin/env bash
# Starts (or finds running) a throwaway PostgreSQL cluster for the tests and prints its SQLAlchemy URL.
# Usage: scripts/start_postgres.sh [DATA_DIR] [PORT]. Stop it with: pg_ctl -D DATA_DIR stop (as its owner).
# PostgreSQL refuses to run as root, so under root the cluster belongs to the `postgres` user of the package.
set -euo pipefail
DIR=${1:-build/postgres}
PORT=${2:-55432}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$BIN" ] || { echo "PostgreSQL is not installed (make system-deps)" >&2; exit 1; }
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$DIR" && chmod 700 "$DIR"
if [ ! -f "$DIR/PG_VERSION" ]; then
  as_owner "$BIN/initdb" -D "$DIR" -A trust -U trayscan -E UTF8 >/dev/null
fi
if ! as_owner "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  as_owner "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
fi
echo "postgresql+psycopg://trayscan@127.0.0.1:$PORT/postgres"
