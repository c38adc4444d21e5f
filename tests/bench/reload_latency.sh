#!/bin/bash
# reload_latency.sh [BIN]: time from SIGHUP to the mount of a view added by
# a views.d drop-in file (secretfs --views), N runs (default 5)
set -e
BIN=${1:-$PWD/bin}; T=$(mktemp -d)
cat >"$T/secretfs.ini" <<INI
[store]
path = $T/store.db
key_file = $T/master.key
[view keep]
secret = default/k
INI
chmod 0644 "$T/secretfs.ini"
"$BIN/secretctl" -c "$T/secretfs.ini" init >/dev/null
"$BIN/secretctl" -c "$T/secretfs.ini" create secret generic k --from-literal=v=1 >/dev/null
mkdir -p "$T/views" "$T/views.d"
"$BIN/secretfs" -c "$T/secretfs.ini" -f --views "$T/views" 2>"$T/log" & pid=$!
while ! mountpoint -q "$T/views/keep"; do sleep 0.01; done
for i in $(seq ${N:-5}); do
	printf '[view new%s]\nsecret = default/k\n' $i >"$T/views.d/n$i.ini"
	t0=$(date +%s%N); kill -HUP $pid
	while ! mountpoint -q "$T/views/new$i"; do sleep 0.001; done
	echo "run $i: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
done
kill $pid; wait $pid; rm -rf "$T"
