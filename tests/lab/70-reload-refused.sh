#!/bin/bash
# A refused reload is loud (issue 13, item 6). SIGHUP (what `systemctl reload`
# sends) with a bad file: every error is in fomgr's log with file:line, the audit
# log has a "reload refused" record naming them, and the warning `reload-refused`
# shows in `fomctl status`, in the status document and in /metrics until a reload
# goes through. `fomctl --json reload` with a bad file prints JSON (exit 78).
# One node: nothing here needs a peer.
source "$(dirname "$0")/lib.sh"
need_status_tools

lab_init 70 1
CONF=$LAB_STATE/node1/reload.conf
LOGF=$LAB_STATE/node1/fomgr.log
AUDIT=$LAB_STATE/node1/audit.log
lab fomgr-config "$LAB_ID" 1 >"$CONF"
cp "$CONF" "$LAB_STATE/node1/good.conf"
lab start-fomgr "$LAB_ID" 1 "$CONF" >/dev/null
pid=$(lab pids "$LAB_ID" | awk '$1 == "node1.fomgr" { print $2 }')
[[ $pid =~ ^[0-9]+$ ]] || fail "no pid for node1's fomgr"
ctl() { "$FOMCTL" --socket "$LAB_STATE/node1/run/control.sock" "$@"; }
joined() { grep -q '"joined":true' <<<"$(ctl status --json 2>/dev/null)"; }
wait_for 20 joined || fail "fomgr never joined"
metrics() { lab_exec node1 curl -sf --max-time 5 http://127.0.0.1:9900/metrics; }

# ?pretty indents the document with or without a value; ?pretty=0 does not.
for q in pretty pretty=1; do
	grep -q '^  "schema_version": 1,$' <<<"$(lab_exec node1 curl -sf --max-time 5 "http://127.0.0.1:9900/status?$q")" ||
		fail "/status?$q is not indented"
done
grep -q '^{"schema_version":1,' <<<"$(lab_exec node1 curl -sf --max-time 5 "http://127.0.0.1:9900/status?pretty=0")" ||
	fail "/status?pretty=0 is indented"
log "/status?pretty and ?pretty=1 indented, ?pretty=0 compact"

# Two errors on known lines: an unknown key (line 2 of [fomgr]) and a bad value.
sed -e '/^\[fomgr\]/a no_such_key = 1' -e 's/^failback = auto/failback = sometimes/' \
	"$LAB_STATE/node1/good.conf" >"$CONF"
key_line=$(grep -n '^no_such_key' "$CONF" | cut -d: -f1)
fb_line=$(grep -n '^failback = sometimes' "$CONF" | cut -d: -f1)
rc=0
"$FO_BUILD/fomgr/fomgr" --config-test "$CONF" >/dev/null 2>&1 || rc=$?
[[ $rc == 78 ]] || fail "the bad file passed --config-test (exit $rc)"

kill -HUP "$pid"
refused_logged() { grep -q "reload refused: $CONF:$key_line: " "$LOGF" && grep -q "reload refused: $CONF:$fb_line: " "$LOGF"; }
wait_for 5 refused_logged || fail "SIGHUP with a bad file: no 'reload refused: file:line' lines in the log: $(tail -n 20 "$LOGF")"
log "log: $(grep "reload refused: $CONF:" "$LOGF" | head -n 2 | sed 's/^.*reload refused/reload refused/' | tr '\n' ';')"

$PY - "$AUDIT" "$CONF" "$key_line" "$fb_line" <<'EOF' || fail "no audit record of the refused reload"
import json, sys
path, conf, l1, l2 = sys.argv[1:]
recs = [json.loads(l) for l in open(path)]
r = [x for x in recs if x["type"] == "config" and x.get("change") == "reload refused"]
assert r, "no config record with change 'reload refused'"
errs = r[-1]["errors"]
assert any(e.startswith("%s:%s: " % (conf, l1)) for e in errs), errs
assert any(e.startswith("%s:%s: " % (conf, l2)) for e in errs), errs
print("audit: %s" % json.dumps({k: r[-1][k] for k in ("type", "change", "error_count")}))
EOF
"$FOMCTL" log verify "$AUDIT" >/dev/null || fail "the audit log's chain is broken after the refusal"

human=$(ctl status) || fail "fomctl status"
grep -q "reload-refused: 2 error(s)" <<<"$human" || fail "fomctl status shows no reload-refused warning: $human"
ctl status --json >"$LAB_STATE/st-refused.json"
$PY - "$LAB_STATE/st-refused.json" "$SCHEMA" <<'EOF' || fail "the status document does not carry the refusal"
import json, sys
from jsonschema import Draft202012Validator
st, schema = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
Draft202012Validator(schema).validate(st)
assert any(w.startswith("reload-refused:") for w in st["warnings"]), st["warnings"]
assert st["reload"]["refused"] and st["reload"]["refusals"] == 1 and len(st["reload"]["errors"]) == 2, st["reload"]
EOF
m=$(metrics) || fail "GET /metrics"
grep -qx 'fomgr_warning{warning="reload-refused"} 1' <<<"$m" || fail "/metrics: no reload-refused warning"
grep -qx 'fomgr_config_reload_refused 1' <<<"$m" || fail "/metrics: fomgr_config_reload_refused is not 1"
log "warning in fomctl status, /status (schema-valid) and /metrics"

# fomctl reload with the same bad file: exit 78; --json prints the refusal as JSON.
rc=0
out=$(ctl --json reload 2>/dev/null) || rc=$?
[[ $rc == 78 ]] || fail "fomctl --json reload with a bad file exited $rc, expected 78"
$PY -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["ok"] is False and j["code"] == 78 and ":'"$key_line"': " in j["error"], j' "$out" ||
	fail "fomctl --json reload: not a JSON refusal: $out"
log "fomctl --json reload: $(cut -c1-120 <<<"$out")"

# A good file: the warning goes (and the reload is proved to have happened).
cp "$LAB_STATE/node1/good.conf" "$CONF"
n_ok=$(grep -c 'configuration reloaded' "$LOGF" || true)
kill -HUP "$pid"
reloaded() { (($(grep -c 'configuration reloaded' "$LOGF") > n_ok)); }
wait_for 5 reloaded || fail "the good file was not reloaded"
human=$(ctl status)
grep -q "reload-refused" <<<"$human" && fail "the warning stayed after a good reload: $human"
m=$(metrics)
grep -qx 'fomgr_config_reload_refused 0' <<<"$m" || fail "/metrics: fomgr_config_reload_refused is not 0 after a good reload"
grep -qx 'fomgr_config_reload_refusals_total 2' <<<"$m" || fail "/metrics: refusals_total is not 2: $(grep refusals <<<"$m")"
grep -q '"change":"reload","config"' "$AUDIT" || fail "the good reload has no audit record"
log "good reload: warning gone, audited; fomgr_config_reload_refusals_total 2"
