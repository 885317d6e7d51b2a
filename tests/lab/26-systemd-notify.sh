#!/bin/bash
# systemd's notification protocol, with a stand-in for systemd's NOTIFY_SOCKET:
# READY=1 only once fomgr has joined the cluster, STATUS= as the node's state
# changes, RELOADING=1 then READY=1 around a reload, WATCHDOG=1 at half of
# WATCHDOG_USEC from the loop, STOPPING=1 at SIGTERM.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100
FOMCTL=$FO_BUILD/fomctl/fomctl
[[ -x $FOMCTL ]] || fail "$FOMCTL not built"

lab_init 26 2
NOTIFY=$LAB_STATE/node1/notify.sock
MSGS=$LAB_STATE/node1/notify.msgs
cat >"$LAB_STATE/notify.py" <<'EOF'
import os, socket, sys, time
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", buffering=1) as f:
    while True:
        msg = s.recv(4096).decode()
        for line in msg.split("\n"):
            f.write("%.3f %s\n" % (time.time() * 1000, line))
EOF
lab spawn "$LAB_ID" node1 notify /usr/bin/python3 "$LAB_STATE/notify.py" "$NOTIFY" "$MSGS" >/dev/null
wait_for 5 test -S "$NOTIFY" || fail "notify listener did not start"

# node1 first and alone: corosync is quorate with 2 nodes only (no two_node), so
# fomgr joins, and READY must not come before the join.
lab fomgr-config "$LAB_ID" 1 >"$LAB_STATE/node1/fomgr.conf"
lab spawn "$LAB_ID" node1 fomgr env NOTIFY_SOCKET="$NOTIFY" WATCHDOG_USEC=400000 \
	"$FO_BUILD/fomgr/fomgr" --config "$LAB_STATE/node1/fomgr.conf" >/dev/null
lab start-fomgr "$LAB_ID" 2 >/dev/null
has() { [[ -e $MSGS ]] && grep -q -- "$1" "$MSGS"; }
wait_for 20 has "READY=1" || fail "no READY=1: $(cat "$MSGS" 2>/dev/null)"
ready_ms=$(grep -m1 "READY=1" "$MSGS" | cut -d' ' -f1)
joined=$(grep -m1 "membership: joined the group" "$LAB_STATE/node1/fomgr.log" | cut -c1-23)
joined_ms=$(date -d "${joined}Z" +%s%3N)
((${ready_ms%.*} >= joined_ms)) || fail "READY=1 at $ready_ms before the join at $joined_ms"
grep -m1 -A1 "READY=1" "$MSGS" | grep -q "STATUS=quorate, 2/2 nodes up; holds" || fail "READY=1 without a STATUS line: $(cat "$MSGS")"
log "READY=1 $((${ready_ms%.*} - joined_ms)) ms after the join, with $(grep -m1 -A1 "READY=1" "$MSGS" | tail -n 1 | cut -d' ' -f2-)"

wait_for 10 holder_is $VIP node1 || fail "node1 never took $VIP"
wait_for 5 has "STATUS=quorate, 2/2 nodes up; holds vip" || fail "STATUS never said node1 holds vip: $(cat "$MSGS")"
"$FOMCTL" --socket "$LAB_STATE/node1/run/control.sock" vip move vip --to node2 --wait 10 >/dev/null || fail "move"
wait_for 5 has "STATUS=quorate, 2/2 nodes up; holds nothing" || fail "STATUS not updated after the move: $(tail "$MSGS")"
log "STATUS follows the node: $(grep STATUS= "$MSGS" | tail -n 1 | cut -d' ' -f2-)"

# Reload (SIGHUP; the control socket's reload takes the same path).
n_ready=$(grep -c "READY=1" "$MSGS")
pid=$(lab pids "$LAB_ID" | awk '$1 == "node1.fomgr" { print $2 }')
[[ -n $pid ]] || fail "no pid for node1's fomgr"
kill -HUP "$pid"
wait_for 5 eval '(( $(grep -c "READY=1" "$MSGS") > n_ready ))' || fail "no READY=1 after the reload"
awk '/RELOADING=1/ { r = NR } /READY=1/ { if (r && NR > r) ok = 1 } END { exit !ok }' "$MSGS" ||
	fail "READY=1 did not follow RELOADING=1"
grep -A1 "RELOADING=1" "$MSGS" | grep -q "MONOTONIC_USEC=" || fail "RELOADING=1 without MONOTONIC_USEC"
log "reload: RELOADING=1 (with MONOTONIC_USEC), then READY=1"

# The watchdog: every 200 ms (WATCHDOG_USEC / 2).
w0=$(grep -c "WATCHDOG=1" "$MSGS")
sleep 2
w1=$(grep -c "WATCHDOG=1" "$MSGS")
((w1 - w0 >= 7 && w1 - w0 <= 13)) || fail "$((w1 - w0)) WATCHDOG=1 in 2 s, expected about 10"
log "watchdog: $((w1 - w0)) pings in 2 s"

lab stop-fomgr "$LAB_ID" 1 >/dev/null
has "STOPPING=1" || fail "no STOPPING=1 at SIGTERM"
log "SIGTERM: STOPPING=1"
