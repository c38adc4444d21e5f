#!/bin/bash
# reload_latency.sh [BIN]: time from SIGHUP to the mount of a view added by
# a views.d drop-in file (secretfs --views), then to a key granted anew to
# a view changed in place being readable (and revoked: gone), N runs each
# (default 5)
set -e
BIN=${1:-$PWD/bin}; T=$(mktemp -d)
cat >"$T/secretfs.ini" <<INI
[store]
path = $T/store.db
key_file = $T/master.key
[view keep]
secret = default/k
[view grow]
item = default/k/v
INI
chmod 0644 "$T/secretfs.ini"
"$BIN/secretctl" -c "$T/secretfs.ini" init >/dev/null
"$BIN/secretctl" -c "$T/secretfs.ini" create secret generic k --from-literal=v=1 --from-literal=w=2 >/dev/null
mkdir -p "$T/views" "$T/views.d"
"$BIN/secretfs" -c "$T/secretfs.ini" -f --views "$T/views" 2>"$T/log" & pid=$!
while ! mountpoint -q "$T/views/keep"; do sleep 0.01; done
for i in $(seq ${N:-5}); do
	printf '[view new%s]\nsecret = default/k\n' $i >"$T/views.d/n$i.ini"
	t0=$(date +%s%N); kill -HUP $pid
	while ! mountpoint -q "$T/views/new$i"; do sleep 0.001; done
	echo "run $i: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
done
cat "$T/views/grow/default/k/v" >/dev/null
for i in $(seq ${N:-5}); do
	sed -i 's|^item = default/k/v$|item = default/k/v\nitem = default/k/w|' "$T/secretfs.ini"
	t0=$(date +%s%N); kill -HUP $pid
	while ! cat "$T/views/grow/default/k/w" >/dev/null 2>&1; do sleep 0.001; done
	t1=$(date +%s%N)
	sed -i '/^item = default\/k\/w$/d' "$T/secretfs.ini"
	t2=$(date +%s%N); kill -HUP $pid
	while [ -e "$T/views/grow/default/k/w" ]; do sleep 0.001; done
	echo "in place $i: granted $(( (t1 - t0) / 1000000 )) ms, revoked $(( ($(date +%s%N) - t2) / 1000000 )) ms"
done
kill $pid; wait $pid; rm -rf "$T"
