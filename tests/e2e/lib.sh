# lib.sh - helpers for the end-to-end tests: a fresh store per test, a real
# FUSE mount, and assertions that say what they expected.
#
# Each test function runs in its own subshell with $T, a new temporary
# folder, holding secretfs.ini, the store and the mount point $M.

: "${BIN:?BIN must point at the folder with secretfs and secretctl}"

fail() {
	echo "    FAIL: $*" >&2
	exit 1
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: expected [$2], got [$3]"
}

# expect_contains WHAT HAYSTACK NEEDLE
expect_contains() {
	case "$2" in
	*"$3"*) ;;
	*) fail "$1: [$2] does not contain [$3]" ;;
	esac
}

# expect_errno WHAT 'Message' COMMAND...: COMMAND fails and stderr says Message
expect_errno() {
	local what=$1 msg=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		fail "$what: '$*' succeeded, expected '$msg'"
	fi
	expect_contains "$what" "$out" "$msg"
}

ctl() {
	"$BIN/secretctl" -c "$T/secretfs.ini" "$@"
}

# new_store: a config, a fresh store and key in $T
new_store() {
	cat >"$T/secretfs.ini" <<INI
[store]
path = $T/store/store.db
key_file = $T/store/master.key
INI
	chmod 0644 "$T/secretfs.ini"
	ctl init >/dev/null || fail "secretctl init failed"
}

revision() {
	sqlite3 "$T/store/store.db" "SELECT value FROM meta WHERE key = 'revision'"
}

# mount_fs [ARGS...]: run secretfs in the foreground, logging to $T/fs.log,
# and wait until the mount is there
mount_fs() {
	M=$T/mnt
	mkdir -p "$M"
	"$BIN/secretfs" -c "$T/secretfs.ini" -f "$@" "$M" 2>"$T/fs.log" &
	FS_PID=$!
	for _ in $(seq 100); do
		mountpoint -q "$M" && return 0
		kill -0 "$FS_PID" 2>/dev/null || fail "secretfs exited: $(cat "$T/fs.log")"
		sleep 0.05
	done
	fail "secretfs did not mount within 5 s"
}

unmount_fs() {
	[ -n "${M:-}" ] && mountpoint -q "$M" && fusermount3 -u "$M"
	if [ -n "${FS_PID:-}" ]; then
		for _ in $(seq 100); do
			kill -0 "$FS_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -0 "$FS_PID" 2>/dev/null && fail "secretfs still running after unmount"
		wait "$FS_PID" 2>/dev/null
		FS_PID=
	fi
	return 0
}

# eventually SECONDS 'SHELL CONDITION': re-evaluate until it holds
eventually() {
	local limit=$1 i
	for i in $(seq $((limit * 20))); do
		eval "$2" 2>/dev/null && return 0
		sleep 0.05
	done
	eval "$2"
}
