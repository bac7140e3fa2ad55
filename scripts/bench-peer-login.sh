#!/usr/bin/env bash
# Device login, Atoll against Nakama, side by side on this machine with the
# same client: wrk and scripts/peer-login.lua (one fixed set of device ids,
# each logged in many times) against Atoll's POST /auth/device and Nakama's
# POST /v2/account/authenticate/device (server key basic auth). Both servers
# run at their default log levels on one throwaway PostgreSQL (a database
# each, default durability), are primed (every device created, tables
# analysed, a warm-up run), then measured ALTERNATELY, ROUNDS times, the
# order swapped every round so neither always runs on the warmer machine.
# Prints each run, the medians and the ratio. CI does not run it.
#
#   scripts/bench-peer-login.sh /path/to/nakama
#
# The Nakama binary is yours to build (from its public repository); nothing
# here fetches or builds it. Environment:
#   ROUNDS (5), DURATION (15s), CONNECTIONS (32), THREADS (2),
#   DEVICES (10000), PORT (first of 30 free ports, 18700),
#   ATOLL_BIN (skip building Atoll), ATOLL_LOG_LEVEL (Atoll's default),
#   PPROF (seconds: also save a CPU profile of Atoll's first measured run)
set -euo pipefail
cd "$(dirname "$0")/.."

NAKAMA_BIN="${1:?usage: $0 /path/to/nakama}"
[ -x "$NAKAMA_BIN" ] || { echo "$NAKAMA_BIN is not an executable" >&2; exit 2; }
NAKAMA_BIN="$(realpath "$NAKAMA_BIN")"
ROUNDS="${ROUNDS:-5}" DURATION="${DURATION:-15s}" CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}" DEVICES="${DEVICES:-10000}" PORT="${PORT:-18700}" PPROF="${PPROF:-}"
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install -y wrk)" >&2; exit 2; }
LUA="$PWD/scripts/peer-login.lua"

# shellcheck source=scripts/peer-lib.sh
source scripts/peer-lib.sh
trap peer_cleanup EXIT INT TERM

url_of() { if [ "$1" = atoll ]; then echo "http://127.0.0.1:$ATOLL_PORT"; else echo "http://127.0.0.1:$NAKAMA_PORT"; fi; }

# run PEER DURATION [PRIME]: one wrk run; prints its RESULT line.
run() {
	PEER="$1" DEVICES="$DEVICES" THREADS="$THREADS" PRIME="${3:-0}" \
		wrk -t "$THREADS" -c "$CONNECTIONS" -d "$2" --timeout 10s -s "$LUA" "$(url_of "$1")" | grep '^RESULT'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load before start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "nakama: $("$NAKAMA_BIN" --version 2>&1 | head -1)"

peer_pg_start atoll nakama
peer_atoll_start
peer_nakama_start "$NAKAMA_BIN"

# Priming: create every device on both (each wrk thread logs its slice in
# once, then stops; PRIME_TIME caps it, as a thread once stalled there with
# its connections idle), check that they all exist, analyse as autovacuum
# would, warm up.
run atoll "${PRIME_TIME:-90s}" 1 >/dev/null
run nakama "${PRIME_TIME:-90s}" 1 >/dev/null
a_dev="$(psql_on atoll 'SELECT count(*) FROM devices')"
n_dev="$(psql_on nakama 'SELECT count(*) FROM user_device')"
if [ "$a_dev" -lt "$DEVICES" ] || [ "$n_dev" -lt "$DEVICES" ]; then
	echo "priming created $a_dev Atoll and $n_dev Nakama devices, want $DEVICES" >&2
	exit 1
fi
psql_on atoll ANALYZE
psql_on nakama ANALYZE
run atoll 3s >/dev/null
run nakama 3s >/dev/null

declare -A rps p99
for peer in atoll nakama; do rps[$peer]="" p99[$peer]=""; done
printf '%-6s %-7s %10s %9s %9s %8s  %s\n' round server req/s p50_ms p99_ms non2xx load
for r in $(seq "$ROUNDS"); do
	order="atoll nakama"
	[ $((r % 2)) -eq 0 ] && order="nakama atoll"
	for peer in $order; do
		load="$(cut -d' ' -f1 /proc/loadavg)"
		if [ -n "$PPROF" ] && [ "$peer" = atoll ] && [ "$r" -eq 1 ]; then
			curl -s -o "$work/atoll.cpu.pprof" "http://127.0.0.1:$ATOLL_DEBUG_PORT/debug/pprof/profile?seconds=$PPROF" &
			prof_pid=$!
		fi
		line="$(run "$peer" "$DURATION")"
		if [ -n "${prof_pid:-}" ]; then
			wait "$prof_pid"
			cp "$work/atoll.cpu.pprof" "${TMPDIR:-/tmp}/atoll-login.cpu.pprof"
			echo "Atoll CPU profile: ${TMPDIR:-/tmp}/atoll-login.cpu.pprof" >&2
			prof_pid=""
		fi
		if [ "$(field non2xx "$line")" != 0 ] || [ "$(field errors "$line")" != 0 ]; then
			echo "$peer answered errors: $line" >&2
			tail -20 "$work/$peer.log" >&2
			exit 1
		fi
		rps[$peer]+="$(field rps "$line") "
		p99[$peer]+="$(field p99_ms "$line") "
		printf '%-6s %-7s %10s %9s %9s %8s  %s\n' "$r" "$peer" "$(field rps "$line")" "$(field p50_ms "$line")" \
			"$(field p99_ms "$line")" "$(field non2xx "$line")" "$load"
	done
done

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
a_rps="$(med "${rps[atoll]}")" n_rps="$(med "${rps[nakama]}")"
a_p99="$(med "${p99[atoll]}")" n_p99="$(med "${p99[nakama]}")"
echo
echo "median of $ROUNDS runs ($DURATION each, $CONNECTIONS connections, $THREADS wrk threads, $DEVICES devices):"
printf '  atoll   %10.0f req/s  p99 %6.2f ms\n' "$a_rps" "$a_p99"
printf '  nakama  %10.0f req/s  p99 %6.2f ms\n' "$n_rps" "$n_p99"
awk -v a="$a_rps" -v n="$n_rps" 'BEGIN { printf "  ratio   %.2fx (Atoll req/s / Nakama req/s)\n", a / n }'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
