#!/bin/sh
# install-deps.sh - install the Debian packages secretfs needs, when they are
# missing.  As root it runs apt-get; otherwise it prints the command to run.
#
#   install-deps.sh --run   what building and running need ('make run',
#                           'make', 'make install'): the compiler, the -dev
#                           headers, FUSE and the libraries' runtimes
#   install-deps.sh         that, and what the tests, benchmarks and fuzzing
#                           use ('make check', 'make bench', 'make fuzz')
#   --list                  print the packages instead, one a line
set -eu

# build: compiler, pkg-config and the -dev packages, whose dependencies are
# the runtimes (libfuse3-3, libsodium23, libsqlite3-0, libinih1, libyaml-0-2,
# libjansson4, libssl3, libcurl4, libmicrohttpd12, libgnutls30); run:
# fusermount3 and mountpoint
RUN_PACKAGES="gcc make pkg-config libc6-dev libfuse3-dev fuse3 libsodium-dev libsqlite3-dev
libinih-dev libyaml-dev libjansson-dev libssl-dev libcurl4-openssl-dev util-linux
protobuf-c-compiler libprotobuf-c-dev libmicrohttpd-dev libgnutls28-dev"

# the tests: unit tests (cmocka), sanitizers and fuzzing (clang), the tools
# the end-to-end tests drive (sqlite3, openssl, python3 and its kubernetes
# client, containers, etcd,
# valgrind, man pages, completion, systemd units, dash for env's eval)
TEST_PACKAGES="libcmocka-dev sqlite3 openssl python3 procps runc busybox-static valgrind clang
libclang-rt-14-dev man-db bash-completion systemd etcd-server etcd-client curl dash podman
python3-kubernetes jq binutils"

PACKAGES="$RUN_PACKAGES $TEST_PACKAGES"
list=0
for arg in "$@"; do
	case $arg in
	--run) PACKAGES=$RUN_PACKAGES ;;
	--list) list=1 ;;
	*) echo "usage: $0 [--run] [--list]" >&2; exit 2 ;;
	esac
done
if [ $list = 1 ]; then
	# shellcheck disable=SC2086
	printf '%s\n' $PACKAGES
	exit 0
fi

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
