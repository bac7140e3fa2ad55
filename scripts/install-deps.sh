#!/usr/bin/env bash
# Installs what `make test` and `make demo` need on a fresh Debian machine:
# the PostgreSQL server binaries (tests start throwaway servers from them)
# and, with --consul, a Consul agent built from the Go module proxy; --chromium
# and --netns add the browser and iproute2 for the browser and routing tests.
set -euo pipefail
cd "$(dirname "$0")/.."

have_pg() {
	command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ] && return 0
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

apt_install() {
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "missing: $* — install them (Debian: sudo apt-get install -y $*)" >&2
		return 1
	fi
	if [ -z "${ATOLL_APT_UPDATED:-}" ]; then
		apt-get update -qq >/dev/null
		export ATOLL_APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! have_pg; then
	echo "installing the PostgreSQL server…"
	apt_install postgresql
fi
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
	echo "running as root needs the postgres OS user (created by the postgresql package)" >&2
	exit 1
fi

for arg in "$@"; do
	case "$arg" in
	--consul)
		bash internal/tools/consul/build.sh >/dev/null
		;;
	--chromium)
		command -v chromium >/dev/null 2>&1 || apt_install chromium
		;;
	--netns)
		# The routing test builds network namespaces joined by veth links.
		command -v ip >/dev/null 2>&1 || apt_install iproute2
		;;
	esac
done
