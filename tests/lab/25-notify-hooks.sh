#!/bin/bash
# Notify hooks: on each transition the configured executable runs with
# keepalived's arguments (INSTANCE group MASTER|BACKUP prio) and the FOMGR_*
# environment; a hook that hangs is killed at notify_timeout and delays nothing;
# a hook others can write is refused (fomgr does not start with it).
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100
FOMCTL=$FO_BUILD/fomctl/fomctl
[[ -x $FOMCTL ]] || fail "$FOMCTL not built"

lab_init 25 2
HOOKS=$LAB_STATE/hooks # under the lab's state dir: root's alone
mkdir -m 0755 "$HOOKS"
for k in 1 2; do
	cat >"$HOOKS/notify$k" <<EOF
#!/bin/sh
# keepalived style: TYPE NAME STATE PRIORITY; plus fomgr's environment
echo "args=\$# \$1 \$2 \$3 \$4 event=\$FOMGR_EVENT group=\$FOMGR_GROUP node=\$FOMGR_NODE \$FOMGR_OLD_STATE>\$FOMGR_NEW_STATE reason=\$FOMGR_REASON seq=\$FOMGR_SEQ time_ms=\$FOMGR_TIME_MS home=\${HOME:-unset}" >>$HOOKS/out$k
[ "\$3" = BACKUP ] && [ -e $HOOKS/hang ] && exec sleep 60
exit 0
EOF
	chmod 0755 "$HOOKS/notify$k"
	lab fomgr-config "$LAB_ID" "$k" |
		sed "/^\[fomgr\]/a notify_hook = $HOOKS/notify$k\nnotify_timeout = 1s" >"$LAB_STATE/node$k/hook.conf"
	lab start-fomgr "$LAB_ID" "$k" "$LAB_STATE/node$k/hook.conf" >/dev/null
done
ctl() { # K fomctl-args...
	local k=$1
	shift
	"$FOMCTL" --socket "$LAB_STATE/node$k/run/control.sock" "$@"
}
all_members() { ctl 1 status --json 2>/dev/null | grep '"members":2,' >/dev/null; }
wait_for 20 all_members || fail "the two fomgr never joined"
wait_for 10 holder_is $VIP node1 || fail "node1 never took $VIP"
has_line() { [[ -e $1 ]] && grep -q -- "$2" "$1"; }
wait_for 5 has_line "$HOOKS/out1" "args=4 INSTANCE vip MASTER 100 event=transition group=vip node=node1 BACKUP>MASTER reason=initial" ||
	fail "no MASTER run on node1: $(cat "$HOOKS/out1" 2>/dev/null)"
grep -q "home=unset" "$HOOKS/out1" || fail "the hook inherited fomgr's environment"
log "node1 hook: $(tail -n 1 "$HOOKS/out1")"

ctl 1 vip move vip --to node2 --wait 10 >/dev/null || fail "move to node2"
wait_for 5 has_line "$HOOKS/out1" "INSTANCE vip BACKUP 0 .* MASTER>BACKUP reason=switchover" ||
	fail "no BACKUP run on node1: $(cat "$HOOKS/out1")"
wait_for 5 has_line "$HOOKS/out2" "INSTANCE vip MASTER 100 .* node=node2 BACKUP>MASTER reason=switchover" ||
	fail "no MASTER run on node2: $(cat "$HOOKS/out2" 2>/dev/null)"
seq=$(grep -o 'seq=[0-9]*' "$HOOKS/out2" | tail -n 1)
[[ $seq =~ ^seq=[1-9] ]] || fail "no FOMGR_SEQ: $seq"
log "switchover: node1 ran BACKUP, node2 ran MASTER ($seq)"

# A hook that hangs on BACKUP: killed at notify_timeout; the moves go on at full speed.
touch "$HOOKS/hang"
start=$(now_ms)
ctl 1 vip move vip --to node1 --wait 10 >/dev/null || fail "move back to node1"
took=$(($(now_ms) - start))
((took < 1000)) || fail "the move took $took ms with a hanging hook"
wait_for 5 grep -q "killed after .* ms (notify_timeout)" "$LAB_STATE/node2/fomgr.log" ||
	fail "the hanging hook was not killed"
rm -f "$HOOKS/hang"
lab_exec node2 curl -sf http://127.0.0.1:9900/metrics | grep '^fomgr_hooks_total{result="timeout"} 1$' >/dev/null ||
	fail "the killed hook is not counted"
log "a hanging hook: the move took $took ms, the hook was killed at notify_timeout"

# A hook others may write: fomgr refuses it (at start; a reload keeps the old one).
chmod 0777 "$HOOKS/notify2"
rc=0
out=$("$FO_BUILD/fomgr/fomgr" --config-test "$LAB_STATE/node2/hook.conf" 2>&1) || rc=$?
[[ $rc == 78 && $out == *"writable by others than root"* ]] || fail "--config-test accepted a world-writable hook: $out"
rc=0
out=$(ctl 2 reload 2>&1) || rc=$?
[[ $rc == 78 && $out == *"writable by others than root"* ]] || fail "reload accepted a world-writable hook (exit $rc): $out"
lab stop-fomgr "$LAB_ID" 2 >/dev/null
rc=0
out=$(lab_exec node2 timeout 20 "$FO_BUILD/fomgr/fomgr" --config "$LAB_STATE/node2/hook.conf" 2>&1) || rc=$?
[[ $rc == 78 && $out == *"notify_hook $HOOKS/notify2 refused: writable by others than root"* ]] ||
	fail "fomgr started with a world-writable hook (exit $rc): $out"
log "a world-writable hook: refused by --config-test, by reload (78) and at start"
