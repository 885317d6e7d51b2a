#!/usr/bin/env bash
# sockdiag benchmark (issue 6): time and peak RSS of a listener snapshot (with and
# without owners), a connection-count pass and the audit's count of connections on a
# VIP, side by side with `ss -tuna` on the same sockets: 10,000 then 100,000 sockets
# on loopback in a network namespace made for the run (fo90-bench, loopback only),
# removed on exit. Needs root.
#
#   tests/bench/sockdiag-bench.sh [BUILD_DIR [RUNS]]     (default $FO_BUILD, else build/gcc; 10 runs)
#   FO_BENCH_SIZES="10000" tests/bench/sockdiag-bench.sh  (other socket counts)
set -euo pipefail

NS=fo90-bench
BUILD=${1:-${FO_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build/gcc}}
RUNS=${2:-10}
SIZES=${FO_BENCH_SIZES:-"10000 100000"}
BENCH=$(realpath "$BUILD/tests/sockdiag-bench")
SS=$(command -v ss)
SETUP_TIMEOUT=300	# seconds to open the sockets of one phase
MEASURE_TIMEOUT=900	# seconds for one phase's measurements
holder=""
tmp=$(mktemp -d)

stop_holder() {
	if [ -n "$holder" ] && kill -0 "$holder" 2>/dev/null; then
		kill "$holder"
		wait "$holder" 2>/dev/null || true
	fi
	holder=""
}

cleanup() {
	stop_holder
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "sockdiag-bench: needs root (network namespace)" >&2; exit 1; }
[ -x "$BENCH" ] || { echo "sockdiag-bench: build the sockdiag-bench target in $BUILD first" >&2; exit 1; }

# The holder spreads its sockets over processes when it may not raise this enough.
ulimit -n 262144 2>/dev/null || ulimit -n "$(ulimit -Hn)"

ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.core.somaxconn=65535 net.ipv4.ip_local_port_range="1024 65535"

echo "sockdiag benchmark: kernel $(uname -r), $(nproc) CPUs, $("$SS" -V 2>&1 | head -1), $RUNS runs"
"$(dirname "$0")/machine.sh"

start_holder() {
	local sockets=$1 waited=0
	ip netns exec "$NS" "$BENCH" hold "$sockets" >"$tmp/ready" 2>"$tmp/hold.err" &
	holder=$!
	until grep -q '^ready' "$tmp/ready"; do
		if ! kill -0 "$holder" 2>/dev/null || [ "$waited" -ge $((SETUP_TIMEOUT * 10)) ]; then
			echo "sockdiag-bench: the holder did not get ready:" >&2
			cat "$tmp/hold.err" >&2
			exit 1
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
}

for sockets in $SIZES; do
	t0=$(date +%s%N)
	start_holder "$sockets"
	t1=$(date +%s%N)
	echo
	echo "== $sockets sockets: $(cat "$tmp/ready") (opened in $(((t1 - t0) / 1000000)) ms)"
	echo "   ss -tuna lines: $(ip netns exec "$NS" "$SS" -tuna | tail -n +2 | wc -l)"
	timeout "$MEASURE_TIMEOUT" ip netns exec "$NS" "$BENCH" measure "$RUNS" "$SS"
	if [ -x /usr/bin/time ]; then
		echo "   cross-check, one run under /usr/bin/time: ss -tuna $(
			ip netns exec "$NS" /usr/bin/time -f '%e s, %M KB' "$SS" -tuna 2>&1 >/dev/null)"
	fi
	stop_holder
done
