#!/bin/sh
# install-deps.sh - install the Debian packages secretfs needs to build, run
# and test, when they are missing.  As root it runs apt-get; otherwise it
# prints the command to run.  Called by 'make run' and 'make check'.
set -eu

PACKAGES="gcc make pkg-config libfuse3-dev fuse3 libsodium-dev libsqlite3-dev
libinih-dev libyaml-dev libjansson-dev libcmocka-dev libssl-dev openssl sqlite3 python3 procps
runc busybox-static valgrind clang libclang-rt-14-dev man-db bash-completion systemd
libcurl4-openssl-dev etcd-server etcd-client curl jq binutils"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "missing packages:$missing" >&2
	echo "install them with: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
