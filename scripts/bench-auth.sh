#!/usr/bin/env bash
# Measures /auth/device the way issue 2 states its target: `atoll global` on a
# local PostgreSQL (default durability: fsync and synchronous_commit on), 32
# connections from `atoll loadtest`, everything on this machine. It starts
# and removes its own PostgreSQL and core.
#   CONCURRENCY (32), DURATION (20s), PORT (first of two free ports, 18600),
#   SCENARIOS ("device-login device-register")
set -euo pipefail
cd "$(dirname "$0")/.."
CONCURRENCY="${CONCURRENCY:-32}" DURATION="${DURATION:-20s}" PORT="${PORT:-18600}"
SCENARIOS="${SCENARIOS:-device-login device-register}"
PG_PORT=$((PORT + 1))

bash scripts/install-deps.sh >/dev/null
go build -o bin/atoll ./cmd/atoll
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$bindir/initdb" ] || bindir="$(pg_config --bindir)"

work="$(mktemp -d)"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
	chown postgres "$work"
	as_pg=(runuser -u postgres --)
fi
core_pid=""
cleanup() {
	[ -n "$core_pid" ] && kill "$core_pid" 2>/dev/null && wait "$core_pid" 2>/dev/null || true
	"${as_pg[@]}" "$bindir/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

"${as_pg[@]}" "$bindir/initdb" -D "$work/pg" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
"${as_pg[@]}" "$bindir/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
	-o "-p $PG_PORT -k $work -c listen_addresses=127.0.0.1 -c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=15min" start >/dev/null
"${as_pg[@]}" "$bindir/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc 'CREATE DATABASE atoll'

mkdir -p "$work/data"
ATOLL_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/atoll" ATOLL_HTTP_ADDR="127.0.0.1:$PORT" \
	ATOLL_DATA_DIR="$work/data" ATOLL_AUTH_RATE_LIMIT=off ATOLL_LOG_LEVEL=warn \
	bin/atoll global >"$work/global.log" 2>&1 &
core_pid=$!
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
	sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { cat "$work/global.log" >&2; exit 1; }

# A production database is large and analysed. A fresh one is neither, and
# for its first minute (until autovacuum's first ANALYZE) PostgreSQL keeps
# the foreign-key checks' plans made when players had one page: sequential
# scans, so every registration reads the whole table. Prime it with a few
# seconds of registrations and analyse it, as autovacuum would.
bin/atoll loadtest --target-url "http://127.0.0.1:$PORT" --scenario device-register \
	--concurrency "$CONCURRENCY" --duration 5s >/dev/null
"${as_pg[@]}" "$bindir/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d atoll -qc 'ANALYZE'

for scenario in $SCENARIOS; do
	bin/atoll loadtest --target-url "http://127.0.0.1:$PORT" --scenario "$scenario" \
		--concurrency "$CONCURRENCY" --warmup 3s --duration "$DURATION"
done
