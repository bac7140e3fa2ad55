#!/usr/bin/env bash
# Runs every go fuzz target in the module briefly (FUZZTIME, default 5s):
# CI's smoke test that the network decoders survive random input.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-5s}"
count=0
while IFS= read -r line; do
	file="${line%%:*}"
	name="$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' <<<"${line#*:}")"
	pkg="./$(dirname "$file")"
	echo "fuzz $pkg $name ($fuzztime)"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" >/tmp/atoll-fuzz.log 2>&1 || { cat /tmp/atoll-fuzz.log; exit 1; }
	count=$((count + 1))
done < <(git ls-files --cached --others --exclude-standard -- '*_test.go' | grep -v '^internal/tools/' | xargs grep -H '^func Fuzz' | sort)
echo "fuzz: $count targets passed"
