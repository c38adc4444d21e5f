#!/usr/bin/env bash
# run.sh - 'make bench': measure secretfs against a tmpfs baseline in the
# same run, print one table and write tests/bench/results.json.
#
# Every time is a median over several rounds; every read speed is also a
# ratio to tmpfs measured in this run (the machines are shared and noisy:
# absolute times drift, same-run ratios hold).  Needs root and /dev/fuse.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$here/../../bin}
ROUNDS=${ROUNDS:-7}
OPS=${OPS:-5000}
W=$(mktemp -d /tmp/secretfs-bench.XXXXXX)
RESULTS=$here/results.json
declare -A R   # name -> figure

cleanup() {
	for m in $(awk -v w="$W" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r); do
		fusermount3 -u "$m" 2>/dev/null || umount -l "$m"
	done
	rm -rf "$W"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "bench: run as root (FUSE mounts, tmpfs)" >&2; exit 1; }

# new_store DIR: a store and config in DIR
new_store() {
	mkdir -p "$1"
	cat >"$1/secretfs.ini" <<INI
[store]
path = $1/store.db
key_file = $1/master.key
[audit]
path = $1/audit.log
[view app]
secret = bench/*
[view audited]
secret = bench/*
audit = on
match = cgroup:/*
INI
	chmod 0644 "$1/secretfs.ini"
	"$BIN/secretctl" -c "$1/secretfs.ini" init >/dev/null
}

# wait_mount DIR...: until every DIR is a mount point
wait_mount() {
	for _ in $(seq 400); do
		local ok=1
		for d in "$@"; do mountpoint -q "$d" || ok=0; done
		[ $ok = 1 ] && return 0
		sleep 0.025
	done
	echo "bench: mount did not come up: $*" >&2
	exit 1
}

median_cmd() { # median_cmd ROUNDS COMMAND...: median wall time (us) of COMMAND
	local r=$1 t=()
	shift
	for _ in $(seq "$r"); do
		local s=${EPOCHREALTIME/./}
		"$@" >/dev/null
		t+=($(( ${EPOCHREALTIME/./} - s )))
	done
	printf '%s\n' "${t[@]}" | sort -n | sed -n "$(( (r + 1) / 2 ))p"
}

cat_loop() { # cat_loop FILE N: N whole cat processes
	for _ in $(seq "$2"); do cat "$1"; done
}

echo "== read path (1 KiB secret; open + read + close)"
S=$W/read
new_store "$S"
ctl="$BIN/secretctl -c $S/secretfs.ini"
$ctl create namespace bench >/dev/null
head -c 1024 /dev/urandom >"$W/value"
$ctl create secret generic db -n bench --from-file=password="$W/value" >/dev/null
mkdir -p "$W/tmpfs" "$W/full" "$W/views" "$W/shared"
mount -t tmpfs -o size=1m tmpfs "$W/tmpfs"
mkdir -p "$W/tmpfs/bench/db"
cp "$W/value" "$W/tmpfs/bench/db/password"
"$BIN/secretfs" -c "$S/secretfs.ini" "$W/full"
"$BIN/secretfs" -c "$S/secretfs.ini" --views "$W/views"
"$BIN/secretfs" -c "$S/secretfs.ini" --per-caller "$W/shared"
wait_mount "$W/full" "$W/views/app" "$W/views/audited" "$W/shared"
for f in "$W/full" "$W/views/app" "$W/views/audited" "$W/shared"; do
	cmp -s "$W/value" "$f/bench/db/password" || { echo "bench: $f serves wrong bytes" >&2; exit 1; }
done
rl() { "$BIN/test/readloop" -r "$ROUNDS" -n "$OPS" "$@"; }
R[read_tmpfs_ns]=$(rl "$W/tmpfs/bench/db/password")
R[read_full_ns]=$(rl "$W/full/bench/db/password")
R[read_view_ns]=$(rl "$W/views/app/bench/db/password")
R[read_view_audit_ns]=$(rl -n $((OPS / 5)) "$W/views/audited/bench/db/password")
R[read_per_caller_ns]=$(rl -n $((OPS / 5)) "$W/shared/bench/db/password")
R[read_tmpfs_2readers_ns]=$(rl -t 2 "$W/tmpfs/bench/db/password")
R[read_view_2readers_ns]=$(rl -t 2 "$W/views/app/bench/db/password")
R[cat_tmpfs_us]=$(( $(median_cmd 5 cat_loop "$W/tmpfs/bench/db/password" 200) / 200 ))
R[cat_view_us]=$(( $(median_cmd 5 cat_loop "$W/views/app/bench/db/password" 200) / 200 ))
for m in "$W/full" "$W/views/app" "$W/views/audited" "$W/shared"; do fusermount3 -u "$m"; done

echo "== commit-to-visible latency (200 updates)"
for n in 1 1000 100000; do
	S=$W/lat-$n
	new_store "$S"
	"$BIN/test/populate" "$S/secretfs.ini" $((n - 1)) 1000 || exit 1
	"$BIN/secretctl" -c "$S/secretfs.ini" create namespace bench >/dev/null
	"$BIN/secretctl" -c "$S/secretfs.ini" create secret generic live -n bench --from-literal=v=start >/dev/null
	mkdir -p "$S/mnt"
	start=${EPOCHREALTIME/./}
	"$BIN/secretfs" -c "$S/secretfs.ini" "$S/mnt"
	wait_mount "$S/mnt"
	R[mount_ready_ms_$n]=$(( (${EPOCHREALTIME/./} - start) / 1000 ))
	cat "$S/mnt/bench/live/v" >/dev/null
	json=$("$BIN/test/latency" "$S/secretfs.ini" bench live "$S/mnt/bench/live/v" 200)
	R[latency_p50_us_$n]=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["p50_us"])')
	R[latency_p99_us_$n]=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["p99_us"])')
	pid=$(pgrep -f "secretfs -c $S/secretfs.ini" | head -1)
	R[rss_kib_$n]=$(awk '/VmRSS/ {print $2}' /proc/"$pid"/status)
	if [ "$n" -ge 1000 ]; then
		# first and repeated read of one secret among n
		f="$S/mnt/ns-0007/s-7/value"
		s=${EPOCHREALTIME/./}; cat "$f" >/dev/null; R[first_read_us_$n]=$(( ${EPOCHREALTIME/./} - s ))
		R[repeat_read_ns_$n]=$(rl "$f")
	fi
	fusermount3 -u "$S/mnt"
done

python3 - "$RESULTS" <<PY
import json, sys
r = {$(for k in "${!R[@]}"; do printf '"%s": %s, ' "$k" "${R[$k]}"; done)}
t = r["read_tmpfs_ns"]
rows = [
    ("open+read+close, tmpfs (baseline)", r["read_tmpfs_ns"] / 1000, 1.0),
    ("open+read+close, full mount", r["read_full_ns"] / 1000, r["read_full_ns"] / t),
    ("open+read+close, per-view mount", r["read_view_ns"] / 1000, r["read_view_ns"] / t),
    ("open+read+close, per-view, audit = on", r["read_view_audit_ns"] / 1000, r["read_view_audit_ns"] / t),
    ("open+read+close, per-caller mount", r["read_per_caller_ns"] / 1000, r["read_per_caller_ns"] / t),
    ("2 readers at once, tmpfs", r["read_tmpfs_2readers_ns"] / 1000, r["read_tmpfs_2readers_ns"] / t),
    ("2 readers at once, per-view mount", r["read_view_2readers_ns"] / 1000,
     r["read_view_2readers_ns"] / r["read_tmpfs_2readers_ns"]),
    ("whole cat process, tmpfs", r["cat_tmpfs_us"], 1.0),
    ("whole cat process, per-view mount", r["cat_view_us"], r["cat_view_us"] / r["cat_tmpfs_us"]),
]
print()
print("%-44s %12s %8s" % ("measure", "us (median)", "x tmpfs"))
for name, us, ratio in rows:
    print("%-44s %12.1f %8.2f" % (name, us, ratio))
print()
print("%-10s %12s %12s %12s %10s %12s %14s" % ("secrets", "mount ms", "p50 us", "p99 us",
      "RSS MiB", "1st read us", "repeat read us"))
for n in (1, 1000, 100000):
    print("%-10d %12d %12d %12d %10.1f %12s %14s" % (
        n, r["mount_ready_ms_%d" % n], r["latency_p50_us_%d" % n], r["latency_p99_us_%d" % n],
        r["rss_kib_%d" % n] / 1024,
        r.get("first_read_us_%d" % n, "-"),
        "%.1f" % (r["repeat_read_ns_%d" % n] / 1000) if "repeat_read_ns_%d" % n in r else "-"))
json.dump(r, open(sys.argv[1], "w"), indent=2, sort_keys=True)
print("\nfigures written to", sys.argv[1])
PY
