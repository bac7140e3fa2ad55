#!/usr/bin/env bash
# Runs every go fuzz target in the module briefly (FUZZTIME, default 5s):
# CI's smoke test that the network decoders survive random input.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-5s}"
count=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
while IFS= read -r line; do
	file="${line%%:*}"
	name="$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' <<<"${line#*:}")"
	pkg="./$(dirname "$file")"
	echo "fuzz $pkg $name ($fuzztime)"
	# A short minimize budget keeps the run inside its time; Go's fuzzer can
	# still end with a spurious "context deadline exceeded" when the clock
	# runs out mid-minimization (no crasher is written then), so that one
	# outcome is retried once. A real failure writes testdata and fails.
	ok=0
	for attempt in 1 2; do
		if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 1s "$pkg" >"$log" 2>&1; then
			ok=1
			break
		fi
		grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log" || break
		echo "  retrying $name after a deadline during minimization"
	done
	[ "$ok" = 1 ] || { cat "$log"; exit 1; }
	count=$((count + 1))
done < <(git ls-files --cached --others --exclude-standard -- '*_test.go' | grep -v '^internal/tools/' | xargs grep -H '^func Fuzz' | sort)
echo "fuzz: $count targets passed"
