#!/bin/bash
# Failover benchmark (issue 3, "Benchmark"): how long the VIP is unreachable from a
# client when its holder fails, for fomgr (corosync profiles default and fast) and
# for keepalived (VRRPv3, several advert_int), in the same netns lab, in one run.
#
#   tests/bench/failover-bench.sh [--reps N | --quick] [--results FILE] [--lab-id ID]
#                                 [--profiles "default fast"] [--adverts "1 0.1 0.01"]
#                                 (profiles: default, fast, shipped, test, tT: scripts/lab's)
#                                 [--no-fomgr] [--no-keepalived] [--max-minutes M]
#                                 [--keep-logs DIR] [--link-age S] [--stress]
#                                 [--scenarios "cut kill stop"] [--extra-addrs E]
#
# --extra-addrs E (0-254, default 0): the group holds E more addresses besides
# 192.0.2.100/24 and 2001:db8::100/64, 203.0.113.1/32 to 203.0.113.E/32, listed
# after those two (fomgr: `address =` lines; keepalived: virtual_ipaddress_excluded,
# the measured 192.0.2.100 staying the one VRRP address, as with fomgr the first
# one): the cost of a group's addresses on the failover (issue 14's cost curves).
#
# --stress: every core saturated throughout (stress-ng --cpu $(nproc), in the root
# namespace at ordinary priority, started before the first series and stopped, by
# PID, at the end): failover under load, keepalived beside fomgr as always. The
# report says so.
#
# Needs root, a build with fomgr, fo-echo and fo-probe (FO_BUILD, default
# build/gcc, which scripts/test builds) and keepalived (Debian package). Prints two Markdown tables to stdout
# and writes them to the results file (default build/bench/failover-results.md);
# every repetition is also written, raw, to the same name with .tsv.
#
# THE LAB. `scripts/lab up ID 3` (ID 80-89 only: namespaces fo<ID>-*): nodes 1-3
# and a client on one bridge, 192.0.2.0/24 and 2001:db8::/64 only, nothing in the
# root namespace. fo-echo answers UDP port 7777 on every node; the client runs
# fo-probe at the VIP 192.0.2.100 every 5 ms (answers later than 200 ms count as
# lost). The outage of one repetition is the time the client heard nothing around
# the move: from the arrival of the last answer from node1 to the arrival of the
# first answer from the new holder (fo-probe --epoch, its transitions field;
# resolution: the 5 ms interval). It is taken on arrivals rather than sends
# (fo-probe's max_gap_ms, kept in the .tsv) because probes sent while the client
# re-resolves the VIP's MAC wait in its neighbour queue and are all answered at
# once when the new owner answers: by sends the outage would look up to 200 ms
# shorter than it was.
#
# ONE REPETITION. The baseline is checked first: exactly node1 holds the VIP (IPv4
# and IPv6, as the kernel says), for fomgr every node is quorate with 3 members, the
# daemons' logs (fomgr) or the holder set (keepalived) have been quiet for a while
# (the fast corosync profile flaps for a second or more after a link comes back),
# and the client's probe is answered by node1 (if node1 holds the VIP but the client
# still sends to another MAC, its neighbour entry for the VIP is flushed and this
# is counted). The fault waits until node1's links are --link-age seconds old
# (default 12; 0: no wait): libknet sets a link's pong-timeout backoff to 10 x the
# ping timeout when the link goes down (or is made) and lowers it step by step,
# about once a second, so a node cut again within seconds of its return is found
# dead several times later (measured: 2.1 s with a 1 s ping timeout, about 5 s
# after the links came up), which is knet's anti-flap design and not what a
# failover of a node that has been up costs. Then fo-probe starts, and 0.4 s later the fault is made on node1:
#   cut   `lab cut ID 1`: the bridge drops every frame to and from node1; node1 and
#         its processes live on (fomgr loses quorum and releases; keepalived stays
#         MASTER, isolated).
#   kill  the node dies: `lab cut ID 1` first, then at once SIGKILL of fomgr and
#         corosync (`lab stop-fomgr ID 1 --kill` and `lab stop-corosync ID 1 --kill`,
#         in parallel), or of keepalived's VRRP child and its parent (one kill -KILL,
#         child first: killing only the parent makes the child stop gracefully and
#         send priority 0, which a dead VM never does). The cut comes first so that
#         nothing the dying processes might still send leaves the node, and because
#         a dead VM's address disappears with it whereas a SIGKILLed daemon's address
#         stays in the kernel. The fault time is the cut's.
#   stop  graceful stop: SIGTERM to fomgr (`lab stop-fomgr ID 1`) or to keepalived's
#         parent (`lab stop ID node1 keepalived`), waiting until it has exited.
# When the probe has finished (its window is fixed per configuration, longer than
# the slowest expected outage: token + consensus + 2 s for fomgr, 4 x advert_int +
# 1.5 s (at least 2 s) for keepalived) node1 is brought back: cut -> `lab restore`; kill ->
# the VIPs left in node1's kernel are deleted (the VM rebooted), the link restored,
# then corosync and fomgr (or keepalived) started again; stop -> started again. Then
# the baseline is awaited (failback to node1 is automatic for both tools).
# A repetition counts if the probe was answered by node1 at its start, by exactly one
# other node at its end (one transition node1->X), the new holder's first answer
# came after the fault and the silence began at the fault (a spontaneous membership
# flap of the fast corosync profile can move the VIP just before the fault);
# otherwise it is recorded as discarded (with the reason, in the .tsv) and retried,
# with a bounded number of extra attempts per configuration.
#
# FOMGR'S OWN SHARE. From the new holder's fomgr log: the at_ms= of the first
# `membership: node1 left ...` line after the fault (the moment fomgr learns of the
# change from corosync) to (a) the arrival at the client of the first answer after
# the gap (fo-probe --epoch, same realtime clock; includes up to one probe interval
# of sampling) and (b) the at_ms= of its `transition group=vip from=.. to=<it> ...`
# line. For the graceful stop there is no membership change to wait for: the start
# is the old holder's `transition group=vip from=node1 to=none reason=shutdown
# at_ms=` line (the release, right before it tells the peers). "detect" is the time
# from the fault (the cut) to that membership line: corosync's share.
#
# KEEPALIVED. fomgr is stopped (SIGTERM, it releases) and corosync is stopped on
# every node before keepalived starts: never two managers of the VIP at once, and
# keepalived runs alone. One keepalived per node namespace, started through
# `lab spawn` (so recorded by the lab) with every file in the lab state dir:
#   keepalived -n -l -D -G -P -f nodeK/keepalived.conf -p nodeK/keepalived.pid
#              -r nodeK/keepalived-vrrp.pid
# (no fork, log to the console = nodeK/keepalived.log, no syslog, VRRP only). The
# config (written by this script, see keepalived_conf) has no notification, no
# script, no email: VRRPv3, one instance, VRID 51 on eth0, priorities 150/100/50,
# preempt (the default), the VIP 192.0.2.100/24 plus 2001:db8::100/64 as an
# excluded VIP (as fomgr moves both), and vrrp_garp_lower_prio_repeat so that node1,
# MASTER throughout an isolation, re-announces the VIP when the partition heals
# (without it the client keeps node2's MAC until its neighbour entry expires).
# keepalived 2.2.7 accepts advert_int from 0.01 s (VRRPv3 centiseconds); 0.001 is
# refused. The default list measures 1 (the default), 0.1 and 0.01 (the fastest).
#
# Bounded: every lab step under `timeout`, each probe has a fixed window, at most
# reps + max(3, reps/2) attempts per configuration, and the whole run stops
# measuring after --max-minutes (default 28; the tables then show what was
# measured). The trap tears the lab down however the script ends; only processes
# this script started (through the lab, or keepalived's VRRP children) are signalled.
set -uo pipefail

FO_TOP=${FO_TOP:-$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)}
FO_BUILD=${FO_BUILD:-$FO_TOP/build/gcc}
export FO_TOP FO_BUILD
LAB=$FO_TOP/scripts/lab

REPS=10
RESULTS=
LAB_ID=80
PROFILES="default fast"
ADVERTS="1 0.1 0.01"
DO_FOMGR=1
DO_KA=1
MAX_MINUTES=28
KEEP_LOGS=
STRESS=0
STRESS_PID=
SCENARIOS="cut kill stop"
EXTRA_ADDRS=0
FAULT_SLACK_MS=50 # node1's last answer may precede the fault's time stamp by this much
BENCH_ARGS="$*"

VIP4=192.0.2.100
VIP6=2001:db8::100
PORT=7777
INTERVAL_MS=5
PROBE_TIMEOUT_MS=200
LEAD_S=0.4
LINK_AGE_S=12
LINKS_UP_MS=0 # when node1's links last came (back) up: lab up, or its restore
BASELINE_TIMEOUT_S=60
STEP_TIMEOUT_S=60
N_NODES=3

STATE=
RAW=
TOKEN_MS=0
TREE_REV=
CONSENSUS_MS=0
FO_PROBE=
DEADLINE_MS=0
RUN_START_MS=0
declare -A TIMERS=()    # config key -> timers text
declare -A FLUSHES=()   # config key -> client neighbour flushes
declare -a KA_CHILDREN=() # "PID STARTTIME" of keepalived VRRP children seen
declare -a ORDER=()     # config keys in run order ("tool|profile")

usage() {
	sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
}

log() { printf '%s %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
die() {
	log "failover-bench: $*"
	exit 1
}
now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

while (($#)); do
	case $1 in
	--reps)
		REPS=${2:-}
		shift 2
		;;
	--quick)
		REPS=3
		shift
		;;
	--results)
		RESULTS=${2:-}
		shift 2
		;;
	--lab-id)
		LAB_ID=${2:-}
		shift 2
		;;
	--profiles)
		PROFILES=${2:-}
		shift 2
		;;
	--adverts)
		ADVERTS=${2:-}
		shift 2
		;;
	--no-fomgr)
		DO_FOMGR=0
		shift
		;;
	--no-keepalived)
		DO_KA=0
		shift
		;;
	--max-minutes)
		MAX_MINUTES=${2:-}
		shift 2
		;;
	--keep-logs)
		KEEP_LOGS=${2:-}
		shift 2
		;;
	--stress)
		STRESS=1
		FAULT_SLACK_MS=500 # the lab's own commands (nft, ip) run slower on saturated cores
		shift
		;;
	--scenarios)
		SCENARIOS=${2:-}
		for scen in $SCENARIOS; do
			[[ $scen == cut || $scen == kill || $scen == stop ]] || {
				usage >&2
				exit 2
			}
		done
		shift 2
		;;
	--extra-addrs)
		EXTRA_ADDRS=${2:-}
		[[ $EXTRA_ADDRS =~ ^[0-9]+$ ]] && ((EXTRA_ADDRS <= 254)) || {
			usage >&2
			exit 2
		}
		shift 2
		;;
	--link-age)
		LINK_AGE_S=${2:-}
		[[ $LINK_AGE_S =~ ^[0-9]+$ ]] || {
			usage >&2
			exit 2
		}
		shift 2
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
done

if ! [[ $REPS =~ ^[0-9]+$ ]] || ((REPS < 1 || REPS > 1000)); then die "--reps must be 1..1000"; fi
[[ $LAB_ID =~ ^8[0-9]$ ]] || die "--lab-id must be 80..89"
if ! [[ $MAX_MINUTES =~ ^[0-9]+$ ]] || ((MAX_MINUTES < 1)); then die "--max-minutes must be a positive integer"; fi
for p in $PROFILES; do [[ $p =~ ^(default|fast|shipped|test|t[1-9][0-9]*)$ ]] || die "unknown corosync profile '$p'"; done
for a in $ADVERTS; do [[ $a =~ ^[0-9]+(\.[0-9]{1,2})?$ ]] || die "bad advert_int '$a'"; done
[[ -z $PROFILES ]] && DO_FOMGR=0
[[ -z $ADVERTS ]] && DO_KA=0
((DO_FOMGR || DO_KA)) || die "nothing to measure"
[[ $(id -u) == 0 ]] || die "must run as root"
RESULTS=${RESULTS:-$FO_TOP/build/bench/failover-results.md}
RAW=${RESULTS%.md}.tsv
FO_PROBE=${FO_TOOLS:-$FO_BUILD/tests}/fo-probe
[[ -x $FO_PROBE ]] || die "$FO_PROBE not built"
[[ -x ${FO_TOOLS:-$FO_BUILD/tests}/fo-echo ]] || die "fo-echo not built in ${FO_TOOLS:-$FO_BUILD/tests}"
((DO_FOMGR == 0)) || [[ -x $FO_BUILD/fomgr/fomgr ]] || die "$FO_BUILD/fomgr/fomgr not built"
((DO_KA == 0)) || command -v keepalived >/dev/null || die "keepalived not installed"
((STRESS == 0)) || command -v stress-ng >/dev/null || die "--stress needs stress-ng (scripts/install-deps.sh)"
"$FO_PROBE" --help | grep -q -- --epoch || die "$FO_PROBE has no --epoch (rebuild fo-probe)"
STATE=${FO_LAB_STATE:-/run/fomgr-lab/$LAB_ID}

lab() { timeout "$STEP_TIMEOUT_S" "$LAB" "$@"; }
ns() { echo "fo$LAB_ID-$1"; }

# --- cleanup ------------------------------------------------------------------------

proc_starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	echo "${20}"
}

alive_same() { # PID STARTTIME
	[[ $(proc_starttime "$1" 2>/dev/null) == "$2" ]]
}

# --keep-logs: a copy of the lab's state dir (logs, configs) before it is removed.
save_state() {
	[[ -n $KEEP_LOGS && -d $STATE ]] || return 0
	{ mkdir -p "$KEEP_LOGS" && cp -a "$STATE" "$KEEP_LOGS/lab$LAB_ID-$(date +%H%M%S)"; } 2>/dev/null || true
}

cleanup() {
	local rc=$? c
	trap - EXIT INT TERM
	# Our own background jobs (parallel lab stops, the load) first.
	for c in $(jobs -p); do kill "$c" 2>/dev/null || true; done
	stop_stress
	save_state
	"$LAB" down "$LAB_ID" >/dev/null 2>&1 || true
	# A VRRP child whose parent died without taking it along (should not happen:
	# both are killed together) is ours too: signal it only if it is that very
	# process (same start time).
	for c in "${KA_CHILDREN[@]}"; do
		# shellcheck disable=SC2086
		set -- $c
		alive_same "$1" "$2" && kill -TERM "$1" 2>/dev/null
	done
	if ((rc != 0)) && [[ -s $RAW ]]; then
		log "interrupted (rc=$rc): tables of what was measured follow"
		report || true
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- load ---------------------------------------------------------------------------

start_stress() {
	((STRESS)) || return 0
	stress-ng --cpu "$(nproc)" --timeout "$((MAX_MINUTES * 60 + 60))s" --quiet >/dev/null 2>&1 &
	STRESS_PID=$!
	sleep 2
	kill -0 "$STRESS_PID" 2>/dev/null || die "stress-ng did not start"
	log "load: stress-ng --cpu $(nproc) (pid $STRESS_PID), load $(cut -d' ' -f1-3 /proc/loadavg)"
}

stop_stress() {
	[[ -n $STRESS_PID ]] || return 0
	kill -TERM "$STRESS_PID" 2>/dev/null || true
	wait "$STRESS_PID" 2>/dev/null || true
	STRESS_PID=
}

# --- queries ------------------------------------------------------------------------

holders() { # ADDR: nodes whose eth0 holds ADDR, space-separated
	local k out=()
	for ((k = 1; k <= N_NODES; k++)); do
		if ip -n "$(ns "node$k")" -o addr show dev eth0 2>/dev/null |
			awk -v a="$1" '{ split($4, p, "/"); if (p[1] == a) f = 1 } END { exit !f }'; then
			out+=("node$k")
		fi
	done
	echo "${out[*]}"
}

all_quorate() {
	local k
	for ((k = 1; k <= N_NODES; k++)); do
		[[ $(lab membership "$LAB_ID" "$k") == "quorate=yes nodes=$N_NODES members=1,2,3 "* ]] || return 1
	done
}

client_who() { # the node answering the VIP from the client, or nothing
	local out f
	out=$(timeout 5 ip netns exec "$(ns client)" "$FO_PROBE" --target "$VIP4" --port "$PORT" --once \
		--interval-ms 20 --timeout-ms 600 2>/dev/null) || return 0
	for f in $out; do [[ $f == answered_by=* ]] && echo "${f#answered_by=}"; done
}

kv() { # KEY LINE
	local f
	for f in $2; do
		if [[ $f == "$1="* ]]; then
			echo "${f#*=}"
			return 0
		fi
	done
	echo ""
}

# Sizes of the daemons' logs (and the holder set): changes while anything moves.
signature() { # TOOL
	local k s=""
	for ((k = 1; k <= N_NODES; k++)); do
		[[ $1 == fomgr ]] && s+="$(stat -c %s "$STATE/node$k/fomgr.log" 2>/dev/null) "
	done
	echo "$s$(holders $VIP4)/$(holders $VIP6)"
}

# Waits until node1 alone holds both VIPs, (fomgr) every node is quorate with all
# members, nothing has moved for QUIET ms, and the client reaches node1.
wait_baseline() { # TOOL CONFIG_KEY
	local tool=$1 key=$2 quiet=1000 start sig last="" changed who
	[[ $tool == fomgr ]] && quiet=2000
	start=$(now_ms)
	changed=$start
	while (($(now_ms) - start < BASELINE_TIMEOUT_S * 1000)); do
		sig=$(signature "$tool")
		if [[ $sig != "$last" ]]; then
			last=$sig
			changed=$(now_ms)
		fi
		if [[ $(holders $VIP4) == node1 && $(holders $VIP6) == node1 ]] &&
			(($(now_ms) - changed >= quiet)) && { [[ $tool != fomgr ]] || all_quorate; } &&
			[[ $(signature "$tool") == "$last" ]]; then
			who=$(client_who)
			[[ $who == node1 ]] && return 0
			# node1 holds the VIP and nothing moves, yet the client is answered by
			# nobody or another node: its neighbour entry is stale.
			if (($(now_ms) - changed >= quiet + 1000)); then
				log "  client reached '${who:-nobody}' while node1 holds the VIP: flushing its neighbour entry"
				ip -n "$(ns client)" neigh flush to "$VIP4" dev eth0 2>/dev/null || true
				FLUSHES[$key]=$((${FLUSHES[$key]:-0} + 1))
			fi
		fi
		sleep 0.1
	done
	log "  baseline not reached after ${BASELINE_TIMEOUT_S}s: holders v4='$(holders $VIP4)' v6='$(holders $VIP6)'"
	return 1
}

# Epoch ms of the last "cut node1" line of the lab's events log.
fault_from_events() {
	local line
	line=$(grep ' cut node1' "$STATE/events.log" | tail -n 1) || return 1
	date -d "${line%% *}" +%s%3N
}

# at_ms of the first line of FILE matching ERE PATTERN with at_ms >= SINCE.
log_at_ms() { # FILE PATTERN SINCE
	awk -v pat="$2" -v since="$3" '
		$0 ~ pat && match($0, /at_ms=[0-9]+/) {
			t = substr($0, RSTART + 6, RLENGTH - 6) + 0
			if (t >= since) { printf "%.0f\n", t; exit }
		}' "$1" 2>/dev/null
}

# Number of "corosync ring has" lines of FILE with at_ms in [FROM, TO].
ring_changes() { # FILE FROM TO
	awk -v a="$2" -v b="$3" '
		/membership: corosync ring has/ && match($0, /at_ms=[0-9]+/) {
			t = substr($0, RSTART + 6, RLENGTH - 6) + 0
			if (t >= a && t <= b) n++
		} END { print n + 0 }' "$1" 2>/dev/null
}

# --- fomgr ----------------------------------------------------------------------------

# --extra-addrs more addresses, one line each (keepalived's; the lab writes fomgr's).
extra_addrs() { # PREFIX
	local i
	for ((i = 1; i <= EXTRA_ADDRS; i++)); do echo "$1203.0.113.$i/32"; done
}

fomgr_start() { # K
	FO_LAB_EXTRA_ADDRS=$EXTRA_ADDRS lab start-fomgr "$LAB_ID" "$1" >/dev/null
}

fomgr_start_all() {
	local k
	for ((k = 1; k <= N_NODES; k++)); do
		fomgr_start "$k" || return 1
	done
}

fomgr_stop_all() {
	local k
	for ((k = 1; k <= N_NODES; k++)); do
		lab stop-fomgr "$LAB_ID" "$k" >/dev/null || true
	done
}

drop_stale_vips() { # K: what a rebooted VM no longer has
	ip -n "$(ns "node$1")" addr del "$VIP4/24" dev eth0 2>/dev/null || true
	ip -n "$(ns "node$1")" addr del "$VIP6/64" dev eth0 2>/dev/null || true
	((EXTRA_ADDRS == 0)) || ip -n "$(ns "node$1")" addr flush dev eth0 to 203.0.113.0/24 2>/dev/null || true
}

fomgr_fault() { # SCENARIO; sets FAULT_MS
	local a b
	case $1 in
	cut)
		lab cut "$LAB_ID" 1 >/dev/null
		FAULT_MS=$(fault_from_events)
		;;
	kill)
		lab cut "$LAB_ID" 1 >/dev/null
		FAULT_MS=$(fault_from_events)
		lab stop-fomgr "$LAB_ID" 1 --kill >/dev/null &
		a=$!
		lab stop-corosync "$LAB_ID" 1 --kill >/dev/null &
		b=$!
		wait "$a" "$b"
		;;
	stop)
		FAULT_MS=$(now_ms)
		lab stop-fomgr "$LAB_ID" 1 >/dev/null
		;;
	esac
}

fomgr_restore() { # SCENARIO
	case $1 in
	cut) lab restore "$LAB_ID" 1 >/dev/null ;;
	kill)
		drop_stale_vips 1
		lab restore "$LAB_ID" 1 >/dev/null
		lab start-corosync "$LAB_ID" 1 >/dev/null && fomgr_start 1
		;;
	stop) fomgr_start 1 ;;
	esac
}

# --- keepalived ---------------------------------------------------------------------

keepalived_conf() { # K ADVERT
	local k=$1 prio
	case $k in 1) prio=150 ;; 2) prio=100 ;; *) prio=50 ;; esac
	cat <<EOF
# Written by tests/bench/failover-bench.sh for lab $LAB_ID, node$k. No notification,
# no script, no email: VRRP only.
global_defs {
	router_id node$k
	vrrp_version 3
	# When a MASTER hears a lower priority (a partition healed), re-announce the VIP.
	vrrp_garp_lower_prio_repeat 3
}

vrrp_instance VI_fo {
	state BACKUP
	interface eth0
	virtual_router_id 51
	priority $prio
	advert_int $2
	virtual_ipaddress {
		$VIP4/24 dev eth0
	}
	virtual_ipaddress_excluded {
		$VIP6/64 dev eth0
$(extra_addrs '		' | sed 's|$| dev eth0|')
	}
}
EOF
}

ka_start() { # K
	local k=$1 d=$STATE/node$1 i child
	rm -f "$d/keepalived.pid" "$d/keepalived-vrrp.pid"
	lab spawn "$LAB_ID" "node$k" keepalived keepalived -n -l -D -G -P -f "$d/keepalived.conf" \
		-p "$d/keepalived.pid" -r "$d/keepalived-vrrp.pid" >/dev/null || return 1
	for ((i = 0; i < 100; i++)); do
		if child=$(cat "$d/keepalived-vrrp.pid" 2>/dev/null) && [[ -n $child ]]; then
			KA_CHILDREN+=("$child $(proc_starttime "$child")")
			return 0
		fi
		sleep 0.05
	done
	log "  keepalived on node$k started no VRRP child: $(tail -3 "$d/keepalived.log")"
	return 1
}

ka_stop_all() {
	local k
	for ((k = 1; k <= N_NODES; k++)); do
		lab stop "$LAB_ID" "node$k" keepalived >/dev/null || true
	done
}

# The recorded keepalived parent on node K and its VRRP child, if both are alive
# and the child is the parent's.
ka_pids() { # K -> "PARENT CHILD"
	local pid start child
	read -r pid start <"$STATE/pids/node$1.keepalived" 2>/dev/null || return 1
	alive_same "$pid" "$start" || return 1
	child=$(cat "$STATE/node$1/keepalived-vrrp.pid" 2>/dev/null) || return 1
	[[ $(awk '/^PPid:/ { print $2 }' "/proc/$child/status" 2>/dev/null) == "$pid" ]] || return 1
	echo "$pid $child"
}

ka_fault() { # SCENARIO
	local pids
	case $1 in
	cut)
		lab cut "$LAB_ID" 1 >/dev/null
		FAULT_MS=$(fault_from_events)
		;;
	kill)
		pids=$(ka_pids 1) || log "  keepalived on node1: parent/child not found"
		lab cut "$LAB_ID" 1 >/dev/null
		FAULT_MS=$(fault_from_events)
		if [[ -n $pids ]]; then
			# shellcheck disable=SC2086
			set -- $pids
			kill -KILL "$2" "$1" 2>/dev/null
		fi
		lab stop "$LAB_ID" node1 keepalived --kill >/dev/null # bookkeeping: already dead
		;;
	stop)
		FAULT_MS=$(now_ms)
		lab stop "$LAB_ID" node1 keepalived >/dev/null
		;;
	esac
}

ka_restore() { # SCENARIO
	case $1 in
	cut) lab restore "$LAB_ID" 1 >/dev/null ;;
	kill)
		drop_stale_vips 1
		lab restore "$LAB_ID" 1 >/dev/null
		ka_start 1
		;;
	stop) ka_start 1 ;;
	esac
}

# --- one repetition -------------------------------------------------------------------

window_ms() { # TOOL SETTING: probe window, longer than the slowest expected outage
	case $1/$2 in
	fomgr/*) # corosync notices after token, forms the new ring after consensus
		echo $((TOKEN_MS + CONSENSUS_MS + 2000 > 2500 ? TOKEN_MS + CONSENSUS_MS + 2000 : 2500)) ;;
	keepalived/*)
		awk -v a="$2" 'BEGIN { w = int(a * 4000 + 1500); if (w < 2000) w = 2000; print w }'
		;;
	esac
}

# Runs one repetition, appends one line to RAW. Returns 0 if it counts, 1 if it was
# discarded, 2 if the lab could not be brought back (the configuration stops).
run_rep() { # TOOL SETTING SCENARIO REP ATTEMPT
	local tool=$1 setting=$2 scen=$3 rep=$4 att=$5 key="$1|$2"
	local name w plog summary epoch status=ok outage detect="" share_a="" share_t="" from_ms="" tr_ms=""
	local first last trans by first_ans t0 t1 expect rings flap=0 r maxgap etrans rest
	name=p_${tool}_${setting//./_}_${scen}_${rep}_${att}
	w=$(window_ms "$tool" "$setting")
	plog=$STATE/client/$name.log
	while (($(now_ms) - LINKS_UP_MS < LINK_AGE_S * 1000)); do sleep 0.2; done
	t0=$(now_ms)
	lab spawn "$LAB_ID" client "$name" "$FO_PROBE" --target "$VIP4" --port "$PORT" \
		--interval-ms "$INTERVAL_MS" --duration-ms "$w" --timeout-ms "$PROBE_TIMEOUT_MS" --epoch >/dev/null ||
		return 2
	sleep "$LEAD_S"
	FAULT_MS=
	if [[ $tool == fomgr ]]; then fomgr_fault "$scen"; else ka_fault "$scen"; fi
	# The probe ends by itself after its window plus the answer timeout.
	for ((r = 0; r < (w + PROBE_TIMEOUT_MS) / 100 + 100; r++)); do
		grep -q '^epoch ' "$plog" 2>/dev/null && break
		sleep 0.1
	done
	t1=$(now_ms)
	summary=$(grep '^sent=' "$plog" 2>/dev/null | tail -n 1)
	epoch=$(grep '^epoch ' "$plog" 2>/dev/null | tail -n 1)
	maxgap=$(kv max_gap_ms "$summary")
	first=$(kv first_answer_ms "$summary")
	last=$(kv last_answer_ms "$summary")
	trans=$(kv transitions "$summary")
	# node1->node2@<arrival epoch ms>/<ms without an answer before it>
	etrans=$(kv transitions "$epoch")
	by='' first_ans='' outage=''
	if [[ $etrans =~ ^node1-\>(node[2-9])@([0-9.]+)/([0-9.]+)$ ]]; then
		by=${BASH_REMATCH[1]}
		first_ans=${BASH_REMATCH[2]}
		outage=${BASH_REMATCH[3]}
	fi
	if [[ -z $summary || -z $epoch ]]; then
		status=discarded:no-probe-output
	elif [[ -z $FAULT_MS ]]; then
		status=discarded:no-fault-time
	elif ((first > 50)); then
		status=discarded:no-answer-at-start
	elif [[ -z $by ]]; then
		status="discarded:transitions=${etrans:-none}"
	elif ((last < w - 100)); then
		status=discarded:outage-longer-than-window
	else
		# The move must follow the fault: the new holder's first answer after it, and
		# the silence begun at it (node1's last answer at most 50 ms, 500 under --stress, before the
		# fault's time stamp, which is taken just after a cut or just before a stop).
		rest=$(awk -v a="$first_ans" -v o="$outage" -v f="$FAULT_MS" -v slack="$FAULT_SLACK_MS" 'BEGIN {
			if (a <= f) print "moved-before-fault"
			else if (a - o < f - slack) print "silence-before-fault"
			else print "ok" }')
		[[ $rest == ok ]] || status=discarded:$rest
	fi
	if [[ $tool == fomgr && $status == ok ]]; then
		if [[ $scen == stop ]]; then
			from_ms=$(log_at_ms "$STATE/node1/fomgr.log" \
				'transition group=vip from=node1 to=none reason=shutdown' $((FAULT_MS - 20)))
		else
			from_ms=$(log_at_ms "$STATE/$by/fomgr.log" 'membership: node1 left' $((FAULT_MS - 20)))
		fi
		[[ -n $from_ms ]] && tr_ms=$(log_at_ms "$STATE/$by/fomgr.log" \
			"transition group=vip from=[^ ]+ to=$by " "$from_ms")
		if [[ -n $from_ms ]]; then
			share_a=$(awk -v a="$first_ans" -v f="$from_ms" 'BEGIN { printf "%.1f", a - f }')
			[[ $scen != stop ]] && detect=$((from_ms - FAULT_MS))
		fi
		[[ -n $tr_ms && -n $from_ms ]] && share_t=$((tr_ms - from_ms))
		# Membership changes on the survivors beyond the one this fault causes: a flap.
		expect=1
		[[ $scen == stop ]] && expect=0
		for r in 2 3; do
			rings=$(ring_changes "$STATE/node$r/fomgr.log" "$t0" "$t1")
			((rings > expect)) && flap=1
		done
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$setting" "$scen" \
		"$rep" "$att" "$status" "${outage:--}" "${FAULT_MS:--}" "${by:--}" "${detect:--}" "${share_a:--}" \
		"${share_t:--}" "$flap" "${trans:--}" "$(kv lost "$summary")" "${maxgap:--}" >>"$RAW"
	if [[ $status == ok ]]; then
		log "  $tool/$setting $scen #$rep: outage ${outage} ms -> $by${detect:+, detect ${detect} ms}${share_a:+, fomgr share ${share_a} ms to answer, ${share_t} ms to transition}$( ((flap)) && echo ' (membership flap during the run)')"
	else
		log "  $tool/$setting $scen #$rep (attempt $att): $status (max gap ${maxgap:-?} ms, transitions ${trans:-none})"
	fi
	# Bring node1 back and wait for the baseline.
	if [[ $tool == fomgr ]]; then fomgr_restore "$scen"; else ka_restore "$scen"; fi
	LINKS_UP_MS=$(now_ms)
	[[ $tool == fomgr ]] && { lab wait-quorum "$LAB_ID" all --timeout 30 >/dev/null 2>&1 || true; }
	wait_baseline "$tool" "$key" || return 2
	[[ $status == ok ]]
}

time_left() { (($(now_ms) < DEADLINE_MS)); }

run_config() { # TOOL SETTING
	local tool=$1 setting=$2 scen rep att max_att rc
	max_att=$((REPS + (REPS / 2 > 3 ? REPS / 2 : 3)))
	ORDER+=("$tool|$setting")
	for scen in $SCENARIOS; do
		rep=1
		att=0
		while ((rep <= REPS && att < max_att)); do
			time_left || {
				log "time budget (--max-minutes $MAX_MINUTES) spent: stopping measurements"
				return 1
			}
			att=$((att + 1))
			run_rep "$tool" "$setting" "$scen" "$rep" "$att"
			rc=$?
			((rc == 0)) && rep=$((rep + 1))
			if ((rc == 2)); then
				log "  lab did not come back to its baseline: skipping the rest of $tool/$setting"
				return 0
			fi
		done
	done
}

# --- phases ---------------------------------------------------------------------------

lab_up() { # PROFILE [--no-start]
	local k
	save_state
	"$LAB" down "$LAB_ID" >/dev/null 2>&1 || true
	lab up "$LAB_ID" "$N_NODES" --corosync-profile "$@" >/dev/null || die "lab up $LAB_ID failed"
	LINKS_UP_MS=$(now_ms)
	if [[ ${2:-} != --no-start ]]; then
		lab wait-quorum "$LAB_ID" all --timeout 30 >/dev/null || die "lab $LAB_ID not quorate"
	fi
	for ((k = 1; k <= N_NODES; k++)); do
		lab start-echo "$LAB_ID" "$k" "$PORT" >/dev/null || die "fo-echo on node$k"
	done
}

totem_text() {
	lab totem "$LAB_ID" 1 2>/dev/null | awk '
		{ v = $NF }
		/^runtime.config.totem.token /            { t = v }
		/^totem.token_coefficient/                 { c = ($0 ~ /unset/) ? "650 (default)" : v }
		/^runtime.config.totem.consensus /        { s = v }
		/knet_ping_interval/                       { pi = ($0 ~ /unset/) ? "" : v }
		/knet_ping_timeout/                        { pt = ($0 ~ /unset/) ? "" : v }
		END {
			printf "token=%s ms consensus=%s ms token_coefficient=%s", t, s, c
			if (pi != "") printf " knet_ping=%s/%s ms", pi, pt
		}'
}

phase_fomgr() { # PROFILE
	local p=$1
	log "fomgr, corosync profile $p: lab $LAB_ID up"
	lab_up "$p"
	TIMERS["fomgr|$p"]=$(totem_text)
	TOKEN_MS=$(lab exec "$LAB_ID" node1 corosync-cmapctl -g runtime.config.totem.token | awk '{ print $NF }')
	CONSENSUS_MS=$(lab exec "$LAB_ID" node1 corosync-cmapctl -g runtime.config.totem.consensus | awk '{ print $NF }')
	[[ $TOKEN_MS =~ ^[0-9]+$ && $CONSENSUS_MS =~ ^[0-9]+$ ]] || die "cannot read corosync's token/consensus"
	log "  corosync: ${TIMERS["fomgr|$p"]}"
	fomgr_start_all || die "fomgr did not start"
	wait_baseline fomgr "fomgr|$p" || die "fomgr: node1 never held the VIP alone"
	run_config fomgr "$p"
}

phase_keepalived() {
	local a k check
	if ((DO_FOMGR)); then
		log "keepalived: stopping fomgr (SIGTERM) and corosync on every node of lab $LAB_ID"
		fomgr_stop_all
		for ((k = 1; k <= N_NODES; k++)); do lab stop-corosync "$LAB_ID" "$k" >/dev/null || true; done
	else
		log "keepalived: lab $LAB_ID up without corosync"
		lab_up default --no-start
	fi
	[[ -z $(holders $VIP4)$(holders $VIP6) ]] || die "a VIP is still held after fomgr stopped: $(holders $VIP4)"
	for a in $ADVERTS; do
		time_left || break
		for ((k = 1; k <= N_NODES; k++)); do
			keepalived_conf "$k" "$a" >"$STATE/node$k/keepalived.conf"
		done
		# keepalived -t prints nothing for a good config (and exits 0 even for some
		# values it ignores, such as advert_int 0.001).
		check=$(timeout 10 ip netns exec "$(ns node1)" keepalived -t -f "$STATE/node1/keepalived.conf" \
			-p "$STATE/node1/kt.pid" -r "$STATE/node1/kt-vrrp.pid" 2>&1)
		[[ -z $check ]] || die "keepalived -t, advert_int $a: $(head -3 <<<"$check")"
		for ((k = 1; k <= N_NODES; k++)); do ka_start "$k" || die "keepalived on node$k"; done
		TIMERS["keepalived|$a"]=$(awk -v a="$a" 'BEGIN {
			printf "advert_int=%s s, master_down(prio 100)=%.0f ms", a, (3 * a + (256 - 100) * a / 256) * 1000 }')
		log "keepalived advert_int $a: ${TIMERS["keepalived|$a"]}"
		if wait_baseline keepalived "keepalived|$a"; then
			run_config keepalived "$a"
		else
			log "  keepalived never gave node1 the VIP alone: skipping advert_int $a"
		fi
		ka_stop_all
		sleep 0.5
		[[ -z $(holders $VIP4) ]] || die "VIP still held after keepalived stopped: $(holders $VIP4)"
	done
}

# --- report ---------------------------------------------------------------------------

# Prints min median p95 (nearest rank) of the numbers on stdin, or "- - -".
stats() {
	sort -g | awk '
		{ v[++n] = $1 }
		END {
			if (n == 0) { print "- - -"; exit }
			med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			r = int(0.95 * n); if (r < 0.95 * n) r++
			printf "%.1f %.1f %.1f\n", v[1], med, v[r]
		}'
}

col() { # TOOL SETTING SCENARIO COLUMN: values of ok repetitions
	awk -F'\t' -v t="$1" -v s="$2" -v c="$3" -v k="$4" \
		'$1 == t && $2 == s && $3 == c && $6 == "ok" && $k != "-" { print $k }' "$RAW"
}

report() {
	local key tool setting scen n disc flaps s1 s2 s3 profile out
	out=$(
		echo "## Failover benchmark"
		echo
		echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg);" \
			"fomgr binary built $(date -u -r "$FO_BUILD/fomgr/fomgr" '+%H:%M UTC' 2>/dev/null) (source tree at $TREE_REV when the run began), $(corosync -v 2>/dev/null | head -1 | sed 's/ (built.*//'), $(keepalived --version 2>&1 | head -1)."
		echo "Command: \`tests/bench/failover-bench.sh $BENCH_ARGS\` ($REPS repetitions each, lab $LAB_ID, 3 nodes)."
		echo "Addresses in the group: $((2 + EXTRA_ADDRS)) ($VIP4, $VIP6$( ((EXTRA_ADDRS)) && echo " and 203.0.113.1-$EXTRA_ADDRS/32"))."
		echo "Unreachable = time without an answer at the client around the move: last answer from node1 -> first answer from the new holder"
		echo "(fo-probe every ${INTERVAL_MS} ms, UDP to $VIP4, arrival times)."
		echo "Scenarios: cut = \`lab cut\` of the holder; kill = cut + SIGKILL of corosync and fomgr (keepalived: VRRP child and parent);"
		echo "stop = SIGTERM (fomgr / keepalived). keepalived runs with fomgr and corosync stopped. p95 is the nearest rank."
		echo "Each fault waited until node1's links were ${LINK_AGE_S} s old (--link-age: knet's link-down timeout is up to 10 x its ping timeout for 10 s after a link comes back)."
		((STRESS == 0)) || echo "Under load: stress-ng --cpu $(nproc) saturated every core throughout (root namespace, ordinary priority; the lab's corosyncs run at ordinary priority too, keepalived as it is packaged). node1's last answer may precede the fault's time stamp by ${FAULT_SLACK_MS} ms (50 without load): the lab's cut itself is slower; the outage still counts from that last answer."
		echo
		echo "| tool | profile | scenario | n | min_ms | median_ms | p95_ms | timers | discarded |"
		echo "|---|---|---|---|---|---|---|---|---|"
		for key in "${ORDER[@]}"; do
			tool=${key%%|*}
			setting=${key#*|}
			if [[ $tool == fomgr ]]; then profile="corosync $setting"; else profile="advert_int $setting"; fi
			for scen in $SCENARIOS; do
				n=$(col "$tool" "$setting" "$scen" 7 | wc -l)
				disc=$(awk -F'\t' -v t="$tool" -v s="$setting" -v c="$scen" \
					'$1 == t && $2 == s && $3 == c && $6 != "ok"' "$RAW" | wc -l)
				read -r s1 s2 s3 < <(col "$tool" "$setting" "$scen" 7 | stats)
				echo "| $tool | $profile | $scen | $n | $s1 | $s2 | $s3 | ${TIMERS[$key]:-} | $disc |"
			done
		done
		if ((DO_FOMGR)); then
			echo
			echo "fomgr's own share (ms): from the new holder's \`membership: node1 left ... at_ms=\` line (stop: the old holder's"
			echo "\`transition ... to=none reason=shutdown at_ms=\` line) to the first answer at the client (includes up to one"
			echo "${INTERVAL_MS} ms probe interval) and to the new holder's \`transition ... at_ms=\` line; detect = cut -> membership line (corosync)."
			echo
			echo "| profile | scenario | n | to_answer_min | to_answer_median | to_answer_p95 | to_transition_min | to_transition_median | to_transition_p95 | detect_median | runs_with_flaps |"
			echo "|---|---|---|---|---|---|---|---|---|---|---|"
			for key in "${ORDER[@]}"; do
				[[ ${key%%|*} == fomgr ]] || continue
				setting=${key#*|}
				for scen in $SCENARIOS; do
					n=$(col fomgr "$setting" "$scen" 11 | wc -l)
					read -r s1 s2 s3 < <(col fomgr "$setting" "$scen" 11 | stats)
					echo -n "| corosync $setting | $scen | $n | $s1 | $s2 | $s3 "
					read -r s1 s2 s3 < <(col fomgr "$setting" "$scen" 12 | stats)
					echo -n "| $s1 | $s2 | $s3 "
					read -r s1 s2 s3 < <(col fomgr "$setting" "$scen" 10 | stats)
					flaps=$(col fomgr "$setting" "$scen" 13 | grep -c '^1$')
					echo "| $s2 | $flaps |"
				done
			done
		fi
		echo
		for key in "${!FLUSHES[@]}"; do
			echo "Client neighbour entry flushed before a repetition (stale MAC for the VIP): $key ${FLUSHES[$key]} time(s)."
		done
		echo "Every repetition, raw: $RAW"
		"$FO_TOP/tests/bench/machine.sh"
	)
	echo "$out"
	mkdir -p "$(dirname "$RESULTS")"
	echo "$out" >"$RESULTS"
	log "results written to $RESULTS"
}

# --- main -----------------------------------------------------------------------------

main() {
	local p
	RUN_START_MS=$(now_ms)
	TREE_REV=$(git -C "$FO_TOP" rev-parse --short HEAD 2>/dev/null || echo '?')
	DEADLINE_MS=$((RUN_START_MS + MAX_MINUTES * 60000))
	mkdir -p "$(dirname "$RAW")"
	printf 'tool\tsetting\tscenario\trep\tattempt\tstatus\toutage_ms\tfault_ms\tnew_holder\tdetect_ms\tshare_answer_ms\tshare_transition_ms\tflap\ttransitions\tlost\tmax_gap_ms\n' >"$RAW"
	log "failover-bench: $REPS repetitions, lab $LAB_ID, raw results in $RAW"
	start_stress
	if ((DO_FOMGR)); then
		for p in $PROFILES; do
			time_left || break
			phase_fomgr "$p"
		done
	fi
	if ((DO_KA)) && time_left; then
		phase_keepalived
	fi
	save_state
	"$LAB" down "$LAB_ID" >/dev/null 2>&1 || true
	stop_stress
	report
	log "done in $((($(now_ms) - RUN_START_MS) / 1000)) s"
}
main
