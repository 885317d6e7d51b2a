#!/bin/bash
# Makes (once) the minimal Debian 12 root file system the real-systemd test boots
# with systemd-nspawn: systemd as PID 1, corosync, and the libraries fomgr's
# package depends on, so that installing the package needs no network. Cached
# under $FO_TOP/build/pkg/; a change of the package list below makes it anew.
# Prints the root's path.
set -euo pipefail
FO_TOP=${FO_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
MIRROR=${FO_MIRROR:-http://deb.debian.org/debian}
PKGS="systemd systemd-sysv dbus corosync iproute2 procps libcap2-bin
 libev4 libcurl4 libnl-3-200 libnl-route-3-200 libnl-idiag-3-200 libinih1 libjansson4
 libmicrohttpd12 libnftables1 libgnutls30 libssl3 libcpg4 libvotequorum8 libcmap4
 libcorosync-common4 libsystemd0"
stamp=$(printf '%s\n' bookworm "$MIRROR" $PKGS | sha256sum | cut -c1-12)
root=$FO_TOP/build/pkg/rootfs-bookworm-$stamp
if [[ -f $root/.fo-complete ]]; then
	echo "$root"
	exit 0
fi
command -v debootstrap >/dev/null || { echo "rootfs: debootstrap is not installed" >&2; exit 1; }
rm -rf "$root" "$root.tmp"
mkdir -p "$root.tmp"
trap 'rm -rf "$root.tmp"' EXIT
# minbase and the list: no recommends, nothing that starts services at boot but
# what the test asks for.
debootstrap --variant=minbase --include="$(echo $PKGS | tr ' ' ',')" bookworm "$root.tmp" "$MIRROR" >&2
# The packaged corosync starts at boot only when the test says so.
rm -f "$root.tmp"/etc/systemd/system/multi-user.target.wants/corosync.service
# Nothing in the container needs the network, a getty or a clock sync.
for u in systemd-networkd systemd-resolved systemd-timesyncd console-getty getty@tty1; do
	chroot "$root.tmp" systemctl mask "$u.service" >/dev/null 2>&1 || true
done
echo fo60-pkg >"$root.tmp/etc/hostname"
rm -rf "$root.tmp"/var/cache/apt/archives/*.deb "$root.tmp"/var/lib/apt/lists/*
touch "$root.tmp/.fo-complete"
mv "$root.tmp" "$root"
trap - EXIT
echo "$root"
