#!/usr/bin/env bash
# run.sh - 'make bench': measure secretfs against a tmpfs baseline in the
# same run, print one table and write tests/bench/results.json.
#
# Every time is a median over several rounds; every read speed is also a
# ratio to tmpfs measured in this run, on a tree of the same shape (the
# machines are shared and noisy: absolute times drift, same-run ratios
# hold).  Needs root and /dev/fuse; valgrind for the instruction counts.
#
#   ROUNDS=7 OPS=5000 SCALE="1000 10000 100000" tests/bench/run.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$here/../../bin}
ROUNDS=${ROUNDS:-7}
OPS=${OPS:-5000}
SCALE=${SCALE:-1000 10000 100000}
API_OPS=${API_OPS:-2000}         # GETs per figure (the API server)
API_CREATES=${API_CREATES:-200} # creates
API_ROUNDS=${API_ROUNDS:-20}    # watch fan-out rounds (100 watchers each)
W=$(mktemp -d /tmp/secretfs-bench.XXXXXX)
RESULTS=${RESULTS:-$here/results.json}
declare -A R   # figure name -> number

cleanup() {
	[ -n "${api_pid:-}" ] && kill "$api_pid" 2>/dev/null
	for m in $(awk -v w="$W" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r); do
		fusermount3 -u "$m" 2>/dev/null || umount -l "$m"
	done
	for p in "$W"/etcd/*.pid; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	sleep 0.5
	rm -rf "$W"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "bench: run as root (FUSE mounts, tmpfs)" >&2; exit 1; }

# new_store DIR: a store, its config and views in DIR
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
[view kube]
secret = bench/*
layout = kubelet
[view audited]
secret = bench/*
audit = on
match = cgroup:/
[view direct]
secret = bench/*
direct_io = on
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

now_us() { echo "${EPOCHREALTIME/./}"; }

median_us() { # median_us ROUNDS COMMAND...: median wall time of COMMAND
	local r=$1 t=() s
	shift
	for _ in $(seq "$r"); do
		s=$(now_us)
		"$@" >/dev/null
		t+=($(( $(now_us) - s )))
	done
	printf '%s\n' "${t[@]}" | sort -n | sed -n "$(( (r + 1) / 2 ))p"
}

cat_loop() { for _ in $(seq "$2"); do cat "$1"; done; }
ls_loop() { for _ in $(seq "$2"); do ls "$1"; done; }
rl() { "$BIN/test/readloop" -r "$ROUNDS" "$@"; }

echo "== read path: 1 KiB secret, open + read + close in a C loop"
S=$W/read
new_store "$S"
ctl="$BIN/secretctl -c $S/secretfs.ini"
$ctl create namespace bench >/dev/null
head -c 1024 /dev/urandom >"$W/value"
$ctl create secret generic db -n bench --from-file=password="$W/value" >/dev/null
# eight more, for readers of distinct secrets at once
for i in 1 2 3 4 5 6 7 8; do
	$ctl create secret generic "db$i" -n bench --from-file=password="$W/value" >/dev/null
done
V=$W/v # every tree sits at the same depth: V/NAME/bench/db/password
mkdir -p "$V/tmpfs" "$V/shared"
mount -t tmpfs -o size=4m tmpfs "$V/tmpfs"
# the kubelet's own shape on tmpfs: ..data -> ..rev, password -> ..data/password
mkdir -p "$V/tmpfs/bench/db" "$V/tmpfs/bench/kdb/..rev-1"
cp "$W/value" "$V/tmpfs/bench/db/password"
cp "$W/value" "$V/tmpfs/bench/kdb/..rev-1/password"
ln -s ..rev-1 "$V/tmpfs/bench/kdb/..data"
ln -s ..data/password "$V/tmpfs/bench/kdb/password"
"$BIN/secretfs" -c "$S/secretfs.ini" --views "$V"
"$BIN/secretfs" -c "$S/secretfs.ini" --per-caller "$V/shared"
wait_mount "$V/app" "$V/kube" "$V/audited" "$V/direct" "$V/shared"
for f in app audited shared kube; do
	cmp -s "$W/value" "$V/$f/bench/db/password" || { echo "bench: $f serves wrong bytes" >&2; exit 1; }
done
R[read_tmpfs_ns]=$(rl -n "$OPS" -C "$V/tmpfs/bench/db" password)
R[read_tmpfs_3_ns]=$(rl -n "$OPS" -C "$V/tmpfs" bench/db/password)
R[read_tmpfs_kubelet_ns]=$(rl -n "$OPS" -C "$V/tmpfs/bench/kdb" password)
R[read_tmpfs_kubelet_3_ns]=$(rl -n "$OPS" -C "$V/tmpfs" bench/kdb/password)
R[read_view_ns]=$(rl -n "$OPS" -C "$V/app/bench/db" password)
R[read_view_3_ns]=$(rl -n "$OPS" -C "$V/app" bench/db/password)
R[read_view_kubelet_ns]=$(rl -n "$OPS" -C "$V/kube/bench/db" password)
R[read_view_kubelet_3_ns]=$(rl -n "$OPS" -C "$V/kube" bench/db/password)
# the floor: one generation's file opened directly, without the symlinks
R[read_tmpfs_gen_ns]=$(rl -n "$OPS" -C "$V/tmpfs/bench/kdb/..rev-1" password)
R[read_view_gen_ns]=$(rl -n "$OPS" -C "$V/kube/bench/db/$(readlink "$V/kube/bench/db/..data")" password)
R[read_view_audit_ns]=$(rl -n $((OPS / 5)) -C "$V/audited/bench/db" password)
R[read_view_direct_ns]=$(rl -n $((OPS / 5)) -C "$V/direct/bench/db" password)
R[read_per_caller_ns]=$(rl -n $((OPS / 2)) -C "$V/shared/bench/db" password)
R[read_per_caller_3_ns]=$(rl -n $((OPS / 2)) -C "$V/shared" bench/db/password)
R[read_tmpfs_2readers_ns]=$(rl -n "$OPS" -t 2 -C "$V/tmpfs/bench/db" password)
R[read_view_2readers_ns]=$(rl -n "$OPS" -t 2 -C "$V/app/bench/db" password)
R[read_tmpfs_kubelet_2readers_ns]=$(rl -n "$OPS" -t 2 -C "$V/tmpfs/bench/kdb" password)
R[read_view_kubelet_2readers_ns]=$(rl -n "$OPS" -t 2 -C "$V/kube/bench/db" password)
# 1, 2 and 8 readers at once, each of its own secret, on the plain layout:
# ops/s of them all, and the ratio to one reader (the daemon's lock shows
# here: a ratio near 1 means the readers queue behind each other)
for t in 1 2 8; do
	ns=$(rl -n $((OPS / 2)) -t "$t" -C "$V/app/bench" db1/password db2/password db3/password \
		db4/password db5/password db6/password db7/password db8/password)
	R[distinct_${t}readers_ops]=$(( t * 1000000000 / ns ))
done
R[cat_tmpfs_us]=$(( $(median_us 5 cat_loop "$V/tmpfs/bench/db/password" 200) / 200 ))
R[cat_view_us]=$(( $(median_us 5 cat_loop "$V/app/bench/db/password" 200) / 200 ))
R[cat_view_kubelet_us]=$(( $(median_us 5 cat_loop "$V/kube/bench/db/password" 200) / 200 ))
for m in app kube audited direct shared; do fusermount3 -u "$V/$m"; done

echo "== secretctl"
create_one() { $ctl create secret generic "c-$(now_us)" -n bench --from-literal=k=v; }
R[secretctl_create_us]=$(median_us 15 create_one)
R[secretctl_get_us]=$(median_us 15 $ctl get secret db -n bench -o json)

echo "== secretctl apply -f of 10,000 secrets (one file)"
S=$W/apply
new_store "$S"
python3 - "$W/10k.yaml" <<'PY'
import base64, sys
with open(sys.argv[1], "w") as f:
    for i in range(10000):
        v = base64.b64encode(("value-%d-" % i).encode() + b"x" * 200).decode()
        f.write("---\napiVersion: v1\nkind: Secret\nmetadata: {name: s-%d, labels: {app: bench}}\n"
                "data: {password: %s, username: %s}\n" % (i, v, base64.b64encode(b"admin").decode()))
PY
s=$(now_us)
"$BIN/secretctl" -c "$S/secretfs.ini" apply -f "$W/10k.yaml" >/dev/null
R[apply_10000_ms]=$(( ($(now_us) - s) / 1000 ))
[ "$("$BIN/secretctl" -c "$S/secretfs.ini" get secrets -o name | wc -l)" = 10000 ] ||
	{ echo "bench: apply did not create 10,000 secrets" >&2; exit 1; }
s=$(now_us)
"$BIN/secretctl" -c "$S/secretfs.ini" apply -f "$W/10k.yaml" >/dev/null
R[apply_10000_unchanged_ms]=$(( ($(now_us) - s) / 1000 ))

echo "== secretfs-apiserver on that store: GET, LIST, create, watch fan-out (libcurl, TLS)"
# the apiserver's own figures, each on a kept-alive TLS connection; GET's
# baseline is /healthz on the same kind of connection (TLS, HTTP parsing,
# MHD's threads: all but the authentication and the store)
api_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'benchtoken,bench,1,system:masters\n' >"$S/tokens.csv"
chmod 0600 "$S/tokens.csv"
printf '[api]\nlisten = 127.0.0.1:%s\ntoken_file = %s\n' "$api_port" "$S/tokens.csv" >>"$S/secretfs.ini"
"$BIN/secretctl" -c "$S/secretfs.ini" create namespace fan >/dev/null
"$BIN/secretctl" -c "$S/secretfs.ini" create namespace made >/dev/null
"$BIN/secretctl" -c "$S/secretfs.ini" create namespace start >/dev/null
# the watchers' start: 1,000 secrets of the same shape in namespace start
head -n $((5 * 1000)) "$W/10k.yaml" | sed 's/metadata: {name:/metadata: {namespace: start, name:/' >"$W/1k.yaml"
"$BIN/secretctl" -c "$S/secretfs.ini" apply -f "$W/1k.yaml" >/dev/null
"$BIN/secretfs-apiserver" -c "$S/secretfs.ini" -f 2>"$W/api.log" &
api_pid=$!
api="https://127.0.0.1:$api_port"
for _ in $(seq 200); do
	curl -sk "$api/healthz" >/dev/null 2>&1 && break
	sleep 0.05
done
sleep 0.5
R[api_rss_idle_kib]=$(awk '/VmRSS/ {print $2}' /proc/"$api_pid"/status)
load() { "$BIN/test/apiload" -t benchtoken -c "$S/pki/ca.crt" "$@"; }
fig() { echo "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }
j=$(load get "$api/healthz" "$API_OPS")
R[api_healthz_p50_us]=$(fig "$j" p50_us); R[api_healthz_p99_us]=$(fig "$j" p99_us)
j=$(load get "$api/api/v1/namespaces/default/secrets/s-1" "$API_OPS")
R[api_get_p50_us]=$(fig "$j" p50_us); R[api_get_p99_us]=$(fig "$j" p99_us)
j=$(load create "$api/api/v1/namespaces/made/secrets" "$API_CREATES" c)
R[api_create_p50_us]=$(fig "$j" p50_us); R[api_create_p99_us]=$(fig "$j" p99_us)
j=$(load watch "$api/api/v1/namespaces/fan/secrets" 100 "$API_ROUNDS" "$api_pid")
R[api_watch_p50_us]=$(fig "$j" p50_us); R[api_watch_p99_us]=$(fig "$j" p99_us)
R[api_watch_each_p99_us]=$(fig "$j" each_p99_us); R[api_watch_create_p50_us]=$(fig "$j" create_p50_us)
R[api_rss_load_kib]=$(fig "$j" rss_kib)
# the LISTs and the watchers' start last, each followed by the peak RSS
# so far (VmHWM): the server streams them, one secret in memory at a time
# per request (README: the bound is 32 MiB)
j=$(load list "$api/api/v1/namespaces/default/secrets" 3)
R[api_list_10000_us]=$(fig "$j" median_us); R[api_list_10000_bytes]=$(fig "$j" bytes)
R[api_rss_peak_list_kib]=$(awk '/VmHWM/ {print $2}' /proc/"$api_pid"/status)
j=$(load -T list "$api/api/v1/namespaces/default/secrets" 3)
R[api_list_table_10000_us]=$(fig "$j" median_us)
R[api_rss_peak_table_kib]=$(awk '/VmHWM/ {print $2}' /proc/"$api_pid"/status)
j=$(load start "$api/api/v1/namespaces/start/secrets" 100 1000 "$api_pid")
R[api_start_100x1000_us]=$(fig "$j" all_us)
R[api_rss_peak_kib]=$(fig "$j" hwm_kib)
kill -TERM "$api_pid"
wait "$api_pid" || { echo "bench: secretfs-apiserver failed: $(tail -3 "$W/api.log")" >&2; exit 1; }
api_pid=

echo "== one secret with as many labels as the 1.5 MiB object limit allows"
S=$W/labels
new_store "$S"
"$BIN/secretctl" -c "$S/secretfs.ini" create namespace bench >/dev/null
# 196,000 labels of 8 bytes ("k123456" = "v"): 1,568,000 bytes, in no order
python3 - "$W/labels.json" <<'PY'
import json, random, sys
keys = ["k%06d" % i for i in range(196000)]
random.Random(1).shuffle(keys)
json.dump({"apiVersion": "v1", "kind": "Secret",
           "metadata": {"name": "many", "namespace": "bench", "labels": {k: "v" for k in keys}},
           "stringData": {"k": "v"}}, open(sys.argv[1], "w"))
PY
ms_of() { local s; s=$(now_us); "$@" >/dev/null; echo $(( ($(now_us) - s) / 1000 )); }
R[labels_apply_ms]=$(ms_of "$BIN/secretctl" -c "$S/secretfs.ini" create -f "$W/labels.json")
R[labels_get_ms]=$(ms_of "$BIN/secretctl" -c "$S/secretfs.ini" get secrets -n bench)
R[labels_get_json_ms]=$(ms_of "$BIN/secretctl" -c "$S/secretfs.ini" get secrets -n bench -o json)

echo "== commit-to-visible latency (200 updates) and scale"
for n in 1 $SCALE; do
	S=$W/scale-$n
	new_store "$S"
	if [ "$n" -gt 1 ]; then
		"$BIN/test/populate" "$S/secretfs.ini" "$n" 1000 || exit 1
	fi
	if [ "$n" = 100000 ]; then
		# and one namespace holding 10,000 secrets, to list
		"$BIN/test/populate" "$S/secretfs.ini" 10000 1 wide || exit 1
	fi
	"$BIN/secretctl" -c "$S/secretfs.ini" create namespace bench >/dev/null
	"$BIN/secretctl" -c "$S/secretfs.ini" create secret generic live -n bench --from-literal=v=start >/dev/null
	mkdir -p "$S/mnt"
	start=$(now_us)
	"$BIN/secretfs" -c "$S/secretfs.ini" "$S/mnt"
	wait_mount "$S/mnt"
	R[mount_ready_ms_$n]=$(( ($(now_us) - start) / 1000 ))
	cat "$S/mnt/bench/live/v" >/dev/null
	json=$("$BIN/test/latency" "$S/secretfs.ini" bench live "$S/mnt/bench/live/v" 200)
	R[latency_p50_us_$n]=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["p50_us"])')
	R[latency_p99_us_$n]=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["p99_us"])')
	if [ "$n" -gt 1 ]; then
		# first and repeated read of one secret among n
		f=$S/mnt/ns-0007/s-7/value
		s=$(now_us); cat "$f" >/dev/null; R[first_read_us_$n]=$(( $(now_us) - s ))
		R[repeat_read_ns_$n]=$(rl -n "$OPS" -C "$S/mnt/ns-0007/s-7" value)
	fi
	if [ -d "$S/mnt/wide-0000" ]; then
		R[ls_10000_first_ms]=$(( $(median_us 1 ls "$S/mnt/wide-0000") / 1000 ))
		R[ls_10000_ms]=$(( $(median_us 5 ls "$S/mnt/wide-0000") / 1000 ))
		[ "$(ls "$S/mnt/wide-0000" | wc -l)" = 10000 ] || { echo "bench: ls lists the wrong count" >&2; exit 1; }
	fi
	pid=$(pgrep -f "secretfs -c $S/secretfs.ini" | head -1)
	R[rss_kib_$n]=$(awk '/VmRSS/ {print $2}' /proc/"$pid"/status)
	fusermount3 -u "$S/mnt"
done

echo "== cluster: commit on node A -> visible through node B's mount (3-member etcd on loopback)"
if command -v etcd >/dev/null; then
	mkdir -p "$W/etcd"
	peers=m1=http://127.0.0.1:23811,m2=http://127.0.0.1:23812,m3=http://127.0.0.1:23813
	for i in 1 2 3; do
		etcd --name "m$i" --data-dir "$W/etcd/m$i" --listen-client-urls "http://127.0.0.1:2380$((i + 4))" \
			--advertise-client-urls "http://127.0.0.1:2380$((i + 4))" \
			--listen-peer-urls "http://127.0.0.1:2381$i" --initial-advertise-peer-urls "http://127.0.0.1:2381$i" \
			--initial-cluster "$peers" --initial-cluster-state new >"$W/etcd/m$i.log" 2>&1 &
		echo $! >"$W/etcd/m$i.pid"
	done
	for n in a b; do
		mkdir -p "$W/node-$n/mnt"
		printf '[store]\npath = %s/store.db\nkey_file = %s/master.key\n[cluster]\nendpoints = %s\n' \
			"$W/node-$n" "$W/node-$n" http://127.0.0.1:23805,http://127.0.0.1:23806,http://127.0.0.1:23807 \
			>"$W/node-$n/secretfs.ini"
		chmod 0644 "$W/node-$n/secretfs.ini"
		[ "$n" = b ] && install -m 0400 "$W/node-a/master.key" "$W/node-b/master.key"
		for _ in $(seq 100); do
			"$BIN/secretctl" -c "$W/node-$n/secretfs.ini" init >/dev/null 2>&1 && break
			rm -f "$W/node-$n/store.db"*
			sleep 0.1
		done
		"$BIN/secretfs" -c "$W/node-$n/secretfs.ini" "$W/node-$n/mnt"
	done
	wait_mount "$W/node-a/mnt" "$W/node-b/mnt"
	"$BIN/secretctl" -c "$W/node-a/secretfs.ini" create secret generic live --from-literal=v=start >/dev/null
	json=$("$BIN/test/latency" "$W/node-a/secretfs.ini" default live "$W/node-b/mnt/default/live/v" 200)
	R[cluster_p50_us]=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["p50_us"])')
	R[cluster_p99_us]=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["p99_us"])')
	s=$(now_us)
	"$BIN/secretctl" -c "$W/node-a/secretfs.ini" apply -f "$W/10k.yaml" >/dev/null
	R[cluster_apply_10000_ms]=$(( ($(now_us) - s) / 1000 ))
	eventually_count() { # until node B serves N secrets in default, or 30 s
		for _ in $(seq 300); do
			[ "$(ls "$W/node-b/mnt/default" | wc -l)" -ge "$1" ] && return 0
			sleep 0.1
		done
		return 1
	}
	eventually_count 10001 || { echo "bench: node B did not get the 10,000 secrets" >&2; exit 1; }
	fusermount3 -u "$W/node-a/mnt"
	fusermount3 -u "$W/node-b/mnt"
else
	echo "bench: etcd is missing (make deps installs etcd-server): no cluster figures" >&2
fi

echo "== instructions per uncached read (callgrind)"
if command -v valgrind >/dev/null; then
	S=$W/read
	cg() { # cg N: the daemon's total instructions for N opens of the plain view
		local out=$W/cg.$1
		mkdir -p "$W/cgmnt"
		valgrind --tool=callgrind --callgrind-out-file="$out" \
			"$BIN/secretfs" -c "$S/secretfs.ini" -f --view app "$W/cgmnt" 2>/dev/null &
		local vp=$!
		wait_mount "$W/cgmnt"
		"$BIN/test/readloop" -r 1 -n "$1" -C "$W/cgmnt/bench/db" password >/dev/null
		fusermount3 -u "$W/cgmnt"
		wait "$vp" || true
		callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
	}
	a=$(cg 100)
	b=$(cg 600)
	R[instructions_per_uncached_open]=$(( (b - a) / 500 ))
fi

python3 - "$RESULTS" <<PY
import json, sys
r = {$(for k in "${!R[@]}"; do printf '"%s": %s, ' "$k" "${R[$k]}"; done)}
t, t3, tk = r["read_tmpfs_ns"], r["read_tmpfs_3_ns"], r["read_tmpfs_kubelet_ns"]
tg = r["read_tmpfs_gen_ns"]
rows = [
    ("tmpfs, key from its folder (baseline)", t, t),
    ("tmpfs, 3-level path", t3, t3),
    ("tmpfs, kubelet's symlinked shape", tk, tk),
    ("tmpfs, kubelet's shape, 3-level path", r["read_tmpfs_kubelet_3_ns"], r["read_tmpfs_kubelet_3_ns"]),
    ("tmpfs, kubelet's shape, ..rev-N/KEY directly", tg, tg),
    ("per-view mount, plain layout", r["read_view_ns"], t),
    ("per-view mount, plain, 3-level path", r["read_view_3_ns"], t3),
    ("per-view mount, kubelet layout", r["read_view_kubelet_ns"], tk),
    ("per-view mount, kubelet layout, 3-level path", r["read_view_kubelet_3_ns"], r["read_tmpfs_kubelet_3_ns"]),
    ("per-view kubelet, ..rev-N/KEY directly", r["read_view_gen_ns"], tg),
    ("per-view mount, audit = on", r["read_view_audit_ns"], t),
    ("per-view mount, direct_io = on", r["read_view_direct_ns"], t),
    ("per-caller shared mount (audits every open)", r["read_per_caller_ns"], t),
    ("per-caller shared mount, 3-level path", r["read_per_caller_3_ns"], t3),
    ("2 readers at once, tmpfs", r["read_tmpfs_2readers_ns"], r["read_tmpfs_2readers_ns"]),
    ("2 readers at once, per-view plain", r["read_view_2readers_ns"], r["read_tmpfs_2readers_ns"]),
    ("2 readers at once, tmpfs, kubelet's shape", r["read_tmpfs_kubelet_2readers_ns"], r["read_tmpfs_kubelet_2readers_ns"]),
    ("2 readers at once, per-view kubelet", r["read_view_kubelet_2readers_ns"], r["read_tmpfs_kubelet_2readers_ns"]),
]
print()
print("%-46s %10s %8s" % ("open + read + close of a 1 KiB secret", "us", "x tmpfs"))
for name, ns, base in rows:
    print("%-46s %10.1f %8.2f" % (name, ns / 1000, ns / base))
print()
print("%-46s %10s %8s" % ("readers of distinct secrets, per-view plain", "ops/s", "x 1"))
for t in (1, 2, 8):
    ops = r["distinct_%dreaders_ops" % t]
    print("%-46s %10d %8.2f" % ("%d reader%s at once" % (t, "s" if t > 1 else ""), ops,
                                 ops / r["distinct_1readers_ops"]))
print()
print("%-46s %10s %8s" % ("whole processes", "us", "x tmpfs"))
for name, key in (("cat, tmpfs", "cat_tmpfs_us"), ("cat, per-view plain", "cat_view_us"),
                  ("cat, per-view kubelet", "cat_view_kubelet_us")):
    print("%-46s %10d %8.2f" % (name, r[key], r[key] / r["cat_tmpfs_us"]))
print("%-46s %10d" % ("secretctl create secret generic (one)", r["secretctl_create_us"]))
print("%-46s %10d" % ("secretctl get secret -o json (one)", r["secretctl_get_us"]))
print("%-46s %10d" % ("secretctl apply -f, 10,000 new secrets (ms)", r["apply_10000_ms"]))
print("%-46s %10d" % ("secretctl apply -f, the same again (ms)", r["apply_10000_unchanged_ms"]))
print("%-46s %10d" % ("create -f, one secret, 196,000 labels (ms)", r["labels_apply_ms"]))
print("%-46s %10d" % ("get secrets -n NS of it (ms)", r["labels_get_ms"]))
print("%-46s %10d" % ("get secrets -n NS -o json of it (ms)", r["labels_get_json_ms"]))
if "api_get_p99_us" in r:
    print()
    print("%-46s %10s %8s" % ("secretfs-apiserver, kept-alive TLS (libcurl)", "us", "x base"))
    hz50, hz99 = r["api_healthz_p50_us"], r["api_healthz_p99_us"]
    for name, v, base in (("GET /healthz p50 (baseline)", hz50, hz50),
                          ("GET /healthz p99 (baseline)", hz99, hz99),
                          ("GET one secret p50", r["api_get_p50_us"], hz50),
                          ("GET one secret p99 (target 5 ms)", r["api_get_p99_us"], hz99),
                          ("create p50", r["api_create_p50_us"], hz50),
                          ("create p99", r["api_create_p99_us"], hz99),
                          ("LIST of 10,000 secrets", r["api_list_10000_us"], hz50),
                          ("LIST of 10,000 secrets, Table", r["api_list_table_10000_us"], hz50)):
        print("%-46s %10d %8.1f" % (name, v, v / base))
    print("%-46s %10d" % ("LIST of 10,000 secrets, bytes", r["api_list_10000_bytes"]))
    print("%-46s %10d" % ("watch fan-out to 100, until all have it, p50", r["api_watch_p50_us"]))
    print("%-46s %10d" % ("  p99 (target 20 ms)", r["api_watch_p99_us"]))
    print("%-46s %10d" % ("  each watcher's p99", r["api_watch_each_p99_us"]))
    print("%-46s %10d" % ("  the create alone, p50", r["api_watch_create_p50_us"]))
    print("%-46s %10.1f" % ("RSS idle, MiB (target 32)", r["api_rss_idle_kib"] / 1024))
    print("%-46s %10.1f" % ("RSS, 100 watchers, MiB", r["api_rss_load_kib"] / 1024))
    print("%-46s %10d" % ("100 watchers start, 1,000 ADDED each (ms)", r["api_start_100x1000_us"] / 1000))
    print("%-46s %10.1f" % ("RSS peak after LIST of 10,000, MiB", r["api_rss_peak_list_kib"] / 1024))
    print("%-46s %10.1f" % ("  after LIST of 10,000 as a Table, MiB", r["api_rss_peak_table_kib"] / 1024))
    print("%-46s %10.1f" % ("  after 100 watchers' start (target 32)", r["api_rss_peak_kib"] / 1024))
print()
sizes = [1] + [int(x) for x in "$SCALE".split()]
print("%-9s %9s %8s %8s %8s %11s %13s" % ("secrets", "mount ms", "RSS MiB", "p50 us", "p99 us",
      "1st read us", "repeat read us"))
for n in sizes:
    rep = r.get("repeat_read_ns_%d" % n)
    print("%-9d %9d %8.1f %8d %8d %11s %13s" % (
        n, r["mount_ready_ms_%d" % n], r["rss_kib_%d" % n] / 1024,
        r["latency_p50_us_%d" % n], r["latency_p99_us_%d" % n],
        r.get("first_read_us_%d" % n, "-"), "%.1f" % (rep / 1000) if rep else "-"))
if "ls_10000_ms" in r:
    print("\nls of a namespace holding 10,000 secrets: %d ms (first), %d ms (repeated)" %
          (r["ls_10000_first_ms"], r["ls_10000_ms"]))
if "cluster_p50_us" in r:
    print("cluster, write on node A (etcd commit included) -> visible on node B: p50 %.1f ms, p99 %.1f ms" %
          (r["cluster_p50_us"] / 1000, r["cluster_p99_us"] / 1000))
    print("cluster, secretctl apply -f of 10,000 secrets through etcd: %d ms" % r["cluster_apply_10000_ms"])
if "instructions_per_uncached_open" in r:
    print("daemon instructions per uncached open + read + close (callgrind): %d" %
          r["instructions_per_uncached_open"])
json.dump(r, open(sys.argv[1], "w"), indent=2, sort_keys=True)
print("\nfigures written to", sys.argv[1])
PY
