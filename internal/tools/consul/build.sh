#!/usr/bin/env bash
# Builds the Consul agent that Atoll's tests run (see main.go beside this
# script) into the shared cache once, and prints the binary's path.
#
# Idempotent and safe to run concurrently: callers serialize on a lock file
# and whoever comes second finds the binary already there. Works from any
# working directory.
#
# Environment:
#   ATOLL_CACHE_DIR  cache root (default: $HOME/.cache/atoll)
set -euo pipefail

# Keep in step with the github.com/hashicorp/consul requirement in go.mod.
readonly CONSUL_VERSION=1.22.2

# A cold build compiles ~300 modules on 2 cores in 3–4 minutes; waiting up to
# 15 minutes for another caller's build covers a loaded machine without
# letting a wedged build hang a caller forever.
readonly LOCK_WAIT_SECONDS=900

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
cache_dir=${ATOLL_CACHE_DIR:-${HOME:?HOME or ATOLL_CACHE_DIR must be set}/.cache/atoll}
out_dir="$cache_dir/consul-$CONSUL_VERSION"
bin="$out_dir/consul"

if [[ -x "$bin" ]]; then
	printf '%s\n' "$bin"
	exit 0
fi

mkdir -p -- "$out_dir"
exec 9>"$out_dir/.build.lock"
if ! flock -w "$LOCK_WAIT_SECONDS" 9; then
	echo "build.sh: timed out after ${LOCK_WAIT_SECONDS}s waiting for $out_dir/.build.lock" >&2
	exit 1
fi

# Another caller may have finished the build while this one waited.
if [[ ! -x "$bin" ]]; then
	tmp="$out_dir/.consul.tmp.$$"
	trap 'rm -f -- "$tmp"' EXIT
	echo "build.sh: building consul $CONSUL_VERSION into $bin (takes a few minutes cold)" >&2
	(
		cd -- "$script_dir"
		# -mod=mod lets the build add a go.sum line that another toolchain
		# wants instead of failing; the committed go.sum normally has them all
		# and still pins every hash. GONOSUMDB keeps any such top-up of
		# Consul's own modules from depending on the checksum database.
		# -buildvcs=false: the binary needs no VCS stamp, and stamping fails
		# in checkouts git refuses to read (e.g. owned by another user).
		GOWORK=off GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod" GONOSUMDB=github.com/hashicorp/consul \
			go build -trimpath -buildvcs=false -o "$tmp" .
	)
	# Rename is atomic, so nobody ever sees a half-written binary at $bin.
	mv -f -- "$tmp" "$bin"
	trap - EXIT
fi

printf '%s\n' "$bin"
