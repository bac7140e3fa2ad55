# Shared by scripts/bench-peer-*.sh (sourced, not run): a throwaway
# PostgreSQL, Atoll's core and a Nakama server, all on 127.0.0.1, in a temp
# dir removed on exit. The Nakama binary is the caller's: this repository
# never holds, fetches or builds it.
#
# The caller sets PORT (first of a block of 30 free ports) before sourcing
# and calls peer_cleanup from its EXIT trap.

PG_PORT=$((PORT))
ATOLL_PORT=$((PORT + 1))
ATOLL_DEBUG_PORT=$((PORT + 2))
# Nakama listens on socket.port (HTTP API), socket.port-1 (gRPC),
# console.port and console.port-3 (console gRPC).
NAKAMA_PORT=$((PORT + 11))
NAKAMA_CONSOLE_PORT=$((PORT + 21))

work="$(mktemp -d /tmp/atoll-peer.XXXXXX)"
chmod 755 "$work"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$bindir/initdb" ] || bindir="$(pg_config --bindir)"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$work/pg-home" && chown postgres "$work/pg-home"
	as_pg=(runuser -u postgres --)
else
	mkdir -p "$work/pg-home"
fi
atoll_pid="" nakama_pid=""

peer_cleanup() {
	for p in $atoll_pid $nakama_pid; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	"${as_pg[@]}" "$bindir/pg_ctl" -D "$work/pg-home/pg" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$work"
}

peer_check_ports() {
	for p in "$@"; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "port $p is in use; set PORT to the first of 30 free ports" >&2
			exit 1
		fi
	done
}

# psql_on DB SQL...: runs SQL on the throwaway server, unaligned output.
psql_on() {
	local db="$1"
	shift
	"${as_pg[@]}" "$bindir/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$db" -qAtc "$*"
}

# peer_pg_start DB...: one PostgreSQL (default durability: fsync and
# synchronous_commit on, as in production) holding one database per server.
peer_pg_start() {
	peer_check_ports "$PG_PORT" "$ATOLL_PORT" "$ATOLL_DEBUG_PORT" $((NAKAMA_PORT - 1)) "$NAKAMA_PORT" \
		$((NAKAMA_CONSOLE_PORT - 3)) "$NAKAMA_CONSOLE_PORT"
	"${as_pg[@]}" "$bindir/initdb" -D "$work/pg-home/pg" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
	"${as_pg[@]}" "$bindir/pg_ctl" -D "$work/pg-home/pg" -l "$work/pg-home/pg.log" -w \
		-o "-p $PG_PORT -k $work/pg-home -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=15min" \
		start >/dev/null
	for d in "$@"; do
		psql_on postgres "CREATE DATABASE $d"
	done
}

wait_http() { # URL LOG
	for _ in $(seq 300); do
		curl -sf -o /dev/null "$1" && return 0
		sleep 0.1
	done
	echo "server at $1 did not become ready; its log:" >&2
	tail -50 "$2" >&2
	exit 1
}

# peer_atoll_start: `atoll global` on database atoll, auth rate limits off
# (one client IP sends everything), at its default log level unless
# ATOLL_LOG_LEVEL says otherwise. ATOLL_BIN skips the build.
peer_atoll_start() {
	local bin="${ATOLL_BIN:-}"
	if [ -z "$bin" ]; then
		bin="$work/atoll"
		go build -o "$bin" ./cmd/atoll
	fi
	mkdir -p "$work/atoll-data"
	ATOLL_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/atoll" ATOLL_HTTP_ADDR="127.0.0.1:$ATOLL_PORT" \
		ATOLL_DATA_DIR="$work/atoll-data" ATOLL_AUTH_RATE_LIMIT=off ATOLL_DEBUG_ADDR="127.0.0.1:$ATOLL_DEBUG_PORT" \
		"$bin" global >"$work/atoll.log" 2>&1 &
	atoll_pid=$!
	wait_http "http://127.0.0.1:$ATOLL_PORT/readyz" "$work/atoll.log"
}

# peer_nakama_start BIN [RUNTIME_DIR]: Nakama on database nakama, every
# listener on 127.0.0.1, its defaults otherwise (log level info, 60 s
# session tokens unless NAKAMA_TOKEN_EXPIRY_SEC), fresh session keys, Lua
# modules from RUNTIME_DIR if given. Its schema is made
# with its own `migrate up`.
peer_nakama_start() {
	local bin="$1" runtime="${2:-}"
	mkdir -p "$work/nakama-data"
	local key
	key() { head -c 24 /dev/urandom | base64 | tr -d '/+='; }
	cat >"$work/nakama.yml" <<EOF
name: atoll-peer-bench
data_dir: "$work/nakama-data"
logger:
  level: info
  stdout: true
database:
  address:
    - "postgres@127.0.0.1:$PG_PORT/nakama"
socket:
  address: "127.0.0.1"
  port: $NAKAMA_PORT
  server_key: "defaultkey"
console:
  address: "127.0.0.1"
  port: $NAKAMA_CONSOLE_PORT
  username: "admin"
  password: "$(key)"
  signing_key: "$(key)"
session:
  token_expiry_sec: ${NAKAMA_TOKEN_EXPIRY_SEC:-60}
  encryption_key: "$(key)"
  refresh_encryption_key: "$(key)"
runtime:
  http_key: "$(key)"
  path: "${runtime:-$work/nakama-data/modules}"
metrics:
  prometheus_port: 0
EOF
	"$bin" migrate up --config "$work/nakama.yml" >"$work/nakama-migrate.log" 2>&1 ||
		{ cat "$work/nakama-migrate.log" >&2; exit 1; }
	(cd "$work/nakama-data" && exec "$bin" --config "$work/nakama.yml") >"$work/nakama.log" 2>&1 &
	nakama_pid=$!
	wait_http "http://127.0.0.1:$NAKAMA_PORT/healthcheck" "$work/nakama.log"
}

# median: the median of the numbers on stdin, one a line.
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan" } else if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

# field NAME LINE: the value of NAME=value in a RESULT line.
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$2"; }
