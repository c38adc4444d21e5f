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
