# test_updates.sh - updates reach readers at once, never torn, never mixed;
# each strategy; poll() wake-ups; open handles keep their snapshot; a single
# key file bind-mounted into a container stays live.

# views over one secret: the plain layout and the kubelet layout
stamp_store() {
	new_store
	stamp_views "$T/secretfs.ini"
	"$BIN/test/stamp" "$T/secretfs.ini" default s 1 big || fail "stamp failed"
}

mount_stamp_views() {
	mkdir -p "$T/views"
	M=$T/views/kube
	start_fs "$T/views/plain $T/views/kube" --views "$T/views"
	cleanup_extra() { mountpoint -q "$T/views/plain" && fusermount3 -u "$T/views/plain"; return 0; }
}

test_no_torn_values_or_mixed_generations_in_1000_updates() {
	stamp_store
	mount_stamp_views
	local here pids=() i
	here=$(dirname "${BASH_SOURCE[0]}")
	for i in 1 2; do
		python3 "$here/torn_reader.py" plain "$T/views/plain/default/s" "$T/stop" \
			>"$T/plain$i.json" 2>"$T/plain$i.err" &
		pids+=($!)
	done
	for i in 1 2; do
		python3 "$here/torn_reader.py" kubelet "$T/views/kube/default/s" "$T/stop" \
			>"$T/kube$i.json" 2>"$T/kube$i.err" &
		pids+=($!)
	done
	sleep 0.3
	"$BIN/test/stamp" "$T/secretfs.ini" default s 1000 big || fail "writer failed"
	sleep 0.3
	touch "$T/stop"
	for p in "${pids[@]}"; do wait "$p" || fail "a reader failed: $(cat "$T"/*.err)"; done
	for f in "$T"/plain?.json "$T"/kube?.json; do
		echo "$(basename "$f"): $(cat "$f")"
		python3 - "$f" <<'PY' || fail "$(basename "$f"): $(cat "$f") $(head -5 "${f%.json}.err")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["reads"] > 100, "too few reads"
assert r["torn"] == 0, "torn values"
assert r["mixed"] == 0, "mixed generations"
assert r["gens"] > 5, "saw too few generations: updates did not reach the reader"
PY
	done
	# and the final state is the last generation, in both layouts, as soon
	# as the watcher has seen the last commit (milliseconds; seconds under a
	# sanitizer on a loaded machine)
	# stamp's first update repeats its first value, so 999 generations followed
	eventually 5 "head -c 20 '$T/views/plain/default/s/a' | grep -q 'gen=1000 key=a'" || true
	eventually 5 "[ \"\$(readlink '$T/views/kube/default/s/..data')\" = ..rev-$(revision) ]" || true
	expect_contains "plain final" "$(head -c 20 "$T/views/plain/default/s/a")" "gen=1000 key=a"
	expect_eq "kubelet final" "..rev-$(revision)" "$(readlink "$T/views/kube/default/s/..data")"
	expect_contains "kubelet key link" "$(cat "$T/views/kube/default/s/big" | head -c 20)" "gen=1000 key=big"
}

test_kubelet_layout_shape() {
	stamp_store
	mount_stamp_views
	local d=$T/views/kube/default/s r1 r2
	r1=$(revision)
	expect_eq "listing" ". .. ..data ..rev-$r1 a b big c" "$(ls -a "$d" | xargs)"
	expect_eq "..data" "..rev-$r1" "$(readlink "$d/..data")"
	expect_eq "key link" "..data/a" "$(readlink "$d/a")"
	expect_eq "generation folder" "a b big c" "$(ls "$d/..rev-$r1" | xargs)"
	expect_eq "file mode" "-r--------" "$(stat -c %A "$d/..rev-$r1/a")"
	expect_contains "through the link" "$(head -c 12 "$d/a")" "gen=1 key=a"
	"$BIN/test/stamp" "$T/secretfs.ini" default s 2 big
	r2=$(revision)
	eventually 5 'test "$(readlink "$d/..data")" = ..rev-$r2' || fail "..data did not move"
	expect_errno "an unknown generation" "No such file or directory" stat "$d/..rev-99999"
	# a generation folder stays whole while someone holds it
	cd "$d/..rev-$r2"
	"$BIN/test/stamp" "$T/secretfs.ini" default s 3 big
	eventually 5 'test "$(readlink "$d/..data")" = ..rev-$(revision)' || fail "..data did not move again"
	expect_contains "held generation still reads" "$(head -c 12 a)" "gen=2 key=a"
	expect_contains "the link reads the new one" "$(head -c 12 "$d/a")" "gen=3 key=a"
	cd /
}

# strategy_case STRATEGY [TTL]: an update becomes visible under it
strategy_case() {
	new_store
	printf '[updates]\nstrategy = %s\n%s' "$1" "${2:+ttl = $2
}" >>"$T/secretfs.ini"
	ctl create secret generic s --from-literal=k=old >/dev/null
	ctl create secret generic frozen --immutable --from-literal=k=ice >/dev/null
	mount_fs
	expect_eq "before" "old" "$(cat "$M/default/s/k")"
	expect_eq "immutable" "ice" "$(cat "$M/default/frozen/k")"
	"$BIN/test/stamp" "$T/secretfs.ini" default s 1
	local start=${EPOCHREALTIME/./}
	eventually "${3:-5}" 'cat "$M/default/s/a" 2>/dev/null | grep -q "^gen=1 key=a"' ||
		fail "$1: update not visible"
	eventually 2 '! test -e "$M/default/s/k"' || fail "$1: removed key still visible"
	echo "$1: visible after $(( (${EPOCHREALTIME/./} - start) / 1000 )) ms"
}

test_strategy_watch() {
	strategy_case watch
	grep -q "no inotify" "$T/fs.log" && fail "watch fell back to polling"
	return 0
}

# The watcher wakes for the database and its WAL, not for whatever else
# shares their folder (an audit log kept there, say).
test_watch_ignores_other_files_in_the_store_folder() {
	new_store
	ctl create secret generic s --from-literal=k=old >/dev/null
	mount_fs
	local switches before after
	# the watcher starts just after the mounts are up
	eventually 5 'grep -l "^secretfs-watch$" /proc/"$FS_PID"/task/*/comm >"$T/watch_task"' ||
		fail "no secretfs-watch thread in the daemon"
	switches=$(dirname "$(head -1 "$T/watch_task")")/status
	before=$(awk '/^voluntary_ctxt_switches/ {print $2}' "$switches")
	python3 - "$T/store/neighbour.log" <<'PY'
import os, sys, time
for i in range(300):  # 300 writes, 3 s: each would be a wake-up
    with open(sys.argv[1], "a") as f:
        f.write("line %d\n" % i)
    time.sleep(0.01)
PY
	after=$(awk '/^voluntary_ctxt_switches/ {print $2}' "$switches")
	# its 1 s timer wakes it about 3 times meanwhile
	[ $((after - before)) -lt 30 ] ||
		fail "the watcher woke $((after - before)) times for 300 writes to a neighbour file"
	# and a commit still wakes it at once
	"$BIN/test/stamp" "$T/secretfs.ini" default s 1
	eventually 1 'cat "$M/default/s/a" 2>/dev/null | grep -q "^gen=1 key=a"' ||
		fail "update not visible within a second"
}

test_strategy_ttl() {
	strategy_case ttl 1 4
}

test_strategy_poll() {
	strategy_case poll
}

test_poll_wakes_on_change_and_not_otherwise() {
	new_store
	ctl create secret generic s --from-literal=k=v1 >/dev/null
	ctl create secret generic other --from-literal=k=x >/dev/null
	mount_fs
	python3 - "$M/default/s/k" "$T" "$BIN" <<'PY' || fail "poll test failed"
import os, select, subprocess, sys, time
path, T, BIN = sys.argv[1:4]
ctl = [BIN + "/secretctl", "-c", T + "/secretfs.ini"]
f = open(path)
assert f.read() == "v1"
p = select.poll()
p.register(f, select.POLLIN | select.POLLPRI)
assert p.poll(300) == [], "woke with nothing changed"
# another secret changing does not wake it
subprocess.run(ctl + ["delete", "secret", "other"], check=True, stdout=subprocess.DEVNULL)
assert p.poll(300) == [], "woke for another secret"
e = select.epoll()
e.register(f.fileno(), select.EPOLLIN | select.EPOLLPRI)
assert e.poll(0.2) == [], "epoll woke with nothing changed"
t0 = time.time()
subprocess.run(ctl + ["delete", "secret", "s"], check=True, stdout=subprocess.DEVNULL)
subprocess.run(ctl + ["create", "secret", "generic", "s", "--from-literal=k=v2"],
               check=True, stdout=subprocess.DEVNULL)
ev = p.poll(5000)
assert ev and ev[0][1] & select.POLLIN, "poll did not wake on change: %r" % ev
assert e.poll(5) != [], "epoll did not wake"
print("poll woke after %.1f ms" % ((time.time() - t0) * 1000))
f.seek(0)
assert f.read() == "v1", "the open handle lost its snapshot"
assert open(path).read() == "v2", "a new open is stale"
PY
}

test_open_handle_on_deleted_secret() {
	new_store
	ctl create secret generic s --from-literal=k=kept-value >/dev/null
	mount_fs
	exec 7<"$M/default/s/k"
	ctl delete secret s >/dev/null
	eventually 5 '! test -e "$M/default/s/k"' || fail "deleted secret still visible"
	expect_eq "snapshot survives deletion" "kept-value" "$(cat <&7)"
	exec 7<&-
	expect_errno "new open" "No such file or directory" cat "$M/default/s/k"
}

test_bind_mounted_key_file_sees_updates_in_container() {
	new_store
	ctl create secret generic s --from-literal=a=old >/dev/null
	mount_fs
	cat "$M/default/s/a" >/dev/null
	container subpath --mount "$M/default/s/a:/etc/app/a" -- sh -c '
		cat /etc/app/a; echo
		i=0
		while [ "$(cat /etc/app/a)" = old ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
		head -c 12 /etc/app/a' >"$T/out" 2>&1 &
	local cpid=$!
	eventually 10 'grep -q old "$T/out"' || fail "container did not start: $(cat "$T/out")"
	"$BIN/test/stamp" "$T/secretfs.ini" default s 1 # one atomic update of key a
	wait "$cpid" || fail "container failed: $(cat "$T/out")"
	expect_eq "single-file bind mount" "old
gen=1 key=a " "$(cat "$T/out")"
}

# Other files in the store's folder keep inotify busy: the watch's look-again
# delay stays bounded (it once doubled without limit: UBSan's overflow, and a
# commit seen only at the next wake-up) and the next change prints at once.
test_secretctl_watch_busy_folder() {
	new_store
	"$BIN/secretctl" -c "$T/secretfs.ini" watch -A >"$T/watch.out" 2>"$T/watch.err" &
	local wpid=$! i
	sleep 0.3
	for i in $(seq 80); do echo "$i" >>"$T/store/busy"; sleep 0.01; done
	ctl create secret generic api --from-literal=t=1 >/dev/null
	eventually 3 'grep -q "ADDED.*secret/api" "$T/watch.out"' ||
		fail "watch missed the change: $(cat "$T/watch.out" "$T/watch.err")"
	kill -0 "$wpid" || fail "the watch died: $(cat "$T/watch.err")"
	kill "$wpid"
}

test_secretctl_watch_prints_changes() {
	new_store
	"$BIN/secretctl" -c "$T/secretfs.ini" watch -A >"$T/watch.out" 2>&1 &
	local wpid=$!
	sleep 0.3
	ctl create namespace team >/dev/null
	ctl create secret generic api -n team --from-literal=t=1 >/dev/null
	"$BIN/test/stamp" "$T/secretfs.ini" team api 1
	ctl delete secret api -n team >/dev/null
	eventually 5 'grep -q DELETED.*secret/api "$T/watch.out"' || fail "watch missed changes: $(cat "$T/watch.out")"
	kill "$wpid"
	local out
	out=$(awk '{print $2, $3, $4, $5}' "$T/watch.out")
	expect_eq "watch lines" "EVENT NAMESPACE OBJECT GENERATION
ADDED team namespace/team -
ADDED team secret/api 1
MODIFIED team secret/api 2
DELETED team secret/api 3" "$out"
	# NAME and -n filter
	"$BIN/secretctl" -c "$T/secretfs.ini" watch api -n team >"$T/w2.out" 2>&1 &
	wpid=$!
	sleep 0.3
	ctl create secret generic api -n team --from-literal=t=2 >/dev/null
	ctl create secret generic other -n team --from-literal=t=2 >/dev/null
	eventually 5 'grep -q "secret/api" "$T/w2.out"' || fail "watch NAME missed it"
	sleep 0.3
	kill "$wpid"
	grep -q other "$T/w2.out" && fail "watch NAME printed another secret"
	return 0
}

test_kubelet_view_is_served_from_the_kernel_cache() {
	stamp_store
	M=$T/kmnt
	mkdir -p "$M"
	"$BIN/secretfs" -c "$T/secretfs.ini" -d --view kube "$M" >"$T/fs.log" 2>&1 &
	FS_PID=$!
	eventually 5 'mountpoint -q "$M"' || fail "not mounted"
	for _ in 1 2 3 4 5 6 7 8; do head -c 12 "$M/default/s/a" >/dev/null; done
	local opens links
	opens=$(grep -c "opcode: OPEN " "$T/fs.log" || true)
	links=$(grep -c "opcode: READLINK" "$T/fs.log" || true)
	[ "$opens" -le 1 ] || fail "$opens opens reached the daemon for 8 reads"
	[ "$links" -le 2 ] || fail "$links readlinks reached the daemon for 8 reads"
	# and an update still shows through the cached ..data link
	"$BIN/test/stamp" "$T/secretfs.ini" default s 2 big
	eventually 5 'head -c 12 "$M/default/s/a" | grep -q "gen=2 key=a"' || fail "update not visible"
}

# A store with secret a (before-backup), backed up to $T/backup.db, then
# changed: a (after-backup) and b; mounted at $M and read.
backed_up_store() {
	new_store
	ctl create secret generic a --from-literal=k=before-backup >/dev/null
	sqlite3 "$T/store/store.db" ".backup '$T/backup.db'"
	ctl delete secret a >/dev/null
	ctl create secret generic a --from-literal=k=after-backup >/dev/null
	ctl create secret generic b --from-literal=k=gone-after-restore >/dev/null
	mount_fs
	expect_eq "before the restore" "after-backup gone-after-restore" \
		"$(cat "$M/default/a/k"; echo -n " "; cat "$M/default/b/k")"
	stat "$M/default/a/k" "$M/default/b" >/dev/null # cached by the kernel
}

# After a restore: the backup's data is served, what came after it is gone,
# a write to the store now at the path shows up, and 'secretctl status'
# says the daemon serves that store, without lag or error.
expect_restored() {
	# (the kernel forgets b a moment after the daemon has reopened)
	eventually 3 '[ "$(cat "$M/default/a/k")" = before-backup ] && [ ! -e "$M/default/b" ]' ||
		fail "$1: the mount still serves [$(cat "$M/default/a/k")] and b: $(ls "$M/default"; cat "$T/fs.log")"
	ctl create secret generic c --from-literal=k=after-restore >/dev/null
	eventually 5 '[ "$(cat "$M/default/c/k")" = after-restore ]' ||
		fail "$1: a secret written to the restored store did not appear: $(cat "$T/fs.log"; ls -li "$T/store")"
	local out
	out=$(ctl status)
	echo "$out" | grep -q "^  $M .* $FS_PID *$(revision) *0\$" ||
		fail "$1: status does not show the daemon at the store's revision: $out"
	case $out in *error*) fail "$1: status shows an error: $out" ;; esac
	grep -q "was replaced ($2" "$T/fs.log" || fail "$1: no log line: $(cat "$T/fs.log")"
}

test_store_replaced_by_rename_is_reopened() {
	backed_up_store
	# readers meanwhile: the old handles are in use while the new file is
	# checked (once, a second SQLite connection to the old -shm reset it
	# under them: SIGBUS)
	local readers=() i
	for i in 1 2; do
		(while [ ! -e "$T/stop" ]; do cat "$M/default/a/k" "$M/default/b/k" >/dev/null 2>&1 || true; done) &
		readers+=($!)
	done
	sleep 0.2
	cp "$T/backup.db" "$T/store/store.db.new"
	mv "$T/store/store.db.new" "$T/store/store.db"
	sleep 0.2
	touch "$T/stop"
	wait "${readers[@]}"
	kill -0 "$FS_PID" || fail "secretfs died: $(cat "$T/fs.log")"
	expect_restored "cp && mv" "another file at its path"
	sqlite3 "$T/store/store.db" "PRAGMA integrity_check" | grep -qx ok || fail "restored store damaged"
}

# Written to while mounted, the store's WAL keeps the commits (the daemon's
# connections keep writers from checkpointing it away); a file renamed over
# the store would get them replayed over it by SQLite.  The daemon refuses
# that loudly, serves the renamed-in file as it is, and takes it up once
# the stale WAL is removed.
test_store_replaced_by_rename_over_a_stale_wal_is_refused() {
	new_store
	ctl create secret generic a --from-literal=k=before-backup >/dev/null
	sqlite3 "$T/store/store.db" ".backup '$T/backup.db'"
	mount_fs
	ctl delete secret a >/dev/null
	ctl create secret generic a --from-literal=k=after-backup >/dev/null
	ctl create secret generic b --from-literal=k=gone-after-restore >/dev/null
	expect_eq "before the restore" "after-backup" "$(cat "$M/default/a/k")"
	[ -s "$T/store/store.db-wal" ] || fail "the WAL is empty: nothing to test"
	cp "$T/backup.db" "$T/store/store.db.new"
	mv "$T/store/store.db.new" "$T/store/store.db"
	eventually 3 'grep -q "the WAL beside it" "$T/fs.log"' || fail "no refusal: $(cat "$T/fs.log")"
	expect_eq "the renamed-in file served as it is" "before-backup" "$(cat "$M/default/a/k")"
	[ -e "$M/default/b" ] && fail "b, from the stale WAL, is served"
	# (not through secretctl: it too would open the file with that WAL,
	# and checkpoint the old commits into it)
	expect_contains "status file" "$(cat "/run/secretfs/status/$FS_PID.json")" \
		"was replaced (another file at its path) but cannot be served: the WAL beside it"
	rm "$T/store/store.db-wal" "$T/store/store.db-shm"
	eventually 5 '! grep -q error "/run/secretfs/status/$FS_PID.json"' || fail "not taken up: $(cat "$T/fs.log")"
	expect_restored "after removing the stale WAL" "its last reopening failed"
	sqlite3 "$T/store/store.db" "PRAGMA integrity_check" | grep -qx ok || fail "restored store damaged"
}

test_store_restored_in_place_is_reopened() {
	backed_up_store
	sqlite3 "$T/store/store.db" ".restore '$T/backup.db'"
	expect_restored ".restore" "its revision went back"
}

# A store the key does not open, renamed over ours: refused loudly, the
# old data still served and the error in 'secretctl status'; a good
# backup renamed over it then is served.
test_store_replaced_by_one_the_key_cannot_open_is_refused() {
	backed_up_store
	mkdir "$T/other"
	cat >"$T/other.ini" <<INI
[store]
path = $T/other/store.db
key_file = $T/other/master.key
INI
	chmod 0644 "$T/other.ini"
	"$BIN/secretctl" -c "$T/other.ini" init >/dev/null
	"$BIN/secretctl" -c "$T/other.ini" create secret generic a --from-literal=k=foreign >/dev/null
	sqlite3 "$T/other/store.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	cp "$T/other/store.db" "$T/store/store.db.new"
	mv "$T/store/store.db.new" "$T/store/store.db"
	eventually 3 'grep -q "cannot be served" "$T/fs.log"' || fail "no error logged: $(cat "$T/fs.log")"
	expect_eq "old data still served" "after-backup" "$(cat "$M/default/a/k")"
	local out
	out=$(ctl --config "$T/secretfs.ini" status 2>&1) || true
	expect_contains "status shows the refusal" "$out" "secretfs $FS_PID: error: store '$T/store/store.db' was replaced (another file at its path) but cannot be served"
	cp "$T/backup.db" "$T/store/store.db.new"
	mv "$T/store/store.db.new" "$T/store/store.db"
	expect_restored "a good backup after a bad one" "another file at its path"
}

# After a restore revisions repeat: "..rev-N" of the kubelet layout (whose
# files the kernel caches for good) may name another generation than the
# one cached before, and must then show it.
test_restored_store_kubelet_layout_shows_repeated_revisions() {
	new_store
	cat >>"$T/secretfs.ini" <<INI
[view kube]
secret = default/*
layout = kubelet
INI
	ctl create secret generic a --from-literal=k=v1 >/dev/null
	sqlite3 "$T/store/store.db" ".backup '$T/backup.db'"
	ctl delete secret a >/dev/null
	ctl create secret generic a --from-literal=k=v2-before-restore >/dev/null
	M=$T/kube
	mkdir -p "$M"
	start_fs "$M" --view kube "$M"
	local rev
	rev=$(readlink "$M/default/a/..data")
	expect_eq "before the restore" "v2-before-restore" "$(cat "$M/default/a/k")"
	sqlite3 "$T/store/store.db" ".restore '$T/backup.db'"
	eventually 3 '[ "$(cat "$M/default/a/k")" = v1 ]' || fail "restored value not served"
	ctl delete secret a >/dev/null
	ctl create secret generic a --from-literal=k=v3-after-restore >/dev/null
	expect_eq "the same revision again" "$rev" "..rev-$(revision)"
	eventually 3 '[ "$(cat "$M/default/a/k")" = v3-after-restore ]' ||
		fail "$rev after the restore shows [$(cat "$M/default/a/k")]"
}

# --- sendfile(): a value that grows or shrinks -----------------------------
# busybox cat copies with sendfile(), which reads through the page cache up
# to the size the kernel holds and never asks for a fresher one (read() past
# it does): a value grown since the kernel took its size was cut to it
# ("keep-1" for "keep-10").

# set_v VALUE: default/k's key v is VALUE
set_v() {
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: k, namespace: default}\nstringData: {v: %s}\n' \
		"$1" >"$T/k.yaml"
	ctl apply -f "$T/k.yaml" >/dev/null || fail "cannot set default/k to $1"
}

# bytes FILE|-: every byte, NULs included, as od shows them
bytes() {
	od -An -c "$1" | tr -s ' \n' ' '
}

# expect_value WHAT VALUE FILE: sendfile() (busybox cat, first) and read()
# (dd) both get exactly VALUE: not cut, no stale or NUL-padded tail
expect_value() {
	local want
	command -v busybox >/dev/null || fail "busybox is missing (make deps installs busybox-static)"
	want=$(printf %s "$2" | bytes -)
	expect_eq "$1, sendfile" "$want" "$(busybox cat "$3" | bytes -)"
	expect_eq "$1, read" "$want" "$(dd if="$3" bs=64k status=none | bytes -)"
}

# Under ttl the kernel keeps the old size for the whole ttl, by design: the
# open of a grown value gives the kernel its size first, through the path
# and through a bind mount of the file alone (no lookup on its way).
test_sendfile_gets_a_grown_or_shrunk_value_whole_under_ttl() {
	new_store
	printf '[updates]\nstrategy = ttl\nttl = 60\n' >>"$T/secretfs.ini"
	ctl create secret generic k --from-literal=v=keep-9 >/dev/null
	mount_fs
	local f=$M/default/k/v
	expect_value "before" keep-9 "$f"
	set_v keep-10
	expect_value "grown" keep-10 "$f"
	set_v keep-9
	expect_value "shrunk" keep-9 "$f"
	touch "$T/bound"
	mount --bind "$f" "$T/bound"
	cleanup_extra() { umount "$T/bound"; }
	set_v keep-100
	expect_value "grown, bind-mounted" keep-100 "$T/bound"
	set_v keep-8
	expect_value "shrunk, bind-mounted" keep-8 "$T/bound"
}

# direct_io = on: the open gives the kernel the size without putting the
# value in the pages (a NUL byte where it ends, dropped at once).
test_sendfile_gets_a_grown_or_shrunk_value_whole_with_direct_io() {
	new_store
	printf '[mount]\ndirect_io = on\n[updates]\nstrategy = ttl\nttl = 60\n' >>"$T/secretfs.ini"
	ctl create secret generic k --from-literal=v=keep-9 >/dev/null
	mount_fs
	expect_value "before" keep-9 "$M/default/k/v"
	set_v keep-10
	expect_value "grown" keep-10 "$M/default/k/v"
	set_v keep-9
	expect_value "shrunk" keep-9 "$M/default/k/v"
}

# holder_case FILE: while another process holds FILE open (cached pages of
# keep-9 and their size), the value grows to keep-10; then the same for a
# shrink (keep-10 to keep-9).  The kernel holds one size for the file:
# sendfile() gets the holder's generation whole, read() the new one, the
# holder its own, and once it closes sendfile() gets the new one.
holder_case() {
	local f=$1 from to
	for from in keep-9 keep-10; do
		to=keep-9
		[ $from = keep-9 ] && to=keep-10
		set_v $from
		eventually 5 '[ "$(cat "$f")" = $from ]' || fail "$from not visible"
		expect_value "before, $from" $from "$f"
		exec 9<"$f"
		set_v $to
		eventually 5 '[ "$(dd if="$f" status=none)" = $to ]' ||
			fail "$to not visible to read()"
		expect_eq "sendfile while $from is held" "$(printf %s $from | bytes -)" \
			"$(busybox cat "$f" | bytes -)"
		expect_eq "read while $from is held" "$(printf %s $to | bytes -)" \
			"$(dd if="$f" bs=64k status=none | bytes -)"
		expect_eq "the holder's own" "$(printf %s $from | bytes -)" \
			"$(dd bs=64k status=none <&9 | bytes -)"
		exec 9<&-
		# its RELEASE reaches the daemon a moment after close()
		eventually 5 '[ "$(busybox cat "$f")" = $to ]' ||
			fail "sendfile after the holder closed: [$(busybox cat "$f" | bytes -)]"
		expect_value "after the holder closed, $to" $to "$f"
	done
}

test_sendfile_while_another_reader_holds_the_file() {
	new_store
	ctl create secret generic k --from-literal=v=keep-9 >/dev/null
	mount_fs
	holder_case "$M/default/k/v"
}

# The same through the per-caller mount, from a process in a view's cgroup
# (this test's shell, moved there and back).
test_sendfile_per_caller_while_another_reader_holds_the_file() {
	local root home
	root=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
	[ -n "$root" ] || fail "no cgroup2 file system mounted"
	home=$root$(sed -n 's/^0:://p' /proc/self/cgroup)
	CG=$root/secretfs-test/sendfile-$BASHPID
	new_store
	printf '[view v]\nsecret = default/k\nmatch = cgroup:/secretfs-test/sendfile-*\n' >>"$T/secretfs.ini"
	ctl create secret generic k --from-literal=v=keep-9 >/dev/null
	M=$T/shared
	mkdir -p "$M" "$CG"
	HOME_CG=$home ME=$BASHPID
	# it runs in a subshell, forked in the cgroup too
	cleanup_extra() {
		echo "$ME" >"$HOME_CG/cgroup.procs"
		echo "$BASHPID" >"$HOME_CG/cgroup.procs"
		rmdir "$CG"
	}
	start_fs "$M" --per-caller "$M"
	echo "$ME" >"$CG/cgroup.procs" || fail "cannot enter $CG"
	holder_case "$M/default/k/v"
	echo "$ME" >"$HOME_CG/cgroup.procs"
}
