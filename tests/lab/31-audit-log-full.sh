#!/bin/bash
# node1's audit log on a full filesystem: its fomgr runs in a private mount
# namespace where the log's directory is a 64 KiB tmpfs (nothing is mounted where
# the rest of the machine sees it). Once the tmpfs is full:
# - a mutating command on node1 (node standby) is refused with exit status 74 (its
#   record cannot be written), and nothing changes in the cluster;
# - read-only commands still answer;
# - a failover still happens (node1's link cut: node2 takes the VIP) and node1's
#   fomgr does not crash, logging that records are not written;
# - once space is freed, the same command succeeds and node1's log verifies, with
#   no half-written record.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100
FOMCTL=$FO_BUILD/fomctl/fomctl
[[ -x $FOMCTL ]] || fail "$FOMCTL not built"

lab_init 31 3
FS=$LAB_STATE/node1/auditfs
LOGF=$FS/audit.log
mkdir -p "$FS"
for k in 1 2 3; do
	if ((k == 1)); then
		lab fomgr-config "$LAB_ID" 1 | sed "s|^log = .*|log = $LOGF|" >"$LAB_STATE/node1/full.conf"
	else
		lab fomgr-config "$LAB_ID" "$k" >"$LAB_STATE/node$k/full.conf"
	fi
done
CFG1=$(readlink -f "$LAB_STATE/node1/full.conf")
grep -q "^log = $LOGF" "$CFG1" || fail "node1's config does not put the audit log on the tmpfs"
# unshare without --fork execs: the recorded pid is fomgr's, the lab stops it as usual.
lab spawn "$LAB_ID" node1 fomgr unshare -m --propagation private sh -c \
	"mount -t tmpfs -o size=64k,mode=0700 fo31 '$FS' && exec '$FO_BUILD/fomgr/fomgr' --config '$CFG1'" >/dev/null
for k in 2 3; do lab start-fomgr "$LAB_ID" "$k" "$LAB_STATE/node$k/full.conf" >/dev/null; done

ctl() { # K fomctl-args...
	local k=$1
	shift
	"$FOMCTL" --socket "$LAB_STATE/node$k/run/control.sock" "$@"
}
fomgr1_pid() { pgrep -f "fomgr/fomgr --config $CFG1" | head -1; }
in_fomgr1_ns() { nsenter -t "$(fomgr1_pid)" -m -- "$@"; }
all_members() { grep -q '"members":3,' <<<"$(ctl 1 status --json 2>/dev/null)"; }

wait_for 20 all_members || fail "the three fomgr never joined"
wait_for 10 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"
in_fomgr1_ns test -s "$LOGF" || fail "node1's audit log is not on its tmpfs"
grep -q " $FS " /proc/mounts && fail "node1's tmpfs is visible outside its mount namespace"
log "node1 holds $VIP; its audit log is on a 64 KiB tmpfs of its own"

# --- full ---------------------------------------------------------------------------
in_fomgr1_ns sh -c "cat /dev/zero >'$FS/filler' 2>/dev/null; df -k '$FS' | tail -1" | sed 's/^/  df: /'
rc=0
out=$(ctl 1 node standby node3 2>&1) || rc=$?
((rc == 74)) || fail "standby on a full audit log: exit $rc, expected 74: $out"
log "node standby refused on the full log: exit $rc ($out)"
ctl 1 status >/dev/null || fail "status does not answer while the log is full"
grep -q '"standby":\[\]' <<<"$(ctl 2 status --json)" || fail "the refused standby changed the cluster's admin state"

lab cut "$LAB_ID" 1 >/dev/null
wait_for 10 holder_is $VIP node2 || fail "with node1's log full and its link cut: $VIP held by '$(holders $VIP)'"
log "failover with node1's log full: node2 holds $VIP ${WAIT_MS} ms after the cut"
[[ -n $(fomgr1_pid) ]] || fail "node1's fomgr died"
grep -q 'not written' "$LAB_STATE/node1/fomgr.log" || fail "node1 did not log that records are not written"
lab restore "$LAB_ID" 1 >/dev/null
wait_for 20 all_members || fail "node1 did not rejoin"

# --- space again ----------------------------------------------------------------------
in_fomgr1_ns rm "$FS/filler"
out=$(ctl 1 node standby node3 --wait 10 2>&1) || fail "standby with space again: $out"
out=$(ctl 1 node unstandby node3 2>&1) || fail "unstandby: $out"
log "with space again, standby and unstandby node3 succeed"
out=$(in_fomgr1_ns "$FOMCTL" log verify "$LOGF") || fail "node1's audit log does not verify: $out"
log "node1's audit log: $out"
in_fomgr1_ns grep -q '"type":"admin"' "$LOGF" || fail "no admin record in node1's log"
