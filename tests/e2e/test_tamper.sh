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

# sid NAME: the row id of secret NAME in default
sid() { echo "(SELECT id FROM secrets WHERE name = '$1')"; }

# The metadata the mount and the rules act on, changed in the file: each
# secret then fails as a tampered value does (EIO, the log, an event) and
# secretctl refuses it, whether the daemon had read it before or not.
# Cases: NAME and the SQL that tampers with it.
META_CASES=(
	"m-short|UPDATE items SET size = 4 WHERE secret_id = $(sid m-short)"
	"m-long|UPDATE items SET size = size + 10 WHERE secret_id = $(sid m-long)"
	"m-mutable|UPDATE secrets SET immutable = 0 WHERE name = 'm-mutable'"
	"m-type|UPDATE secrets SET type = 'example.com/other' WHERE name = 'm-type'"
	"m-expired|UPDATE secrets SET expires = 1 WHERE name = 'm-expired'"
	"m-label-add|INSERT INTO pairs VALUES ($(sid m-label-add), 0, 'injected', 'yes')"
	"m-label-set|UPDATE pairs SET value = 'prod' WHERE kind = 0 AND secret_id = $(sid m-label-set)"
	"m-label-del|DELETE FROM pairs WHERE kind = 0 AND secret_id = $(sid m-label-del)"
	"m-ann-set|UPDATE pairs SET value = 'other' WHERE kind = 1 AND secret_id = $(sid m-ann-set)"
	"m-pair-moved|UPDATE pairs SET secret_id = $(sid m-pair-moved) WHERE kind = 0 AND secret_id = $(sid m-donor)"
	"m-key-gone|DELETE FROM items WHERE key = 'j' AND secret_id = $(sid m-key-gone)"
	"m-untagged|UPDATE secrets SET meta_tag = NULL WHERE name = 'm-untagged'"
)

meta_store() {
	local c name
	new_store
	for c in "${META_CASES[@]}"; do
		name=${c%%|*}
		ctl create secret generic "$name" --from-literal=k="meta-canary-$name" --from-literal=j=2 \
			$([ "$name" = m-mutable ] && echo --immutable) >/dev/null
		ctl label secret "$name" tier=test >/dev/null
		ctl annotate secret "$name" note=n >/dev/null
	done
	ctl create secret generic m-donor --from-literal=k=donor >/dev/null
	ctl label secret m-donor stolen=yes >/dev/null
	ctl create secret generic bystander --from-literal=k=still-readable >/dev/null
}

# meta_expect_failed: every case fails closed, the others still read
meta_expect_failed() {
	local c name out
	for c in "${META_CASES[@]}"; do
		name=${c%%|*}
		out=$(cat "$M/default/$name/k" 2>&1) && fail "$name: read succeeded: $out"
		expect_contains "$name: EIO" "$out" "Input/output error"
		expect_contains "$name: log" "$(cat "$T/fs.log")" "secret \"$name\" in namespace \"default\""
		expect_errno "$name: secretctl get" "failed authentication" ctl get secret "$name" -o json
	done
	# an expiry written into the file hides nothing: the secret is listed
	expect_contains "expired still listed" "$(ls "$M/default")" "m-expired"
	expect_eq "bystander" "still-readable" "$(cat "$M/default/bystander/k")"
	out=$(ctl get events)
	for c in "${META_CASES[@]}"; do
		expect_contains "${c%%|*}: event" "$out" "AuthenticationFailed   secret/${c%%|*}"
	done
	case "$out" in *meta-canary*) fail "an event holds a value" ;; esac
	# the rules act on nothing unauthenticated: no update of the one made
	# mutable, and a selector does not pick the injected label
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: m-mutable}\nstringData: {k: changed}\n' >"$T/m.yaml"
	expect_errno "immutable holds" "failed authentication" ctl apply -f "$T/m.yaml"
	expect_errno "selector" "failed authentication" ctl get secrets -l injected=yes
	grep -q "meta-canary" "$T/fs.log" && fail "the log holds a value"
	return 0
}

test_metadata_tampering_fails_closed() {
	local c
	meta_store
	for c in "${META_CASES[@]}"; do
		sqlite3 "$T/store/store.db" "${c#*|}"
	done
	expect_eq "integrity of the file itself" "ok" "$(sql 'PRAGMA integrity_check')"
	mount_fs
	meta_expect_failed
}

# The same with the daemon running and every secret read once before: what
# it remembers of a verified secret does not outlive a change to the file.
test_metadata_tampering_under_a_running_mount() {
	local c name
	meta_store
	mount_fs
	for c in "${META_CASES[@]}"; do
		name=${c%%|*}
		expect_eq "$name: before" "meta-canary-$name" "$(cat "$M/default/$name/k")"
		stat "$M/default/$name/j" >/dev/null
	done
	for c in "${META_CASES[@]}"; do
		sqlite3 "$T/store/store.db" "${c#*|}"
	done
	meta_expect_failed
}

# A store written before metadata tags (schema 3, by the previous version:
# tests/e2e/data/store-v3.sql and its key) gets them when secretctl first
# opens it with the key, once: its key ring is wrapped again in the format
# that says so, and a tag missing after that is a failure, not a cue.
test_store_from_before_tags_is_tagged_once() {
	local d
	d=$(dirname "${BASH_SOURCE[0]}")/data
	mkdir -p "$T/store"
	sqlite3 "$T/store/store.db" <"$d/store-v3.sql"
	python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex(open(sys.argv[1]).read()))" \
		"$d/store-v3.key.hex" >"$T/store/master.key"
	chmod 0400 "$T/store/master.key"
	printf '[store]\npath = %s/store/store.db\nkey_file = %s/store/master.key\n' "$T" "$T" >"$T/secretfs.ini"
	expect_eq "before" "1" "$(sql "SELECT count(*) FROM keyring WHERE substr(wrapped, 1, 1) = X'01'")"
	expect_eq "upgraded and read" "b2xkLXZhbHVl" "$(ctl get secret old -o 'jsonpath={.data.k}')"
	expect_eq "labels kept" "web" "$(ctl get secret old -o 'jsonpath={.metadata.labels.tier}')"
	expect_eq "every secret tagged" "0" "$(sql 'SELECT count(*) FROM secrets WHERE length(meta_tag) IS NOT 32')"
	expect_eq "ring rewrapped" "0" "$(sql "SELECT count(*) FROM keyring WHERE substr(wrapped, 1, 1) != X'02'")"
	mount_fs
	expect_eq "mounted" "old-value" "$(cat "$M/default/old/k")"
	unmount_fs
	# later: no re-tagging, whoever opens it
	sql "UPDATE secrets SET meta_tag = NULL, immutable = 0 WHERE name = 'frozen'"
	expect_errno "untagged later" "failed authentication" ctl get secret frozen
	expect_errno "still" "failed authentication" ctl get secret frozen
	expect_eq "the other" "b2xkLXZhbHVl" "$(ctl get secret old -o 'jsonpath={.data.k}')"
}
