#!/usr/bin/env bash
# 10-vip-netns: fomgr's vip module against the real kernel. Two namespaces, fo10-a
# (the node that holds the VIPs) and fo10-b (a peer on the same link), joined by a
# veth pair; nothing touches the root namespace. Every assertion reads the kernel's
# view (ip addr / ip neigh) or what the peer received on the wire.
# Needs root. Env: FO_BUILD (build dir holding tests/vip-tool).
set -eu

: "${FO_BUILD:?FO_BUILD must point at the build directory}"
TOOL=$FO_BUILD/tests/vip-tool
A=fo10-a
B=fo10-b
MAC_A=02:00:00:10:00:0a
MAC_B=02:00:00:10:00:0b
FAKE=02:00:00:10:00:99
TMP=$(mktemp -d /tmp/fo10.XXXXXX)
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() { echo "ok: $*"; }
on_a() { ip netns exec "$A" "$@"; }
on_b() { ip netns exec "$B" "$@"; }
# A hung call fails the test in seconds instead of at ctest's timeout.
tool_a() { timeout -k 2 20 ip netns exec "$A" "$TOOL" "$@"; }

[ "$(id -u)" = 0 ] || fail "must run as root"
[ -x "$TOOL" ] || fail "$TOOL not built"

# Leftovers of an earlier run would collide with our names.
for ns in $(ip netns list | awk '{print $1}' | grep '^fo10-' || true); do
	echo "removing leftover namespace $ns"
	ip netns del "$ns"
done

setup() {
	ip netns add "$A"
	ip netns add "$B"
	ip -n "$A" link add veth-a address $MAC_A type veth peer name veth-b address $MAC_B netns "$B"
	ip -n "$A" link set lo up
	ip -n "$B" link set lo up
	ip -n "$A" addr add 192.0.2.1/24 dev veth-a
	ip -n "$B" addr add 192.0.2.2/24 dev veth-b
	ip -n "$A" addr add 2001:db8:10::1/64 dev veth-a nodad
	ip -n "$B" addr add 2001:db8:10::2/64 dev veth-b nodad
	# No DAD on the link-local addresses: IPv6 installs its multicast route (and
	# so accepts the NA to ff02::1) only once the link-local address is valid.
	ip netns exec "$A" sysctl -qw net.ipv6.conf.veth-a.accept_dad=0
	ip netns exec "$B" sysctl -qw net.ipv6.conf.veth-b.accept_dad=0
	ip -n "$A" link set veth-a up
	ip -n "$B" link set veth-b up
	# A second pair inside fo10-a only: a 13-character name (label truncation) and
	# an interface without IPv6 (a real error answered by the kernel).
	ip -n "$A" link add vip-long-name type veth peer name fo10-err
	ip netns exec "$A" sysctl -qw net.ipv6.conf.fo10-err.disable_ipv6=1
	ip -n "$A" link set vip-long-name up
	ip -n "$A" link set fo10-err up
	wait_ipv6_ready "$A" veth-a
	wait_ipv6_ready "$B" veth-b
}

wait_ipv6_ready() { # ns dev
	local i
	for i in $(seq 50); do
		ip -n "$1" -6 route show table local | grep -q "^multicast ff00::/8 dev $2 " && return 0
		sleep 0.1
	done
	fail "IPv6 on $1/$2 not ready (no multicast route)"
}

addr_a() { ip -n "$A" addr show dev "$1"; }

assert_has() { # text pattern message
	grep -qE -- "$2" <<<"$1" || { echo "$1" >&2; fail "$3"; }
}
assert_not() {
	! grep -qE -- "$2" <<<"$1" || { echo "$1" >&2; fail "$3"; }
}

# Starts a listener on fo10-b in the background and waits until its socket is bound.
start_listener() { # out-file args...
	local out=$1 i
	shift
	on_b "$TOOL" "$@" >"$out" 2>&1 &
	PIDS+=($!)
	for i in $(seq 50); do
		grep -q '^listening' "$out" && return 0
		sleep 0.1
	done
	cat "$out" >&2
	fail "listener $* did not start"
}

setup

# ---- add ----
out=$(tool_a add 192.0.2.100/24 veth-a) || fail "add 192.0.2.100: $out"
echo "$out"
assert_has "$(addr_a veth-a)" 'inet 192\.0\.2\.100/24 .*veth-a:fo$' "192.0.2.100 not added with label veth-a:fo"
ok "IPv4 add, label veth-a:fo"

out=$(tool_a add 192.0.2.100/24 veth-a) || fail "second add of 192.0.2.100 (must be idempotent): $out"
n=$(addr_a veth-a | grep -c 'inet 192\.0\.2\.100/')
[ "$n" = 1 ] || fail "192.0.2.100 present $n times after a second add"
ok "IPv4 add again is success, still one address"

tool_a present 192.0.2.100/24 veth-a >/dev/null || fail "present says 192.0.2.100 is absent"
ok "present"

out=$(tool_a add 2001:db8:10::100/64 veth-a) || fail "add 2001:db8:10::100: $out"
v6=$(addr_a veth-a | grep -A1 'inet6 2001:db8:10::100/64' || true)
assert_has "$v6" 'inet6 2001:db8:10::100/64 .*nodad' "2001:db8:10::100 not added with nodad"
assert_not "$v6" 'tentative|dadfailed' "2001:db8:10::100 is tentative"
tool_a add 2001:db8:10::100/64 veth-a >/dev/null || fail "second IPv6 add not idempotent"
ok "IPv6 add, nodad, not tentative, idempotent"

# Several requests in flight at once, answered out of one read: each completes.
out=$(tool_a add 192.0.2.101/24 veth-a 192.0.2.102/24 veth-a 2001:db8:10::101/64 veth-a \
	198.51.100.10/24 vip-long-name) || fail "concurrent add: $out"
echo "$out"
[ "$(grep -c ' ok ' <<<"$out")" = 4 ] || fail "concurrent add: not four completions"
for ip4 in 192.0.2.101 192.0.2.102; do
	assert_has "$(addr_a veth-a)" "inet $ip4/24 .*veth-a:fo\$" "$ip4 missing after concurrent add"
done
assert_has "$(addr_a veth-a)" 'inet6 2001:db8:10::101/64' "2001:db8:10::101 missing"
assert_has "$(addr_a vip-long-name)" 'inet 198\.51\.100\.10/24 .*vip-long-name:f$' \
	"label on a 13-character interface not truncated to vip-long-name:f"
ok "four concurrent adds, truncated label on vip-long-name"

# An address someone else put there is adopted (success) but not listed as ours.
ip -n "$A" addr add 192.0.2.103/24 dev veth-a
tool_a add 192.0.2.103/24 veth-a >/dev/null || fail "adopting 192.0.2.103 failed"

# ---- list ----
out=$(tool_a list) || fail "list: $out"
echo "$out"
for want in '192.0.2.100/24 dev veth-a' '192.0.2.101/24 dev veth-a' '192.0.2.102/24 dev veth-a' \
	'198.51.100.10/24 dev vip-long-name'; do
	assert_has "$out" "^${want//./\\.}\$" "list lacks $want"
done
assert_not "$out" '192\.0\.2\.(1|103)/' "list shows an address fomgr did not label"
ok "list shows exactly the labelled addresses"

# ---- gratuitous ARP: the peer's stale entry moves to node a's MAC ----
ip -n "$B" neigh replace 192.0.2.100 lladdr $FAKE dev veth-b nud stale
assert_has "$(ip -n "$B" neigh show 192.0.2.100 dev veth-b)" "$FAKE" "could not plant the stale entry"
start_listener "$TMP/arp.out" listen-arp veth-b 192.0.2.100 --count 3 --timeout-ms 5000
out=$(tool_a announce 192.0.2.100/24 veth-a --count 3 --interval-ms 50) || fail "announce: $out"
echo "$out"
assert_has "$out" 'garp_sent=3 ' "announce did not count three GARPs"
wait "${PIDS[-1]}" || true
arp=$(cat "$TMP/arp.out")
echo "$arp"
n=$(grep -c "^arp op=request sha=$MAC_A spa=192.0.2.100 tha=00:00:00:00:00:00 tpa=192.0.2.100\$" <<<"$arp" || true)
[ "$n" = 3 ] || fail "peer received $n gratuitous ARPs, want 3"
assert_has "$(ip -n "$B" neigh show 192.0.2.100 dev veth-b)" "lladdr $MAC_A" \
	"peer's entry for 192.0.2.100 not updated to $MAC_A by the GARP"
ok "GARP: 3 on the wire, peer neighbour entry updated"

# ---- unsolicited NA: the same for IPv6 ----
ip -n "$B" -6 neigh replace 2001:db8:10::100 lladdr $FAKE dev veth-b nud stale
start_listener "$TMP/na.out" listen-na veth-b 2001:db8:10::100 --count 2 --timeout-ms 5000
out=$(tool_a announce 2001:db8:10::100/64 veth-a --count 2 --interval-ms 50) || fail "announce v6: $out"
echo "$out"
assert_has "$out" 'na_sent=2 ' "announce did not count two NAs"
wait "${PIDS[-1]}" || true
na=$(cat "$TMP/na.out")
echo "$na"
n=$(grep -c "^na src=2001:db8:10::100 dst=ff02::1 hlim=255 target=2001:db8:10::100 flags=O tlla=$MAC_A\$" <<<"$na" || true)
[ "$n" = 2 ] || fail "peer received $n unsolicited NAs, want 2"
assert_has "$(ip -n "$B" -6 neigh show 2001:db8:10::100 dev veth-b)" "lladdr $MAC_A" \
	"peer's entry for 2001:db8:10::100 not updated to $MAC_A by the NA"
ok "NA: 2 on the wire (override, hop limit 255, TLLA), peer neighbour entry updated"

# ---- ARP probe ----
out=$(tool_a probe 192.0.2.2/24 veth-a --timeout-ms 1000) || fail "probe 192.0.2.2: $out"
echo "$out"
assert_has "$out" '^answered' "probe for the peer's 192.0.2.2 got no answer"
out=$(tool_a probe 192.0.2.200/24 veth-a --timeout-ms 300) || fail "probe 192.0.2.200: $out"
echo "$out"
assert_has "$out" '^nobody' "probe for the unused 192.0.2.200 was answered"
ok "ARP probe: answered for a held address, nobody for a free one"

# ---- delete ----
out=$(tool_a del 192.0.2.100/24 veth-a 2001:db8:10::100/64 veth-a) || fail "del: $out"
echo "$out"
assert_not "$(addr_a veth-a)" '192\.0\.2\.100/|2001:db8:10::100/' "address still there after del"
out=$(tool_a del 192.0.2.100/24 veth-a 2001:db8:10::100/64 veth-a) || fail "second del (must be idempotent): $out"
set +e
tool_a present 192.0.2.100/24 veth-a >/dev/null
rc=$?
set -e
[ "$rc" = 1 ] || fail "present after del: exit $rc, want 1 (absent)"
tool_a del 192.0.2.100/24 nosuch0 >/dev/null || fail "del on a missing interface must be success"
ok "del, del again, del on a missing interface: success; present says absent"

# ---- errors are reported, not hidden ----
set +e
out=$(tool_a add 192.0.2.100/24 nosuch0 2>&1)
rc=$?
set -e
[ "$rc" = 2 ] || fail "add on a missing interface: exit $rc, want 2 ($out)"
set +e
out=$(tool_a add 2001:db8:10::200/64 fo10-err 2>&1)
rc=$?
set -e
echo "$out"
[ "$rc" = 2 ] || fail "IPv6 add on an interface with IPv6 disabled: exit $rc, want 2"
assert_has "$out" 'error=-' "kernel error not reported by the completion"
ok "add on a missing interface refused; kernel error delivered to the completion"

# ---- vip_free() from a completion: the requests still open complete with -ECANCELED ----
set +e
out=$(tool_a add 192.0.2.110/24 veth-a 192.0.2.111/24 veth-a 192.0.2.112/24 veth-a --free-in-callback 2>&1)
rc=$?
set -e
echo "$out"
[ "$rc" = 2 ] || fail "free in callback: exit $rc, want 2"
[ "$(grep -c ' ok ' <<<"$out")" = 1 ] || fail "free in callback: want exactly one completion ok"
[ "$(grep -c 'error=-125 ' <<<"$out")" = 2 ] || fail "free in callback: want two -ECANCELED"
tool_a del 192.0.2.110/24 veth-a 192.0.2.111/24 veth-a 192.0.2.112/24 veth-a >/dev/null ||
	fail "cleanup of 192.0.2.110-112"
ok "vip_free() from a completion cancels the rest (-ECANCELED), no use after free"

# ---- timings ----
out=$(tool_a bench 192.0.2.150/24 veth-a --count 100) || fail "bench: $out"
echo "$out"
ok "all vip assertions passed"
