# test_mount.sh - the mounted tree with the real driver: layout, modes,
# byte-exact contents, read-only, missing names, tampered values, updates,
# and unmounting.

test_tree_modes_and_bytes() {
	new_store
	head -c 4096 /dev/urandom >"$T/bin.dat"
	head -c 1048576 /dev/urandom >"$T/mib.dat"
	printf 'no newline' >"$T/plain"
	ctl create namespace prod >/dev/null
	ctl create secret generic db -n prod --from-file=bin="$T/bin.dat" \
		--from-file=.hidden="$T/plain" --from-literal=empty= >/dev/null
	ctl create secret generic big --from-file=value="$T/mib.dat" >/dev/null
	mount_fs
	expect_eq "namespaces" "default prod" "$(ls "$M" | xargs)"
	expect_eq "secrets" "db" "$(ls "$M/prod" | xargs)"
	expect_eq "ls hides dotfiles" "bin empty" "$(ls "$M/prod/db" | xargs)"
	expect_eq "ls -a shows them" ". .. .hidden bin empty" "$(ls -a "$M/prod/db" | xargs)"
	expect_eq "file mode" "-r-------- 1 0 0 4096" \
		"$(ls -ln "$M/prod/db/bin" | awk '{print $1, $2, $3, $4, $5}')"
	expect_eq "dir mode" "dr-x------" "$(ls -ld "$M/prod/db" | awk '{print $1}')"
	cmp "$T/bin.dat" "$M/prod/db/bin" || fail "binary value differs"
	cmp "$T/mib.dat" "$M/default/big/value" || fail "1 MiB value differs"
	expect_eq "dotfile" "no newline" "$(cat "$M/prod/db/.hidden")"
	expect_eq "empty value" "0" "$(stat -c %s "$M/prod/db/empty")"
	expect_eq "find" "$M/prod/db/.hidden $M/prod/db/bin $M/prod/db/empty" \
		"$(find "$M/prod" -type f | sort | xargs)"
	expect_eq "mount is read-only" "ro" \
		"$(awk -v m="$M" '$2 == m {split($4, o, ","); print o[1]}' /proc/mounts)"
}

test_owner_and_mode_from_config() {
	new_store
	printf '[mount]\nuid = 1234\ngid = 5678\nmode = 0440\n' >>"$T/secretfs.ini"
	ctl create secret generic s --from-literal=k=v >/dev/null
	mount_fs
	expect_eq "owner and mode" "-r--r----- 1234 5678" \
		"$(ls -ln "$M/default/s/k" | awk '{print $1, $3, $4}')"
	expect_eq "dir mode" "dr-xr-x--- 1234 5678" \
		"$(ls -lnd "$M/default/s" | awk '{print $1, $3, $4}')"
}

test_writes_get_erofs() {
	new_store
	ctl create secret generic s --from-literal=k=v >/dev/null
	mount_fs
	local f=$M/default/s/k
	expect_errno "write" "Read-only file system" sh -c "echo x >'$f'"
	expect_errno "append" "Read-only file system" sh -c "echo x >>'$f'"
	expect_errno "truncate" "Read-only file system" truncate -s 0 "$f"
	expect_errno "create" "Read-only file system" touch "$M/default/s/new"
	expect_errno "mkdir" "Read-only file system" mkdir "$M/default/newdir"
	expect_errno "rm" "Read-only file system" rm -f "$f"
	expect_errno "rmdir" "Read-only file system" rmdir "$M/default/s"
	expect_errno "mv" "Read-only file system" mv "$f" "$M/default/s/k2"
	expect_errno "chmod" "Read-only file system" chmod 0777 "$f"
	expect_errno "chown" "Read-only file system" chown 1 "$f"
	expect_errno "ln -s" "Read-only file system" ln -s /etc/passwd "$M/default/s/l"
	expect_errno "setfattr" "" python3 -c "import os; os.setxattr('$f', 'user.x', b'1')"
	expect_eq "value intact" "v" "$(cat "$f")"
}

test_missing_names_are_enoent() {
	new_store
	ctl create secret generic s --from-literal=k=v >/dev/null
	mount_fs
	expect_errno "missing ns" "No such file or directory" stat "$M/nope"
	expect_errno "missing secret" "No such file or directory" cat "$M/default/nope/k"
	expect_errno "missing key" "No such file or directory" cat "$M/default/s/nope"
	expect_errno "invalid name" "No such file or directory" stat "$M/Default"
	expect_errno "invalid key" "No such file or directory" stat "$M/default/s/..x"
	expect_errno "too long" "File name too long" stat "$M/default/$(printf 'a%.0s' $(seq 254))"
}

test_tampered_value_gives_eio_and_log() {
	new_store
	ctl create secret generic victim --from-literal=k=tamper-canary-123 >/dev/null
	ctl create secret generic bystander --from-literal=k=still-fine >/dev/null
	sqlite3 "$T/store/store.db" "UPDATE items SET blob = substr(blob, 1, 29) ||
		CASE WHEN substr(blob, 30, 1) = X'00' THEN X'01' ELSE X'00' END || substr(blob, 31)
		WHERE secret_id = (SELECT id FROM secrets WHERE name = 'victim')"
	mount_fs
	expect_errno "tampered read" "Input/output error" cat "$M/default/victim/k"
	expect_eq "others readable" "still-fine" "$(cat "$M/default/bystander/k")"
	expect_contains "log names the secret" "$(cat "$T/fs.log")" \
		'secret "victim" in namespace "default": key "k": value failed authentication'
	if grep -q "tamper-canary" "$T/fs.log"; then fail "log holds the value"; fi
}

# A store read that waits (here: recording the tamper event while another
# process holds the database's write lock) holds up its own reader only:
# the daemon reads and decrypts without one lock over every request
test_a_stalled_read_does_not_hold_up_others() {
	local t0 ms
	new_store
	ctl create secret generic victim --from-literal=k=v >/dev/null
	ctl create secret generic bystander --from-literal=k=still-fine >/dev/null
	sqlite3 "$T/store/store.db" "UPDATE items SET blob = substr(blob, 1, 29) ||
		CASE WHEN substr(blob, 30, 1) = X'00' THEN X'01' ELSE X'00' END || substr(blob, 31)
		WHERE secret_id = (SELECT id FROM secrets WHERE name = 'victim')"
	mount_fs
	expect_eq "bystander" "still-fine" "$(cat "$M/default/bystander/k")"
	python3 - "$T/store/store.db" "$T/locked" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(4)
c.execute("ROLLBACK")
PY
	local locker=$!
	eventually 5 'test -e "$T/locked"' || fail "the write lock was not taken"
	cat "$M/default/victim/k" >"$T/victim.out" 2>&1 &
	local victim=$!
	sleep 1 # the victim's open now waits to record its event
	t0=$(date +%s%N)
	expect_eq "bystander while the victim waits" "still-fine" "$(cat "$M/default/bystander/k")"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ "$ms" -lt 2000 ] || fail "a read of another secret waited ${ms} ms for the stalled one"
	kill -0 "$victim" 2>/dev/null || fail "the victim's read did not wait for the write lock"
	wait "$locker"
	wait "$victim" && fail "the tampered read succeeded"
	expect_contains "tampered read" "$(cat "$T/victim.out")" "Input/output error"
	eventually 5 'ctl get events | grep -q AuthenticationFailed' ||
		fail "no event for the tampered secret"
}

test_updates_become_visible() {
	new_store
	ctl create secret generic s --from-literal=k=old >/dev/null
	mount_fs
	expect_eq "before" "old" "$(cat "$M/default/s/k")"
	# a longer value, so a stale size would show as a cut read
	ctl delete secret s >/dev/null
	ctl create secret generic s --from-literal=k=new-and-longer --from-literal=added=1 >/dev/null
	ctl create secret generic fresh --from-literal=x=y >/dev/null
	ctl create namespace later >/dev/null
	eventually 5 'test "$(cat "$M/default/s/k")" = "new-and-longer"' ||
		fail "update not visible: $(cat "$M/default/s/k")"
	eventually 5 'test -e "$M/default/s/added"' || fail "new key not visible"
	eventually 5 'test "$(cat "$M/default/fresh/x")" = y' || fail "new secret not visible"
	eventually 5 'test -d "$M/later"' || fail "new namespace not visible"
	ctl delete secret fresh >/dev/null
	eventually 5 'test ! -e "$M/default/fresh"' || fail "deleted secret still visible"
}

test_open_handle_keeps_its_generation() {
	new_store
	ctl create secret generic s --from-literal=k=first >/dev/null
	mount_fs
	exec 7<"$M/default/s/k"
	ctl delete secret s >/dev/null
	ctl create secret generic s --from-literal=k=second-value >/dev/null
	expect_eq "open handle" "first" "$(cat <&7)"
	exec 7<&-
	eventually 5 'test "$(cat "$M/default/s/k")" = second-value' || fail "new open is stale"
}

test_daemonizes_once_mounted_and_unmounts_cleanly() {
	new_store
	ctl create secret generic s --from-literal=k=v >/dev/null
	M=$T/mnt
	mkdir -p "$M"
	"$BIN/secretfs" -c "$T/secretfs.ini" "$M" || fail "secretfs failed"
	mountpoint -q "$M" || fail "not mounted when secretfs returned"
	expect_eq "read" "v" "$(cat "$M/default/s/k")"
	local pid
	pid=$(pgrep -f "secretfs -c $T/secretfs.ini") || fail "no daemon running"
	fusermount3 -u "$M"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$pid" 2>/dev/null && fail "daemon still running after unmount"
	mountpoint -q "$M" && fail "still mounted"
	return 0
}

test_sigterm_unmounts_cleanly() {
	new_store
	ctl create secret generic s --from-literal=k=v >/dev/null
	mount_fs
	cat "$M/default/s/k" >/dev/null
	kill -TERM "$FS_PID"
	local rc=0
	wait "$FS_PID" || rc=$?
	FS_PID=
	expect_eq "exit status" "0" "$rc"
	mountpoint -q "$M" && fail "still mounted after SIGTERM"
	expect_contains "log" "$(cat "$T/fs.log")" "stopping on signal 15"
	# and a --views daemon takes every mount down
	cat >>"$T/secretfs.ini" <<INI
[view a]
secret = default/s
[view b]
secret = default/*
INI
	mkdir -p "$T/views"
	start_fs "$T/views/a $T/views/b" --views "$T/views"
	kill -TERM "$FS_PID"
	wait "$FS_PID" || fail "the views daemon exited non-zero"
	FS_PID=
	mountpoint -q "$T/views/a" && fail "view a still mounted"
	mountpoint -q "$T/views/b" && fail "view b still mounted"
	return 0
}

test_bad_store_mounts_nothing() {
	new_store
	chmod 0644 "$T/store/master.key"
	mkdir -p "$T/mnt"
	expect_errno "bad key perms" "accessible by group or others" \
		"$BIN/secretfs" -c "$T/secretfs.ini" -f "$T/mnt"
	mountpoint -q "$T/mnt" && fail "mounted anyway"
	return 0
}

test_known_value_never_at_rest_or_in_logs() {
	new_store
	local canary=CANARY-b7e1f0-do-not-leak
	ctl create secret generic c --from-literal=k="$canary" >/dev/null
	ctl create secret generic d --from-literal=k=other >/dev/null
	mount_fs -d
	expect_eq "served" "$canary" "$(cat "$M/default/c/k")"
	ctl delete secret d >/dev/null
	unmount_fs
	local b64 hex
	b64=$(printf '%s' "$canary" | base64)
	hex=$(printf '%s' "$canary" | od -An -tx1 | tr -d ' \n')
	for f in "$T"/store/store.db* "$T/fs.log"; do
		[ -e "$f" ] || continue
		grep -qa -e "$canary" -e "$b64" "$f" && fail "value found in $f"
		od -An -tx1 "$f" | tr -d ' \n' | grep -q "$hex" && fail "value (hex) found in $f"
	done
	return 0
}

test_direct_io_keeps_plaintext_out_of_the_page_cache() {
	new_store
	printf '[view cached]\nsecret = default/*\n[view direct]\nsecret = default/*\ndirect_io = on\n' >>"$T/secretfs.ini"
	head -c 8192 /dev/urandom >"$T/v"
	ctl create secret generic s --from-file=k="$T/v" >/dev/null
	mkdir -p "$T/views"
	start_fs "$T/views/cached $T/views/direct" --views "$T/views"
	cleanup_extra() { fusermount3 -u "$T/views/cached"; fusermount3 -u "$T/views/direct"; }
	cmp "$T/v" "$T/views/direct/default/s/k" || fail "direct read differs"
	cmp "$T/v" "$T/views/cached/default/s/k" || fail "cached read differs"
	expect_eq "direct: no cached pages" "0" "$(fincore --noheadings --output PAGES "$T/views/direct/default/s/k" | tr -d ' ')"
	[ "$(fincore --noheadings --output PAGES "$T/views/cached/default/s/k" | tr -d ' ')" -gt 0 ] ||
		fail "the cached view cached nothing: the check cannot tell them apart"
}
