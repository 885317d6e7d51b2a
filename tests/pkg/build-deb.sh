#!/bin/bash
# Builds the Debian package from a copy of the checkout under build/pkg/ (the
# build writes debian/ and its result beside the source, never into the
# checkout; tests/pkg/ is left out, so editing these tests rebuilds nothing), then runs lintian at the error and warning levels. A build of the
# same files is reused. Prints the .deb's path. FO_DEB_CHECK=1 runs the unit
# tests inside the package build (nocheck otherwise: the suite runs them anyway).
set -euo pipefail
FO_TOP=${FO_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$FO_TOP/build/pkg/deb
version=$(dpkg-parsechangelog -l "$FO_TOP/debian/changelog" -S Version)

cd "$FO_TOP"
mapfile -t files < <(git ls-files -co --exclude-standard | grep -v -e '^build/' -e '^tests/pkg/' | while read -r f; do [[ -f $f ]] && echo "$f"; done)
hash=$(tar -c --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 "${files[@]}" | sha256sum | cut -c1-16)
work=$out/$hash
deb=$work/fomgr_${version}_$(dpkg --print-architecture).deb
if [[ ! -f $work/.lintian-ok ]]; then
	rm -rf "$work"
	mkdir -p "$work/fomgr-$version"
	tar -c "${files[@]}" | tar -x -C "$work/fomgr-$version"
	(
		cd "$work/fomgr-$version"
		opts=${DEB_BUILD_OPTIONS:-}
		[[ ${FO_DEB_CHECK:-0} == 1 ]] || opts="$opts nocheck"
		DEB_BUILD_OPTIONS="$opts parallel=2" dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1
	) || { tail -40 "$work/build.log" >&2; echo "build-deb: dpkg-buildpackage failed ($work/build.log)" >&2; exit 1; }
	changes=$(ls "$work"/fomgr_"${version}"_*.changes)
	lintian --fail-on error,warning --display-level '>=warning' "$changes" >"$work/lintian.log" 2>&1 ||
		{ cat "$work/lintian.log" >&2; echo "build-deb: lintian found errors or warnings" >&2; exit 1; }
	touch "$work/.lintian-ok"
fi
# Keep only this build.
for d in "$out"/*/; do [[ $d == "$work/" ]] || rm -rf "$d"; done
echo "$deb"
