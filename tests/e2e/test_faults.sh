# test_faults.sh - faults lose nothing and bad input breaks nothing: kill -9
# of writers, concurrent writers, a full file system, a killed daemon, a
# damaged database or a wrong key at start, and hostile manifests.

integrity() { sqlite3 "$T/store/store.db" "PRAGMA integrity_check"; }

# mem_limit KIB: a shell prefix bounding memory; an ASan build reserves
# terabytes of address space for its shadow, so it runs unbounded
mem_limit() {
	case "$BIN" in
	*/asan) echo "" ;;
	*) echo "ulimit -v $1;" ;;
	esac
}

test_kill_9_during_writes_loses_nothing() {
	new_store
	local i
	for i in $(seq 200); do
		{
			for s in 1 2 3 4 5; do
				printf -- '---\napiVersion: v1\nkind: Secret\nmetadata: {name: s%d}\n' "$s"
				printf 'stringData: {a: "stamp-%d", b: "stamp-%d"}\n' "$i" "$i"
			done
		} >"$T/m.yaml"
		timeout -s KILL "0.00$((RANDOM % 9 + 1))" "$BIN/secretctl" -c "$T/secretfs.ini" apply -f "$T/m.yaml" \
			>/dev/null 2>&1 || true
	done
	expect_eq "integrity" "ok" "$(integrity)"
	# every secret wholly one write: a and b agree, and all five agree
	local stamps
	stamps=$(for s in 1 2 3 4 5; do
		ctl get secret "s$s" -o json 2>/dev/null | python3 -c 'import json,sys,base64
d = json.load(sys.stdin)["data"]
a, b = (base64.b64decode(d[k]).decode() for k in ("a", "b"))
print(a if a == b else "TORN")'
	done | sort -u)
	case "$stamps" in
	"") echo "no write ever finished: acceptable, nothing to check" ;;
	*TORN*) fail "a secret holds two writes: $stamps" ;;
	*$'\n'*) fail "secrets from different writes of one transaction: $stamps" ;;
	esac
	ctl apply -f "$T/m.yaml" >/dev/null || fail "the store is not writable after the kills"
}

test_two_writers_and_the_daemon() {
	new_store
	mount_fs
	local pids=() w
	for w in a b; do
		( for i in $(seq 60); do
			"$BIN/secretctl" -c "$T/secretfs.ini" create secret generic "$w-$i" --from-literal=k="$w$i" \
				>/dev/null 2>>"$T/err-$w" || echo "fail $w-$i" >>"$T/err-$w"
		done ) &
		pids+=($!)
	done
	( for i in $(seq 200); do
		ls "$M/default" >/dev/null
		cat "$M/default/a-1/k" >/dev/null 2>&1 || true # until it exists
	done ) &
	pids+=($!)
	for p in "${pids[@]}"; do wait "$p"; done
	if grep -q . "$T"/err-* 2>/dev/null; then fail "writer errors: $(cat "$T"/err-* | head -5)"; fi
	expect_eq "all written" "120" "$(ctl get secrets -o name | wc -l)"
	expect_eq "served" "b60" "$(cat "$M/default/b-60/k")"
}

test_full_file_system() {
	new_store
	mkdir -p "$T/small"
	mount -t tmpfs -o size=2m tmpfs "$T/small" || fail "cannot mount a small tmpfs"
	cleanup_extra() { umount -l "$T/small"; }
	cat >"$T/secretfs.ini" <<INI
[store]
path = $T/small/store.db
key_file = $T/small/master.key
INI
	ctl init >/dev/null
	ctl create secret generic keep --from-literal=k=kept >/dev/null
	mount_fs
	expect_eq "before" "kept" "$(cat "$M/default/keep/k")"
	head -c 200000 /dev/urandom >"$T/blob"
	local i out=""
	for i in $(seq 40); do
		if ! out=$(ctl create secret generic "fill-$i" --from-file=v="$T/blob" 2>&1); then
			break
		fi
	done
	expect_contains "clean error" "$out" "full"
	expect_eq "integrity" "ok" "$(integrity_at "$T/small/store.db")"
	expect_eq "daemon still serves" "kept" "$(cat "$M/default/keep/k")"
	expect_eq "store still reads" "kept" "$(ctl get secret keep -o jsonpath='{.data.k}' | base64 -d)"
}

integrity_at() { sqlite3 "$1" "PRAGMA integrity_check"; }

test_killed_daemon_gives_enotconn_and_restarts() {
	new_store
	ctl create secret generic s --from-literal=k=v >/dev/null
	mount_fs
	expect_eq "before" "v" "$(cat "$M/default/s/k")"
	kill -9 "$FS_PID"
	wait "$FS_PID" 2>/dev/null || true
	FS_PID=
	expect_errno "reader" "Transport endpoint is not connected" cat "$M/default/s/k"
	fusermount3 -uz "$M"
	mount_fs
	expect_eq "after a restart" "v" "$(cat "$M/default/s/k")"
}

test_damaged_database_or_wrong_key_stops_the_daemon() {
	new_store
	ctl create secret generic s --from-literal=k=v >/dev/null
	mkdir -p "$T/mnt"
	head -c 32 /dev/urandom >"$T/wrong.key"
	chmod 0400 "$T/wrong.key"
	sed "s|^key_file = .*|key_file = $T/wrong.key|" "$T/secretfs.ini" >"$T/wrong.ini"
	local rc=0
	"$BIN/secretfs" -c "$T/wrong.ini" -f "$T/mnt" 2>"$T/err" || rc=$?
	expect_eq "wrong key: exit status" "3" "$rc"
	expect_contains "wrong key: message" "$(cat "$T/err")" "wrong key file?"
	mountpoint -q "$T/mnt" && fail "mounted with a wrong key"
	# damage a page of the database
	sqlite3 "$T/store/store.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	head -c 4096 /dev/urandom | dd of="$T/store/store.db" bs=4096 seek=3 conv=notrunc 2>/dev/null
	rc=0
	"$BIN/secretfs" -c "$T/secretfs.ini" -f "$T/mnt" 2>"$T/err" || rc=$?
	expect_eq "damaged: exit status" "4" "$rc"
	expect_contains "damaged: message" "$(cat "$T/err")" "malformed"
	mountpoint -q "$T/mnt" && fail "mounted a damaged store"
	return 0
}

test_hostile_manifests_are_refused_quickly() {
	new_store
	local start rev
	rev=$(revision)
	# a billion laughs: aliases share, they are not copied
	{
		echo 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
		for l in b c d e f g h i j; do
			prev=$(printf '%s' "$l" | tr 'b-j' 'a-i')
			echo "$l: &$l [*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev]"
		done
		echo 'kind: Secret'
		echo 'apiVersion: v1'
		echo 'metadata: {name: bomb, labels: *j}'
	} >"$T/bomb.yaml"
	start=${EPOCHREALTIME/./}
	expect_errno "alias bomb" "metadata.labels: Invalid value: must be a map of strings" \
		sh -c "$(mem_limit 1000000) '$BIN/secretctl' -c '$T/secretfs.ini' apply -f '$T/bomb.yaml'"
	python3 -c 'print("a: " + "[" * 100000 + "]" * 100000)' >"$T/deep.yaml"
	expect_errno "deep nesting" "nesting deeper than 256" ctl apply -f "$T/deep.yaml"
	truncate -s 300M "$T/huge.yaml"
	expect_errno "a huge file" "larger than 256 MiB" \
		sh -c "$(mem_limit 2000000) '$BIN/secretctl' -c '$T/secretfs.ini' apply -f '$T/huge.yaml'"
	rm -f "$T/huge.yaml"
	python3 - "$T/big64.yaml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("apiVersion: v1\nkind: Secret\nmetadata: {name: big}\ndata:\n  k: ")
    f.write("QUFB" * (100 * 1024 * 1024 // 4))
    f.write("\n")
PY
	expect_errno "100 MiB of base64" "data: Too long: must have at most 1048576 bytes" \
		sh -c "$(mem_limit 2000000) '$BIN/secretctl' -c '$T/secretfs.ini' apply -f '$T/big64.yaml'"
	rm -f "$T/big64.yaml"
	head -c 1048577 /dev/zero | base64 -w0 | sed 's/^/apiVersion: v1\nkind: Secret\nmetadata: {name: over}\ndata: {k: /; s/$/}/' >"$T/over.yaml"
	expect_errno "one byte over 1 MiB" "data: Too long" ctl apply -f "$T/over.yaml"
	local ms=$(( (${EPOCHREALTIME/./} - start) / 1000 ))
	echo "all refused in $ms ms"
	[ "$ms" -lt 30000 ] || fail "refusing took $ms ms"
	expect_eq "store unchanged" "$rev" "$(revision)"
}
