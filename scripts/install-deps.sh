#!/bin/sh
# Installs every Debian package fomgr needs to build (man pages with scdoc), test,
# run the lab and the benchmarks, build its own Debian package (debhelper,
# lintian) and boot it under a real systemd (debootstrap, systemd-nspawn).
# Idempotent; run as root on Debian 12.
set -eu
PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
 libev-dev libcurl4-openssl-dev libnl-3-dev libnl-route-3-dev libnl-idiag-3-dev
 libssl-dev libgnutls28-dev libcmocka-dev libinih-dev libjansson-dev libmicrohttpd-dev libsystemd-dev systemd
 libnftables-dev nftables
 corosync libcpg-dev libvotequorum-dev libcmap-dev libquorum-dev libcorosync-common-dev
 corosync-qnetd corosync-qdevice libnss3-tools
 iproute2 iputils-ping iputils-arping procps psmisc util-linux
 keepalived haproxy curl openssl python3 python3-jsonschema wrk stress-ng
 scdoc dpkg-dev debhelper lintian debootstrap systemd-container"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
# The packaged daemons must not run in the root namespace: the lab starts its own.
if [ -d /run/systemd/system ]; then
	for svc in corosync corosync-qnetd corosync-qdevice keepalived haproxy; do
		systemctl disable --now "$svc" >/dev/null 2>&1 || true
	done
fi
