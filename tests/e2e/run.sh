#!/usr/bin/env bash
# run.sh - run every end-to-end test (tests/e2e/test_*.sh, functions named
# test_*), each in a subshell with its own temporary folder; print one line
# per test and "N passed, N failed" at the end; exit 1 if any failed.
#
#   run.sh [FILTER...]   only the tests whose "file:test" name contains one
#                        of the FILTERs
#
# E2E_APART="PATTERN..." runs the tests whose "file:test" name contains a
# PATTERN (e.g. "test_cluster:") in a lane of their own, one lane per
# PATTERN, beside the others; "A|B" puts what contains A or B in one lane.  The etcd cluster tests spend most of their
# time waiting for elections and followers, not on the CPU: beside the rest
# they cost almost no wall time.  Each test keeps its own temporary folder,
# mounts and ports either way.
#
# The tests mount real FUSE filesystems: they need root and /dev/fuse, and
# fail loudly rather than skip when those are missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export BIN=${BIN:-$here/../../bin}
filters=("$@")

# selected NAME: no filter given, or NAME contains one
selected() {
	local f
	[ ${#filters[@]} = 0 ] && return 0
	for f in "${filters[@]}"; do
		[[ "$1" == *"$f"* ]] && return 0
	done
	return 1
}

if [ "$(id -u)" != 0 ]; then
	echo "e2e: these tests mount FUSE filesystems and run containers: run them as root" >&2
	exit 1
fi
[ -c /dev/fuse ] || modprobe fuse 2>/dev/null
[ -c /dev/fuse ] || { echo "e2e: /dev/fuse is missing and 'modprobe fuse' did not help" >&2; exit 1; }
for tool in fusermount3 sqlite3 mountpoint; do
	command -v $tool >/dev/null || { echo "e2e: '$tool' is missing (make deps installs it)" >&2; exit 1; }
done

# run_lane: every selected test of this lane, one after another; the counts
# go to $lane_out for the summary
run_lane() {
	local passed=0 failed=0 failures=() file t name T start rc tenths secs m
	for file in "$here"/test_*.sh; do
		for t in $(bash -c "source '$here/lib.sh'; source '$file'; declare -F" | awk '{print $3}' | grep '^test_'); do
			name="$(basename "$file" .sh):$t"
			selected "$name" || continue
			in_lane "$name" || continue
			T=$(mktemp -d /tmp/secretfs-e2e.XXXXXX)
			start=${EPOCHREALTIME/./}
			(
				set -eEu
				export T
				source "$here/lib.sh"
				source "$file"
				# the test's own cleanup runs apart, so that a failure in it
				# (a sanitizer report from a node) still fails the test but
				# never leaves mounts or servers behind
				trap 'cleaned=0; (cleanup_extra) >/dev/null 2>"$T/cleanup.err" || cleaned=$?
				      kill_tracked; unmount_fs
				      [ $cleaned = 0 ] || { grep "FAIL" "$T/cleanup.err" >&2; exit 1; }' EXIT
				trap 'echo "    FAIL: a command failed (status $?): $BASH_COMMAND" >&2' ERR
				cleanup_extra() { :; }
				"$t"
			) >"$T.out" 2>&1
			rc=$?
			tenths=$(( (${EPOCHREALTIME/./} - start) / 100000 ))
			secs=$((tenths / 10)).$((tenths % 10))
			if [ $rc = 0 ]; then
				passed=$((passed + 1))
				printf 'ok    %-50s %5ss\n' "$name" "$secs"
			else
				failed=$((failed + 1))
				failures+=("$name")
				# one write, so a lane beside this one cannot cut into it
				printf '%s\n' "$(printf 'FAIL  %-50s %5ss\n' "$name" "$secs"
						  sed 's/^/      | /' "$T.out")"
			fi
			# leave nothing mounted behind, even after a failure
			for m in $(awk -v t="$T" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r); do
				fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
			done
			rm -rf "$T" "$T.out"
		done
	done
	printf '%s %s\n' "$passed" "$failed" >"$lane_out"
	[ ${#failures[@]} = 0 ] || printf '%s\n' "${failures[@]}" >>"$lane_out"
}

read -r -a apart <<<"${E2E_APART:-}"
# has NAME PATTERN: NAME contains one of PATTERN's |-separated parts
has() {
	local part
	local -a parts
	IFS='|' read -r -a parts <<<"$2"
	for part in "${parts[@]}"; do
		[[ "$1" == *"$part"* ]] && return 0
	done
	return 1
}
lanes=$(mktemp -d /tmp/secretfs-e2e-lanes.XXXXXX)
pids=()
for ((l = 0; l < ${#apart[@]}; l++)); do
	# lane l: the tests that contain pattern l (and no earlier one)
	in_lane() {
		local j
		for ((j = 0; j < l; j++)); do
			has "$1" "${apart[j]}" && return 1
		done
		has "$1" "${apart[l]}"
	}
	lane_out=$lanes/apart$l run_lane &
	pids+=($!)
done
# the main lane: the tests no pattern names
in_lane() {
	local p
	for p in "${apart[@]}"; do
		has "$1" "$p" && return 1
	done
	return 0
}
lane_out=$lanes/main run_lane
for p in "${pids[@]}"; do
	wait "$p"
done
passed=0
failed=0
failures=()
for f in "$lanes"/*; do
	read -r p n <"$f"
	passed=$((passed + p))
	failed=$((failed + n))
	mapfile -t more < <(tail -n +2 "$f")
	failures+=("${more[@]}")
done
rm -rf "$lanes"
echo
[ $failed -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
