#!/usr/bin/env bash
# 40-auditlog-full-disk: the audit log on a full filesystem. A 64 KiB tmpfs, mounted
# in a private mount namespace (nothing is mounted where the rest of the machine
# sees it), is filled with records until an append fails: it must fail with ENOSPC
# (exit status 28), leave no half-written record (the log verifies), and work again
# once space is freed, the chain unbroken. Also: a copy edited, cut and reordered
# fails verification naming the first bad record.
# Needs root. Env: FO_BUILD (build dir holding tests/audit-tool).
set -eu

: "${FO_BUILD:?FO_BUILD must point at the build directory}"
TOOL=$FO_BUILD/tests/audit-tool
[ -x "$TOOL" ] || { echo "FAIL: $TOOL not built"; exit 1; }
TMP=$(mktemp -d /tmp/fo40.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# --- a full filesystem, in a mount namespace of its own ---------------------------
unshare -m --propagation private bash -eu -s "$TOOL" "$TMP" <<'INNER' || fail "full-disk scenario failed"
TOOL=$1 TMP=$2
mkdir -p "$TMP/mnt"
mount -t tmpfs -o size=64k,mode=0700 fo40 "$TMP/mnt"
head -c 16384 /dev/zero >"$TMP/mnt/filler"
LOG=$TMP/mnt/audit.log
rc=0
"$TOOL" append "$LOG" 1000 3000 >"$TMP/out" 2>"$TMP/err" || rc=$?
[ "$rc" = 28 ] || { echo "append on a full disk: exit $rc, expected 28 (ENOSPC): $(cat "$TMP/err")"; exit 1; }
echo "full: $(cat "$TMP/err")"
"$TOOL" verify "$LOG" >"$TMP/v1" || { echo "log after ENOSPC does not verify: $(cat "$TMP/v1")"; exit 1; }
echo "after ENOSPC: $(cat "$TMP/v1")"
rc=0
"$TOOL" append "$LOG" 1 3000 >/dev/null 2>&1 || rc=$?
[ "$rc" = 28 ] || { echo "second append on a full disk: exit $rc"; exit 1; }
rm "$TMP/mnt/filler"
"$TOOL" append "$LOG" 2 3000 >"$TMP/out" || { echo "append after freeing space failed"; exit 1; }
"$TOOL" verify "$LOG" >"$TMP/v2" || { echo "log after recovery does not verify: $(cat "$TMP/v2")"; exit 1; }
echo "space freed: $(cat "$TMP/out"); $(cat "$TMP/v2")"
umount "$TMP/mnt"
INNER
grep -q "$TMP/mnt" /proc/mounts && fail "the tmpfs leaked into this mount namespace"

# --- tampering with a copy ----------------------------------------------------------
LOG=$TMP/audit.log
"$TOOL" append "$LOG" 10 20 >/dev/null
"$TOOL" verify "$LOG" >/dev/null || fail "a fresh log does not verify"
if [ -x "$FO_BUILD/fomctl/fomctl" ]; then
	"$FO_BUILD/fomctl/fomctl" log verify "$LOG" >/dev/null || fail "fomctl: a fresh log does not verify"
fi
FOMCTL=$FO_BUILD/fomctl/fomctl
expect_bad() { # FILE LINE REASON-PREFIX
	local out rc=0
	if out=$("$TOOL" verify "$1"); then fail "$1 verifies, expected line $2 bad"; fi
	case $out in "line $2: $3"*) echo "$(basename "$1"): $out" ;; *) fail "$1: '$out', expected 'line $2: $3'" ;; esac
	# What operators run: exit 65 and the same first bad record.
	[ -x "$FOMCTL" ] || return 0
	out=$("$FOMCTL" log verify "$1") || rc=$?
	[ "$rc" = 65 ] || fail "fomctl log verify $1: exit $rc, expected 65"
	case $out in *"BROKEN at line $2: $3"*) ;; *) fail "fomctl log verify $1: '$out'" ;; esac
}
sed '4s/"i":3/"i":9/' "$LOG" >"$TMP/edited"
expect_bad "$TMP/edited" 4 "edited"
sed '6d' "$LOG" >"$TMP/removed"
expect_bad "$TMP/removed" 6 "removed or reordered (seq 7 after 5)"
awk 'NR == 3 { held = $0; next } { print } NR == 4 { print held }' "$LOG" >"$TMP/reordered"
expect_bad "$TMP/reordered" 3 "removed or reordered (seq 4 after 2)"
head -c -10 "$LOG" >"$TMP/truncated"
expect_bad "$TMP/truncated" 10 "truncated"
echo "PASS"
