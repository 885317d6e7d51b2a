#!/bin/bash
# `cmake --install` into a scratch prefix installs exactly the files of
# tests/pkg/install.manifest (no more, no fewer), all under the prefix; a new
# installed file means a line in the manifest, on purpose.
set -euo pipefail
FO_TOP=${FO_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
FO_BUILD=${FO_BUILD:-$FO_TOP/build/gcc}
MANIFEST=$FO_TOP/tests/pkg/install.manifest
SCRATCH=$(mktemp -d /tmp/fo61-install.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT

log() { printf '%s [pkg.install-manifest] %s\n' "$(date +%H:%M:%S.%3N)" "$*"; }
fail() {
	log "FAIL: $*" >&2
	exit 1
}

cmake --install "$FO_BUILD" --prefix "$SCRATCH/prefix" >"$SCRATCH/install.log" 2>&1 ||
	fail "cmake --install failed: $(tail -5 "$SCRATCH/install.log")"
outside=$(grep -v "^$SCRATCH/prefix/" "$FO_BUILD/install_manifest.txt" || true)
[[ -z $outside ]] || fail "installed outside the prefix: $outside"
(cd "$SCRATCH/prefix" && find . -type f -o -type l | sed 's|^\./||' | LC_ALL=C sort) >"$SCRATCH/got"
grep -v '^#' "$MANIFEST" | LC_ALL=C sort >"$SCRATCH/want"
if ! diff -u "$SCRATCH/want" "$SCRATCH/got" >"$SCRATCH/diff"; then
	cat "$SCRATCH/diff" >&2
	fail "the installed files differ from tests/pkg/install.manifest (- missing, + unexpected)"
fi
# What the files must be.
for f in sbin/fomgr sbin/healthcheck bin/fomctl; do
	[[ -x $SCRATCH/prefix/$f ]] || fail "$f is not executable"
done
for u in fomgr healthcheck; do
	grep -q "^ExecStart=$SCRATCH/prefix/sbin/$u \|^ExecStart=/.*/sbin/$u " "$SCRATCH/prefix/lib/systemd/system/$u.service" ||
		fail "$u.service does not start sbin/$u"
done
bash -n "$SCRATCH/prefix/share/bash-completion/completions/fomctl" || fail "the completion is not valid bash"
log "PASS: $(wc -l <"$SCRATCH/got") files, exactly the manifest"
