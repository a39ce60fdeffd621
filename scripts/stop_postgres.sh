#!/usr/bin/env bash
# Stops a cluster started by scripts/start_postgres.sh. Usage: scripts/stop_postgres.sh [DATA_DIR]
set -euo pipefail
DIR=${1:-build/postgres}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$BIN" ] && [ -f "$DIR/PG_VERSION" ] || exit 0
if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR" -m fast stop || true
else "$BIN/pg_ctl" -D "$DIR" -m fast stop || true; fi
