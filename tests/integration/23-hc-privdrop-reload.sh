#!/bin/bash
# Started as root with user = nobody, the agent runs as nobody with no capability,
# and its checks (a script too) run unprivileged. SIGHUP re-reads the config: a bad
# file is refused with file:line and the running checks go on; a good one swaps in,
# keeping what the unchanged checks had learned.
. "$(dirname "$0")/../tools/hc-lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 0; }
getent passwd nobody >/dev/null || { echo "SKIP: no user nobody"; exit 0; }
hc_server web ok
mkdir -m 755 "$HC_TMP/scripts"
cat >"$HC_TMP/scripts/whoami" <<'EOF'
#!/bin/sh
[ "$(id -u)" = 65534 ] || { echo "running as uid $(id -u)"; exit 1; }
exit 0
EOF
chmod 755 "$HC_TMP/scripts/whoami"

write_conf() { # EXTRA-TEXT
	cat >"$HC_TMP/hc.conf.new" <<EOF
[agent]
listen = 127.0.0.1:0
manager_socket =
user = nobody
[check web]
type = http
url = http://127.0.0.1:$HC_PORT_web/
interval = 200ms
jitter = 0ms
rise = 1
fall = 1
[check unprivileged]
type = script
path = $HC_TMP/scripts/whoami
interval = 300ms
jitter = 0ms
rise = 1
fall = 1
$1
EOF
	chmod 644 "$HC_TMP/hc.conf.new"
	mv "$HC_TMP/hc.conf.new" "$HC_TMP/hc.conf"
}
write_conf ""

hc_agent "$HC_TMP/hc.conf"
hc_wait_state web passing 5
hc_wait_state unprivileged passing 5
grep -q "running as nobody (uid 65534, gid 65534), no capabilities" "$HC_TMP/agent.log" ||
	hc_fail "no privilege drop in the log"
status=$(cat /proc/"$HC_AGENT_PID"/status)
uids=$(echo "$status" | awk '/^Uid:/ {print $2, $3, $4, $5}')
[ "$uids" = "65534 65534 65534 65534" ] || hc_fail "uids: $uids"
groups=$(echo "$status" | awk '/^Groups:/ {print $2}')
[ "$groups" = 65534 ] || hc_fail "supplementary groups: $groups"
for set in CapInh CapPrm CapEff CapAmb; do
	v=$(echo "$status" | awk -v s="$set:" '$1 == s {print $2}')
	[ "$v" = 0000000000000000 ] || hc_fail "$set = $v"
done
hc_ok "runs as nobody, no capabilities; its script check runs as nobody too"
hc_get /status
printf '%s' "$HC_BODY" | python3 -c '
import json, sys
r = json.load(sys.stdin)["resources"]
assert r["memory_used_pct"] > 0 and r["connections"]["ports"], r
' || hc_fail "no node resources or connection counts as nobody: $HC_BODY"
! grep -q "resources: cannot" "$HC_TMP/agent.log" || hc_fail "resources unreadable as nobody"
hc_ok "node resources and per-port connection counts (sock_diag) work unprivileged"

# a bad file is refused, with file:line, and the checks go on
transitions=$(hc_status_field web transitions)
cp "$HC_TMP/hc.conf" "$HC_TMP/good.conf"
printf '[check broken]\ntype = tcp\n' >>"$HC_TMP/hc.conf"
kill -HUP "$HC_AGENT_PID"
for _ in $(seq 60); do
	grep -q "reload refused" "$HC_TMP/agent.log" && break
	sleep 0.05
done
grep -q "reload refused: keeping the running configuration" "$HC_TMP/agent.log" || hc_fail "bad reload not refused"
grep -q "$HC_TMP/hc.conf:20: check broken: type tcp needs address" "$HC_TMP/agent.log" ||
	hc_fail "no file:line for the bad reload"
hc_wait_state web passing 2
hc_get /readyz/broken
[ "$HC_STATUS" = 404 ] || hc_fail "the refused check exists: $HC_STATUS"
hc_ok "bad reload refused with file:line; running checks unchanged"

# a good file swaps in; web keeps its state and counters
write_conf "[check drain]
type = file
path = $HC_TMP/drain
interval = 100ms
jitter = 0ms
rise = 1
fall = 1"
kill -HUP "$HC_AGENT_PID"
for _ in $(seq 60); do
	grep -q "reloaded: 3 checks" "$HC_TMP/agent.log" && break
	sleep 0.05
done
grep -q "reloaded: 3 checks" "$HC_TMP/agent.log" || hc_fail "good reload not applied"
hc_wait_state drain passing 3
[ "$(hc_status_field web state)" = passing ] || hc_fail "web lost its state"
[ "$(hc_status_field web transitions)" = "$transitions" ] || hc_fail "web's state was reset by the reload"
hc_ok "good reload applied; web kept its state ($transitions transition)"

hc_stop_agent
echo "PASS 23-hc-privdrop-reload"
