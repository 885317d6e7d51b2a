#!/bin/bash
# The Debian package under a real systemd: builds the .deb (scripts/build-deb,
# lintian included), boots the cached Debian 12 root (tests/pkg/rootfs.sh) with
# systemd-nspawn --boot (systemd as PID 1, its own network namespace with only
# a veth pair inside, a tmpfs overlay so the cached root stays clean), installs
# the package there and checks from outside, through nsenter:
#   corosync, healthcheck and fomgr start with systemctl; fomgr reaches READY
#   and holds its VIP; `systemctl reload` with a bad file fails, the refusal is in
#   the journal with its MESSAGE_ID, and the old configuration keeps running;
#   a SIGSTOPped fomgr is restarted by the watchdog; healthcheck runs as
#   fomgr-health with no capability; `systemd-analyze security` of the live units
#   is at or under the offline figure; fomctl works for a member of fomgr-view
#   and is refused for another user; purge stops the units and removes all but
#   the audit log, which still verifies.
# Lab id 60: the container is fo60-pkg. Run as root.
set -euo pipefail
# A pipe into grep reads to the end: grep -q would close it early, and with
# pipefail the writer's SIGPIPE would fail the test.
FO_TOP=${FO_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
FO_BUILD=${FO_BUILD:-$FO_TOP/build/gcc}
MACHINE=fo60-pkg
VIP=192.0.2.60
MSGID_CONFIG=5c1f0e2a8d9b4f3c9a7e6d5b4c3a2f15
SCRATCH=$(mktemp -d /tmp/fo60-pkg.XXXXXX)
NSPAWN_PID=
LEADER=

log() { printf '%s [pkg.systemd-nspawn] %s\n' "$(date +%H:%M:%S.%3N)" "$*"; }
fail() {
	log "FAIL: $*" >&2
	if [[ -n $LEADER ]]; then
		ct journalctl --no-pager -n 60 -u fomgr -u healthcheck -u corosync >&2 2>&1 || true
	fi
	log "console: $SCRATCH/console.log (last lines below)" >&2
	tail -20 "$SCRATCH/console.log" >&2 || true
	exit 1
}

cleanup() {
	local i
	if [[ -n $NSPAWN_PID ]] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
		# SIGTERM makes nspawn power the container off; then it is killed.
		kill -TERM "$NSPAWN_PID" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$NSPAWN_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$NSPAWN_PID" 2>/dev/null || true
		wait "$NSPAWN_PID" 2>/dev/null || true
	fi
	[[ ${FO_KEEP:-0} == 1 ]] || rm -rf "$SCRATCH"
}
trap cleanup EXIT

# A command inside the container, in all its namespaces.
ct() { nsenter -t "$LEADER" -a -- "$@"; }

# until SECONDS DESCRIPTION COMMAND...: retries every 0.2 s.
until_ok() {
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	fail "$what: not after $secs s"
}

prop() { ct systemctl show -P "$2" "$1"; }

[[ $(id -u) == 0 ]] || fail "run as root"
for c in systemd-nspawn nsenter unshare debootstrap dpkg-buildpackage lintian; do
	command -v "$c" >/dev/null || fail "$c is not installed (scripts/install-deps.sh)"
done
[[ -x $FO_BUILD/fomctl/fomctl ]] || fail "no $FO_BUILD/fomctl/fomctl (it verifies the audit log the purge keeps)"

t0=$(date +%s)
deb=$(bash "$FO_TOP/scripts/build-deb") || fail "the package did not build or lintian refused it"
log "package: $deb (lintian clean at error and warning levels), $(($(date +%s) - t0)) s"
root=$(bash "$FO_TOP/tests/pkg/rootfs.sh") || fail "no Debian 12 root file system"
log "root: $root"

# nspawn keeps bind-mount propagation state in /run/systemd/nspawn and refuses to
# clean it from a disk file system (this host's /run is not a tmpfs): a private
# mount namespace with a tmpfs there keeps the host untouched.
unshare -m --propagation private sh -c '
	mkdir -p /run/systemd/nspawn && mount -t tmpfs -o mode=0755 tmpfs /run/systemd/nspawn &&
	exec systemd-nspawn --quiet --directory="$1" --volatile=overlay --boot --private-network \
		--machine="$2" --register=no --keep-unit --bind-ro="$3":/fo-pkg' sh \
	"$root" "$MACHINE" "$(dirname "$deb")" </dev/null >"$SCRATCH/console.log" 2>&1 &
NSPAWN_PID=$!

# The container's PID 1: the systemd in a PID namespace other than ours.
find_leader() {
	local p
	for p in $(pgrep -x systemd); do
		[[ $(readlink /proc/$p/ns/pid) != $(readlink /proc/self/ns/pid) ]] || continue
		[[ $(awk '/^NSpid:/ { print $NF }' /proc/$p/status) == 1 ]] || continue
		# ours: a descendant of the nspawn we started
		local a=$p
		while [[ $a -gt 1 ]]; do
			[[ $a == "$NSPAWN_PID" ]] && { echo "$p"; return 0; }
			a=$(awk '{ print $4 }' /proc/$a/stat 2>/dev/null) || break
		done
	done
	return 1
}
for ((i = 0; i < 150; i++)); do
	kill -0 "$NSPAWN_PID" 2>/dev/null || fail "systemd-nspawn exited"
	LEADER=$(find_leader) && break
	sleep 0.2
done
[[ -n $LEADER ]] || fail "no systemd as PID 1 in the container after 30 s"
# Until its manager answers at all, then until start-up is over.
state=
for ((i = 0; i < 150; i++)); do
	state=$(timeout 60 nsenter -t "$LEADER" -a -- systemctl is-system-running --wait 2>/dev/null) || true
	[[ -z $state || $state == offline ]] || break
	sleep 0.2
done
[[ $state == running || $state == degraded ]] || fail "the container's systemd is $state"
log "booted: systemd $(ct systemctl --version | awk 'NR == 1 { print $2 }') as PID 1 (host pid $LEADER), system $state"
[[ $state == running ]] || log "degraded: $(ct systemctl --failed --plain --no-legend | tr '\n' ' ')"

# ---- install: the package, a one-node corosync cluster with crypto, a group ----
ct dpkg -i "/fo-pkg/$(basename "$deb")" >"$SCRATCH/dpkg.log" 2>&1 || { cat "$SCRATCH/dpkg.log" >&2; fail "dpkg -i"; }
ct getent group fomgr-admin >/dev/null || fail "no fomgr-admin group after install (sysusers)"
ct getent group fomgr-view >/dev/null || fail "no fomgr-view group after install"
ct getent passwd fomgr-health >/dev/null || fail "no fomgr-health user after install"
[[ $(ct stat -c '%a %U %G' /var/log/fomgr) == "750 root adm" ]] || fail "/var/log/fomgr: $(ct stat -c '%a %U %G' /var/log/fomgr)"
for u in fomgr healthcheck; do
	[[ $(prop $u.service UnitFileState) == disabled ]] || fail "$u.service is enabled at install"
	[[ $(prop $u.service ActiveState) == inactive ]] || fail "$u.service started at install"
done
log "installed: users and groups made, /var/log/fomgr 0750 root:adm, units installed, not enabled, not started"

ct ip link add fo0 type veth peer name fo1
ct ip addr add 198.51.100.60/24 dev fo0
ct ip link set fo0 up
ct ip link set fo1 up
ct sh -c 'cat >/etc/corosync/corosync.conf' <<'EOF'
totem {
	version: 2
	cluster_name: fo60
	transport: knet
	crypto_cipher: aes256
	crypto_hash: sha256
}
nodelist {
	node {
		name: node1
		nodeid: 1
		ring0_addr: 198.51.100.60
	}
}
quorum {
	provider: corosync_votequorum
}
logging {
	to_syslog: yes
}
EOF
ct corosync-keygen -l >/dev/null 2>&1 || ct corosync-keygen >/dev/null 2>&1 || fail "corosync-keygen"
# The shipped file plus a group: what an operator does after install.
ct sh -c "cat >>/etc/fomgr/fomgr.conf" <<EOF

[group web]
interface = fo0
address = $VIP/24
prefer = node1
EOF
ct fomgr --config-test /etc/fomgr/fomgr.conf >"$SCRATCH/ct.log" 2>&1 || { cat "$SCRATCH/ct.log" >&2; fail "config-test"; }
# The agent refuses a file with nothing to check, as fomgr refuses one without a
# group: the operator adds a check.
ct healthcheck --config-test /etc/fomgr/healthcheck.conf >/dev/null 2>&1 && fail "the shipped healthcheck.conf, with no check, passed --config-test"
ct sh -c "cat >>/etc/fomgr/healthcheck.conf" <<EOF

[check corosync]
type = process
name = corosync
interval = 1s
EOF
ct healthcheck --config-test /etc/fomgr/healthcheck.conf >"$SCRATCH/ct.log" 2>&1 || { cat "$SCRATCH/ct.log" >&2; fail "healthcheck config-test"; }

# ---- start ----
timeout 60 nsenter -t "$LEADER" -a -- systemctl start corosync || fail "systemctl start corosync"
timeout 60 nsenter -t "$LEADER" -a -- systemctl start healthcheck || fail "systemctl start healthcheck"
timeout 120 nsenter -t "$LEADER" -a -- systemctl start fomgr || fail "systemctl start fomgr"
for u in corosync healthcheck fomgr; do
	[[ $(prop $u.service ActiveState) == active ]] || fail "$u is $(prop $u.service ActiveState)"
done
# Type=notify: `systemctl start` returned, so READY=1 came; the status line is fomgr's.
ct journalctl -u fomgr --no-pager -o cat | grep >/dev/null "ready: joined the cluster" || fail "no 'ready' line from fomgr"
status=$(prop fomgr.service StatusText)
[[ -n $status ]] || fail "fomgr sent no STATUS="
until_ok 20 "fomgr holds $VIP" sh -c "nsenter -t $LEADER -a -- ip -4 addr show dev fo0 | grep >/dev/null ' $VIP/'"
log "started: corosync, healthcheck, fomgr active; fomgr READY, status '$status'; $VIP on fo0"
[[ $(prop healthcheck.service ActiveState) == active ]] || fail "healthcheck stopped"
ct journalctl -u fomgr --no-pager -o cat | grep >/dev/null "systemd watchdog: pinging every 5.0 s" || fail "fomgr does not ping the watchdog"
ct journalctl -u healthcheck --no-pager -o cat | grep >/dev/null "systemd watchdog: pinging every 5.0 s" || fail "healthcheck does not ping the watchdog"

# ---- healthcheck: its own user, no capability ----
hpid=$(prop healthcheck.service MainPID)
[[ $(ct ps -o user= -p "$hpid") == fomgr-health ]] || fail "healthcheck runs as $(ct ps -o user= -p "$hpid")"
caps=$(ct grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/"$hpid"/status | awk '{ print $2 }' | sort -u)
[[ $caps == 0000000000000000 ]] || fail "healthcheck holds capabilities: $(ct grep ^Cap /proc/"$hpid"/status)"
fpid=$(prop fomgr.service MainPID)
fcaps=$(ct awk '/^CapEff:/ { print $2 }' /proc/"$fpid"/status)
[[ $(ct capsh --decode="$fcaps") == *"cap_net_admin,cap_net_raw" ]] || fail "fomgr's capabilities: $(ct capsh --decode="$fcaps")"
log "healthcheck pid $hpid runs as fomgr-health, every capability set empty; fomgr holds $(ct capsh --decode="$fcaps" | cut -d= -f2)"

# ---- fomctl: a member of fomgr-view may read, anyone else is refused ----
ct useradd --system --no-create-home --groups fomgr-view fo60view
ct useradd --system --no-create-home fo60other
ct runuser -u fo60view -- fomctl status >"$SCRATCH/view.out" 2>&1 || fail "fomctl status as a fomgr-view member: $(cat "$SCRATCH/view.out")"
grep -q "^web " "$SCRATCH/view.out" || fail "fomctl status shows no group: $(cat "$SCRATCH/view.out")"
rc=0
ct runuser -u fo60view -- fomctl vip clear web >"$SCRATCH/view2.out" 2>&1 || rc=$?
((rc == 77)) || fail "a fomgr-view member changing state: exit $rc, expected 77"
rc=0
ct runuser -u fo60other -- fomctl status >"$SCRATCH/other.out" 2>&1 || rc=$?
((rc == 77)) || fail "fomctl status as a user in neither group: exit $rc, expected 77 ($(cat "$SCRATCH/other.out"))"
log "fomctl: status works for a fomgr-view member, vip clear refused to it (77), status refused to another user (77)"

# The bash completion, as the fomgr-view member, names from the running daemon.
# bash-completion's _init_completion is not in the minimal root: a stand-in sets
# the same variables.
complete_as_view() {
	ct runuser -u fo60view -- bash -c '
		_init_completion() {
			words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
			cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
		}
		_filedir() { :; }
		. /usr/share/bash-completion/completions/fomctl
		COMP_WORDS=("$@") COMP_CWORD=$(($# - 1))
		_fomctl
		echo "${COMPREPLY[*]}"' _ "$@"
}
[[ $(complete_as_view fomctl "") == "status vip node group maintenance simulate reload events history log" ]] || fail "completion of commands: $(complete_as_view fomctl "")"
[[ $(complete_as_view fomctl vip move "") == web ]] || fail "completion of groups: '$(complete_as_view fomctl vip move "")'"
[[ $(complete_as_view fomctl vip move web --to "") == node1 ]] || fail "completion of --to: '$(complete_as_view fomctl vip move web --to "")'"
[[ $(complete_as_view fomctl node standby "") == node1 ]] || fail "completion of nodes: '$(complete_as_view fomctl node standby "")'"
log "bash completion: commands, groups (web) and nodes (node1) from the running daemon"

# ---- reload: a bad file is refused, logged with its MESSAGE_ID, the old one runs ----
ct cp /etc/fomgr/fomgr.conf /etc/fomgr/fomgr.conf.good
ct sh -c 'echo "garp_count = many" >>/etc/fomgr/fomgr.conf'
rc=0
timeout 60 nsenter -t "$LEADER" -a -- systemctl reload fomgr >"$SCRATCH/reload.out" 2>&1 || rc=$?
((rc != 0)) || fail "systemctl reload with a bad file succeeded"
until_ok 10 "the refusal in the journal with MESSAGE_ID=$MSGID_CONFIG" \
	sh -c "nsenter -t $LEADER -a -- journalctl --no-pager -o cat MESSAGE_ID=$MSGID_CONFIG | grep >/dev/null 'reload refused: keeping the running configuration'"
ct journalctl -u fomgr --no-pager -o cat | grep >/dev/null "fomgr.conf:[0-9]*: .*garp_count" || fail "the refusal does not name file:line"
[[ $(prop fomgr.service ActiveState) == active && $(prop fomgr.service MainPID) == "$fpid" ]] ||
	fail "fomgr did not keep running after a refused reload"
ct ip -4 addr show dev fo0 | grep >/dev/null " $VIP/" || fail "$VIP gone after a refused reload"
ct mv /etc/fomgr/fomgr.conf.good /etc/fomgr/fomgr.conf
timeout 60 nsenter -t "$LEADER" -a -- systemctl reload fomgr || fail "systemctl reload with the good file"
ct journalctl --no-pager -o cat MESSAGE_ID=$MSGID_CONFIG | grep >/dev/null "configuration reloaded" || fail "no 'configuration reloaded' with its MESSAGE_ID"
log "reload: bad file refused (systemctl exit $rc), journal MESSAGE_ID=$MSGID_CONFIG 'reload refused', same pid $fpid, $VIP kept; good file reloaded"

# healthcheck: its reload checks the file first.
hpid=$(prop healthcheck.service MainPID)
ct cp /etc/fomgr/healthcheck.conf /etc/fomgr/healthcheck.conf.good
ct sh -c 'echo "heartbeat = often" >>/etc/fomgr/healthcheck.conf'
! timeout 60 nsenter -t "$LEADER" -a -- systemctl reload healthcheck >/dev/null 2>&1 || fail "healthcheck reload with a bad file succeeded"
ct mv /etc/fomgr/healthcheck.conf.good /etc/fomgr/healthcheck.conf
timeout 60 nsenter -t "$LEADER" -a -- systemctl reload healthcheck || fail "healthcheck reload with the good file"
[[ $(prop healthcheck.service ActiveState) == active && $(prop healthcheck.service MainPID) == "$hpid" ]] ||
	fail "healthcheck did not keep running across its reloads"
log "healthcheck reload: bad file refused, good file reloaded, same pid $hpid"

# ---- systemd-analyze security: live at or under offline ----
for u in fomgr healthcheck; do
	off=$(ct systemd-analyze security --offline=true "/lib/systemd/system/$u.service" 2>&1 | grep -oE 'Overall exposure level for [^:]+: [0-9.]+' | awk '{ print $NF }')
	live=$(ct systemd-analyze security "$u.service" 2>&1 | grep -oE 'Overall exposure level for [^:]+: [0-9.]+' | awk '{ print $NF }')
	[[ -n $off && -n $live ]] || fail "systemd-analyze security on $u gave no figure"
	awk -v l="$live" -v o="$off" 'BEGIN { exit !(l <= o) }' || fail "$u: live exposure $live above the offline $off"
	[[ $u != healthcheck ]] || awk -v l="$live" 'BEGIN { exit !(l < 2.0) }' || fail "healthcheck's exposure $live is not under 2.0"
	log "systemd-analyze security $u.service: live $live, offline $off"
done

# ---- the watchdog: a frozen fomgr is restarted ----
ct kill -STOP "$fpid"
t1=$(date +%s)
for ((i = 0; i < 300; i++)); do
	npid=$(prop fomgr.service MainPID)
	[[ $npid != "$fpid" && $npid != 0 && $(prop fomgr.service ActiveState) == active ]] && break
	sleep 0.2
done
[[ $npid != "$fpid" && $npid != 0 ]] || fail "fomgr not restarted 60 s after SIGSTOP"
ct journalctl -u fomgr --no-pager -o cat | grep >/dev/null "Watchdog timeout" || fail "no watchdog timeout in the journal"
until_ok 20 "$VIP held again after the restart" sh -c "nsenter -t $LEADER -a -- ip -4 addr show dev fo0 | grep >/dev/null ' $VIP/'"
log "watchdog: fomgr pid $fpid frozen, 'Watchdog timeout', restarted as pid $npid in $(($(date +%s) - t1)) s, $VIP held"

# ---- purge: the units stop, everything goes but the audit log ----
ct test -s /var/log/fomgr/audit.log || fail "no audit log written"
ct dpkg --purge fomgr >"$SCRATCH/purge.log" 2>&1 || { cat "$SCRATCH/purge.log" >&2; fail "dpkg --purge"; }
! ct pgrep -x fomgr >/dev/null || fail "fomgr still runs after purge"
! ct pgrep -x healthcheck >/dev/null || fail "healthcheck still runs after purge"
ct test -s /var/log/fomgr/audit.log || fail "purge removed the audit log"
for p in /var/lib/fomgr /run/fomgr /etc/fomgr /usr/sbin/fomgr /lib/systemd/system/fomgr.service; do
	! ct test -e "$p" || fail "$p left after purge"
done
[[ $(ct ls -A /var/log/fomgr) == audit.log* ]] || fail "more than the audit log left: $(ct ls -A /var/log/fomgr)"
ct cat /var/log/fomgr/audit.log >"$SCRATCH/audit.log"
"$FO_BUILD/fomctl/fomctl" log verify "$SCRATCH/audit.log" >"$SCRATCH/verify.out" ||
	fail "the kept audit log: $(cat "$SCRATCH/verify.out")"
log "purge: units stopped by the package, /etc/fomgr, /var/lib/fomgr, /run/fomgr gone; audit log kept, $(sed 's/^[^:]*: //' "$SCRATCH/verify.out" | cut -d, -f1-2)"
log "PASS in $(($(date +%s) - t0)) s"
