#!/bin/bash
# The status document tells the truth: on every node, in several states (start,
# after moves, a node in standby), each group's addresses are in that node's
# kernel exactly when its status says "held", every node names the same holder,
# and the document validates against conf/status.schema.json, from the control
# socket and from GET /status. /metrics is well-formed Prometheus text with a
# one-hot owner per group. Beyond loopback the status server needs TLS and a
# client certificate from the operator's CA; without TLS fomgr refuses the config.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100
need_status_tools

lab_init 24 3
TLS=$LAB_STATE/tls
mkdir -m 0700 "$TLS"
# Keys made here, for this run only: nothing is shipped.
(
	cd "$TLS"
	ossl() { openssl "$@" 2>/dev/null; }
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=fo24-ca \
		-keyout ca.key -out ca.crt
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=node2 -keyout server.key -out server.csr
	printf 'subjectAltName=IP:192.0.2.12\nextendedKeyUsage=serverAuth\n' >server.ext
	ossl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile server.ext -out server.crt
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=monitoring -keyout client.key -out client.csr
	printf 'extendedKeyUsage=clientAuth\n' >client.ext
	ossl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile client.ext -out client.crt
	# the same, from a CA the operator never trusted
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=rogue-ca \
		-keyout rogue-ca.key -out rogue-ca.crt
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=rogue -keyout rogue.key -out rogue.csr
	ossl x509 -req -in rogue.csr -CA rogue-ca.crt -CAkey rogue-ca.key -CAcreateserial -days 1 -extfile client.ext \
		-out rogue.crt
	chmod 0600 ./*.key
) || fail "could not make the test certificates"

# Beyond loopback without TLS: refused at the config check, with the line.
lab fomgr-config "$LAB_ID" 2 | sed '/^\[fomgr\]/a status_listen = 192.0.2.12:9443' >"$LAB_STATE/node2/notls.conf"
rc=0
out=$("$FO_BUILD/fomgr/fomgr" --config-test "$LAB_STATE/node2/notls.conf" 2>&1) || rc=$?
[[ $rc == 78 && $out == *"status_listen '192.0.2.12:9443' is beyond loopback: set status_tls_cert"* ]] ||
	fail "a non-loopback status_listen without TLS was not refused (exit $rc): $out"
log "status_listen beyond loopback without TLS: refused: $(grep -o 'notls.conf:[0-9]*: .*' <<<"$out")"

lab fomgr-config "$LAB_ID" 2 |
	sed "/^\[fomgr\]/a status_listen = 192.0.2.12:9443\nstatus_tls_cert = $TLS/server.crt\nstatus_tls_key = $TLS/server.key\nstatus_tls_client_ca = $TLS/ca.crt" \
		>"$LAB_STATE/node2/tls.conf"
lab start-fomgr "$LAB_ID" 1 >/dev/null
lab start-fomgr "$LAB_ID" 2 "$LAB_STATE/node2/tls.conf" >/dev/null
lab start-fomgr "$LAB_ID" 3 >/dev/null
ctl() { # K fomctl-args...
	local k=$1
	shift
	"$FOMCTL" --socket "$LAB_STATE/node$k/run/control.sock" "$@"
}
all_members() { ctl 1 status --json 2>/dev/null | grep '"members":3,' >/dev/null; }
wait_for 20 all_members || fail "the three fomgr never joined"
wait_for 10 holder_is $VIP node1 || fail "node1 never took $VIP"

https() { # CURL-ARGS...: from the client namespace, to node2's TLS listener
	lab_exec client curl -s --max-time 5 --cacert "$TLS/ca.crt" "$@"
}

# Every node's status (control socket, and HTTP: loopback on 1 and 3, TLS on 2)
# against its kernel and the schema.
check_truth() { # STATE-NAME
	local k dir=$LAB_STATE/truth/$1
	mkdir -p "$dir"
	for k in 1 2 3; do
		ctl "$k" status --json >"$dir/ctl$k.json" || fail "status from node$k"
		ip -n "$(ns_of "node$k")" -j addr show dev eth0 >"$dir/kernel$k.json"
	done
	lab_exec node1 curl -sf --max-time 5 http://127.0.0.1:9900/status >"$dir/http1.json" || fail "GET /status on node1"
	lab_exec node3 curl -sf --max-time 5 http://127.0.0.1:9900/status >"$dir/http3.json" || fail "GET /status on node3"
	https --cert "$TLS/client.crt" --key "$TLS/client.key" -f https://192.0.2.12:9443/status >"$dir/http2.json" ||
		fail "GET /status over TLS with the operator's client certificate"
	$PY - "$dir" "$SCHEMA" <<'EOF' || fail "state '$1': status and kernel disagree"
import json, sys
from jsonschema import Draft202012Validator
d, schema = sys.argv[1], json.load(open(sys.argv[2]))
Draft202012Validator.check_schema(schema)
v = Draft202012Validator(schema)
docs = {}
for k in (1, 2, 3):
    for src in ("ctl", "http"):
        st = json.load(open("%s/%s%d.json" % (d, src, k)))
        errors = sorted(v.iter_errors(st), key=lambda e: list(e.path))
        for e in errors:
            print("node%d %s: schema: %s at %s" % (k, src, e.message, list(e.path)))
        assert not errors
    docs[k] = json.load(open("%s/ctl%d.json" % (d, k)))
holders = {}
for k, st in docs.items():
    assert st["node"] == "node%d" % k and st["quorate"] and st["joined"], st["node"]
    kernel = set()
    for ifc in json.load(open("%s/kernel%d.json" % (d, k))):
        for a in ifc.get("addr_info", []):
            kernel.add("%s/%d" % (a["local"], a["prefixlen"]))
    for g in st["groups"]:
        addrs = set(g["addresses"])
        if g["local_state"] == "held":
            assert addrs <= kernel, ("node%d says it holds %s, kernel has %s" % (k, g["name"], kernel))
            holders.setdefault(g["name"], set()).add("node%d" % k)
        else:
            assert not (addrs & kernel), ("node%d says %s is %s, kernel has %s"
                                          % (k, g["name"], g["local_state"], addrs & kernel))
        me = [n for n in st["nodes"] if n["local"]][0]
        assert (g["name"] in me["holds"]) == (g["local_state"] == "held"), (k, g, me)
for name in {g["name"] for st in docs.values() for g in st["groups"]}:
    seen = {st["node"]: [g for g in st["groups"] if g["name"] == name][0]["holder"] for st in docs.values()}
    assert len(set(seen.values())) == 1, ("nodes disagree on the holder of %s: %s" % (name, seen))
    held = holders.get(name, set())
    assert held == {list(seen.values())[0]}, ("%s: held by %s in the kernel, status says %s" % (name, held, seen))
    print("%s: held by %s; kernel, status and HTTP agree on all three nodes" % (name, sorted(held)))
EOF
}

check_truth start
ctl 1 vip move vip --to node2 --wait 10 >/dev/null || fail "move to node2"
check_truth moved-node2
ctl 3 node standby node2 --wait 10 >/dev/null || fail "standby node2"
check_truth node2-standby
ctl 3 node unstandby node2 >/dev/null || fail "unstandby node2"
ctl 3 vip clear vip >/dev/null || fail "clear"
wait_for 10 holder_is $VIP node1 || fail "$VIP not back on node1"
check_truth back-node1
log "status = kernel on every node in four states; every document valid against the schema"

# /metrics: well-formed, one owner per group, counters that moved.
lab_exec node1 curl -sf --max-time 5 http://127.0.0.1:9900/metrics >"$LAB_STATE/metrics1.txt" || fail "GET /metrics"
$PY - "$LAB_STATE/metrics1.txt" <<'EOF' || fail "/metrics is not what it should be"
import re, sys
text = open(sys.argv[1]).read()
assert text.endswith("\n")
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf)$')
typed, values = {}, {}
for line in text.splitlines():
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ", 3)
        typed[name] = kind
        continue
    if line.startswith("# HELP ") or not line:
        continue
    m = sample.match(line)
    assert m, "bad line: %r" % line
    base = re.sub(r"_(bucket|sum|count)$", "", m.group(1))
    assert m.group(1) in typed or base in typed, "no TYPE for %s" % m.group(1)
    values[line.rsplit(" ", 1)[0]] = float(line.rsplit(" ", 1)[1])
owners = [v for k, v in values.items() if k.startswith('fomgr_group_owner{group="vip"')]
assert len(owners) == 3 and sum(owners) == 1, owners
assert values['fomgr_group_owner{group="vip",node="node1"}'] == 1
assert values['fomgr_group_held{group="vip"}'] == 1
assert values["fomgr_quorate"] == 1 and values["fomgr_members"] == 3
assert values["fomgr_failover_duration_seconds_count"] >= 2          # initial and the failback
assert values['fomgr_failover_duration_seconds_bucket{le="+Inf"}'] == values["fomgr_failover_duration_seconds_count"]
assert values['fomgr_transitions_total{reason="switchover"}'] >= 1
assert values["fomgr_garp_sent_total"] >= 3
assert values['fomgr_control_requests_total{result="ok"}'] >= 4
assert 'fomgr_build_info{version="' in text
print("metrics: %d samples, %d families, one-hot owner, histogram consistent" % (len(values), len(typed)))
EOF

# HTTP: read-only, known paths only.
code=$(lab_exec node1 curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:9900/status)
[[ $code == 405 ]] || fail "POST /status answered $code"
code=$(lab_exec node1 curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9900/admin)
[[ $code == 404 ]] || fail "GET /admin answered $code"
# The status server listens on loopback only (from the client, nothing answers).
lab_exec client curl -s --max-time 2 http://192.0.2.11:9900/status >/dev/null && fail "node1's status is reachable from the client"

# TLS on node2: only with a client certificate of the operator's CA.
code=$(https -o /dev/null -w '%{http_code}' https://192.0.2.12:9443/status || true)
[[ $code != 200 ]] || fail "TLS status answered 200 without a client certificate"
code=$(https --cert "$TLS/rogue.crt" --key "$TLS/rogue.key" -o /dev/null -w '%{http_code}' https://192.0.2.12:9443/metrics || true)
[[ $code != 200 ]] || fail "TLS status answered 200 to a certificate of another CA"
lab_exec client curl -s --max-time 3 http://192.0.2.12:9443/status >/dev/null && fail "node2 answered plain HTTP"
code=$(https --cert "$TLS/client.crt" --key "$TLS/client.key" -o /dev/null -w '%{http_code}' https://192.0.2.12:9443/metrics)
[[ $code == 200 ]] || fail "TLS /metrics with the operator's client certificate answered $code"
log "TLS status on 192.0.2.12:9443: 200 with the operator's client certificate; refused without one, with another CA's, and over plain HTTP"
