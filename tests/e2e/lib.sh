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

# stamp_views CONFIG: two views over default/s, in the plain and the
# kubelet layout, for the torn-read tests (tests/tools/stamp.c writes s)
stamp_views() {
	cat >>"$1" <<INI
[view plain]
secret = default/s
[view kube]
secret = default/s
layout = kubelet
INI
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

# start_fs 'MOUNTPOINTS' [ARGS...]: run secretfs in the foreground with ARGS,
# logging to $T/fs.log, and wait until every one of MOUNTPOINTS is mounted
start_fs() {
	local want=$1 mp ready
	shift
	"$BIN/secretfs" -c "$T/secretfs.ini" -f "$@" 2>"$T/fs.log" &
	FS_PID=$!
	for _ in $(seq 100); do
		ready=1
		for mp in $want; do
			mountpoint -q "$mp" || ready=0
		done
		[ $ready = 1 ] && return 0
		kill -0 "$FS_PID" 2>/dev/null || fail "secretfs exited: $(cat "$T/fs.log")"
		sleep 0.05
	done
	fail "secretfs did not mount $want within 5 s"
}

# mount_fs [ARGS...]: the store (or what ARGS say) at $M
mount_fs() {
	M=$T/mnt
	mkdir -p "$M"
	start_fs "$M" "$@" "$M"
}

unmount_fs() {
	[ -n "${M:-}" ] && mountpoint -q "$M" && fusermount3 -u "$M"
	if [ -n "${FS_PID:-}" ]; then
		for _ in $(seq 100); do
			kill -0 "$FS_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -0 "$FS_PID" 2>/dev/null && fail "secretfs still running after unmount"
		local rc=0
		wait "$FS_PID" 2>/dev/null || rc=$?
		FS_PID=
		[ "$rc" = 0 ] || fail "secretfs exited with status $rc: $(grep -A25 "ERROR: \\|runtime error" "$T/fs.log" | head -30; tail -3 "$T/fs.log")"
	fi
	# a sanitizer build reports leaks and undefined behaviour on exit
	if [ -f "$T/fs.log" ] && grep -q "Sanitizer\|runtime error" "$T/fs.log"; then
		fail "sanitizer report from secretfs: $(grep -A20 "Sanitizer\|runtime error" "$T/fs.log" | head -40)"
	fi
	return 0
}

# track PID COMMAND: a background server the test started (etcd), killed
# when the test ends whatever happened, after its own cleanup had its chance
track() {
	echo "$1 $2" >>"$T/tracked"
}

kill_tracked() {
	local pid comm id
	# containers a failed test left running (container() names them)
	if [ -f "$T/containers" ]; then
		while read -r id; do
			runc delete -f "$id" >/dev/null 2>&1
		done <"$T/containers"
	fi
	[ -f "$T/tracked" ] || return 0
	while read -r pid comm; do
		# only if that pid is still the process we started
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] &&
			kill -9 "$pid" 2>/dev/null
	done <"$T/tracked"
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

# --- real containers (runc + busybox-static) -------------------------------

# make_rootfs DIR: a busybox-static root filesystem
make_rootfs() {
	local dir=$1 bb a
	bb=$(command -v busybox) || fail "busybox is missing (make deps installs busybox-static)"
	ldd "$bb" 2>&1 | grep -q "not a dynamic" || fail "$bb is not static (install busybox-static)"
	mkdir -p "$dir/bin" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/tmp" "$dir/run" "$dir/etc"
	cp "$bb" "$dir/bin/busybox"
	for a in $("$bb" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$dir/bin/$a"
	done
	echo "root:x:0:0:root:/:/bin/sh" >"$dir/etc/passwd"
	echo "root:x:0:" >"$dir/etc/group"
}

# container NAME [--user UID] [--groups GID,...] [--mount HOST:DEST]...
#           [--annotation K=V]...
#           [--hook STAGE=PATH ARGS...] -- COMMAND...
# Runs COMMAND in a runc container in cgroup /secretfs-test/NAME-$$ and
# prints its output; returns its exit status.
container() {
	local name=$1 user=0 groups="" mounts=() annotations=() hooks=()
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--user) user=$2; shift 2 ;;
		--groups) groups=$2; shift 2 ;;
		--mount) mounts+=("$2"); shift 2 ;;
		--annotation) annotations+=("$2"); shift 2 ;;
		--hook) hooks+=("$2"); shift 2 ;;
		--) shift; break ;;
		*) fail "container: unknown option $1" ;;
		esac
	done
	[ -d "$T/rootfs" ] || make_rootfs "$T/rootfs"
	local bundle=$T/bundles/$name id=secretfs-test-$name-$$
	mkdir -p "$bundle"
	# hooks run with the test's environment; pass what they need
	python3 - "$bundle" "$T/rootfs" "$user" "$groups" "$name-$$" "${#mounts[@]}" "${mounts[@]}" \
		"${#annotations[@]}" "${annotations[@]}" "${#hooks[@]}" "${hooks[@]}" "$@" <<'PY'
import json, sys
a = sys.argv[1:]
bundle, rootfs, user, groups, cg = a[0], a[1], int(a[2]), a[3], a[4]
a = a[5:]
n = int(a[0]); mounts = a[1:1 + n]; a = a[1 + n:]
n = int(a[0]); annotations = a[1:1 + n]; a = a[1 + n:]
n = int(a[0]); hooks = a[1:1 + n]; args = a[1 + n:]
cfg = {
    "ociVersion": "1.0.2",
    "process": {"terminal": False, "user": {"uid": user, "gid": user},
                "args": args, "cwd": "/",
                "env": ["PATH=/bin", "HOME=/"],
                "capabilities": {k: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER",
                                     "CAP_KILL", "CAP_SETUID", "CAP_SETGID"]
                                 for k in ("bounding", "effective", "permitted")},
                "noNewPrivileges": True},
    "root": {"path": rootfs, "readonly": True},
    "hostname": "c",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]},
        {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]},
    ],
    "linux": {"namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")],
              "cgroupsPath": "/secretfs-test/" + cg,
              "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"]},
}
for m in mounts:
    src, dst = m.split(":", 1)
    cfg["mounts"].append({"destination": dst, "type": "bind", "source": src,
                          "options": ["rbind", "ro"]})
if groups:
    cfg["process"]["user"]["additionalGids"] = [int(g) for g in groups.split(",")]
if annotations:
    cfg["annotations"] = dict(x.split("=", 1) for x in annotations)
for h in hooks:
    stage, cmd = h.split("=", 1)
    argv = cmd.split()
    cfg.setdefault("hooks", {}).setdefault(stage, []).append(
        {"path": argv[0], "args": argv})
json.dump(cfg, open(bundle + "/config.json", "w"), indent=1)
PY
	echo "$id" >>"$T/containers"
	runc run --bundle "$bundle" "$id" </dev/null
	local rc=$?
	runc delete -f "$id" >/dev/null 2>&1
	return $rc
}
