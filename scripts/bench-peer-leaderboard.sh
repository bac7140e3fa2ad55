#!/usr/bin/env bash
# Leaderboard record writes per second: Nakama's, measured here, and
# Atoll's side by side once Atoll has leaderboards (issue 9 asks for both on
# one machine, goal Atoll >= 10x). CI does not run it.
#
#   scripts/bench-peer-leaderboard.sh /path/to/nakama
#
# Nakama: a throwaway PostgreSQL, Nakama on 127.0.0.1 with a Lua module
# (written by this script into a temp dir) that creates the leaderboard
# "bench" (descending, operator OPERATOR, rank cache on unless RANKS=false),
# PLAYERS device accounts whose session tokens the client uses, then wrk
# with scripts/peer-leaderboard.lua: 32 connections writing records through
# Nakama's client API (POST /v2/leaderboard/bench), every write a new best
# for its player.
#
# Atoll (needs the leaderboards of branch `leaderboard`): ATOLL=1 also
# starts `atoll global` (ATOLL_BIN, or built from this tree) on database
# "atoll" of the same PostgreSQL with a global board "bench" (same order and
# operator) and a service credential, creates PLAYERS device players, and
# drives its server-side grant endpoint (POST
# /internal/v1/leaderboards/bench/scores, each write its own idempotency
# key: applied exactly once, persisted, rank index updated) with the same wrk
# client, alternately with Nakama; the ratio is printed. Scores only come
# from servers in Atoll, so this is its HTTP write path. Alternatively
# ATOLL_LEADERBOARD_CMD is any command that measures Atoll and prints one
#   RESULT rps=<writes/s> p50_ms=<ms> p99_ms=<ms> requests=<n> non2xx=<n> errors=<n>
# line; it runs with ATOLL_PG_URL (database "atoll"), DURATION, CONNECTIONS
# and PLAYERS in its environment. Neither set: only Nakama is measured.
#
# The Nakama binary is yours to build; nothing here fetches or builds it.
# Environment: ROUNDS (5), DURATION (15s), CONNECTIONS (32), THREADS (2),
#   PLAYERS (1000), OPERATOR (best, set or incr), RANKS (true), PORT (18730),
#   ATOLL (0), ATOLL_BIN, ATOLL_LEADERBOARD_CMD (see above)
set -euo pipefail
cd "$(dirname "$0")/.."

NAKAMA_BIN="${1:?usage: $0 /path/to/nakama}"
[ -x "$NAKAMA_BIN" ] || { echo "$NAKAMA_BIN is not an executable" >&2; exit 2; }
NAKAMA_BIN="$(realpath "$NAKAMA_BIN")"
ROUNDS="${ROUNDS:-5}" DURATION="${DURATION:-15s}" CONNECTIONS="${CONNECTIONS:-32}" THREADS="${THREADS:-2}"
PLAYERS="${PLAYERS:-1000}" OPERATOR="${OPERATOR:-best}" RANKS="${RANKS:-true}" PORT="${PORT:-18730}"
ATOLL_LEADERBOARD_CMD="${ATOLL_LEADERBOARD_CMD:-}" ATOLL="${ATOLL:-0}"
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install -y wrk)" >&2; exit 2; }
LUA="$PWD/scripts/peer-leaderboard.lua"
# Session tokens must outlive the whole run (Nakama's default is 60 s).
export NAKAMA_TOKEN_EXPIRY_SEC=7200

# shellcheck source=scripts/peer-lib.sh
source scripts/peer-lib.sh
trap peer_cleanup EXIT INT TERM

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load before start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "nakama: $("$NAKAMA_BIN" --version 2>&1 | head -1)"

mkdir -p "$work/modules"
cat >"$work/modules/bench_leaderboard.lua" <<EOF
-- Written by Atoll's scripts/bench-peer-leaderboard.sh: the leaderboard it
-- writes to. Arguments: id, authoritative (false: clients write through the
-- API), sort order, operator, reset schedule (none), metadata, rank cache.
local nk = require("nakama")
nk.leaderboard_create("bench", false, "desc", "$OPERATOR", nil, {}, $RANKS)
EOF

peer_pg_start atoll nakama
peer_nakama_start "$NAKAMA_BIN" "$work/modules"

if [ "$ATOLL" = 1 ]; then
	case "$OPERATOR" in incr) atoll_op=increment ;; *) atoll_op="$OPERATOR" ;; esac
	printf 'leaderboards:\n  - name: bench\n    order: desc\n    operator: %s\n    scope: global\n    reset: never\n    field: score\n' \
		"$atoll_op" >"$work/leaderboards.yaml"
	service_token="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	export ATOLL_LEADERBOARDS_FILE="$work/leaderboards.yaml" ATOLL_CELL_TOKENS="bench=$service_token leaderboards:grant"
	peer_atoll_start
	for i in $(seq -w 1 "$PLAYERS"); do
		curl -s -w '\n' -H 'Content-Type: application/json' -d "{\"device_id\":\"bench-lb-player-$i\"}" \
			"http://127.0.0.1:$ATOLL_PORT/auth/device" | sed -n 's/.*"player_id" *: *"\([^"]*\)".*/\1/p'
	done >"$work/atoll-players"
	[ "$(wc -l <"$work/atoll-players")" -eq "$PLAYERS" ] ||
		{ echo "got $(wc -l <"$work/atoll-players") Atoll players for $PLAYERS" >&2; tail -20 "$work/atoll.log" >&2; exit 1; }
	# One grant by hand first: a refused one shows its error envelope.
	probe="$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $service_token" -H 'Content-Type: application/json' \
		-d "{\"player_id\":\"$(head -1 "$work/atoll-players")\",\"value\":1,\"idempotency_key\":\"probe-$$\"}" \
		"http://127.0.0.1:$ATOLL_PORT/internal/v1/leaderboards/bench/scores")"
	case "$probe" in *" 200") ;; *) echo "Atoll refused a score grant: $probe" >&2; exit 1 ;; esac
fi
# The players: device accounts, their session tokens one a line.
# -w: the answer has no final newline, and sed keeps it that way.
session_token() {
	curl -s -w '\n' -u defaultkey: -H 'Content-Type: application/json' -d "{\"id\":\"bench-lb-player-$1\"}" \
		"http://127.0.0.1:$NAKAMA_PORT/v2/account/authenticate/device?create=true" |
		sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p'
}
# Eight at a time; waits name their jobs (a bare wait would wait for Nakama).
pids=()
for i in $(seq -w 1 "$PLAYERS"); do
	# A background subshell would run the EXIT trap (cleanup) when it ends.
	(trap - EXIT INT TERM; session_token "$i") >>"$work/tokens" &
	pids+=($!)
	if [ "${#pids[@]}" -ge 8 ]; then
		wait "${pids[@]}"
		pids=()
	fi
done
[ "${#pids[@]}" -eq 0 ] || wait "${pids[@]}"
if [ "$(wc -l <"$work/tokens")" -ne "$PLAYERS" ]; then
	echo "got $(wc -l <"$work/tokens") session tokens for $PLAYERS players; one answer:" >&2
	curl -s -u defaultkey: -H 'Content-Type: application/json' -d '{"id":"bench-lb-player-x0000001"}' \
		"http://127.0.0.1:$NAKAMA_PORT/v2/account/authenticate/device?create=true" >&2
	exit 1
fi

nakama_run() {
	TOKENS="$work/tokens" BOARD=bench THREADS="$THREADS" \
		wrk -t "$THREADS" -c "$CONNECTIONS" -d "$1" --timeout 10s -s "$LUA" "http://127.0.0.1:$NAKAMA_PORT" | grep '^RESULT'
}
atoll_run() {
	if [ "$ATOLL" = 1 ]; then
		PEER=atoll TOKENS="$work/atoll-players" SERVICE_TOKEN="$service_token" BOARD=bench THREADS="$THREADS" \
			wrk -t "$THREADS" -c "$CONNECTIONS" -d "$1" --timeout 10s -s "$LUA" "http://127.0.0.1:$ATOLL_PORT" | grep '^RESULT'
		return
	fi
	ATOLL_PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/atoll" DURATION="$1" CONNECTIONS="$CONNECTIONS" PLAYERS="$PLAYERS" \
		bash -c "$ATOLL_LEADERBOARD_CMD" | grep '^RESULT' | tail -1
}

# Warm-up: every player gets its record (first writes insert, later ones
# update); the count also shows the module created the leaderboard.
nakama_run 5s >/dev/null
psql_on nakama ANALYZE
records="$(psql_on nakama "SELECT count(*) FROM leaderboard_record WHERE leaderboard_id = 'bench'")"
[ "$records" -ge "$PLAYERS" ] || { echo "warm-up wrote $records records for $PLAYERS players" >&2; exit 1; }
with_atoll=0
if [ -n "$ATOLL_LEADERBOARD_CMD" ] || [ "$ATOLL" = 1 ]; then
	with_atoll=1
	atoll_run 5s >/dev/null
fi

peers="nakama"
[ "$with_atoll" = 1 ] && peers="atoll nakama"
declare -A rps p99
for peer in atoll nakama; do rps[$peer]="" p99[$peer]=""; done
printf '%-6s %-7s %10s %9s %9s %8s  %s\n' round server writes/s p50_ms p99_ms non2xx load
for r in $(seq "$ROUNDS"); do
	order="$peers"
	[ $((r % 2)) -eq 0 ] && order="$(tr ' ' '\n' <<<"$peers" | tac | tr '\n' ' ')"
	for peer in $order; do
		load="$(cut -d' ' -f1 /proc/loadavg)"
		line="$("${peer}_run" "$DURATION")"
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
echo
echo "median of $ROUNDS runs ($DURATION each, $CONNECTIONS connections, $PLAYERS players, operator $OPERATOR, ranks $RANKS):"
printf '  nakama  %10.0f writes/s  p99 %6.2f ms\n' "$(med "${rps[nakama]}")" "$(med "${p99[nakama]}")"
if [ "$with_atoll" = 1 ]; then
	printf '  atoll   %10.0f writes/s  p99 %6.2f ms\n' "$(med "${rps[atoll]}")" "$(med "${p99[atoll]}")"
	awk -v a="$(med "${rps[atoll]}")" -v n="$(med "${rps[nakama]}")" 'BEGIN { printf "  ratio   %.2fx (Atoll / Nakama)\n", a / n }'
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
