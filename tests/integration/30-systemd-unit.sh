#!/bin/bash
# The shipped systemd files: fomgr's unit exposure under `systemd-analyze security
# --offline` stays at or below FO_EXPOSURE_MAX (default 3.0, "OK"), healthcheck's
# under 2.0 with no capability, and the
# sysusers.d and tmpfiles.d entries create what the control socket needs, in a
# scratch root (nothing on this machine is touched).
set -euo pipefail
FO_TOP=${FO_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
MAX=${FO_EXPOSURE_MAX:-3.0}
UNIT=$FO_TOP/conf/fomgr.service
SCRATCH=$(mktemp -d /tmp/fo30-systemd.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT

log() { printf '%s [30-systemd-unit] %s\n' "$(date +%H:%M:%S.%3N)" "$*"; }
fail() {
	log "FAIL: $*" >&2
	exit 1
}

command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed"
systemd-analyze security --help | grep -q -- '--offline' || fail "this systemd-analyze has no --offline mode"

out=$(systemd-analyze security --offline=true "$UNIT" 2>&1) || true
line=$(grep 'Overall exposure level for fomgr.service' <<<"$out") || fail "no exposure line: $out"
score=$(sed -E 's/.*: ([0-9]+\.[0-9]+) .*/\1/' <<<"$line")
awk -v s="$score" -v m="$MAX" 'BEGIN { exit !(s <= m) }' || fail "exposure $score above $MAX: $line"
log "systemd-analyze security --offline: exposure $score (at most $MAX): ${line##*: }"
# The promises the unit makes, checked by name.
for want in 'Type=notify' 'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW' 'NoNewPrivileges=yes' \
	'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
	'RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6 AF_PACKET' 'SystemCallFilter=@system-service' \
	'WatchdogSec=' 'ReadWritePaths=/run/fomgr /var/lib/fomgr /var/log/fomgr'; do
	grep -q "^$want" "$UNIT" || fail "the unit lacks $want"
done
# No exec path escapes the restrictions.
! grep -Eq '^(PermissionsStartOnly|ExecStart[a-zA-Z]*=[+!])' "$UNIT" || fail "a command runs outside the sandbox"

# healthcheck.service: no capability at all, exposure under FO_HC_EXPOSURE_MAX (2.0).
HC_UNIT=$FO_TOP/conf/healthcheck.service
HC_MAX=${FO_HC_EXPOSURE_MAX:-2.0}
out=$(systemd-analyze security --offline=true "$HC_UNIT" 2>&1) || true
line=$(grep 'Overall exposure level for healthcheck.service' <<<"$out") || fail "no exposure line for healthcheck: $out"
score=$(sed -E 's/.*: ([0-9]+\.[0-9]+) .*/\1/' <<<"$line")
awk -v s="$score" -v m="$HC_MAX" 'BEGIN { exit !(s < m) }' || fail "healthcheck exposure $score not under $HC_MAX"
for want in 'Type=notify' 'WatchdogSec=' 'User=fomgr-health' 'CapabilityBoundingSet=$' 'AmbientCapabilities=$' \
	'NoNewPrivileges=yes' 'ProtectSystem=strict' 'PrivateDevices=yes' 'Before=fomgr.service'; do
	grep -q "^$want" "$HC_UNIT" || fail "healthcheck.service lacks $want"
done
! grep -Eq '^(PermissionsStartOnly|ExecStart[a-zA-Z]*=[+!])' "$HC_UNIT" || fail "a healthcheck command runs outside the sandbox"
log "healthcheck.service: exposure $score (under $HC_MAX), no capability, Type=notify with watchdog"

# sysusers and tmpfiles, in a scratch root.
mkdir -p "$SCRATCH/etc"
for f in passwd group shadow gshadow; do
	[[ -e /etc/$f ]] && cp /etc/$f "$SCRATCH/etc/"
done
systemd-sysusers --root="$SCRATCH" "$FO_TOP/conf/fomgr-sysusers.conf" >/dev/null 2>&1 ||
	fail "systemd-sysusers refused conf/fomgr-sysusers.conf"
grep -q '^fomgr-admin:' "$SCRATCH/etc/group" || fail "no fomgr-admin group from sysusers"
grep -q '^fomgr-view:' "$SCRATCH/etc/group" || fail "no fomgr-view group from sysusers"
systemd-sysusers --root="$SCRATCH" "$FO_TOP/conf/healthcheck-sysusers.conf" >/dev/null 2>&1 ||
	fail "systemd-sysusers refused conf/healthcheck-sysusers.conf"
grep -q '^fomgr-health:' "$SCRATCH/etc/passwd" || fail "no fomgr-health user from sysusers"
systemd-tmpfiles --root="$SCRATCH" --create "$FO_TOP/conf/fomgr-tmpfiles.conf" ||
	fail "systemd-tmpfiles refused conf/fomgr-tmpfiles.conf"
[[ $(stat -c '%a %U' "$SCRATCH/run/fomgr") == "755 root" ]] || fail "/run/fomgr: $(stat -c '%a %U' "$SCRATCH/run/fomgr")"
[[ $(stat -c '%a %U' "$SCRATCH/var/lib/fomgr") == "750 root" ]] || fail "/var/lib/fomgr: wrong mode"
[[ $(stat -c '%a %U' "$SCRATCH/var/log/fomgr") == "750 root" ]] || fail "/var/log/fomgr: wrong mode"
# The unit and the files agree on the groups and directories.
grep -q '^SupplementaryGroups=fomgr-admin' "$UNIT" || fail "the unit does not join fomgr-admin"
log "sysusers: fomgr-admin and fomgr-view; tmpfiles: /run/fomgr 0755, /var/lib/fomgr 0750, /var/log/fomgr 0750"
log "PASS"
