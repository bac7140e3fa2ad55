#!/usr/bin/env bash
# Load-tests one cell the way an SRE would, everything on this machine: a
# throwaway PostgreSQL, `atoll global`, one `atoll cell` with its fleet, and
# `atoll loadtest` generators spread over loopback source addresses (a
# process may open at most `ulimit -Hn` files, so large CCU runs use several
# generators). Reports land in $OUT (default artifacts/bench-cell).
#   SCENARIO   idle (connected players, memory per player) or journey (players per minute)
#   PLAYERS    total virtual players (idle: 19000; journey: 64)
#   GENERATORS generator processes (idle: 4; journey: 1)
#   DURATION   (idle: 60s; journey: 60s), RAMP (idle: 30s; journey: 10s)
#   SLO        --slo values for journey (default "match.p99=30s,errors=0")
#   PORT       first of four free ports (18700)
set -euo pipefail
cd "$(dirname "$0")/.."
SCENARIO="${SCENARIO:-idle}" PORT="${PORT:-18700}" OUT="${OUT:-artifacts/bench-cell}"
if [ "$SCENARIO" = idle ]; then
	PLAYERS="${PLAYERS:-19000}" GENERATORS="${GENERATORS:-4}" DURATION="${DURATION:-60s}" RAMP="${RAMP:-30s}"
else
	PLAYERS="${PLAYERS:-64}" GENERATORS="${GENERATORS:-1}" DURATION="${DURATION:-60s}" RAMP="${RAMP:-10s}"
fi
SLO="${SLO:-match.p99=30s,errors=0}"
PG_PORT=$((PORT + 1)) CELL_PORT=$((PORT + 2))

bash scripts/install-deps.sh >/dev/null
go build -o bin/atoll ./cmd/atoll
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$bindir/initdb" ] || bindir="$(pg_config --bindir)"
mkdir -p "$OUT"
work="$(mktemp -d)"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
	chown postgres "$work"
	as_pg=(runuser -u postgres --)
fi
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	"${as_pg[@]}" "$bindir/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

"${as_pg[@]}" "$bindir/initdb" -D "$work/pg" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
"${as_pg[@]}" "$bindir/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
	-o "-p $PG_PORT -k $work -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
"${as_pg[@]}" "$bindir/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc 'CREATE DATABASE atoll'

wait_ready() {
	for _ in $(seq 300); do curl -sf "$1/readyz" >/dev/null && return 0; sleep 0.1; done
	echo "$1 did not become ready; see $work" >&2
	return 1
}
token="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p "$work/global" "$work/cell"
ATOLL_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/atoll" ATOLL_HTTP_ADDR="127.0.0.1:$PORT" \
	ATOLL_DATA_DIR="$work/global" ATOLL_AUTH_RATE_LIMIT=off ATOLL_LOG_LEVEL=warn ATOLL_CELL_TOKENS="bench-1=$token" \
	bin/atoll global >"$work/global.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$PORT"
ATOLL_CELL_ID=bench-1 ATOLL_REGION=bench ATOLL_HTTP_ADDR="127.0.0.1:$CELL_PORT" ATOLL_GLOBAL_URL="http://127.0.0.1:$PORT" \
	ATOLL_DATA_DIR="$work/cell" ATOLL_SERVICE_TOKEN="$token" ATOLL_LOG_LEVEL=warn ATOLL_WARM_SERVERS=4 ATOLL_MAX_SERVERS=48 \
	ATOLL_GAME_PORTS=19000-19099 ATOLL_GAMESERVER_ENV=ATOLL_GAME_DURATION=10s \
	bin/atoll cell >"$work/cell.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$CELL_PORT"

per=$(( (PLAYERS + GENERATORS - 1) / GENERATORS ))
gens=()
for g in $(seq 0 $((GENERATORS - 1))); do
	# Each generator gets its own eight loopback source addresses.
	src="127.0.$((10 + g)).1-127.0.$((10 + g)).8"
	args=(--target "http://127.0.0.1:$PORT" --cell "http://127.0.0.1:$CELL_PORT" --scenario "$SCENARIO"
		--players "$per" --ramp "$RAMP" --duration "$DURATION" --source-addrs "$src" --quiet
		--report-json "$OUT/$SCENARIO-$g.json" --report-html "$OUT/$SCENARIO-$g.html")
	[ "$SCENARIO" = journey ] && args+=(--slo "$SLO")
	bin/atoll loadtest "${args[@]}" >"$OUT/$SCENARIO-$g.txt" 2>&1 &
	gens+=($!)
done
status=0
for p in "${gens[@]}"; do wait "$p" || status=$?; done
cat "$OUT"/"$SCENARIO"-*.txt
if [ "$SCENARIO" = idle ]; then
	python3 - "$OUT" <<'PY'
import json, glob, sys
reps = [json.load(open(p)) for p in sorted(glob.glob(sys.argv[1] + "/idle-*.json"))]
peak = sum(r["summary"].get("peak_connected", 0) for r in reps)
rss = [r["summary"] for r in reps if "cell_rss_peak_bytes" in r["summary"]]
start = min(s["cell_rss_start_bytes"] for s in rss)
top = max(s["cell_rss_peak_bytes"] for s in rss)
print(f"connected players at peak: {peak:.0f}")
print(f"cell RSS: {start/2**20:.0f} MiB idle -> {top/2**20:.0f} MiB at peak: {(top-start)/max(peak,1)/1024:.1f} KiB per player")
print(f"projected for 100,000 players: {(start + (top-start)/max(peak,1)*100000)/2**30:.2f} GiB")
PY
fi
exit "$status"
