# test_tamper.sh - tampering with a real store through the sqlite3 shell
# fails closed: the reader gets EIO, not one byte of plaintext, the log and
# an event name the secret, and every other secret stays readable.

sql() { sqlite3 "$T/store/store.db" "$1"; }

# flip SECRET POS: change the byte at POS (1-based SQL expression) of its blobs
flip() {
	sql "UPDATE items SET blob = substr(blob, 1, ($2) - 1) ||
		CASE WHEN substr(blob, $2, 1) = X'00' THEN X'01' ELSE X'00' END ||
		substr(blob, ($2) + 1) WHERE secret_id = (SELECT id FROM secrets WHERE name = '$1')"
}

test_tampering_fails_closed() {
	new_store
	local c
	for c in nonce cipher tag moved keyswap unknownkey truncated oversized; do
		ctl create secret generic "v-$c" --from-literal=k="canary-$c-0123456789" >/dev/null
	done
	ctl create secret generic bystander --from-literal=k=still-readable >/dev/null
	ctl create secret generic donor --from-literal=k=donor-value >/dev/null
	# the key swap needs a second data key: v-keyswap is re-sealed under key 2
	ctl rotate-key >/dev/null
	# generation 1 of v-rollback's key a, kept aside, then generation 2
	"$BIN/test/stamp" "$T/secretfs.ini" default v-rollback 1
	sql "CREATE TABLE saved AS SELECT i.blob FROM items i JOIN secrets s ON s.id = i.secret_id
		WHERE s.name = 'v-rollback' AND i.key = 'a'"
	"$BIN/test/stamp" "$T/secretfs.ini" default v-rollback 2

	flip v-nonce 2
	flip v-cipher 30
	flip v-tag "length(blob)"
	sql "UPDATE items SET blob = (SELECT i.blob FROM items i JOIN secrets s ON s.id = i.secret_id
		WHERE s.name = 'donor') WHERE secret_id = (SELECT id FROM secrets WHERE name = 'v-moved')"
	sql "UPDATE secrets SET key_id = 1 WHERE name = 'v-keyswap'"
	sql "UPDATE items SET blob = (SELECT blob FROM saved)
		WHERE key = 'a' AND secret_id = (SELECT id FROM secrets WHERE name = 'v-rollback')"
	sql "UPDATE secrets SET key_id = 99 WHERE name = 'v-unknownkey'"
	sql "UPDATE items SET blob = substr(blob, 1, 10) WHERE secret_id = (SELECT id FROM secrets WHERE name = 'v-truncated')"
	sql "UPDATE items SET blob = blob || zeroblob(100) WHERE secret_id = (SELECT id FROM secrets WHERE name = 'v-oversized')"
	expect_eq "integrity of the file itself" "ok" "$(sql 'PRAGMA integrity_check')"

	mount_fs
	for c in nonce cipher tag moved keyswap unknownkey truncated oversized; do
		local out
		out=$(cat "$M/default/v-$c/k" 2>&1) && fail "$c: read succeeded: $out"
		expect_contains "$c: EIO" "$out" "Input/output error"
		case "$out" in *canary*|*donor-value*) fail "$c: plaintext served: $out" ;; esac
		expect_contains "$c: log" "$(cat "$T/fs.log")" "secret \"v-$c\" in namespace \"default\""
	done
	local out
	out=$(cat "$M/default/v-rollback/a" 2>&1) && fail "rollback: read succeeded: $out"
	expect_contains "rollback: EIO" "$out" "Input/output error"
	expect_contains "rollback: the other keys still read" "$(head -c 12 "$M/default/v-rollback/b")" "gen=2 key=b"
	expect_eq "bystander" "still-readable" "$(cat "$M/default/bystander/k")"
	expect_eq "donor" "donor-value" "$(cat "$M/default/donor/k")"
	# an event names each secret
	out=$(ctl get events)
	for c in nonce cipher tag moved keyswap unknownkey truncated oversized rollback; do
		expect_contains "$c: event" "$out" "AuthenticationFailed   secret/v-$c"
	done
	case "$out" in *canary*) fail "an event holds a value" ;; esac
	# secretctl refuses to show them too
	expect_errno "secretctl" "failed authentication" ctl get secret v-cipher -o json
}

# a canary value, raw, base64 and hex: nowhere at rest, in logs, in /tmp,
# or in a core dump after the daemon crashes
test_canary_sweep() {
	new_store
	local canary=CANARY-sweep-4f1c9e2b7a b64 hex f hits=0
	b64=$(printf '%s' "$canary" | base64)
	hex=$(printf '%s' "$canary" | od -An -tx1 | tr -d ' \n')
	printf '[audit]\npath = %s/audit.log\n[view v]\nsecret = default/*\naudit = on\n' "$T" >>"$T/secretfs.ini"
	ctl create secret generic c --from-literal=k="$canary" >/dev/null
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: m}\nstringData: {k: %s}\n' "$canary" |
		ctl apply -f - >/dev/null
	EDITOR=true ctl edit secret c >/dev/null
	ctl exec --from c -- true
	M=$T/mnt
	mkdir -p "$M"
	# the daemon's working folder is where a core file would land (core_pattern
	# is a plain name here); run it from a folder of ours
	mkdir -p "$T/cwd"
	# and allow cores, so that only the daemon's own hardening prevents one
	(cd "$T/cwd" && ulimit -c unlimited && exec "$BIN/secretfs" -c "$T/secretfs.ini" -f --view v "$M" 2>"$T/fs.log") &
	FS_PID=$!
	eventually 5 'mountpoint -q "$M"' || fail "not mounted"
	expect_eq "served" "$canary" "$(cat "$M/default/c/k")"
	local pid
	pid=$(pgrep -f "secretfs -c $T/secretfs.ini -f --view v") || fail "no daemon"
	kill -ABRT "$pid" # a crash that dumps core, and that ASan leaves alone
	wait "$FS_PID" 2>/dev/null || true
	FS_PID=
	fusermount3 -uz "$M" 2>/dev/null || true
	for f in "$T"/store/store.db* "$T"/fs.log "$T"/audit.log $(find /tmp "$T/cwd" /var/lib/systemd/coredump -xdev -type f -newer "$T/secretfs.ini" 2>/dev/null | grep -v "^$T/secretfs.ini$"); do
		[ -f "$f" ] || continue
		case "$f" in "$T"/*.yaml) continue ;; esac
		if grep -qa -e "$canary" -e "$b64" "$f" || od -An -tx1 "$f" | tr -d ' \n' | grep -q "$hex"; then
			echo "found in $f"
			hits=$((hits + 1))
		fi
	done
	expect_eq "hits" "0" "$hits"
	[ -z "$(ls -A "$T/cwd")" ] || fail "the crash left a core file: $(ls "$T/cwd")"
}
