# shellcheck shell=bash disable=SC2317 # functions here are called by the scenarios
# Library of the lab scenarios (tests/lab/NN-name.sh), sourced by each of them.
# A scenario calls lab_init ID N [profile] first: that installs the cleanup trap
# (the lab is torn down however the script ends) and brings up N nodes and a client
# with corosync running and quorate. Everything else here is a query or an
# assertion on what the kernel and the client see. ctest runs scenarios as root
# with FO_BUILD (build dir) and FO_TOP (source dir) set.
#
# On failure the tails of every log are printed; FO_LAB_KEEP=DIR also keeps a copy
# of the whole state dir there.
set -euo pipefail

FO_TOP=${FO_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
FO_BUILD=${FO_BUILD:-$FO_TOP/build/gcc}
export FO_TOP FO_BUILD
LAB=$FO_TOP/scripts/lab
LAB_ID=
LAB_N=0
LAB_STATE=
LAB_ECHO_PORT=7777
LAB_TEST=$(basename "$0" .sh)

log() {
	printf '%s [%s] %s\n' "$(date +%H:%M:%S.%3N)" "$LAB_TEST" "$*"
}

fail() {
	log "FAIL: $*" >&2
	exit 1
}

now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# "1.5" -> 1500: timeouts are given in seconds, possibly fractional.
seconds_to_ms() {
	local s=$1 int frac
	int=${s%%.*}
	frac=
	[[ $s == *.* ]] && frac=${s#*.}
	frac=${frac}000
	echo $((10#${int:-0} * 1000 + 10#${frac:0:3}))
}

lab() { "$LAB" "$@"; }

# fomctl against node K's fomgr (need_status_tools first).
ctl() { # K fomctl-args...
	local k=$1
	shift
	"$FOMCTL" --socket "$LAB_STATE/node$k/run/control.sock" "$@"
}

# fomgr on every node, with the lab's config edited by the sed script SED and kept
# as nodeK/NAME.
start_fomgr_all() { # NAME SED
	local k
	for ((k = 1; k <= LAB_N; k++)); do
		lab fomgr-config "$LAB_ID" "$k" | sed "$2" >"$LAB_STATE/node$k/$1"
		lab start-fomgr "$LAB_ID" "$k" "$LAB_STATE/node$k/$1" >/dev/null
	done
}

# For the scenarios that read status documents: FOMCTL, and PY and SCHEMA to
# validate them against conf/status.schema.json.
need_status_tools() {
	FOMCTL=$FO_BUILD/fomctl/fomctl
	PY=/usr/bin/python3
	SCHEMA=$FO_TOP/conf/status.schema.json
	[[ -x $FOMCTL ]] || fail "$FOMCTL not built"
	$PY -c 'import jsonschema' || fail "python3-jsonschema is not installed (scripts/install-deps.sh)"
}

lab_init() { # ID N [default|test|fast [--qdevice]], test by default
	[[ $(id -u) == 0 ]] || fail "lab tests run as root"
	LAB_ID=$1
	LAB_N=$2
	LAB_STATE=${FO_LAB_STATE:-/run/fomgr-lab/$LAB_ID}
	trap lab_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# A lab left over by a crashed run of this test goes first; down is always safe.
	lab down "$LAB_ID" >/dev/null
	log "lab up $LAB_ID: $LAB_N nodes, corosync profile ${3:-test}${4:+ $4}"
	lab up "$LAB_ID" "$LAB_N" --corosync-profile "${3:-test}" "${@:4}" >/dev/null
	log "$(lab wait-quorum "$LAB_ID" all --timeout 30)"
	[[ ${4:-} != --qdevice ]] || log "$(lab wait-qdevice "$LAB_ID" all --timeout 30)"
}

# The status document of node K's fomgr (fomctl status --json; need_status_tools),
# checked against the schema; PYEXPR is then evaluated on it (as st) and decides.
status_says() { # K PYEXPR
	ctl "$1" status --json 2>/dev/null | "$PY" -c '
import json, sys
from jsonschema import Draft202012Validator
st = json.load(sys.stdin)
Draft202012Validator(json.load(open(sys.argv[1]))).validate(st)
sys.exit(0 if eval(sys.argv[2]) else 1)' "$SCHEMA" "$2"
}

# True when node K's status carries a warning with that id.
has_warning() { # K ID
	status_says "$1" "any(w.split(':')[0] == '$2' for w in st['warnings'])"
}

# One series of node K's /metrics, exactly as given ("fomgr_x{...} 1"). Read whole
# first: grep -q leaving early would fail curl's write (pipefail).
metric_is() { # K LINE
	local out
	out=$(lab_exec "node$1" curl -sf --max-time 5 http://127.0.0.1:9900/metrics) && grep -qxF -- "$2" <<<"$out"
}

# Two nodes with a witness (lab up --qdevice), fomgr and fo-echo on both, node1
# holding VIP and both showing the device connected in their status.
qdevice_pair_start() { # ID VIP
	local k
	lab_init "$1" 2 test --qdevice
	for k in 1 2; do lab start-fomgr "$LAB_ID" "$k" >/dev/null; done
	start_echo_all
	wait_for 15 holder_is "$2" node1 || fail "node1 never took $2: '$(holders "$2")'"
	for k in 1 2; do
		wait_for 10 qdevice_connected "$k" ||
			fail "node$k's status does not show the device connected: $(ctl "$k" status --json)"
	done
}

qdevice_connected() { # K
	status_says "$1" "st['qdevice']['connected']"
}

lab_dump_logs() {
	local f
	[[ -d $LAB_STATE ]] || return 0
	lab status "$LAB_ID" 2>&1 | sed 's/^/  status: /' || true
	for f in "$LAB_STATE"/events.log "$LAB_STATE"/*/*.log "$LAB_STATE"/*/*.stderr; do
		[[ -s $f ]] || continue
		echo "----- ${f#"$LAB_STATE"/} (last 40 lines)"
		tail -n 40 "$f"
	done
}

lab_cleanup() { # [RC]: the exit status to judge by, $? by default
	local rc=${1:-$?}
	trap - EXIT INT TERM
	if [[ -n $LAB_ID ]]; then
		if ((rc != 0)); then
			lab_dump_logs >&2
			if [[ -n ${FO_LAB_KEEP:-} && -d $LAB_STATE ]]; then
				mkdir -p "$FO_LAB_KEEP"
				cp -a "$LAB_STATE" "$FO_LAB_KEEP/lab$LAB_ID-$(date +%s)" || true
			fi
		fi
		lab down "$LAB_ID" >/dev/null || rc=1
	fi
	((rc == 0)) && log "PASS"
	exit "$rc"
}

ns_of() { echo "fo$LAB_ID-$1"; }

lab_exec() { # ROLE CMD...
	local role=$1
	shift
	ip netns exec "$(ns_of "$role")" "$@"
}

tool() { # fo-echo, fo-probe
	local path=${FO_TOOLS:-$FO_BUILD/tests}/$1
	[[ -x $path ]] || fail "$path not built (cmake --build \$FO_BUILD --target $1)"
	echo "$path"
}

# wait_for TIMEOUT_S CMD...: runs CMD every 50 ms until it succeeds. Returns 1 on
# timeout; sets WAIT_MS to the time it took either way.
WAIT_MS=0
wait_for() {
	local timeout_ms start
	timeout_ms=$(seconds_to_ms "$1")
	shift
	start=$(now_ms)
	while :; do
		if "$@"; then
			WAIT_MS=$(($(now_ms) - start))
			return 0
		fi
		WAIT_MS=$(($(now_ms) - start))
		((WAIT_MS < timeout_ms)) || return 1
		sleep 0.05
	done
}

# --- addresses --------------------------------------------------------------------

# Prints the nodes whose eth0 holds VIP (as the kernel says), space-separated, in
# node order; prints nothing when no node does.
holders() { # VIP
	local vip=$1 k out=() addr
	for ((k = 1; k <= LAB_N; k++)); do
		while read -r addr; do
			if [[ ${addr%/*} == "$vip" ]]; then
				out+=("node$k")
				break
			fi
		done < <(ip -n "$(ns_of "node$k")" -o addr show dev eth0 | awk '{ print $4 }')
	done
	echo "${out[*]}"
}

# True when exactly NODE holds VIP ("" for nobody): the predicate for wait_for.
holder_is() { # VIP NODE
	[[ $(holders "$1") == "$2" ]]
}

assert_holder() { # VIP NODE
	local h
	h=$(holders "$1")
	[[ $h == "$2" ]] || fail "$1 is held by '${h:-nobody}', expected $2"
}

assert_no_holder() { # VIP
	local h
	h=$(holders "$1")
	[[ -z $h ]] || fail "$1 is held by '$h', expected nobody"
}

assert_single_holder() { # VIP: prints the holder
	local h
	h=$(holders "$1")
	[[ -n $h && $h != *" "* ]] || fail "$1 is held by '${h:-nobody}', expected exactly one node"
	echo "$h"
}

# --- membership -------------------------------------------------------------------

# One line as corosync-quorumtool -s sees it from NODE's namespace:
#   quorate=yes nodes=3 members=1,2,3 ring=1.10   (or quorate=unknown)
membership() { # NODE
	lab membership "$LAB_ID" "$1"
}

quorate_with() { # NODE COUNT: quorate, with COUNT members
	[[ $(membership "$1") == "quorate=yes nodes=$2 "* ]]
}

inquorate() { # NODE: corosync answers and says not quorate
	[[ $(membership "$1") == "quorate=no "* ]]
}

# Epoch ms of the first line of NODE's corosync log matching the ERE PATTERN that is
# not older than SINCE_MS (epoch ms); fails if there is none. corosync's hires
# timestamps carry no year: they are read as this year's.
corosync_log_ms() { # NODE PATTERN SINCE_MS
	local line t
	while IFS= read -r line; do
		t=$(date -d "${line:0:19}" +%s%3N) || continue
		if ((t >= $3)); then
			echo "$t"
			return 0
		fi
	done < <(grep -E -- "$2" "$LAB_STATE/$1/corosync.log" || true)
	return 1
}

# --- client view ------------------------------------------------------------------

# One request from the client namespace; prints the node that answered. Fails when
# nobody answers within TIMEOUT_MS (default 1000).
client_reach() { # VIP PORT [TIMEOUT_MS]
	local out who
	out=$(lab_exec client "$(tool fo-probe)" --target "$1" --port "$2" --once \
		--interval-ms 100 --timeout-ms "${3:-1000}") || return 1
	who=$(kv answered_by "$out")
	[[ -n $who ]] || return 1
	echo "$who"
}

# Value of KEY in a "k=v k=v" line.
kv() { # KEY LINE
	local f
	for f in $2; do
		if [[ $f == "$1="* ]]; then
			echo "${f#*=}"
			return 0
		fi
	done
	return 1
}

# A background probe from the client namespace, recorded by the lab like every
# process it starts. probe_wait prints its summary line once it has finished.
probe_start() { # NAME VIP PORT INTERVAL_MS DURATION_MS
	lab spawn "$LAB_ID" client "$1" "$(tool fo-probe)" --target "$2" --port "$3" \
		--interval-ms "$4" --duration-ms "$5" >/dev/null
}

probe_done() { # NAME
	grep -q '^sent=' "$LAB_STATE/client/$1.log" 2>/dev/null
}

probe_wait() { # NAME TIMEOUT_S: prints the summary
	wait_for "$2" probe_done "$1" || fail "probe $1 did not finish within $2 s"
	grep '^sent=' "$LAB_STATE/client/$1.log" | tail -n 1
}

# On every node, fomgr with the lab's config whose group depends on CHECK (health
# TTL 3 s, health_policy POLICY) and the health agent with CHECK's section (stdin,
# @D@ for the node's state dir): nodeK/health.conf and nodeK/agent.conf.
start_health_all() { # CHECK [POLICY] < SECTION
	local k d section
	section=$(cat)
	for ((k = 1; k <= LAB_N; k++)); do
		d=$LAB_STATE/node$k
		lab fomgr-config "$LAB_ID" "$k" |
			sed "s/^failback = auto/failback = auto\nchecks = $1/
			     s|^\[fomgr\]|[fomgr]\nhealth_ttl = 3s\nhealth_policy = ${2:-keep}|" >"$d/health.conf"
		printf '[agent]\nlisten = 127.0.0.1:9901\nmanager_socket = %s/run/health.sock\nheartbeat = 500ms\n\n%s\n' \
			"$d" "${section//@D@/$d}" >"$d/agent.conf"
		lab start-fomgr "$LAB_ID" "$k" "$d/health.conf" >/dev/null
		lab start-healthcheck "$LAB_ID" "$k" "$d/agent.conf" >/dev/null
	done
}

start_echo_all() { # fo-echo on every node, port LAB_ECHO_PORT
	local k
	for ((k = 1; k <= LAB_N; k++)); do
		lab start-echo "$LAB_ID" "$k" "$LAB_ECHO_PORT" >/dev/null
	done
}

# The sampler: every node's eth0 addresses, one node after the other, round and
# round (one `ip` call a read, a few ms each), a line per read:
#   REALTIME_MS nodeK H1 H2 ...     (Hi: 1 when the node holds the i-th VIP)
sampler_start() { # VIP...
	local vips="$*"
	cat >"$LAB_STATE/sampler.sh" <<EOF
while :; do
	for ((k = 1; k <= $LAB_N; k++)); do
		ok=1
		a=\$(ip -n fo$LAB_ID-node\$k -o addr show dev eth0) || ok=0
		line="\${EPOCHREALTIME/./} node\$k"
		for v in $vips; do
			if ((!ok)); then line+=" ?"; elif [[ \$a == *" \$v/"* ]]; then line+=" 1"; else line+=" 0"; fi
		done
		echo "\${line:0:13}\${line:16}"
	done
done
EOF
	lab spawn "$LAB_ID" br sampler bash "$LAB_STATE/sampler.sh" >/dev/null
}

sampler_stop() {
	lab stop "$LAB_ID" br sampler >/dev/null
}

# Judges the sampler's log for the VIP in column COL (1-based) between FROM_MS and
# TO_MS (realtime ms; 0 0 for all) and prints one line:
#   reads=N rounds=N dual_reads=N max_dual_ms=N max_orphan_ms=N orphan_from_ms=N
#   max_read_gap_ms=N failed_reads=N (reads marked "?" failed and are skipped)
# A read is dual when node B holds the VIP in a read that lies between two reads of
# node A that both show A holding it (nodes are read one after the other, so a move
# between two reads must not look like an overlap); max_dual_ms is the longest
# episode of such reads (dual reads up to 100 ms apart are one episode). An orphan
# is a span in which every node's last read shows nobody
# holding; max_orphan_ms is the longest. Fails when fewer than 10 rounds were read.
sampler_report() { # COL FROM_MS TO_MS
	python3 - "$LAB_STATE/br/sampler.log" "$1" "$2" "$3" <<'PYEOF'
import bisect, sys
path, col, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows, prev_read, read_gap, failed = [], {}, 0, 0
for line in open(path):
    f = line.split()
    if len(f) < 2 + col or not f[0].isdigit():
        continue
    t = int(f[0])
    if (lo and t < lo) or (hi and t > hi):
        continue
    if f[1 + col] == "?":  # the read failed: neither held nor free
        failed += 1
        continue
    last_read = prev_read.get(f[1])
    if last_read is not None:
        read_gap = max(read_gap, t - last_read)
    prev_read[f[1]] = t
    rows.append((t, f[1], f[1 + col] == "1"))
nodes = sorted({r[1] for r in rows})
if len(rows) < 10 * max(1, len(nodes)):
    print("reads=%d too few reads to judge" % len(rows))
    sys.exit(2)
idx, held = {}, {}
for i, (t, n, h) in enumerate(rows):
    idx.setdefault(n, []).append(i)
    held.setdefault(n, []).append(h)
dual = [False] * len(rows)
for i, (t, n, h) in enumerate(rows):
    if not h:
        continue
    for other in nodes:
        if other == n:
            continue
        k = bisect.bisect_left(idx[other], i)
        if 0 < k < len(idx[other]) and held[other][k - 1] and held[other][k]:
            dual[i] = True
# An episode: dual reads no more than 100 ms apart (reads of a third node, which
# holds nothing, fall between them); its length runs from its first to its last.
max_dual = 0
start = last = None
for i, d in enumerate(dual):
    if not d:
        continue
    t = rows[i][0]
    if last is None or t - last > 100:
        start = t
    last = t
    max_dual = max(max_dual, last - start + 1)
state, max_orphan, orphan_since, orphan_from = {}, 0, None, 0
for t, n, h in rows:
    state[n] = h
    nobody = len(state) == len(nodes) and not any(state.values())
    if nobody and orphan_since is None:
        orphan_since = t
    elif not nobody and orphan_since is not None:
        if t - orphan_since > max_orphan:
            max_orphan, orphan_from = t - orphan_since, orphan_since
        orphan_since = None
if orphan_since is not None and rows[-1][0] - orphan_since > max_orphan:
    max_orphan, orphan_from = rows[-1][0] - orphan_since, orphan_since
# max_read_gap_ms: the longest time between two reads of one node (a stalled
# sampler makes every span above it uncertain); failed_reads: reads that failed.
print("reads=%d rounds=%d dual_reads=%d max_dual_ms=%d max_orphan_ms=%d orphan_from_ms=%d max_read_gap_ms=%d failed_reads=%d"
      % (len(rows), len(rows) // max(1, len(nodes)), sum(dual), max_dual, max_orphan, orphan_from, read_gap, failed))
PYEOF
}

# The MAC address of ROLE's eth0, and the MAC the client's neighbour entry for VIP
# points at (empty when it has none).
mac_of() { # ROLE
	ip -n "$(ns_of "$1")" -o link show dev eth0 | grep -o 'link/ether [0-9a-f:]*' | awk '{ print $2 }'
}

client_neigh_mac() { # VIP
	ip -n "$(ns_of client)" neigh show "$1" dev eth0 | grep -o 'lladdr [0-9a-f:]*' | awk '{ print $2 }'
}
