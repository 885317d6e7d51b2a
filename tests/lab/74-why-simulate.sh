#!/bin/bash
# Why, what-if and maintenance (issue 13, items 1 and 4), on three nodes whose
# group vip depends on a file check "drain" (touch the file: the check fails).
# - the why (crm_resource --why) on the human and JSON output of fomctl status: a
#   failing check (named, with its node), standby everywhere, no quorum; refusals
#   name the exact reason;
# - simulate (crm_simulate) predicts what a following real fail-check, standby,
#   move and cut then do: the same owners;
# - group disable releases everywhere and enable brings it back;
# - maintenance on: killing the holder's health or putting it in standby moves
#   nothing; the warning and the metric say so; off resumes.
source "$(dirname "$0")/lib.sh"
need_status_tools
VIP=192.0.2.100

lab_init 74 3 test
start_health_all drain fail <<'EOC'
[check drain]
type = file
path = @D@/drain
interval = 200ms
rise = 1
fall = 1
EOC
all_members() { grep -q '"members":3,' <<<"$(ctl 1 status --json 2>/dev/null)"; }
wait_for 20 all_members || fail "the three fomgr never joined"
wait_for 20 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"

# why K NODE STATE PATTERN: node K's status document (schema-checked) says NODE
# stands STATE for vip, with a why matching PATTERN (a Python regex).
why() {
	status_says "$1" "any(n['name'] == '$2' and n['state'] == '$3' and re.search(r'''$4''', n['why'])
		for n in st['groups'][0]['nodes'])" 2>/dev/null
}
# group_why K PATTERN: the group's own why on node K.
group_why() { status_says "$1" "re.search(r'''$2''', st['groups'][0]['why'])" 2>/dev/null; }
# human K PATTERN: a line of the WHY block of node K's fomctl status (grep -E).
human() { ctl "$1" status 2>/dev/null | sed -n '/^WHY$/,/^$/p' | grep -Eq -- "$2"; }
# The status_says of lib.sh evaluates with json and sys; the why needs re.
status_says() { # K PYEXPR
	ctl "$1" status --json 2>/dev/null | "$PY" -c '
import json, re, sys
from jsonschema import Draft202012Validator
st = json.load(sys.stdin)
Draft202012Validator(json.load(open(sys.argv[1]))).validate(st)
sys.exit(0 if eval(sys.argv[2]) else 1)' "$SCHEMA" "$2"
}
# predict K ARGS...: the owner of vip after `simulate ARGS` on node K ("" none).
predict() {
	local k=$1
	shift
	ctl "$k" --json simulate "$@" | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
assert r["ok"] and r["simulate"]["action"] == sys.argv[1], r
print(r["groups"][0]["owner_after"] or "")' "$1"
}

wait_for 10 why 2 node2 less-preferred 'node1 is preferred' || fail "healthy: node2's why: $(ctl 2 status --json)"
group_why 2 'held by node1|node1 is the most preferred' || fail "healthy: vip's why: $(ctl 2 status)"
human 2 '^  vip: ' || fail "no WHY block in the human status: $(ctl 2 status)"
log "healthy: $(ctl 2 status | sed -n '/^WHY$/,/^$/p' | tr -s ' ' | paste -sd'|')"

# A failing check, predicted, then done: node2 takes over; the why names the check.
p=$(predict 3 fail-check node1 drain) || fail "simulate fail-check failed"
[[ $p == node2 ]] || fail "simulate fail-check node1 drain predicts '$p', expected node2"
ctl 3 simulate fail-check node1 drain | grep -Eq '^vip +node1 +-> node2 ' ||
	fail "human simulate: $(ctl 3 simulate fail-check node1 drain)"
holder_is $VIP node1 || fail "simulate moved something: '$(holders $VIP)'"
touch "$LAB_STATE/node1/drain"
wait_for 10 holder_is $VIP "$p" || fail "drain on node1: $VIP held by '$(holders $VIP)', simulate said $p"
for k in 1 2 3; do
	wait_for 5 why "$k" node1 not-eligible 'check drain fails on node1' ||
		fail "node$k's why does not name the failing check: $(ctl "$k" status --json)"
done
human 3 'node1 +not-eligible +check drain fails on node1' || fail "human why: $(ctl 3 status)"
wait_for 5 group_why 3 'node1 comes first but check drain fails on node1|took over from node1: check drain fails' ||
	fail "vip's why does not say why node1 does not have it: $(ctl 3 status)"
out=$(ctl 2 vip move vip --to node1 2>&1) && fail "vip move to a draining node1 was accepted: $out"
[[ $out == *"check drain fails on node1"* ]] || fail "the refusal does not name the check: $out"
log "drain on node1: $p holds $VIP as predicted; refusal: $out"
ctl 3 status | sed 's/^/    | /' # the screen, for the record
rm -f "$LAB_STATE/node1/drain"
wait_for 10 holder_is $VIP node1 || fail "drain gone: no failback to node1 ('$(holders $VIP)')"

# Standby, predicted, then done.
p=$(predict 2 standby node1) || fail "simulate standby failed"
ctl 3 node standby node1 --wait 10 >/dev/null || fail "standby node1"
assert_holder $VIP "$p"
why 3 node1 not-eligible 'node1 is in standby' || fail "standby: node1's why: $(ctl 3 status --json)"
log "standby node1: $p holds $VIP as predicted"
ctl 1 node unstandby node1 >/dev/null || fail "unstandby node1"
wait_for 10 holder_is $VIP node1 || fail "$VIP not back on node1"

# Move, predicted, then done; the other eligible nodes are "pinned elsewhere".
p=$(predict 1 move vip --to node3) || fail "simulate move failed"
[[ $p == node3 ]] || fail "simulate move vip --to node3 predicts '$p'"
ctl 1 vip move vip --to node3 --wait 10 >/dev/null || fail "vip move --to node3"
assert_holder $VIP "$p"
why 1 node1 pinned-elsewhere 'pinned to node3' || fail "pinned: node1's why: $(ctl 1 status --json)"
log "move to node3: $p holds $VIP as predicted"
ctl 1 vip clear vip >/dev/null || fail "vip clear"
wait_for 10 holder_is $VIP node1 || fail "$VIP not back on node1 after the pin was cleared"

# A cut, predicted, then done.
p=$(predict 2 fail node1) || fail "simulate fail failed"
[[ $p == node2 ]] || fail "simulate fail node1 predicts '$p'"
lab cut "$LAB_ID" 1 >/dev/null
wait_for 15 holder_is $VIP "$p" || fail "node1 cut: $VIP held by '$(holders $VIP)', simulate said $p"
wait_for 5 why 2 node1 not-eligible 'node1 is offline' || fail "cut: node1's why on node2: $(ctl 2 status --json)"
log "node1 cut: $p holds $VIP as predicted"
lab restore "$LAB_ID" 1 >/dev/null
wait_for 30 holder_is $VIP node1 || fail "$VIP not back on node1 after the restore"
wait_for 20 all_members || fail "node1 did not rejoin"

# Standby everywhere: each node's why says so, and the group's lists them.
for k in 1 2 3; do ctl 1 node standby "node$k" >/dev/null || fail "standby node$k"; done
wait_for 10 holder_is $VIP "" || fail "$VIP held with every node in standby"
for k in 1 2 3; do why 2 "node$k" not-eligible "node$k is in standby" || fail "all standby: $(ctl 2 status --json)"; done
group_why 2 'no eligible node: node1 is in standby; node2 is in standby; node3 is in standby' ||
	fail "all standby: vip's why: $(ctl 2 status)"
human 2 '^  vip: no eligible node: node1 is in standby' || fail "all standby, human: $(ctl 2 status)"
human 2 'node3 +not-eligible +node3 is in standby' || fail "all standby, human: $(ctl 2 status)"
log "every node in standby: $(ctl 2 status | grep -m1 '^  vip: ')"
ctl 2 status | sed 's/^/    | /'
for k in 1 2 3; do ctl 1 node unstandby "node$k" >/dev/null || fail "unstandby node$k"; done
wait_for 10 holder_is $VIP node1 || fail "$VIP not back on node1"

# No quorum on a cut-off node3.
lab cut "$LAB_ID" 3 >/dev/null
wait_for 15 group_why 3 '^no quorum' || fail "no quorum: vip's why on node3: $(ctl 3 status)"
why 3 node3 not-eligible 'no quorum' || fail "no quorum: node3's why: $(ctl 3 status --json)"
# (no quorum, or none known while the ring is not trusted after the cut's stall)
human 3 '^  vip: no quorum' || fail "no quorum, human: $(ctl 3 status)"
rc=0
out=$(ctl 3 node standby node2 2>&1) || rc=$?
((rc == 75)) && [[ $out == *"no quorum: this node's partition (1 member(s))"* ]] ||
	fail "standby refused without quorum: exit $rc, '$out'"
log "node3 cut off: $(ctl 3 status | grep -m1 '^  vip: ')"
lab restore "$LAB_ID" 3 >/dev/null
wait_for 20 all_members || fail "node3 did not rejoin"

# Disable releases everywhere; status says "disabled"; enable brings it back.
out=$(ctl 2 group disable vip) || fail "group disable: $out"
wait_for 10 holder_is $VIP "" || fail "disabled: $VIP still held by '$(holders $VIP)'"
for k in 1 2 3; do
	wait_for 5 status_says "$k" "(st['groups'][0]['disabled'] and st['groups'][0]['reason'] == 'disabled' and
		st['admin']['disabled'] == ['vip'] and not any(w.startswith('no-holder:') for w in st['warnings']))" ||
		fail "node$k's status does not say disabled: $(ctl "$k" status --json)"
done
human 1 '^  vip: disabled by an operator' || fail "disabled, human: $(ctl 1 status)"
grep -q 'transition group=vip from=node1 to=none reason=disabled\|transition group=vip .*reason=disabled' \
	"$LAB_STATE/node1/fomgr.log" || fail "node1 did not log a release for disabled"
out=$(ctl 1 vip move vip --to node2 2>&1) && fail "vip move of a disabled group accepted: $out"
[[ $out == *"group vip is disabled"* ]] || fail "refusal for a disabled group: $out"
sleep 1
assert_no_holder $VIP
ctl 3 group enable vip >/dev/null || fail "group enable"
wait_for 10 holder_is $VIP node1 || fail "enabled: $VIP not back on node1 ('$(holders $VIP)')"
log "disable: released everywhere; enable: node1 holds $VIP again"

# Maintenance: nothing moves, whatever happens; warning and metric; persisted.
ctl 2 maintenance on >/dev/null || fail "maintenance on"
for k in 1 2 3; do
	wait_for 5 has_warning "$k" maintenance || fail "node$k: no maintenance warning: $(ctl "$k" status)"
done
ctl 3 status | sed -n '1,/^$/p' | grep -q '^  ! maintenance: maintenance mode: fomgr moves nothing' ||
	fail "human warning: $(ctl 3 status)"
metric_is 1 'fomgr_maintenance_mode 1' || fail "fomgr_maintenance_mode is not 1"
metric_is 1 'fomgr_warning{warning="maintenance"} 1' || fail "fomgr_warning{warning=\"maintenance\"} is not 1"
grep -q '"maintenance": true' "$LAB_STATE/node3/lib/admin.json" || fail "maintenance not persisted on node3"
p=$(predict 1 standby node1) || fail "simulate in maintenance failed"
[[ $p == node1 ]] || fail "simulate standby node1 in maintenance predicts '$p'"
# The holder's health agent killed (health_policy = fail: its checks count as
# unknown after health_ttl, which moves the group out of maintenance), then its
# drain switch, then standby: nothing moves.
lab stop-healthcheck "$LAB_ID" 1 --kill >/dev/null
stale1() { status_says 2 "[n for n in st['nodes'] if n['name'] == 'node1'][0]['health_stale']"; }
wait_for 10 stale1 || fail "node1's health agent killed, its status is not stale: $(ctl 2 status --json)"
why 2 node1 owner 'maintenance mode: fomgr moves nothing \(held by node1\)' &&
	why 2 node3 maintenance 'fomgr moves nothing' || fail "maintenance why: $(ctl 2 status --json)"
sleep 1
assert_holder $VIP node1
touch "$LAB_STATE/node1/drain"
ctl 2 node standby node1 >/dev/null || fail "standby node1 in maintenance"
why 2 node2 maintenance 'fomgr moves nothing' || fail "maintenance why: $(ctl 2 status --json)"
sleep 2
assert_holder $VIP node1
log "maintenance: node1 keeps $VIP with its health agent dead, its check failing and in standby"
ctl 3 maintenance off >/dev/null || fail "maintenance off"
wait_for 10 holder_is $VIP node2 || fail "maintenance off: $VIP held by '$(holders $VIP)', expected node2"
metric_is 1 'fomgr_maintenance_mode 0' || fail "fomgr_maintenance_mode is not 0 after off"
has_warning 1 maintenance && fail "the maintenance warning stayed after off"
log "maintenance off: node2 took $VIP"
