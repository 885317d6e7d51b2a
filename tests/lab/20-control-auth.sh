#!/bin/bash
# The control socket from the operators' side: who may do what (root, a member of
# admin_group, of view_group, anyone else), refusals written to the audit log,
# bad input refused with a reason while the daemon keeps answering (malformed
# JSON, unknown command, an oversized line, 40 idle clients), fomctl refusing a
# socket served by another user, and what fomgr does with a stale socket, a
# symlink or a plain file at the socket's path.
source "$(dirname "$0")/lib.sh"
VIP=192.0.2.100
FOMCTL=$FO_BUILD/fomctl/fomctl
PY=/usr/bin/python3
[[ -x $FOMCTL ]] || fail "$FOMCTL not built"

ADM_GROUP=fo20adm VIEW_GROUP=fo20view
ADM_USER=fo20a VIEW_USER=fo20v OTHER_USER=fo20o
FAKE_DIR=
made_users=() made_groups=()

cleanup_accounts() {
	local u g
	for u in "${made_users[@]}"; do userdel "$u" 2>/dev/null || true; done
	for g in "${made_groups[@]}"; do groupdel "$g" 2>/dev/null || true; done
	[[ -n $FAKE_DIR ]] && rm -rf "$FAKE_DIR"
	return 0
}

lab_init 20 3
# set +e: under set -e, '(exit 1)' would end the trap before lab_cleanup.
trap 'rc=$?; set +e; cleanup_accounts; lab_cleanup $rc' EXIT

# Throwaway accounts, removed by the trap (and first, if a crashed run left them).
for u in $ADM_USER $VIEW_USER $OTHER_USER; do userdel "$u" 2>/dev/null || true; done
for g in $ADM_GROUP $VIEW_GROUP; do groupdel "$g" 2>/dev/null || true; done
for g in $ADM_GROUP $VIEW_GROUP; do groupadd --system "$g" && made_groups+=("$g"); done
useradd --system --no-create-home --shell /usr/sbin/nologin --groups $ADM_GROUP $ADM_USER && made_users+=($ADM_USER)
useradd --system --no-create-home --shell /usr/sbin/nologin --groups $VIEW_GROUP $VIEW_USER && made_users+=($VIEW_USER)
useradd --system --no-create-home --shell /usr/sbin/nologin $OTHER_USER && made_users+=($OTHER_USER)

# The lab's state dir is root's alone; the users need to reach the sockets in it
# (traverse only, no listing).
chmod 0711 "$LAB_STATE"
for k in 1 2 3; do
	mkdir -p "$LAB_STATE/node$k/run"
	chmod 0711 "$LAB_STATE/node$k"
	lab fomgr-config "$LAB_ID" "$k" |
		sed "/^\[fomgr\]/a admin_group = $ADM_GROUP\nview_group = $VIEW_GROUP" >"$LAB_STATE/node$k/ctl.conf"
	lab start-fomgr "$LAB_ID" "$k" "$LAB_STATE/node$k/ctl.conf" >/dev/null
done
wait_for 20 holder_is $VIP node1 || fail "node1 never took $VIP: '$(holders $VIP)'"
SOCK=$LAB_STATE/node1/run/control.sock
all_members() {
	"$FOMCTL" --socket "$SOCK" status --json 2>/dev/null | grep '"members":3,' >/dev/null
}
wait_for 20 all_members || fail "the three fomgr never joined: $("$FOMCTL" --socket "$SOCK" status)"
[[ $(stat -c '%a %U %G' "$SOCK") == "660 root $ADM_GROUP" ]] || fail "socket mode/owner: $(stat -c '%a %U %G' "$SOCK")"

as() { # USER CMD...: root runs it directly
	local user=$1
	shift
	if [[ $user == root ]]; then
		"$@"
	else
		setpriv --reuid="$user" --regid="$user" --init-groups --reset-env "$@"
	fi
}

# expect USER CODE fomctl-args...
expect() {
	local user=$1 want=$2 rc=0 out
	shift 2
	out=$(as "$user" "$FOMCTL" --socket "$SOCK" --timeout 10 "$@" 2>&1) || rc=$?
	[[ $rc == "$want" ]] || fail "as $user: fomctl $* exited $rc, expected $want: $out"
	log "as $user: fomctl $* -> $rc${out:+ ($(head -n 1 <<<"$out"))}"
}

# --- the matrix ------------------------------------------------------------------
# root and the admin group may do everything; the view group may read; anyone
# else is kept out by the socket's mode (connect: EACCES) before fomgr sees them.
for user in root $ADM_USER; do
	expect $user 0 status
	expect $user 0 status --json
	expect $user 0 vip move vip --to node2 --wait 10
	expect $user 0 vip clear vip
	expect $user 0 node standby node3
	expect $user 0 node unstandby node3
	expect $user 0 reload
	expect $user 0 log reopen
	wait_for 10 holder_is $VIP node1 || fail "after the clear, $VIP held by '$(holders $VIP)'"
done
expect $VIEW_USER 0 status
expect $VIEW_USER 0 status --json
for cmd in "vip move vip --to node2" "vip clear vip" "node standby node3" "node unstandby node3" reload "log reopen"; do
	# shellcheck disable=SC2086
	expect $VIEW_USER 77 $cmd
done
for cmd in status "vip move vip --to node2" reload; do
	# shellcheck disable=SC2086
	expect $OTHER_USER 77 $cmd
done
# events: the view group may stream, anyone else may not
rc=0
as $VIEW_USER timeout 2 "$FOMCTL" --socket "$SOCK" events >/dev/null 2>&1 || rc=$?
[[ $rc == 124 ]] || fail "view user's event stream ended with $rc, expected to run until timeout (124)"
expect $OTHER_USER 77 events
assert_holder $VIP node1

# Every refusal fomgr saw is in the audit log with the caller's identity, and
# every change with its caller; the chain verifies.
AUDIT=$LAB_STATE/node1/audit.log
view_uid=$(id -u $VIEW_USER)
n=$(grep -c "\"type\":\"access_denied\"" "$AUDIT" || true)
((n >= 6)) || fail "expected 6 access_denied records, found $n"
grep '"type":"access_denied"' "$AUDIT" | grep "\"uid\":$view_uid" >/dev/null || fail "access_denied without the caller's uid"
grep '"type":"access_denied"' "$AUDIT" | grep "\"user\":\"$VIEW_USER\"" >/dev/null || fail "access_denied without the user name"
# (no grep -q at the end of a pipe: under pipefail its early exit fails the pipe)
grep '"type":"admin"' "$AUDIT" | grep '"phase":"request"' | grep "\"user\":\"$ADM_USER\"" >/dev/null ||
	fail "no admin record with the admin user's name"
grep '"type":"admin"' "$AUDIT" | grep '"command":"vip.move"' | grep '"to":"node2"' >/dev/null ||
	fail "vip.move record without its args"
"$FOMCTL" log verify "$AUDIT" >/dev/null || fail "audit log does not verify: $("$FOMCTL" log verify "$AUDIT")"
# An edited copy: exit 65, naming the first bad record.
edited=$(grep -m1 -n '"phase":"request"' "$AUDIT" | cut -d: -f1)
sed "${edited}s/\"user\":\"[^\"]*\"/\"user\":\"mallory\"/" "$AUDIT" >"$LAB_STATE/audit-edited.log"
cmp -s "$AUDIT" "$LAB_STATE/audit-edited.log" && fail "the audit log copy was not edited"
rc=0
out=$("$FOMCTL" log verify "$LAB_STATE/audit-edited.log") || rc=$?
[[ $rc == 65 && $out == *"BROKEN at line "* ]] || fail "an edited audit log: exit $rc: $out"
log "record $edited edited: fomctl log verify exits 65: ${out#*: }"
rc=0
"$FOMCTL" log verify "$LAB_STATE/no-such.log" 2>/dev/null || rc=$?
[[ $rc == 66 ]] || fail "log verify of a missing file: exit $rc"
log "audit log: $n refusals and the changes recorded with uid, gid, pid and user; chain intact"

# A view user who keeps asking: hung up after 16 refusals; records are rate-limited
# (10 a second, the rest counted in the next record), since each is fsync'ed.
before=$(grep -c '"type":"access_denied"' "$AUDIT" || true)
as $VIEW_USER "$PY" - "$SOCK" <<'EOF' || fail "refusal flood check failed"
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rb")
req = b'{"v":1,"cmd":"reload"}\n'
s.sendall(req * 40)
n = 0
while True:
    line = f.readline()
    if not line:
        break
    r = json.loads(line)
    assert r["code"] == 77, r
    n += 1
assert n == 16, n
print("flood: %d refusals, then hung up" % n)
EOF
after=$(grep -c '"type":"access_denied"' "$AUDIT" || true)
(( after - before >= 1 && after - before <= 10 )) || fail "flood wrote $((after - before)) access_denied records, expected 1 to 10"
log "a refusal flood: 16 answers then hung up; $((after - before)) records written, the rest counted"

# --- bad input: each refused with a reason; the daemon keeps answering ----------
"$PY" - "$SOCK" <<'EOF' || fail "bad-input checks failed"
import json, socket, sys
path = sys.argv[1]

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s, s.makefile("rb")

def ask(s, f, raw):
    s.sendall(raw)
    line = f.readline()
    assert line.endswith(b"\n"), line
    return json.loads(line)

s, f = conn()
for raw, code, words in [
        (b'{"v":1,"id":"a","cmd":\n', 64, "malformed JSON"),
        (b'not json at all\n', 64, "malformed JSON"),
        (b'{"v":1,"id":"b","cmd":"shutdown"}\n', 64, "unknown command 'shutdown'"),
        (b'{"v":1,"id":"c","cmd":"status","sudo":1}\n', 64, "unknown key 'sudo'"),
        (b'{"v":9,"id":"d","cmd":"status"}\n', 64, "unsupported protocol version"),
        (b'{"v":1,"id":"e","cmd":"vip.move","args":{"group":"../etc"}}\n', 64, "bad argument 'group'"),
        (b'{"v":1,"id":"f","cmd":"vip.move","args":{"group":"nope"}}\n', 68, "unknown group 'nope'")]:
    r = ask(s, f, raw)
    assert r["ok"] is False and r["code"] == code and words in r["error"], (raw, r)
    print("refused:", r["code"], r["error"])
r = ask(s, f, b'{"v":1,"id":"g","cmd":"status"}\n')        # same connection still works
assert r["ok"] is True and r["id"] == "g" and r["status"]["quorate"] is True, r
s.close()

s, f = conn()                                               # 70000 bytes, no newline
try:
    s.sendall(b"x" * 70000)
except OSError:
    pass
r = json.loads(f.readline())
assert r["ok"] is False and r["code"] == 64 and "longer than 65536" in r["error"], r
assert f.readline() == b"", "connection not closed after an oversized line"
print("refused:", r["code"], r["error"])
s.close()
EOF
"$FOMCTL" --socket "$SOCK" status >/dev/null || fail "daemon does not answer after bad input"

# 40 idle clients: 32 are let in and dropped after 30 s idle, 8 are refused at
# once; meanwhile the daemon serves over HTTP and holds the VIP, afterwards over
# the socket too.
lab spawn "$LAB_ID" br idle "$PY" "$FO_TOP/tests/tools/ctl-idle-clients.py" "$SOCK" 40 --until-dropped >/dev/null
IDLE_LOG=$LAB_STATE/br/idle.log
idle_up() { grep -q '^idle=' "$IDLE_LOG" 2>/dev/null; }
wait_for 10 idle_up || fail "the idle clients did not report: $(cat "$IDLE_LOG")"
[[ $(grep '^idle=' "$IDLE_LOG") == "idle=32 refused=8" ]] || fail "40 idle root clients: $(cat "$IDLE_LOG")"
# the socket is full, the rest of the daemon is not
grep -q '"quorate":true' <<<"$(lab_exec node1 curl -sf --max-time 5 http://127.0.0.1:9900/status)" ||
	fail "the status server does not answer while the control socket is full"
dropped() { grep -q '^dropped_after_s=' "$IDLE_LOG"; }
wait_for 40 dropped || fail "the idle clients were not dropped: $(cat "$IDLE_LOG")"
took=$(sed -n 's/^dropped_after_s=//p' "$IDLE_LOG")
python3 -c "import sys; sys.exit(float('$took') >= 35)" || fail "idle clients dropped after $took s more"
log "40 idle clients: $(grep '^idle=' "$IDLE_LOG"), dropped after $took s more"
"$FOMCTL" --socket "$SOCK" status >/dev/null || fail "daemon does not answer after the idle clients left"
assert_holder $VIP node1
ip netns exec "$(ns_of node1)" curl -sf http://127.0.0.1:9900/metrics | grep '^fomgr_control_requests_total{result="refused"} [1-9]' >/dev/null ||
	fail "refusals not counted in /metrics"
log "bad input and idle clients refused with reasons; the daemon answers"

# --- fomctl refuses a server run by someone else --------------------------------
# A fake server run by the other user records what each connection sends.
FAKE_DIR=$(mktemp -d /run/fo20-fake.XXXXXX)
chown $OTHER_USER "$FAKE_DIR"
FAKE=$FAKE_DIR/control.sock
as $OTHER_USER "$PY" - "$FAKE" <<'EOF' &
import os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); os.chmod(path, 0o666); s.listen(4); s.settimeout(30)
for _ in range(2):
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    c.settimeout(3)
    got = b""
    try:
        while True:
            d = c.recv(65536)
            got += d
            if not d or b"\n" in got:
                break
    except socket.timeout:
        pass
    with open(path + ".got", "a") as f:
        f.write("%d\n" % len(got))
    c.close()
EOF
fake_pid=$!
wait_for 5 test -S "$FAKE" || fail "fake server did not start"
# 1. a socket file owned by someone else: refused before connecting
rc=0
out=$("$FOMCTL" --socket "$FAKE" vip move vip --to node2 2>&1) || rc=$?
[[ $rc == 77 ]] || fail "fomctl talked to a socket owned by $OTHER_USER: exit $rc: $out"
log "socket owned by $OTHER_USER: fomctl exits 77: $out"
# 2. the same server, declared expected: fomctl talks (the refusal was the owner check)
rc=0
FOMCTL_EXPECT_UID=$(id -u $OTHER_USER) "$FOMCTL" --socket "$FAKE" --timeout 5 status >/dev/null 2>&1 || rc=$?
[[ $rc != 0 && $rc != 77 ]] || fail "with FOMCTL_EXPECT_UID the fake server was not contacted (exit $rc)"
# 3. the file made root's, the server still the other user's: the kernel's peer
#    credentials give it away after connect, before anything is sent
chown root "$FAKE"
rc=0
out=$("$FOMCTL" --socket "$FAKE" vip move vip --to node2 2>&1) || rc=$?
[[ $rc == 77 ]] || fail "fomctl talked to a server run by $OTHER_USER: exit $rc: $out"
log "root-owned socket served by $OTHER_USER: fomctl exits 77: $out"
wait "$fake_pid" || true
got=$(tr '\n' ' ' <"$FAKE.got")
[[ $got =~ ^[1-9][0-9]*\ 0\ $ ]] || fail "bytes the fake server got per connection: '$got', expected 'N 0'"
log "the untrusted server got nothing; the declared one got a request ($got)"

# --- what sits at the socket path at start ---------------------------------------
SOCK3=$LAB_STATE/node3/run/control.sock
lab stop-fomgr "$LAB_ID" 3 --kill >/dev/null # SIGKILL: the socket file stays behind
[[ -S $SOCK3 ]] || fail "no stale socket left by SIGKILL"
lab start-fomgr "$LAB_ID" 3 "$LAB_STATE/node3/ctl.conf" >/dev/null
wait_for 10 "$FOMCTL" --socket "$SOCK3" status >/dev/null 2>&1 || fail "node3 does not answer after replacing its stale socket"
grep -q "replaced a stale socket" "$LAB_STATE/node3/fomgr.log" || fail "no 'replaced a stale socket' line"
lab stop-fomgr "$LAB_ID" 3 >/dev/null
[[ ! -e $SOCK3 ]] || fail "the socket was not removed at a clean stop"

start_refused() { # WHAT: fomgr must exit, saying why
	local rc=0 out
	out=$(ip netns exec "$(ns_of node3)" timeout 20 "$FO_BUILD/fomgr/fomgr" --config "$LAB_STATE/node3/ctl.conf" 2>&1) || rc=$?
	[[ $rc == 78 ]] || fail "fomgr started with $1 at the socket path (exit $rc)"
	grep -q "$2" <<<"$out" || fail "no '$2' in: $out"
	log "$1 at the socket path: fomgr refuses to start: $(grep -m1 -o "control socket.*" <<<"$out")"
}
ln -s /run/fomgr-lab/elsewhere.sock "$SOCK3"
start_refused "a symlink" "is a symbolic link: refusing to start"
rm -f "$SOCK3"
echo "not a socket" >"$SOCK3"
start_refused "a plain file" "exists and is not a socket: refusing to start"
[[ $(cat "$SOCK3") == "not a socket" ]] || fail "fomgr touched the file at its socket path"
rm -f "$SOCK3"
lab start-fomgr "$LAB_ID" 3 "$LAB_STATE/node3/ctl.conf" >/dev/null
wait_for 10 "$FOMCTL" --socket "$SOCK3" status >/dev/null 2>&1 || fail "node3 does not start on a clean path"
