#!/bin/bash
# The cluster's history is the same on every node. `fomctl events --json` runs on
# all three nodes while operators change things from different nodes (vip move
# from node3, node standby from node1, unstandby from node2, vip clear from node1)
# and the holder's fomgr stops (a failover): every node streams the same ordered
# list of transitions (every node's, not only its own) and admin changes, each
# change with its author (uid 0, root, the node it was asked on). node1's fomgr
# then starts again, late: its `fomctl history` has what happened since it
# joined, and the earlier admin changes (replayed from the peers' admin state).
# Also: `history --since`, a --since it does not understand (64), and the times
# in the status document (online since, uptime, last updated, last change); last,
# maintenance on/off and group disable/enable, in every node's history with
# their author.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100
need_status_tools

lab_init 76 3
for k in 1 2 3; do lab start-fomgr "$LAB_ID" "$k" >/dev/null; done
all_members() { status_says "$1" "st['members'] == 3 and st['synced']"; }
for k in 1 2 3; do wait_for 20 all_members "$k" || fail "node$k: the three fomgr never joined"; done
wait_for 10 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"

for k in 1 2 3; do
	lab spawn "$LAB_ID" "node$k" events "$FOMCTL" --socket "$LAB_STATE/node$k/run/control.sock" --json events \
		>/dev/null
done
sleep 0.5

out=$(ctl 3 vip move vip --to node2 --wait 10) || fail "vip move from node3: $out"
out=$(ctl 1 node standby node2 --wait 10) || fail "standby node2 from node1: $out"
assert_holder $VIP node1
sleep 1.1 # --since has a resolution of one second
since=$(date -u +%Y-%m-%dT%H:%M:%S)
sleep 1.1
out=$(ctl 2 node unstandby node2) || fail "unstandby node2 from node2: $out"
wait_for 10 holder_is $VIP node2 || fail "unstandby: the pin did not bring $VIP to node2: '$(holders $VIP)'"
out=$(ctl 1 vip clear vip) || fail "vip clear from node1: $out"
wait_for 10 holder_is $VIP node1 || fail "clear: no failback to node1: '$(holders $VIP)'"
log "admin changes from node3, node1, node2, node1 done; $VIP on node1"

# A failover: the holder's fomgr stops (it releases and tells the others).
lab stop-fomgr "$LAB_ID" 1 >/dev/null
wait_for 5 holder_is $VIP node2 || fail "no failover to node2: '$(holders $VIP)'"
sleep 1
restart_ms=$(now_ms)
lab start-fomgr "$LAB_ID" 1 >/dev/null
wait_for 20 all_members 1 || fail "node1's fomgr did not join again"
wait_for 10 holder_is $VIP node1 || fail "no failback to node1 after its restart: '$(holders $VIP)'"
log "node1's fomgr stopped ($VIP to node2) and started again ($VIP back on node1)"

streams_have_failback() {
	local k
	for k in 2 3; do
		grep '"reason":"failback"' "$LAB_STATE/node$k/events.log" | grep -q '"node":"node1"' || return 1
	done
}
wait_for 5 streams_have_failback || fail "node1's failback is not in node2's and node3's streams"
sleep 0.5
for k in 2 3; do lab stop "$LAB_ID" "node$k" events >/dev/null; done
ctl 1 history --json >"$LAB_STATE/history1.json" || fail "fomctl history on node1: exit $?"
ctl 2 history --json --since "$since" >"$LAB_STATE/history2-since.json" || fail "history --since on node2: exit $?"
ctl 2 history >"$LAB_STATE/history2.txt" || fail "fomctl history on node2 (human): exit $?"

$PY - "$LAB_STATE" "$restart_ms" <<'EOF' || fail "the streams disagree (above)"
import json, sys
state, restart_ms = sys.argv[1], int(sys.argv[2])

def load(path):  # fomctl's own complaint (the stream ended) is on stderr, in the same file
    return [json.loads(l) for l in open(path) if l.strip() and not l.startswith("fomctl: ")]

def key(e):
    if e["event"] == "admin":
        return ("admin", e["epoch"], e.get("what"), e.get("target"), e.get("to"), e.get("uid"), e.get("user"), e.get("node"))
    return ("transition", e["node"], e["seq"], e["group"], e["action"], e["from"], e["to"], e["reason"], e["ok"])

def show(keys):
    return "\n".join("  " + " ".join(map(str, k)) for k in keys)

streams = {k: load(f"{state}/node{k}/events.log") for k in (1, 2, 3)}
keys = {k: [key(e) for e in s] for k, s in streams.items()}
ok = True
def bad(why):
    global ok
    ok = False
    print("FAIL:", why, file=sys.stderr)

# node2 and node3 ran all along: the same list, in the same order.
if keys[2] != keys[3]:
    bad("node2's and node3's streams differ:\nnode2:\n%s\nnode3:\n%s" % (show(keys[2]), show(keys[3])))
# node1's stream ended when its fomgr stopped: the beginning of theirs.
if keys[1] != keys[2][:len(keys[1])]:
    bad("node1's stream is not the beginning of node2's:\nnode1:\n%s\nnode2:\n%s" % (show(keys[1]), show(keys[2])))

admin = [k for k in keys[2] if k[0] == "admin"]
want = [("pin", "vip", "node2", "node3"), ("standby", "node2", None, "node1"),
        ("unstandby", "node2", None, "node2"), ("clear", "vip", None, "node1")]
got = [(k[2], k[3], k[4], k[7]) for k in admin]
if got != want:
    bad("admin changes: %s, expected %s" % (got, want))
if any(k[5] != 0 or k[6] != "root" for k in admin):
    bad("an admin change without its author uid 0 / root: %s" % admin)
if [k[1] for k in admin] != sorted(set(k[1] for k in admin)):
    bad("admin epochs do not increase: %s" % admin)
if sum(1 for k in keys[1] if k[0] == "admin") != 4:
    bad("node1's stream misses admin changes (its own included): %s" % show(keys[1]))

def index(pred, what, after=-1):
    for i, k in enumerate(keys[2]):
        if i > after and pred(k):
            return i
    bad("not in the stream: " + what)
    return -1

def tr(node, action, reason, after):
    return index(lambda k: k[0] == "transition" and k[1] == node and k[4] == action and k[7] == reason,
                 f"{node} {action} {reason} after #{after}", after)

pin = index(lambda k: k[:1] == ("admin",) and k[2] == "pin", "pin")
standby = index(lambda k: k[:1] == ("admin",) and k[2] == "standby", "standby")
clear = index(lambda k: k[:1] == ("admin",) and k[2] == "clear", "clear")
# every node's transitions, in the order they happened
order = [tr("node1", "release", "switchover", pin), tr("node2", "acquire", "switchover", pin)]
order += [tr("node2", "release", "standby", standby), tr("node1", "acquire", "standby", standby)]
stop = tr("node2", "acquire", "failover", clear)
order += [stop, tr("node1", "acquire", "failback", stop)]
if order != sorted(order) or pin > order[0] or standby > order[2]:
    bad("transitions out of order: %s" % order)
for e in streams[2]:
    if e["event"] == "transition" and (not e["ok"] or e["at_ms"] <= 0):
        bad("transition without success or time: %s" % e)

# node1 after its restart: what happened since it joined (its failback among
# it), the same as node2 saw it, and the earlier admin changes, replayed.
hist = load(f"{state}/history1.json")
live = [key(e) for e in hist if not e.get("replayed")]
if not live or live != keys[2][len(keys[2]) - len(live):]:
    bad("node1's history since it joined is not the end of node2's stream:\nnode1:\n%s" % show(live))
if not any(k[0] == "transition" and k[1] == "node1" and k[7] == "failback" for k in live):
    bad("node1's history misses its failback: %s" % show(live))
replayed_admin = [key(e) for e in hist if e.get("replayed") and e["event"] == "admin"]
if replayed_admin != admin:
    bad("node1 did not receive the earlier admin changes: %s" % replayed_admin)
if any(e["event"] == "transition" and e.get("replayed") and e["at_ms"] >= restart_ms for e in hist):
    bad("an entry after node1's restart marked replayed")

since = [key(e) for e in load(f"{state}/history2-since.json")]
if [k[2] for k in since if k[0] == "admin"] != ["unstandby", "clear"]:
    bad("history --since: %s" % show(since))
sys.exit(0 if ok else 1)
EOF
log "events: node2 and node3 streamed the same $(wc -l <"$LAB_STATE/node2/events.log") entries; node1's is their beginning"

grep -q 'admin epoch=[0-9]* pin vip to=node2 by root (uid 0) on node3' "$LAB_STATE/history2.txt" ||
	fail "human history: $(cat "$LAB_STATE/history2.txt")"
grep -q 'transition node=node2 seq=[0-9]* group=vip acquire from=node1 to=node2 reason=failover' \
	"$LAB_STATE/history2.txt" || fail "human history has no failover: $(cat "$LAB_STATE/history2.txt")"
rc=0
ctl 2 history --since yesterday >/dev/null 2>&1 || rc=$?
((rc == 64)) || fail "history --since yesterday: exit $rc, expected 64"

# Times: online since (node1 joined after its restart), uptime, last updated and
# the last change, in the document (checked against the schema) and on screen.
status_says 2 "([n for n in st['nodes'] if n['name'] == 'node1'][0]['online_since_ms'] >= $restart_ms and
all(n['online_since_ms'] and n['started_ms'] for n in st['nodes']) and
st['uptime_s'] >= 0 and st['updated_ms'] >= $restart_ms and
st['last_change']['event'] == 'transition')" || fail "status times: $(ctl 2 status --json)"
status_says 1 "st['uptime_s'] < 60 and st['started_ms'] >= $restart_ms" ||
	fail "node1's uptime: $(ctl 1 status --json)"
screen=$(ctl 2 status)
[[ $screen == *"last updated "*"fomgr up "* && $screen == *"online since: node1 "* && $screen == *"last change "* ]] ||
	fail "status screen: $screen"
log "history --since, human lines, exit 64, status times: as expected"

# The admin changes of maintenance mode and disabled groups are in the history
# as the others, with their author, on every node.
out=$(ctl 3 maintenance on) || fail "maintenance on from node3: $out"
out=$(ctl 3 maintenance off) || fail "maintenance off from node3: $out"
out=$(ctl 2 group disable vip) || fail "group disable from node2: $out"
out=$(ctl 2 group enable vip) || fail "group enable from node2: $out"
wait_for 10 holder_is $VIP node1 || fail "group enable: $VIP not back on node1: '$(holders $VIP)'"
history_has_new_kinds() { # K
	local h
	h=$(ctl "$1" history) || return 1
	[[ $h =~ admin\ epoch=[0-9]+\ maintenance\ on\ by\ root\ \(uid\ 0\)\ on\ node3 &&
		$h =~ admin\ epoch=[0-9]+\ maintenance\ off\ by\ root\ \(uid\ 0\)\ on\ node3 &&
		$h =~ admin\ epoch=[0-9]+\ disable\ vip\ by\ root\ \(uid\ 0\)\ on\ node2 &&
		$h =~ admin\ epoch=[0-9]+\ enable\ vip\ by\ root\ \(uid\ 0\)\ on\ node2 ]]
}
for k in 1 2 3; do
	wait_for 5 history_has_new_kinds "$k" || fail "node$k's history misses maintenance or disable: $(ctl "$k" history)"
done
log "maintenance on/off and group disable/enable in every node's history, with their author"
