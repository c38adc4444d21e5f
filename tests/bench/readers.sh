#!/usr/bin/env bash
# readers.sh - the "readers of distinct secrets" rows of 'make bench' alone,
# for comparing builds on a shared machine: each BIN folder in turn, the
# whole sequence RUNS times, so that a before and an after are measured
# back to back and a load that comes and goes falls on both.
#
#   tests/bench/readers.sh [BIN...]          (default: bin/)
#   RUNS=3 ROUNDS=7 OPS=5000 CALLGRIND=1 tests/bench/readers.sh OLD/bin bin
#
# Prints per BIN and run: ops/s of 1, 2 and 8 readers (thread i reading its
# own secret through one plain view, as run.sh does) and their ratio to one
# reader; with CALLGRIND=1, once per BIN, the daemon's instructions per
# uncached open + read + close, counted as run.sh counts them.  Needs root,
# /dev/fuse, and valgrind for CALLGRIND.  readloop is taken from the first
# BIN, so every build is driven by the same client.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- "$here/../../bin"
RUNS=${RUNS:-3}
ROUNDS=${ROUNDS:-7}
OPS=${OPS:-5000}
W=$(mktemp -d /tmp/secretfs-readers.XXXXXX)
cp "$1/test/readloop" "$W/readloop"

cleanup() {
	for m in $(awk -v w="$W" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r); do
		fusermount3 -u "$m" 2>/dev/null || umount -l "$m"
	done
	sleep 0.3
	rm -rf "$W"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "readers: run as root (FUSE mounts)" >&2; exit 1; }

wait_mount() {
	for _ in $(seq 400); do
		mountpoint -q "$1" && return 0
		sleep 0.025
	done
	echo "readers: $1 did not come up" >&2
	exit 1
}

# one store per BIN (its own secretctl makes it), the shape run.sh reads
store_for() {
	local s=$W/store.$2
	mkdir -p "$s"
	cat >"$s/secretfs.ini" <<INI
[store]
path = $s/store.db
key_file = $s/master.key
[view app]
secret = bench/*
INI
	chmod 0644 "$s/secretfs.ini"
	"$1/secretctl" -c "$s/secretfs.ini" init >/dev/null
	"$1/secretctl" -c "$s/secretfs.ini" create namespace bench >/dev/null
	head -c 1024 /dev/urandom >"$W/value"
	for i in "" 1 2 3 4 5 6 7 8; do
		"$1/secretctl" -c "$s/secretfs.ini" create secret generic "db$i" -n bench \
			--from-file=password="$W/value" >/dev/null
	done
	echo "$s"
}

declare -a S
for i in $(seq $#); do S[$i]=$(store_for "${!i}" "$i"); done

for run in $(seq "$RUNS"); do
	for i in $(seq $#); do
		bin=${!i}
		v=$W/v.$i
		mkdir -p "$v"
		"$bin/secretfs" -c "${S[$i]}/secretfs.ini" --view app "$v" 2>/dev/null
		wait_mount "$v"
		line="" one=0
		for t in 1 2 8; do
			ns=$("$W/readloop" -r "$ROUNDS" -n $((OPS / 2)) -t "$t" -C "$v/bench" \
				db1/password db2/password db3/password db4/password \
				db5/password db6/password db7/password db8/password)
			ops=$(( t * 1000000000 / ns ))
			[ "$t" = 1 ] && one=$ops
			line+=$(printf '  %d: %6d ops/s %5.2fx' "$t" "$ops" "$(echo "$ops / $one" | bc -l)")
		done
		fusermount3 -u "$v"
		echo "run $run  $bin $line"
	done
done

[ "${CALLGRIND:-0}" = 1 ] || exit 0
cg() { # cg BIN STORE N: the daemon's total instructions for N opens
	local out=$W/cg.$3 mnt=$W/cgmnt
	mkdir -p "$mnt"
	valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$1/secretfs" -c "$2/secretfs.ini" -f --view app "$mnt" 2>/dev/null &
	local vp=$!
	wait_mount "$mnt"
	"$W/readloop" -r 1 -n "$3" -C "$mnt/bench/db" password >/dev/null
	fusermount3 -u "$mnt"
	wait "$vp" || true
	callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
for i in $(seq $#); do
	a=$(cg "${!i}" "${S[$i]}" 100)
	b=$(cg "${!i}" "${S[$i]}" 600)
	echo "${!i}: daemon instructions per uncached open + read + close: $(( (b - a) / 500 ))"
done
