# test_keys.sh - rotating the data key while readers read.

test_rotate_key_while_reading() {
	new_store
	"$BIN/test/populate" "$T/secretfs.ini" 2000 20 || fail "populate failed"
	mount_fs
	expect_eq "one key" "1 active 2000" "$(ctl get keys | awk 'NR == 2 {print $1, $2, $3}')"
	python3 - "$M" "$T/stop" >"$T/reader.json" 2>"$T/reader.err" <<'PY' &
import json, os, sys
base, stop = sys.argv[1], sys.argv[2]
res = {"reads": 0, "errors": 0}
while not os.path.exists(stop):
    for i in range(0, 2000, 97):
        p = os.path.join(base, "ns-%04d" % (i % 20), "s-%d" % i, "value")
        try:
            with open(p, "rb") as f:
                v = f.read()
            if len(v) != 1024 or not v.startswith(str(i).encode()):
                raise ValueError("wrong bytes")
            res["reads"] += 1
        except Exception as e:
            res["errors"] += 1
            sys.stderr.write("%s: %s\n" % (p, e))
print(json.dumps(res))
PY
	local rpid=$!
	sleep 0.3
	expect_contains "rotate" "$(ctl rotate-key)" "data key 2 is active; 2000 secrets re-sealed"
	sleep 0.3
	touch "$T/stop"
	wait "$rpid" || fail "reader failed"
	python3 - "$T/reader.json" <<'PY' || fail "readers saw errors: $(cat "$T/reader.json") $(head -3 "$T/reader.err")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["errors"] == 0 and r["reads"] > 100, r
PY
	expect_eq "ring" "1 retiring 0
2 active 2000" "$(ctl get keys | awk 'NR > 1 {print $1, $2, $3}')"
	expect_errno "active key stays" "data key 2 is the active key" ctl delete key 2
	expect_eq "retire" "data key 1 deleted" "$(ctl delete key 1)"
	# what is at rest now opens only under key 2, also for the running daemon
	expect_eq "daemon reads after retirement" "1024" "$(wc -c <"$M/ns-0003/s-3/value")"
	sqlite3 "$T/store/store.db" "SELECT count(*) FROM secrets WHERE key_id != 2" | grep -qx 0 ||
		fail "secrets still under another key"
	ctl create secret generic after --from-literal=k=v >/dev/null
	expect_eq "new secret under key 2" "2" \
		"$(sqlite3 "$T/store/store.db" "SELECT key_id FROM secrets WHERE name = 'after'")"
	expect_eq "still readable" "v" "$(cat "$M/default/after/k")"
}

test_rekey() {
	new_store
	ctl create secret generic s --from-literal=k=v >/dev/null
	mount_fs
	cp "$T/store/master.key" "$T/old.key"
	expect_contains "rekey" "$(ctl rekey)" "master key replaced"
	expect_eq "mode" "400" "$(stat -c %a "$T/store/master.key")"
	cmp -s "$T/old.key" "$T/store/master.key" && fail "the key file did not change"
	expect_eq "reads with the new key" "v" "$(ctl get secret s -o jsonpath='{.data.k}' | base64 -d)"
	sed "s|^key_file = .*|key_file = $T/old.key|" "$T/secretfs.ini" >"$T/old.ini"
	expect_errno "the old key is useless" "wrong key file?" "$BIN/secretctl" -c "$T/old.ini" get secrets
	# the running daemon reads on, and learns the new master key when it must
	expect_eq "daemon, old secret" "v" "$(cat "$M/default/s/k")"
	ctl rotate-key >/dev/null
	ctl create secret generic t --from-literal=k=w >/dev/null
	expect_eq "daemon, new data key" "w" "$(cat "$M/default/t/k")"
	# an interrupted rekey (committed, key file not yet replaced) finishes on the next open
	cp "$T/store/master.key" "$T/new.key"
	ctl rekey >/dev/null
	mv "$T/store/master.key" "$T/store/master.key.new"
	cp "$T/new.key" "$T/store/master.key" # the previous key back in place
	expect_eq "recovered" "w" "$(ctl get secret t -o jsonpath='{.data.k}' | base64 -d)"
	[ -e "$T/store/master.key.new" ] && fail "the recovery left master.key.new"
	cmp -s "$T/new.key" "$T/store/master.key" && fail "the recovery kept the old key"
	return 0
}

test_passphrase() {
	new_store
	ctl create secret generic s --from-literal=k=v >/dev/null
	expect_contains "to a passphrase" \
		"$(ctl rekey --to-passphrase --new-passphrase-fd 3 3<<<'correct horse battery')" \
		"the store now opens with its passphrase"
	expect_errno "needs it" "is locked with a passphrase" ctl get secrets </dev/null
	expect_errno "wrong one" "wrong passphrase" ctl --passphrase-fd 3 get secrets 3<<<'wrong horse battery'
	expect_eq "right one" "v" "$(ctl --passphrase-fd 3 get secret s -o jsonpath='{.data.k}' 3<<<'correct horse battery' | base64 -d)"
	expect_errno "too short" "at least 8 characters" \
		ctl --passphrase-fd 3 rekey --to-passphrase --new-passphrase-fd 4 3<<<'correct horse battery' 4<<<'short'
	# the daemon takes it from a descriptor too, and it never is in argv
	M=$T/mnt
	mkdir -p "$M"
	"$BIN/secretfs" -c "$T/secretfs.ini" -f --passphrase-fd 3 "$M" 2>"$T/fs.log" 3<<<'correct horse battery' &
	FS_PID=$!
	eventually 5 'mountpoint -q "$M"' || fail "not mounted: $(cat "$T/fs.log")"
	expect_eq "daemon" "v" "$(cat "$M/default/s/k")"
	grep -q "horse" /proc/"$FS_PID"/cmdline && fail "the passphrase is in argv"
	unmount_fs
	# and back to a key file
	expect_contains "back" "$(ctl --passphrase-fd 3 rekey 3<<<'correct horse battery')" "master key replaced"
	expect_eq "key file again" "v" "$(ctl get secret s -o jsonpath='{.data.k}' | base64 -d)"
}

# A FIFO where a key, password or config file belongs is refused at once:
# opening one for reading would wait for a writer forever.  'timeout' turns
# a hang into a failure instead of a stuck suite.
test_fifo_key_password_and_config_files_are_refused() {
	new_store
	mv "$T/store/master.key" "$T/real.key"
	mkfifo -m 0400 "$T/store/master.key"
	local out rc=0
	out=$(timeout 5 "$BIN/secretctl" -c "$T/secretfs.ini" get secrets 2>&1) || rc=$?
	[ $rc = 124 ] && fail "secretctl hung on a FIFO as the key file"
	[ $rc = 0 ] && fail "secretctl used a FIFO as the key file"
	expect_contains "secretctl" "$out" "key file '$T/store/master.key' is not a regular file"
	mkdir -p "$T/mnt"
	rc=0
	out=$(timeout 5 "$BIN/secretfs" -c "$T/secretfs.ini" -f "$T/mnt" 2>&1) || rc=$?
	[ $rc = 124 ] && fail "secretfs hung on a FIFO as the key file"
	expect_contains "secretfs" "$out" "is not a regular file"
	mountpoint -q "$T/mnt" && fail "secretfs mounted with a FIFO as the key file"
	rm "$T/store/master.key"
	mv "$T/real.key" "$T/store/master.key"
	# the configuration itself
	mkfifo -m 0644 "$T/fifo.ini"
	rc=0
	out=$(timeout 5 "$BIN/secretctl" -c "$T/fifo.ini" get secrets 2>&1) || rc=$?
	[ $rc = 124 ] && fail "secretctl hung on a FIFO as the config file"
	expect_contains "config" "$out" "config file '$T/fifo.ini' is not a regular file"
	# the etcd password file (read before any connection is tried)
	mkfifo -m 0600 "$T/pw"
	cp "$T/secretfs.ini" "$T/cluster.ini"
	printf '[cluster]\nendpoints = https://127.0.0.1:1\nusername = u\npassword_file = %s/pw\n' "$T" \
		>>"$T/cluster.ini"
	rc=0
	out=$(timeout 5 "$BIN/secretctl" -c "$T/cluster.ini" get secrets 2>&1) || rc=$?
	[ $rc = 124 ] && fail "secretctl hung on a FIFO as the password file"
	expect_contains "password file" "$out" "password_file '$T/pw' is not a regular file"
	# and the TLS files curl would open, blocking, itself
	cp "$T/secretfs.ini" "$T/cluster.ini"
	printf '[cluster]\nendpoints = https://127.0.0.1:1\ncacert = %s/pw\n' "$T" >>"$T/cluster.ini"
	rc=0
	out=$(timeout 5 "$BIN/secretctl" -c "$T/cluster.ini" get secrets 2>&1) || rc=$?
	[ $rc = 124 ] && fail "secretctl hung on a FIFO as the etcd CA file"
	expect_contains "CA file" "$out" "cacert '$T/pw' is not a regular file"
}
