# test_reload.sh - SIGHUP re-reads the configuration (README "Views",
# "Reload"): --views mounts the views added, unmounts the views removed,
# mounts a changed view again from its new section, and leaves the others
# alone; a configuration that does not load changes nothing.

# three secrets and views keep (untouched), gone (removed), grow (changed)
reload_store() {
	new_store
	cat >>"$T/secretfs.ini" <<INI
[view keep]
secret = default/k
[view gone]
secret = default/g
[view grow]
item = default/w/one
INI
	ctl create secret generic k --from-literal=v=keep-value >/dev/null
	ctl create secret generic g --from-literal=v=gone-value >/dev/null
	ctl create secret generic w --from-literal=one=1 --from-literal=two=2 >/dev/null
	ctl create secret generic n --from-literal=v=new-value >/dev/null
	mkdir -p "$T/views"
	M=$T/views/keep
	start_fs "$T/views/keep $T/views/gone $T/views/grow" --views "$T/views"
	cleanup_extra() {
		local v
		for v in keep gone grow new; do
			mountpoint -q "$T/views/$v" && fusermount3 -u "$T/views/$v"
		done
		kill "$FS_PID" 2>/dev/null
		return 0
	}
}

# rewrite the configuration: keep as it was, gone dropped, grow changed,
# new added by a drop-in file, as a tool would
reload_config_changed() {
	new_conf=$(sed '/^\[view gone\]/,/^secret = default\/g/d' "$T/secretfs.ini")
	printf '%s\n' "$new_conf" | sed 's|^item = default/w/one$|item = default/w/one mode 0440\nitem = default/w/two|' \
		>"$T/secretfs.ini.new"
	chmod 0644 "$T/secretfs.ini.new"
	mv "$T/secretfs.ini.new" "$T/secretfs.ini"
	mkdir -p "$T/views.d"
	printf '[view new]\nsecret = default/n\n' >"$T/views.d/new.ini"
}

test_reload_applies_the_difference_and_leaves_untouched_views_alone() {
	reload_store
	local ino_before ino_after got
	# a reader of the untouched view holds its file open across the reload
	exec 3<"$T/views/keep/default/k/v"
	ino_before=$(stat -c %i "$T/views/keep/default/k/v")
	expect_eq "grow before" "one" "$(ls "$T/views/grow/default/w")"
	reload_config_changed
	kill -HUP "$FS_PID"
	eventually 1 'mountpoint -q "$T/views/new"' || fail "view new not mounted within 1 s: $(cat "$T/fs.log")"
	expect_eq "new view's value" "new-value" "$(cat "$T/views/new/default/n/v")"
	eventually 1 '! mountpoint -q "$T/views/gone"' || fail "view gone still mounted"
	[ -e "$T/views/gone/default/g/v" ] && fail "gone's file still there"
	eventually 1 '[ "$(ls "$T/views/grow/default/w" | tr "\n" " ")" = "one two " ]' ||
		fail "grow did not change: $(ls "$T/views/grow/default/w")"
	expect_eq "grow's changed mode" "440" "$(stat -c %a "$T/views/grow/default/w/one")"
	# the untouched view: same inode, the open file reads, no error
	got=$(cat <&3) || fail "reading the file held open in keep failed"
	expect_eq "keep's open file" "keep-value" "$got"
	exec 3<&-
	ino_after=$(stat -c %i "$T/views/keep/default/k/v")
	expect_eq "keep's inode" "$ino_before" "$ino_after"
	mountpoint -q "$T/views/keep" || fail "keep was unmounted"
	kill -0 "$FS_PID" || fail "secretfs stopped on SIGHUP"
	# SIGTERM still stops it, cleanly
	kill -TERM "$FS_PID"
	M= # SIGTERM unmounts: unmount_fs only waits for it
	unmount_fs
}

test_reload_of_a_broken_configuration_changes_nothing() {
	reload_store
	local good status
	good=$(cat "$T/secretfs.ini")
	printf '[view new]\nsecret = default/n\nbogus = 1\n' >>"$T/secretfs.ini"
	kill -HUP "$FS_PID"
	eventually 1 'grep -q "reload: .*nothing changed" "$T/fs.log"' || fail "no error logged: $(cat "$T/fs.log")"
	expect_contains "the log names the file and line" "$(grep 'reload:' "$T/fs.log")" "secretfs.ini:"
	status=$(ctl status 2>&1)
	expect_contains "secretctl status" "$status" "configuration not reloaded, the running views are unchanged"
	mountpoint -q "$T/views/new" && fail "a view of the broken configuration was mounted"
	for v in keep gone grow; do
		mountpoint -q "$T/views/$v" || fail "view $v went with a broken configuration"
	done
	expect_eq "gone still serves" "gone-value" "$(cat "$T/views/gone/default/g/v")"
	# a drop-in others may write is refused as the main file is
	printf '%s\n' "$good" >"$T/secretfs.ini"
	mkdir -p "$T/views.d"
	printf '[view new]\nsecret = default/n\n' >"$T/views.d/50-new.ini"
	chmod 0666 "$T/views.d/50-new.ini"
	kill -HUP "$FS_PID"
	eventually 1 'grep -q "50-new.ini. is writable by group or others" "$T/fs.log"' ||
		fail "a drop-in writable by others was not refused: $(tail -3 "$T/fs.log")"
	mountpoint -q "$T/views/new" && fail "the refused drop-in's view was mounted"
	# fixed: applied, and the error is gone from the status
	chmod 0644 "$T/views.d/50-new.ini"
	kill -HUP "$FS_PID"
	eventually 1 'mountpoint -q "$T/views/new"' || fail "the fixed configuration was not applied"
	eventually 1 '! ctl status 2>&1 | grep -q "not reloaded"' || fail "status still shows the error"
	kill -TERM "$FS_PID"
	M= # SIGTERM unmounts: unmount_fs only waits for it
	unmount_fs
}

# RELOAD_ROUNDS (default 20) reloads, each changing a view, while a reader
# loops on a file of the untouched view: never an error, never another value
test_reload_many_times_while_reading_an_untouched_view() {
	reload_store
	local rounds=${RELOAD_ROUNDS:-20} i
	( while :; do
		v=$(cat "$T/views/keep/default/k/v") || { echo "read error" >>"$T/reader.err"; exit 1; }
		[ "$v" = keep-value ] || { echo "read [$v]" >>"$T/reader.err"; exit 1; }
		[ -e "$T/stop" ] && exit 0
	done ) &
	local reader=$!
	for i in $(seq "$rounds"); do
		if [ $((i % 2)) = 1 ]; then
			sed -i 's|^item = default/w/one$|item = default/w/one mode 0440|' "$T/secretfs.ini"
		else
			sed -i 's|^item = default/w/one mode 0440$|item = default/w/one|' "$T/secretfs.ini"
		fi
		kill -HUP "$FS_PID"
		sleep 0.05
	done
	touch "$T/stop"
	wait "$reader" || fail "the reader of the untouched view failed: $(cat "$T/reader.err")"
	eventually 2 'mountpoint -q "$T/views/grow" && [ "$(stat -c %a "$T/views/grow/default/w/one")" = 400 ]' ||
		fail "grow not back to 0400 after $rounds reloads: $(tail -5 "$T/fs.log")"
	kill -0 "$FS_PID" || fail "secretfs died: $(tail "$T/fs.log")"
	kill -TERM "$FS_PID"
	M= # SIGTERM unmounts: unmount_fs only waits for it
	unmount_fs
}

# the per-caller mount matches callers against the reloaded views; a
# caller of an unchanged view keeps its inodes
test_reload_per_caller_picks_up_a_new_match() {
	new_store
	cat >>"$T/secretfs.ini" <<INI
[view keep]
secret = default/k
match = cgroup:/secretfs-test/keep-*
INI
	ctl create secret generic k --from-literal=v=keep-value >/dev/null
	ctl create secret generic n --from-literal=v=new-value >/dev/null
	M=$T/shared
	mkdir -p "$M"
	start_fs "$M" --per-caller "$M"
	local out keeper
	mkdir -p "$T/sync"
	# keep's caller holds its file open across the reload
	container keep --mount "$M:/run/secrets" --mount "$T/sync:/sync" -- sh -c \
		'exec 3</run/secrets/default/k/v; stat -c %i /run/secrets/default/k/v
		 while [ ! -e /sync/go ]; do sleep 0.05; done
		 stat -c %i /run/secrets/default/k/v; cat <&3; echo; ls /run/secrets/default/n 2>&1; true' \
		>"$T/keep.out" 2>&1 &
	keeper=$!
	eventually 5 '[ -s "$T/keep.out" ]' || fail "keep's container did not start: $(cat "$T/keep.out")"
	expect_eq "a caller of no view" "" "$(container other --mount "$M:/run/secrets" -- ls -A /run/secrets)"
	printf '[view other]\nsecret = default/n\nmatch = cgroup:/secretfs-test/other-*\n' >>"$T/secretfs.ini"
	kill -HUP "$FS_PID"
	eventually 1 'grep -q "reload: 1 view unchanged" "$T/fs.log"' || fail "no reload: $(tail -3 "$T/fs.log")"
	out=$(container other --mount "$M:/run/secrets" -- cat /run/secrets/default/n/v) ||
		fail "the new match rule was not applied: $(tail -3 "$T/fs.log")"
	expect_eq "the new view's caller" "new-value" "$out"
	touch "$T/sync/go"
	wait "$keeper" || fail "keep's container failed: $(cat "$T/keep.out")"
	out=$(cat "$T/keep.out")
	expect_eq "keep's inode across the reload" "$(sed -n 1p "$T/keep.out")" "$(sed -n 2p "$T/keep.out")"
	expect_eq "keep's open file" "keep-value" "$(sed -n 3p "$T/keep.out")"
	expect_contains "keep's caller does not see the other view" "$(sed -n 4p "$T/keep.out")" "No such file"
	unmount_fs
}

# reload_rounds: RELOAD_ROUNDS, by default two cycles of the five steps
# below, one under the sanitizers
reload_rounds() {
	case $BIN in
	*/asan | */tsan) echo "${RELOAD_ROUNDS:-5}" ;;
	*) echo "${RELOAD_ROUNDS:-10}" ;;
	esac
}

# hup: SIGHUP, and wait (up to 2 s) until the daemon logged the reload's
# outcome, applied or refused
hup() {
	local before
	before=$(grep -c "reload: " "$T/fs.log" || true)
	kill -HUP "$FS_PID"
	eventually 2 '[ "$(grep -c "reload: " "$T/fs.log")" -gt "$before" ]' ||
		fail "no reload logged within 2 s: $(tail -3 "$T/fs.log")"
}

# set_k N: default/k's value is keep-N
set_k() {
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: k, namespace: default}\nstringData: {v: keep-%s}\n' \
		"$1" >"$T/k.yaml"
	ctl apply -f "$T/k.yaml" >/dev/null || fail "cannot update default/k"
}

# Real runc containers read through their views (bind mounts of DIR/NAME)
# while reload_rounds() reloads cycle through: a view added by a drop-in,
# grow changed (one more key, a mode), the added view removed, a broken
# drop-in, then all taken back; keep's secret is updated at each reload.
# keep's container never sees an error or an older value than one it saw,
# and sees the last one; grow's container never loses its mount (no
# ENOTCONN: the view changes in place), sees each new grant within 2 s, and
# its file held open since the start reads on; the broken file changes
# nothing and shows in 'secretctl status'.
test_reload_in_place_while_containers_read() {
	reload_store
	local rounds i step status grants=0 p_keep p_grow ino
	rounds=$(reload_rounds)
	set_k 0
	mkdir -p "$T/sync" "$T/views.d"
	[ -d "$T/rootfs" ] || make_rootfs "$T/rootfs" # once, before two containers start
	container keeper --mount "$T/views/keep:/run/secrets" --mount "$T/sync:/sync" -- sh -c '
		last=-1 reads=0
		while [ ! -e /sync/stop ]; do
			if ! v=$(cat /run/secrets/default/k/v 2>&1); then
				echo "error: $v"; sleep 0.05; continue
			fi
			case $v in
			keep-*) n=${v#keep-} ;;
			*) echo "bad: $v"; continue ;;
			esac
			[ "$n" -lt "$last" ] && echo "stale: $v after keep-$last"
			[ "$n" -gt "$last" ] && echo "seen $v"
			last=$n reads=$((reads + 1))
		done
		echo "reads $reads"' >"$T/keep.out" 2>&1 &
	p_keep=$!
	container grower --mount "$T/views/grow:/run/secrets" --mount "$T/sync:/sync" -- sh -c '
		exec 3</run/secrets/default/w/one
		two=no reads=0
		echo started
		while [ ! -e /sync/stop ]; do
			if ! v=$(cat /run/secrets/default/w/one 2>&1); then
				echo "error: $v"; sleep 0.05; continue
			fi
			[ "$v" = 1 ] || echo "bad one: $v"
			if t=$(cat /run/secrets/default/w/two 2>&1); then
				[ "$t" = 2 ] || echo "bad two: $t"
				now=yes
			else
				case $t in
				*"No such file"*) now=no ;;
				*) echo "error: $t"; now=$two ;;
				esac
			fi
			[ "$now" = "$two" ] || echo "two=$now"
			two=$now reads=$((reads + 1))
		done
		echo "held $(cat <&3)"
		echo "reads $reads"' >"$T/grow.out" 2>&1 &
	p_grow=$!
	eventually 5 'grep -q "seen keep-0" "$T/keep.out" && grep -q started "$T/grow.out"' ||
		fail "the containers did not start: $(cat "$T/keep.out" "$T/grow.out")"
	ino=$(stat -c %i "$T/views/grow/default/w/one")
	for i in $(seq "$rounds"); do
		step=$((i % 5))
		case $step in
		1) # a view added by a drop-in
			printf '[view new]\nsecret = default/n\n' >"$T/views.d/new.ini"
			hup
			eventually 1 'mountpoint -q "$T/views/new"' || fail "round $i: view new not mounted"
			expect_eq "round $i: the added view" new-value "$(cat "$T/views/new/default/n/v")"
			;;
		2) # grow changed: one more key, a mode
			sed -i 's|^item = default/w/one$|item = default/w/one mode 0440\nitem = default/w/two|' \
				"$T/secretfs.ini"
			hup
			grants=$((grants + 1))
			# at once: the reload is logged after the kernel was told
			# (the containers' lookups share the host's dentries)
			expect_eq "round $i: grow's new mode" 440 "$(stat -c %a "$T/views/grow/default/w/one")"
			expect_eq "round $i: grow's new key" 2 "$(cat "$T/views/grow/default/w/two")"
			eventually 2 '[ "$(grep -c "^two=yes" "$T/grow.out")" = "$grants" ]' ||
				fail "round $i: grow's container did not see the new grant within 2 s: $(tail -3 "$T/grow.out")"
			;;
		3) # the added view removed
			rm "$T/views.d/new.ini"
			hup
			eventually 1 '! mountpoint -q "$T/views/new"' || fail "round $i: view new still mounted"
			;;
		4) # a broken drop-in: nothing changes, the status says why
			printf '[view broken]\nsecret = default/n\nbogus = 1\n' >"$T/views.d/broken.ini"
			hup
			status=$(ctl status 2>&1)
			expect_contains "round $i: secretctl status" "$status" "configuration not reloaded"
			expect_contains "round $i: the status names the file" "$status" "broken.ini"
			expect_eq "round $i: grow unchanged by the broken file" "one two " \
				"$(ls "$T/views/grow/default/w" | tr '\n' ' ')"
			[ -e "$T/views/broken" ] && fail "round $i: the broken file's view was mounted"
			;;
		0) # all taken back
			rm "$T/views.d/broken.ini"
			sed -i -e 's|^item = default/w/one mode 0440$|item = default/w/one|' \
				-e '/^item = default\/w\/two$/d' "$T/secretfs.ini"
			hup
			[ -e "$T/views/grow/default/w/two" ] && fail "round $i: the revoked key is still there"
			expect_eq "round $i: grow's mode back" 400 "$(stat -c %a "$T/views/grow/default/w/one")"
			eventually 2 '[ "$(grep -c "^two=no" "$T/grow.out")" = "$grants" ]' ||
				fail "round $i: grow's container still sees the revoked key: $(tail -3 "$T/grow.out")"
			eventually 1 '! ctl status 2>&1 | grep -q "not reloaded"' || fail "round $i: status still shows the error"
			;;
		esac
		set_k "$i"
	done
	eventually 2 'grep -q "^seen keep-$rounds\$" "$T/keep.out"' ||
		fail "keep's container did not see the last value keep-$rounds: $(tail -3 "$T/keep.out")"
	touch "$T/sync/stop"
	wait "$p_keep" || fail "keep's container failed: $(tail -5 "$T/keep.out")"
	wait "$p_grow" || fail "grow's container failed: $(tail -5 "$T/grow.out")"
	grep -q "^reads [1-9]" "$T/keep.out" || fail "keep's container read nothing: $(cat "$T/keep.out")"
	grep -q "^reads [1-9]" "$T/grow.out" || fail "grow's container read nothing: $(cat "$T/grow.out")"
	grep -E "^(error|bad|stale)" "$T/keep.out" && fail "keep's container saw errors or stale values"
	grep -E "^(error|bad)" "$T/grow.out" && fail "grow's container saw errors (its mount went?)"
	expect_eq "grow's file held open since the start" "held 1" "$(grep '^held' "$T/grow.out")"
	expect_eq "grow's file's inode" "$ino" "$(stat -c %i "$T/views/grow/default/w/one")"
	[ "$rounds" -lt 2 ] || grep -q 'view "grow": changed in place' "$T/fs.log" ||
		fail "grow was not changed in place: $(grep 'reload:' "$T/fs.log" | tail -3)"
	grep -q 'view "keep": \|view "grow": unmounted' "$T/fs.log" &&
		fail "keep or grow was taken down: $(grep 'unmounted' "$T/fs.log")"
	kill -TERM "$FS_PID"
	M= # SIGTERM unmounts: unmount_fs only waits for it
	unmount_fs
}

# Per caller, a changed view's callers see its new grants and mode from
# their next request, and a file one of them opened before reads on (its
# handle is of the view's old object); keep's container, of an unchanged
# view, reads on without an error meanwhile.
test_reload_per_caller_changed_view_keeps_open_handles() {
	new_store
	cat >>"$T/secretfs.ini" <<INI
[view keep]
secret = default/k
match = cgroup:/secretfs-test/keeper-*
[view grow]
item = default/w/one
match = cgroup:/secretfs-test/grower-*
INI
	ctl create secret generic k --from-literal=v=keep-value >/dev/null
	ctl create secret generic w --from-literal=one=1 --from-literal=two=2 >/dev/null
	M=$T/shared
	mkdir -p "$M" "$T/sync"
	start_fs "$M" --per-caller "$M"
	local p_keep p_grow
	[ -d "$T/rootfs" ] || make_rootfs "$T/rootfs"
	container keeper --mount "$M:/run/secrets" --mount "$T/sync:/sync" -- sh -c '
		reads=0; echo started
		while [ ! -e /sync/stop ]; do
			v=$(cat /run/secrets/default/k/v 2>&1)
			[ "$v" = keep-value ] || echo "bad: $v"
			reads=$((reads + 1))
		done
		echo "reads $reads"' >"$T/keep.out" 2>&1 &
	p_keep=$!
	container grower --mount "$M:/run/secrets" --mount "$T/sync:/sync" -- sh -c '
		exec 3</run/secrets/default/w/one
		ls /run/secrets/default/w; echo started
		while [ ! -e /sync/go ]; do sleep 0.05; done
		echo "held $(cat <&3 2>&1)"
		i=0
		until t=$(cat /run/secrets/default/w/two 2>/dev/null) || [ $i = 40 ]; do
			sleep 0.05; i=$((i + 1))
		done
		echo "two $t"
		stat -c "mode %a" /run/secrets/default/w/one' >"$T/grow.out" 2>&1 &
	p_grow=$!
	eventually 5 'grep -q started "$T/keep.out" && grep -q started "$T/grow.out"' ||
		fail "the containers did not start: $(cat "$T/keep.out" "$T/grow.out")"
	expect_eq "grow before" "one" "$(sed -n 1p "$T/grow.out")"
	sed -i 's|^item = default/w/one$|item = default/w/one mode 0440\nitem = default/w/two|' "$T/secretfs.ini"
	hup
	grep -q "reload: 1 view unchanged, 1 new or changed" "$T/fs.log" ||
		fail "grow not seen as changed: $(grep 'reload:' "$T/fs.log")"
	touch "$T/sync/go"
	wait "$p_grow" || fail "grow's container failed: $(cat "$T/grow.out")"
	touch "$T/sync/stop"
	wait "$p_keep" || fail "keep's container failed: $(tail -3 "$T/keep.out")"
	expect_eq "grow's file opened before the change" "held 1" "$(grep '^held' "$T/grow.out")"
	expect_eq "grow's new grant" "two 2" "$(grep '^two' "$T/grow.out")"
	expect_eq "grow's new mode" "mode 440" "$(grep '^mode' "$T/grow.out")"
	grep -q "^bad" "$T/keep.out" && fail "keep's container saw errors: $(grep -m3 '^bad' "$T/keep.out")"
	grep -q "^reads [1-9]" "$T/keep.out" || fail "keep's container read nothing: $(cat "$T/keep.out")"
	unmount_fs
}

# A name that a changed view maps to another key (item ... as NAME) reads
# that key's value from the next open, in the plain layout (same inode, a
# handle open before reads on) and in the kubelet layout (whose files the
# kernel caches for good: their pages are dropped too)
test_reload_changed_item_reads_the_new_key() {
	new_store
	cat >>"$T/secretfs.ini" <<INI
[view plain]
item = default/w/one as f
[view kube]
item = default/w/one as f
layout = kubelet
INI
	ctl create secret generic w --from-literal=one=1 --from-literal=two=2 >/dev/null
	mkdir -p "$T/views"
	start_fs "$T/views/plain $T/views/kube" --views "$T/views"
	cleanup_extra() {
		kill "$FS_PID" 2>/dev/null
		return 0
	}
	local ino
	expect_eq "plain before" 1 "$(cat "$T/views/plain/default/w/f")"
	expect_eq "kube before" 1 "$(cat "$T/views/kube/default/w/f")"
	ino=$(stat -c %i "$T/views/plain/default/w/f")
	exec 3<"$T/views/plain/default/w/f"
	exec 4<"$T/views/kube/default/w/f" # keeps ..rev-N/f's inode, and its pages
	sed -i 's|^item = default/w/one as f$|item = default/w/two as f mode 0440|' "$T/secretfs.ini"
	hup
	expect_eq "plain after" 2 "$(cat "$T/views/plain/default/w/f")"
	expect_eq "plain's mode" 440 "$(stat -c %a "$T/views/plain/default/w/f")"
	expect_eq "plain's inode" "$ino" "$(stat -c %i "$T/views/plain/default/w/f")"
	expect_eq "kube after" 2 "$(cat "$T/views/kube/default/w/f")"
	expect_eq "kube's mode" 440 "$(stat -L -c %a "$T/views/kube/default/w/f")"
	expect_eq "the handle opened before" 1 "$(cat <&3)"
	exec 3<&- 4<&-
	expect_eq "changed in place, both" 2 "$(grep -c 'view "[a-z]*": changed in place' "$T/fs.log")"
	kill -TERM "$FS_PID"
	M=
	unmount_fs
}
