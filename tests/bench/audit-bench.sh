#!/usr/bin/env bash
# Audit benchmark (issue 6): what the audit around a transition costs with 10,000 and
# 100,000 open sockets, side by side with `ss -tuna` on the same sockets.
#
# In a network namespace made for the run (fo39-bench, loopback only, removed on
# exit): sockdiag-bench holds the sockets (TCP pairs on loopback and a few UDP
# sockets, spread over processes under the descriptor limit), the VIP 192.0.2.100
# sits on lo with 1,000 of the connections on it, and audit-tool runs
# audit_before_release + audit_after_acquire ROUNDS times (the same code fomgr runs,
# with a periodic snapshot taken first, as fomgr has one).
#
# before_release is all a release waits for: it only queues. The count of the VIP's
# connections (one filtered netlink dump; the connections outlive the address) and
# the record run from the loop right after; after_acquire runs from the loop after
# the address is up (snapshot with owners, counts, the group's network state, one
# fsync'ed record). Neither adds to the unreachable window. Needs root.
#
#   tests/bench/audit-bench.sh [BUILD_DIR [ROUNDS]]     (default $FO_BUILD, else build/gcc; 20)
#   FO_BENCH_SIZES="10000" tests/bench/audit-bench.sh   (other socket counts)
set -euo pipefail

NS=fo39-bench
BUILD=${1:-${FO_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build/gcc}}
ROUNDS=${2:-20}
SIZES=${FO_BENCH_SIZES:-"10000 100000"}
HOLD=$(realpath "$BUILD/tests/sockdiag-bench")
TOOL=$(realpath "$BUILD/tests/audit-tool")
SS=$(command -v ss)
VIP=192.0.2.100
VIP_CONNS=1000
holder="" conns=""
tmp=$(mktemp -d)

stop_pid() { # PID
	if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
		kill "$1"
		wait "$1" 2>/dev/null || true
	fi
}
# Everything in the namespace was started by this script (the holder's workers too).
kill_ns_pids() {
	local p
	for p in $(ip netns pids "$NS" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null || true
	done
}
cleanup() {
	stop_pid "$conns"
	stop_pid "$holder"
	kill_ns_pids
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "audit-bench: needs root (network namespace)" >&2; exit 1; }
[ -x "$HOLD" ] && [ -x "$TOOL" ] || { echo "audit-bench: build sockdiag-bench and audit-tool in $BUILD" >&2; exit 1; }
ulimit -n 262144 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# A namespace of its own for each phase: nothing of the previous one (a socket still
# closing, a worker still exiting) can be in the way.
setup_ns() {
	kill_ns_pids
	ip netns del "$NS" 2>/dev/null || true
	ip netns add "$NS"
	ip -n "$NS" link set lo up
	ip -n "$NS" addr add $VIP/24 dev lo
	ip netns exec "$NS" sysctl -qw net.core.somaxconn=65535 net.ipv4.ip_local_port_range="1024 65535"
}
cat >"$tmp/bench.conf" <<CONF
[group vip]
interface = lo
address = $VIP/24
[audit]
probe = no
allow = tcp/8001
allow = tcp/8002
allow = tcp/8003
allow = tcp/8004
CONF

in_ns() { ip netns exec "$NS" "$@"; }

# Median wall time (ms) and peak RSS (KB) of RUNS runs of a command, in the namespace.
time_cmd() { # RUNS CMD...
	local runs=$1 i
	shift
	for ((i = 0; i < runs; i++)); do
		in_ns /usr/bin/time -f '%e %M' -o "$tmp/t" bash -c 's=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000))' _ "$@" >>"$tmp/us"
		cut -d' ' -f2 "$tmp/t" >>"$tmp/rss"
	done
	echo "$(sort -n "$tmp/us" | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }') $(sort -n "$tmp/rss" | tail -1)"
	rm -f "$tmp/us" "$tmp/rss"
}

echo "audit benchmark: kernel $(uname -r), $(nproc) CPUs, $("$SS" -V 2>&1 | head -1), $ROUNDS rounds"
"$(dirname "$0")/machine.sh"
rows=()
for sockets in $SIZES; do
	setup_ns
	ip netns exec "$NS" "$HOLD" hold "$sockets" >"$tmp/ready" 2>"$tmp/hold.err" &
	holder=$!
	until grep -q '^ready' "$tmp/ready"; do
		kill -0 "$holder" 2>/dev/null || { cat "$tmp/hold.err" >&2; exit 1; }
		sleep 0.2
	done
	ip netns exec "$NS" "$TOOL" connect $VIP 8001 $VIP_CONNS >"$tmp/conns" 2>&1 &
	conns=$!
	until grep -q '^connected=' "$tmp/conns"; do sleep 0.1; done
	total=$(in_ns "$SS" -tuna | tail -n +2 | wc -l)
	rm -f "$tmp/audit.log"
	in_ns /usr/bin/time -f '%M' -o "$tmp/audit.rss" "$TOOL" transition "$tmp/bench.conf" vip "$tmp/audit.log" "$ROUNDS" \
		>"$tmp/out" 2>/dev/null
	out=$(cat "$tmp/out")
	kv() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" <<<"$out"; }
	read -r ss_ms ss_rss < <(time_cmd 5 "$SS" -tuna)
	ms() { awk "BEGIN { print $(kv "$1") / 1000 }"; }
	printf -v row '| %7s | %7s | %4s | %6.3f / %6.3f | %6.2f / %6.2f | %6.2f / %6.2f | %6.2f | %6s | %8s | %7s |' \
		"$sockets" "$total" "$(kv vip_connections)" "$(ms before_release_us)" "$(ms before_release_max_us)" \
		"$(ms release_count_us)" "$(ms release_count_max_us)" \
		"$(ms after_acquire_us)" "$(ms after_acquire_max_us)" "$(ms periodic_us)" \
		"$(cat "$tmp/audit.rss")" "$ss_ms" "$ss_rss"
	rows+=("$row")
	echo "$sockets sockets: $out; ss -tuna ${ss_ms} ms ${ss_rss} KB"
	"$TOOL" verify "$tmp/audit.log" >/dev/null || { echo "audit-bench: the audit log does not verify" >&2; exit 1; }
	stop_pid "$conns"
	conns=""
	stop_pid "$holder"
	holder=""
done
echo
echo "| sockets | ss rows | VIP conns | before_release ms, in the release path (mean / max) | VIP count after release ms (mean / max) | after_acquire ms (mean / max) | periodic audit ms | audit RSS KB | ss -tuna ms | ss RSS KB |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
