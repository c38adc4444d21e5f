# test_views.sh - views, proven with real runc containers: each container
# sees exactly what its view grants, and nothing of anything else.

# a store with the secrets of two "pods", and views for their containers
views_store() {
	new_store
	cat >>"$T/secretfs.ini" <<INI
[audit]
path = $T/audit.log

[view signer]
; the pod's signer container: the HMAC key, readable by uid 1000
secret = shop/hmac
uid = 1000
gid = 1000
mode = 0440
match = cgroup:/secretfs-test/signer-*

[view frontend]
; the same pod's frontend: its config and the TLS certificate, never the key
secret = shop/frontend-config
item = shop/tls/tls.crt as cert.pem mode 0444
optional = shop/feature-flags
match = cgroup:/secretfs-test/frontend-*
audit = on

[view billing]
secret = billing/*
match = cgroup:/secretfs-test/billing-*
INI
	ctl create namespace shop >/dev/null
	ctl create namespace billing >/dev/null
	head -c 64 /dev/urandom >"$T/hmac.bin"
	ctl create secret generic hmac -n shop --from-file=key="$T/hmac.bin" >/dev/null
	ctl create secret generic frontend-config -n shop --from-literal=url=https://shop.example \
		--from-literal=.env=DEBUG=0 >/dev/null
	ctl create secret generic tls -n shop --from-literal=tls.crt=CERTIFICATE \
		--from-literal=tls.key=PRIVATE-KEY >/dev/null
	ctl create secret generic db -n billing --from-literal=password=billing-pw >/dev/null
	ctl create secret generic api -n billing --from-literal=token=billing-token >/dev/null
}

# the views daemon: every view at $T/views/NAME
mount_views() {
	mkdir -p "$T/views"
	M=$T/views/billing
	start_fs "$T/views/signer $T/views/frontend $T/views/billing" --views "$T/views"
}

# the shared per-caller mount at $T/shared
mount_shared() {
	M=$T/shared
	mkdir -p "$M"
	start_fs "$M" --per-caller "$M"
}

cleanup_views() {
	for v in signer frontend billing; do
		mountpoint -q "$T/views/$v" && fusermount3 -u "$T/views/$v"
	done
	return 0
}

test_three_containers_see_only_their_views() {
	views_store
	mount_views
	cleanup_extra() { cleanup_views; }
	local out
	# signer: its key, byte for byte
	container signer --mount "$T/views/signer:/run/secrets" -- \
		cat /run/secrets/shop/hmac/key >"$T/got.bin" || fail "signer could not read its key"
	cmp "$T/hmac.bin" "$T/got.bin" || fail "signer read different bytes"
	# frontend: its config and the projected certificate
	out=$(container frontend --mount "$T/views/frontend:/run/secrets" -- \
		sh -c 'cat /run/secrets/shop/frontend-config/url; echo; cat /run/secrets/shop/tls/cert.pem')
	expect_eq "frontend reads" "https://shop.example
CERTIFICATE" "$out"
	out=$(container billing --mount "$T/views/billing:/run/secrets" -- \
		sh -c 'cat /run/secrets/billing/db/password /run/secrets/billing/api/token')
	expect_eq "billing reads" "billing-pwbilling-token" "$out"

	# everything else is as if it did not exist, for every tool
	out=$(container frontend --mount "$T/views/frontend:/run/secrets" -- sh -c '
		for p in shop/hmac shop/hmac/key shop/tls/tls.key billing billing/db/password; do
			ls /run/secrets/$p 2>&1; stat /run/secrets/$p 2>&1; cat /run/secrets/$p 2>&1
		done
		find /run/secrets | sort')
	for p in shop/hmac shop/hmac/key shop/tls/tls.key billing billing/db/password; do
		expect_contains "ls $p" "$out" "ls: /run/secrets/$p: No such file or directory"
		expect_contains "stat $p" "$out" "stat: can't stat '/run/secrets/$p': No such file or directory"
		expect_contains "cat $p" "$out" "cat: can't open '/run/secrets/$p': No such file or directory"
	done
	expect_contains "find" "$out" "/run/secrets
/run/secrets/shop
/run/secrets/shop/frontend-config
/run/secrets/shop/frontend-config/.env
/run/secrets/shop/frontend-config/url
/run/secrets/shop/tls
/run/secrets/shop/tls/cert.pem"
	case "$out" in *PRIVATE*|*billing-pw*) fail "frontend read too much: $out" ;; esac
	# readlink and the xattr calls too, from the host through the view
	python3 - "$T/views/frontend" <<'PY' || fail "a syscall told an invisible name apart"
import errno, os, sys
base = sys.argv[1]
for p in ("shop/hmac", "shop/hmac/key", "shop/tls/tls.key", "billing", "nope"):
    path = os.path.join(base, p)
    for call in (os.readlink, os.getxattr, os.listxattr, os.stat, os.lstat):
        try:
            call(path, "user.x") if call is os.getxattr else call(path)
        except OSError as e:
            assert e.errno == errno.ENOENT, (call.__name__, p, e)
        else:
            raise AssertionError("%s(%s) succeeded" % (call.__name__, p))
PY
	out=$(container signer --mount "$T/views/signer:/run/secrets" -- find /run/secrets)
	expect_eq "signer's whole tree" "/run/secrets
/run/secrets/shop
/run/secrets/shop/hmac
/run/secrets/shop/hmac/key" "$out"
}

test_modes_owners_and_dotfiles_in_container() {
	views_store
	mount_views
	cleanup_extra() { cleanup_views; }
	local out
	out=$(container signer --mount "$T/views/signer:/run/secrets" -- ls -ln /run/secrets/shop/hmac)
	expect_contains "signer key" "$out" "-r--r-----    1 1000     1000            64"
	out=$(container frontend --mount "$T/views/frontend:/run/secrets" -- sh -c '
		ls -ln /run/secrets/shop/tls; ls /run/secrets/shop/frontend-config; echo --; ls -la /run/secrets/shop/frontend-config')
	expect_contains "projected mode" "$out" "-r--r--r--    1 0        0               11"
	expect_contains "dotfile hidden" "$out" "url
--"
	expect_contains "dotfile with -a" "$out" ".env"
	# uid 1000 reads its 0440 key; uid 2000 is refused by the mode bits
	container signer --user 1000 --mount "$T/views/signer:/run/secrets" -- \
		cat /run/secrets/shop/hmac/key >/dev/null || fail "uid 1000 could not read"
	out=$(container signer --user 2000 --mount "$T/views/signer:/run/secrets" -- \
		cat /run/secrets/shop/hmac/key 2>&1) && fail "uid 2000 read a 0440 file of uid 1000"
	expect_contains "uid 2000" "$out" "Permission denied"
}

test_pod_signer_and_frontend() {
	# the seed's case: two containers of one pod, only the signer holds the key
	views_store
	mount_views
	cleanup_extra() { cleanup_views; }
	container signer --mount "$T/views/signer:/run/secrets" -- \
		sh -c 'test -s /run/secrets/shop/hmac/key' || fail "signer cannot see the HMAC key"
	local out
	out=$(container frontend --mount "$T/views/frontend:/run/secrets" -- \
		sh -c 'cat /run/secrets/shop/frontend-config/url >/dev/null
		       cat /run/secrets/shop/hmac/key; ls /run/secrets/shop' 2>&1) || true
	expect_contains "frontend" "$out" "No such file or directory"
	echo "$out" | grep -qx hmac && fail "frontend can list the signer's secret"
	# the frontend's audited view recorded its reads and its refusal
	grep -q '"view":"frontend".*"secret":"frontend-config".*"allowed":true' "$T/audit.log" ||
		fail "no audit record of the frontend's read: $(cat "$T/audit.log")"
	grep -q '"view":"frontend".*"secret":"hmac".*"allowed":false' "$T/audit.log" ||
		fail "no audit record of the refusal"
	grep -q '"cgroup":"/secretfs-test/frontend-' "$T/audit.log" || fail "audit lacks the cgroup"
	grep -q "billing-pw\|PRIVATE-KEY\|https://shop" "$T/audit.log" && fail "audit holds a value"
	return 0
}

test_per_caller_shared_mount() {
	views_store
	mount_shared
	local out
	container signer --mount "$M:/run/secrets" -- cat /run/secrets/shop/hmac/key >"$T/got.bin"
	cmp "$T/hmac.bin" "$T/got.bin" || fail "signer read different bytes through the shared mount"
	out=$(container signer --mount "$M:/run/secrets" -- find /run/secrets)
	expect_eq "signer through the shared mount" "/run/secrets
/run/secrets/shop
/run/secrets/shop/hmac
/run/secrets/shop/hmac/key" "$out"
	out=$(container billing --mount "$M:/run/secrets" -- \
		sh -c 'find /run/secrets | sort; cat /run/secrets/billing/db/password; cat /run/secrets/shop/hmac/key 2>&1') || true
	expect_contains "billing tree" "$out" "/run/secrets/billing/api/token"
	expect_contains "billing reads" "$out" "billing-pw"
	expect_contains "billing cannot" "$out" "No such file or directory"
	echo "$out" | grep -q '^/run/secrets/shop' && fail "billing listed the signer's key"
	out=$(container stranger --mount "$M:/run/secrets" -- sh -c 'ls -A /run/secrets; cat /run/secrets/shop/hmac/key 2>&1') || true
	expect_eq "a process matching no view sees nothing" \
		"cat: can't open '/run/secrets/shop/hmac/key': No such file or directory" "$out"
	# the host's root is in no matching cgroup either
	expect_eq "host sees an empty root" "" "$(ls -A "$M")"
	# every open is audited in the per-caller mount
	grep -q '"secret":"hmac".*"allowed":true' "$T/audit.log" || fail "signer's open not audited"
	grep -q '"cgroup":"/secretfs-test/billing-.*"namespace":"shop".*"allowed":false' "$T/audit.log" ||
		fail "billing's refusal not audited: $(cat "$T/audit.log")"
}

# Two views that show different keys, sizes and modes at the same path
# through the one per-caller mount: each container keeps reading its own,
# while the other reads at the same time (each view has its own inodes, so
# its own cached pages and sizes), and both see an update.
test_per_caller_views_keep_their_own_files() {
	views_store
	cat >>"$T/secretfs.ini" <<INI
[view lefty]
item = shop/pair/short as v mode 0444
match = cgroup:/secretfs-test/lefty-*
[view righty]
item = shop/pair/long as v mode 0400
match = cgroup:/secretfs-test/righty-*
INI
	ctl create secret generic pair -n shop --from-literal=short=abc \
		--from-literal=long=a-much-longer-value >/dev/null
	mount_shared
	[ -d "$T/rootfs" ] || make_rootfs "$T/rootfs" # once, before two containers start
	local loop='for i in $(seq 150); do cat /run/secrets/shop/pair/v; echo; stat -c "%s %a" /run/secrets/shop/pair/v; done' p1 p2
	container lefty --mount "$M:/run/secrets" -- sh -c "$loop" >"$T/lefty.out" &
	p1=$!
	container righty --mount "$M:/run/secrets" -- sh -c "$loop" >"$T/righty.out" &
	p2=$!
	wait $p1 || fail "lefty's container failed"
	wait $p2 || fail "righty's container failed"
	expect_eq "lefty, 150 times" "$(printf '3 444\nabc')" "$(sort -u "$T/lefty.out")"
	expect_eq "righty, 150 times" "$(printf '19 400\na-much-longer-value')" "$(sort -u "$T/righty.out")"
	[ "$(wc -l <"$T/lefty.out")" = 300 ] || fail "lefty read $(wc -l <"$T/lefty.out") lines"
	cat >"$T/pair.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata: {name: pair, namespace: shop}
stringData: {short: abcdef, long: longer}
YAML
	ctl apply -f "$T/pair.yaml" >/dev/null
	expect_eq "lefty after the update" "abcdef 6" \
		"$(container lefty --mount "$M:/run/secrets" -- sh -c 'cat /run/secrets/shop/pair/v; echo " $(stat -c %s /run/secrets/shop/pair/v)"')"
	expect_eq "righty after the update" "longer 6" \
		"$(container righty --mount "$M:/run/secrets" -- sh -c 'cat /run/secrets/shop/pair/v; echo " $(stat -c %s /run/secrets/shop/pair/v)"')"
}

# A caller's threads are its process: a reader opening from two threads
# (not the main one) gets its container's view, and the audit log names the
# process and its cgroup.
test_per_caller_threads_resolve_to_their_process() {
	views_store
	mount_shared
	[ -d "$T/rootfs" ] || make_rootfs "$T/rootfs"
	cp "$BIN/test/readloop-static" "$T/rootfs/bin/readloop"
	container signer --mount "$M:/run/secrets" -- \
		readloop -r 1 -n 50 -t 2 -C /run/secrets/shop/hmac key >/dev/null ||
		fail "a threaded reader in the signer container could not read its key"
	local n
	n=$(grep -c '"cgroup":"/secretfs-test/signer-[^"]*".*"secret":"hmac","key":"key".*"allowed":true' "$T/audit.log")
	[ "$n" -ge 101 ] || fail "$n allowed opens audited for the signer, want 101"
	[ "$(grep '"secret":"hmac"' "$T/audit.log" | grep -o '"pid":[0-9]*' | sort -u | wc -l)" = 1 ] ||
		fail "the reads were not all put down to one process"
	local out
	out=$(container billing --mount "$M:/run/secrets" -- \
		readloop -r 1 -n 5 -t 2 /run/secrets/shop/hmac/key 2>&1) &&
		fail "billing's reader read the signer's key"
	expect_contains "billing" "$out" "No such file or directory"
}

# Item: a process that may create cgroups below its own (systemd delegation,
# a writable cgroup namespace) names a child after another view's pattern.
# Under fnmatch's '*' crossing '/', /secretfs-test/fe-N.scope/signer
# matched the signer's '*signer'; now the shallowest match of the cgroup and
# its ancestors decides, so the child keeps the frontend's view.  The
# delegated subtree belongs to an unprivileged uid, as systemd's would.
test_per_caller_delegated_child_cgroup_keeps_its_view() {
	new_store
	cat >>"$T/secretfs.ini" <<INI
[audit]
path = $T/audit.log
[view dsigner]
secret = shop/hmac
mode = 0444
match = cgroup:/secretfs-test/*signer
[view dfront]
secret = shop/frontend-config
mode = 0444
match = cgroup:/secretfs-test/*.scope
INI
	ctl create namespace shop >/dev/null
	ctl create secret generic hmac -n shop --from-literal=key=THE-HMAC-KEY >/dev/null
	ctl create secret generic frontend-config -n shop --from-literal=url=https://shop.example >/dev/null
	mount_shared
	chmod 0711 "$T" # mktemp's 0700 would stop uid 65534 on the way to the mount
	local root=/sys/fs/cgroup/unified
	[ -f "$root/cgroup.procs" ] || root=/sys/fs/cgroup
	[ -f "$root/cgroup.procs" ] || fail "no cgroup2 hierarchy at /sys/fs/cgroup/unified or /sys/fs/cgroup"
	CG=$root/secretfs-test/fe-$$.scope
	mkdir -p "$CG"
	cleanup_extra() { rmdir "$CG/signer" "$CG" 2>/dev/null; return 0; }
	# delegate it as systemd does: the folder and its process files
	chown 65534:65534 "$CG" "$CG/cgroup.procs" "$CG/cgroup.subtree_control" "$CG/cgroup.threads"
	local attack='
		cat "$2/shop/frontend-config/url" >/dev/null || exit 10
		mkdir "$1/signer" || exit 11
		echo $$ >"$1/signer/cgroup.procs" || exit 12
		grep -q "^0::.*/fe-[0-9]*\.scope/signer\$" /proc/self/cgroup || exit 13
		sleep 1.2 # past the daemon'"'"'s per-thread cache
		cat "$2/shop/hmac/key" 2>/dev/null && exit 20
		ls "$2/shop" || exit 14
		cat "$2/shop/frontend-config/url" || exit 15'
	local out rc=0
	out=$(sh -c 'echo $$ >"$1/cgroup.procs" && exec setpriv --reuid 65534 --regid 65534 --clear-groups sh -c "$2" attack "$1" "$3"' \
		x "$CG" "$attack" "$M" 2>&1) || rc=$?
	case $rc in
	0) ;;
	20) fail "a child cgroup named 'signer' read the signer's key: $out" ;;
	*) fail "the delegated process failed at step $rc: $out" ;;
	esac
	expect_eq "the child sees the frontend's tree" "frontend-config
https://shop.example" "$out"
	grep -q '"view":"dsigner"' "$T/audit.log" && fail "the audit log names the child as the signer: $(cat "$T/audit.log")"
	grep -q '"view":"dfront".*"cgroup":"/secretfs-test/fe-[0-9]*\.scope/signer".*"secret":"frontend-config"' "$T/audit.log" ||
		fail "the child's reads are not audited as the frontend's: $(cat "$T/audit.log")"
	return 0
}

test_required_and_optional_secrets() {
	views_store
	cat >>"$T/secretfs.ini" <<INI
[view needs-missing]
secret = shop/not-there
[view missing-key]
item = shop/tls/tls.pem
INI
	mkdir -p "$T/m1" "$T/m2"
	expect_errno "required secret" \
		'view "needs-missing": secret "not-there" in namespace "shop" not found (required' \
		"$BIN/secretfs" -c "$T/secretfs.ini" -f --view needs-missing "$T/m1"
	expect_errno "required key" 'has no key "tls.pem"' \
		"$BIN/secretfs" -c "$T/secretfs.ini" -f --view missing-key "$T/m1"
	mountpoint -q "$T/m1" && fail "a view with a missing required secret was mounted"
	expect_errno "unknown view" "no [view nope]" "$BIN/secretfs" -c "$T/secretfs.ini" --view nope "$T/m1"
	# optional: absent until it exists, then there
	"$BIN/secretfs" -c "$T/secretfs.ini" --view frontend "$T/m2" || fail "frontend did not mount"
	M=$T/m2
	expect_errno "optional absent" "No such file or directory" ls "$M/shop/feature-flags"
	ctl create secret generic feature-flags -n shop --from-literal=beta=on >/dev/null
	eventually 5 'test "$(cat "$M/shop/feature-flags/beta")" = on' || fail "optional secret did not appear"
	fusermount3 -u "$M"
	# --views mounts the good views and names the bad ones
	mkdir -p "$T/views"
	"$BIN/secretfs" -c "$T/secretfs.ini" --views "$T/views" 2>"$T/views.err" || fail "--views failed"
	# needs-missing keeps that daemon waiting (a pending view): stop it too
	cleanup_extra() {
		for v in "$T"/views/*; do mountpoint -q "$v" && fusermount3 -u "$v"; done
		pid=$(pgrep -f "secretfs -c $T/secretfs.ini --views") && kill "$pid"
		return 0
	}
	mountpoint -q "$T/views/signer" || fail "signer not mounted"
	mountpoint -q "$T/views/needs-missing" && fail "needs-missing mounted"
	expect_contains "named" "$(cat "$T/views.err")" 'view "needs-missing": secret "not-there"'
	return 0
}

# --views DIR holds allow_other mounts: a host account with a view's uid
# (1000 here, the signer's) must not reach them, so DIR is made private.
test_views_dir_is_private() {
	views_store
	chmod 0711 "$T" # the way down to DIR is open: DIR itself must stop them
	start_fs "$T/vd/signer" --views "$T/vd"
	cleanup_extra() { for v in "$T"/vd/* "$T"/vd2/*; do mountpoint -q "$v" && fusermount3 -u "$v"; done; return 0; }
	expect_eq "created private" "700 0" "$(stat -c '%a %u' "$T/vd")"
	cat "$T/vd/signer/shop/hmac/key" >/dev/null || fail "root cannot read the view"
	expect_errno "a host account with the view's uid" "Permission denied" \
		setpriv --reuid 1000 --regid 1000 --clear-groups cat "$T/vd/signer/shop/hmac/key"
	cleanup_extra
	unmount_fs
	# found open: made private, with a warning
	mkdir -m 0755 "$T/vd2"
	start_fs "$T/vd2/signer" --views "$T/vd2"
	expect_eq "tightened" "700" "$(stat -c %a "$T/vd2")"
	expect_contains "warned" "$(cat "$T/fs.log")" "'$T/vd2' was mode 0755; made it 0700"
	cleanup_extra
	unmount_fs
	# someone else's folder, or a symbolic link: refused
	mkdir -m 0700 "$T/vd3"
	chown 1000 "$T/vd3"
	expect_errno "owned by another" "is owned by uid 1000" "$BIN/secretfs" -c "$T/secretfs.ini" -f --views "$T/vd3"
	ln -s "$T/vd2" "$T/vd4"
	expect_errno "a symbolic link" "is not a folder (or is a symbolic link)" \
		"$BIN/secretfs" -c "$T/secretfs.ini" -f --views "$T/vd4"
	return 0
}

# [view NAME] is the daemon's section: secretfs refuses a bad one, naming
# the file and line (run at a mount point that does not exist, so that a
# file it wrongly accepted fails on another message instead of mounting)
test_view_config_errors() {
	new_store
	fs_check() { "$BIN/secretfs" -c "$T/secretfs.ini" "$T/no-such-mountpoint"; }
	printf '[view a]\nsecret = shop\n' >>"$T/secretfs.ini"
	expect_errno "bad ref" "secret = shop: expected NAMESPACE/SECRET or NAMESPACE/*" fs_check
	new_store_ini() { sed -i '/^\[view/,$d' "$T/secretfs.ini"; printf "$1" >>"$T/secretfs.ini"; }
	new_store_ini '[view a]\nsecret = Shop/x\n'
	expect_errno "bad ns" 'namespace "Shop"' fs_check
	new_store_ini '[view a]\nitem = shop/tls/tls.crt as a/b\n'
	expect_errno "bad file" 'file name "a/b"' fs_check
	new_store_ini '[view a]\nmatch = pid:1\n'
	expect_errno "bad match" "match: expected cgroup:/PATH" fs_check
	new_store_ini '[view a]\nsecret = shop/x\nmatch = cgroup:/[\n'
	expect_errno "invalid pattern" "secretfs.ini:6: [view a] match = cgroup:/[: '[' without its closing ']'" fs_check
	new_store_ini '[view a]\nmatch = cgroup:/m/*signer*\n[view b]\nmatch = cgroup:/m/*frontend*\n'
	expect_errno "overlapping patterns" "[view b] match = cgroup:/m/*frontend* and [view a]'s cgroup:/m/*signer* (line 5) can select the same cgroup" fs_check
	new_store_ini '[view a\nsecret = shop/x\n'
	expect_errno "unclosed header" "section header '[view a' lacks its closing ']'" fs_check
	new_store_ini '[view a]\ncolour = red\n'
	expect_errno "unknown key" "unknown key 'colour' in section [view a]" fs_check
	new_store_ini '[view]\n'
	expect_errno "no name" "[view] needs a name" fs_check
	new_store_ini '[view a]\n[view a]\n'
	expect_errno "twice" "[view a] is defined twice" fs_check
	# secretctl reads only the shared sections and skips the daemon's...
	new_store_ini '[view a]\nsecret = shop\n[mount]\nmode = 0999\n'
	ctl get secrets >/dev/null || fail "secretctl refused the daemon's sections"
	expect_errno "secretfs still refuses it" "secretfs.ini:5: secret = shop: expected" fs_check
	# ...but still refuses a section nobody reads
	new_store_ini '[vieww a]\n'
	expect_errno "unknown section" "unknown section [vieww a]" ctl get secrets
}

test_oci_hook_mounts_the_view() {
	views_store
	local hook="$BIN/secretfs-oci-hook -c $T/secretfs.ini --state-dir $T/oci"
	container signer --annotation io.secretfs.view=signer \
		--hook "createRuntime=$hook" --hook "poststop=$hook" -- \
		cat /run/secrets/shop/hmac/key >"$T/got.bin" || fail "container with the hook failed"
	cmp "$T/hmac.bin" "$T/got.bin" || fail "read different bytes through the hook's mount"
	# its host folder holds allow_other mounts: private (conf/privdir.h)
	expect_eq "state folder" "700" "$(stat -c %a "$T/oci")"
	# a target of our choosing, and the rest of the view invisible there too
	local out
	out=$(container frontend --annotation io.secretfs.view=frontend \
		--annotation io.secretfs.target=/etc/app/secrets \
		--hook "createRuntime=$hook" --hook "poststop=$hook" -- \
		sh -c 'find /etc/app/secrets | sort; cat /etc/app/secrets/shop/hmac/key 2>&1') || true
	expect_contains "custom target" "$out" "/etc/app/secrets/shop/tls/cert.pem"
	expect_contains "hidden there too" "$out" "No such file or directory"
	# poststop took the host side down: nothing left mounted, no daemon left
	awk -v d="$T/oci" 'index($2, d) == 1 {print "left mounted: " $2; bad = 1} END {exit bad}' /proc/mounts ||
		fail "the hook left mounts behind"
	eventually 5 '! pgrep -f "secretfs -c $T/secretfs.ini --view" >/dev/null' ||
		fail "a view daemon outlived its container"
	# no annotation: the hook does nothing and the container runs
	container plain --hook "createRuntime=$hook" -- true || fail "hook broke an unannotated container"
	return 0
}

test_oci_hook_refuses_missing_view_or_secret() {
	views_store
	printf '[view broken]\nsecret = shop/not-there\nmatch = cgroup:/secretfs-test/broken-*\n' >>"$T/secretfs.ini"
	local hook="$BIN/secretfs-oci-hook -c $T/secretfs.ini --state-dir $T/oci" out
	out=$(container broken --annotation io.secretfs.view=broken --hook "createRuntime=$hook" -- \
		echo started 2>&1) && fail "container started without its required secret"
	# runc quotes the hook's stderr: match around the quotes
	expect_contains "required secret named" "$out" 'not-there'
	expect_contains "required secret named" "$out" 'not found (required'
	case "$out" in *started*) fail "the container ran" ;; esac
	out=$(container nosuch --annotation io.secretfs.view=nosuch --hook "createRuntime=$hook" -- \
		echo started 2>&1) && fail "container started with an unknown view"
	expect_contains "unknown view named" "$out" "no [view nosuch]"
	return 0
}

# Whoever sets annotations does not choose the view: the hook gives a view
# only to a container whose cgroup (where the runtime put it) selects it.
test_oci_hook_refuses_a_view_not_for_the_container() {
	views_store
	local hook="$BIN/secretfs-oci-hook -c $T/secretfs.ini --state-dir $T/oci" out
	out=$(container frontend --annotation io.secretfs.view=signer \
		--hook "createRuntime=$hook" --hook "poststop=$hook" -- \
		sh -c 'echo started; cat /run/secrets/shop/hmac/key' 2>&1) &&
		fail "the frontend's container started with the signer's view: $out"
	expect_contains "named" "$out" 'view \"signer\" is not for this container'
	expect_contains "its cgroup" "$out" "/secretfs-test/frontend-"
	case "$out" in *started*) fail "the container ran" ;; esac
	out=$(container stranger --annotation io.secretfs.view=billing \
		--hook "createRuntime=$hook" -- echo started 2>&1) &&
		fail "a container matching no view started with one"
	expect_contains "no view" "$out" "selects no view"
	# nothing was mounted for them, and the state folder is private
	awk -v d="$T/oci" 'index($2, d) == 1 {print "left mounted: " $2; bad = 1} END {exit bad}' /proc/mounts ||
		fail "the hook left mounts behind"
	pgrep -f "secretfs -c $T/secretfs.ini --view" >/dev/null && fail "a view daemon was started"
	return 0
}

test_per_caller_checks_modes_itself() {
	views_store
	mount_shared
	grep -q default_permissions /proc/mounts && awk -v m="$M" '$2 == m' /proc/mounts | grep -q default_permissions &&
		fail "per-caller mount uses default_permissions"
	container signer --user 1000 --mount "$M:/run/secrets" -- \
		cat /run/secrets/shop/hmac/key >/dev/null || fail "uid 1000 could not read its 0440 key"
	local out
	out=$(container signer --user 2000 --mount "$M:/run/secrets" -- \
		cat /run/secrets/shop/hmac/key 2>&1) && fail "uid 2000 read a 0440 file of uid 1000"
	expect_contains "uid 2000" "$out" "Permission denied"
	out=$(container signer --user 2000 --mount "$M:/run/secrets" -- ls /run/secrets/shop 2>&1) &&
		fail "uid 2000 listed a 0550 folder of uid 1000"
	expect_contains "uid 2000 folder" "$out" "Permission denied"
	# a supplementary group counts, as with the kernel's checks (fsGroup)
	out=$(container signer --user 2000 --groups 3000,1000 --mount "$M:/run/secrets" -- \
		cat /run/secrets/shop/hmac/key | od -An -tx1) ||
		fail "uid 2000 in supplementary group 1000 could not read a 0440 file of gid 1000"
	expect_eq "read through a supplementary group" "$(od -An -tx1 <"$T/hmac.bin")" "$out"
	out=$(container signer --user 2000 --groups 3000 --mount "$M:/run/secrets" -- \
		cat /run/secrets/shop/hmac/key 2>&1) && fail "uid 2000 in groups 2000,3000 read a 0440 file of gid 1000"
	expect_contains "other groups" "$out" "Permission denied"
	# the per-view mount (the kernel checks) agrees
	mount_views
	cleanup_extra() { cleanup_views; }
	container signer --user 2000 --groups 1000 --mount "$T/views/signer:/run/secrets" -- \
		cat /run/secrets/shop/hmac/key >/dev/null || fail "per-view: supplementary group refused"
}

# Folders let through what their files grant: a projected 0444 key is
# readable by any uid, as in a kubelet volume, though the view's default
# mode (0400) keeps its neighbour to the owner.  The per-view mount (the
# kernel checks) and the per-caller mount (secretfs checks) agree.
test_folders_let_through_what_files_grant() {
	views_store
	cat >>"$T/secretfs.ini" <<INI
[view mixed]
item = shop/tls/tls.crt as cert.pem mode 0444
item = shop/tls/tls.key as key.pem
secret = shop/hmac
match = cgroup:/secretfs-test/mixed-*
INI
	mkdir -p "$T/mixed" "$T/shared"
	start_fs "$T/mixed" --view mixed "$T/mixed"
	local pid1=$FS_PID out mp
	M=$T/shared
	start_fs "$M" --per-caller "$M"
	cleanup_extra() { ! mountpoint -q "$T/mixed" || fusermount3 -u "$T/mixed"; }
	expect_eq "folder modes" "555 555 555 500" \
		"$(stat -c %a "$T/mixed" "$T/mixed/shop" "$T/mixed/shop/tls" "$T/mixed/shop/hmac" | xargs)"
	for mp in "$T/mixed" "$M"; do
		out=$(container mixed --user 2000 --mount "$mp:/run/secrets" -- sh -c '
			cat /run/secrets/shop/tls/cert.pem; echo; ls /run/secrets/shop/tls | xargs
			cat /run/secrets/shop/tls/key.pem 2>&1; ls /run/secrets/shop/hmac 2>&1' 2>&1) || true
		expect_contains "$mp: a 0444 file read by uid 2000" "$out" "CERTIFICATE"
		expect_contains "$mp: its folder listed" "$out" "cert.pem key.pem"
		expect_contains "$mp: a 0400 file refused" "$out" "can't open '/run/secrets/shop/tls/key.pem': Permission denied"
		expect_contains "$mp: a 0500 folder refused" "$out" "can't open '/run/secrets/shop/hmac': Permission denied"
		case $out in *PRIVATE-KEY*) fail "$mp: uid 2000 read a 0400 file of uid 0" ;; esac
	done
	fusermount3 -u "$T/mixed"
	wait "$pid1" || fail "the view's daemon exited with status $?"
}

# A view whose required secret or key is missing waits, as a pod does:
# --views mounts it and the per-caller mount shows it to its callers once
# everything it requires exists; 'secretctl status' lists it meanwhile, and
# deleting a secret a running view requires warns.
test_pending_views_come_up_when_their_secrets_appear() {
	views_store
	cat >>"$T/secretfs.ini" <<INI
[view waits]
secret = shop/later
item = shop/later2/k
match = cgroup:/secretfs-test/waits-*
INI
	local out t0 t1 pc
	mkdir -p "$T/views" "$T/shared"
	start_fs "$T/views/signer" --views "$T/views"
	M=$T/views/signer
	# in the foreground, so that its log (and any sanitizer report) stays ours
	"$BIN/secretfs" -c "$T/secretfs.ini" -f --per-caller "$T/shared" 2>"$T/pc.log" &
	pc=$!
	eventually 5 'mountpoint -q "$T/shared"' || fail "the per-caller mount did not come up: $(cat "$T/pc.log")"
	cleanup_extra() {
		cleanup_views
		for v in "$T/views/waits" "$T/shared"; do mountpoint -q "$v" && fusermount3 -u "$v"; done
		kill "$FS_PID" # still waiting, if the test failed before waits came up
		return 0
	}
	mountpoint -q "$T/views/waits" && fail "waits was mounted before its secret exists"
	expect_contains "log says pending" "$(cat "$T/fs.log")" \
		'view "waits": secret "later" in namespace "shop" not found (required; use '"'"'optional = shop/later'"'"' to come up without it): pending'
	out=$(ctl status)
	expect_contains "status: pending" "$out" "Pending views"
	# a missing secret is named, not each key wanted of it
	expect_eq "status: both daemons, both missing" 2 "$(echo "$out" | grep -c "waits .*shop/later, shop/later2$")"
	out=$(container waits-a --mount "$T/shared:/s" -- cat /s/shop/later/v 2>&1) &&
		fail "a pending view's caller read [$out]"
	# one of two: still pending, the rest named (the key, the secret there)
	ctl create secret generic later -n shop --from-literal=v=later-value >/dev/null
	ctl create secret generic later2 -n shop --from-literal=other=x >/dev/null
	eventually 2 'ctl status | grep -q "waits .* shop/later2/k$"' || fail "status: $(ctl status)"
	mountpoint -q "$T/views/waits" && fail "waits was mounted with shop/later2/k missing"
	# both: up within the propagation time
	t0=${EPOCHREALTIME/./}
	ctl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata: {name: later2, namespace: shop}
stringData: {k: key-value}
YAML
	eventually 2 'mountpoint -q "$T/views/waits"' || fail "waits not mounted 2 s after its secrets: $(cat "$T/fs.log")"
	t1=${EPOCHREALTIME/./}
	[ $(((t1 - t0) / 1000)) -lt 1000 ] || fail "waits took $(((t1 - t0) / 1000)) ms to mount"
	echo "    pending view mounted $(((t1 - t0) / 1000)) ms after its secret was created"
	expect_eq "the view's value" later-value "$(cat "$T/views/waits/shop/later/v")"
	expect_eq "its projected key" key-value "$(cat "$T/views/waits/shop/later2/k")"
	eventually 2 '! ctl status | grep -q "Pending views"' || fail "still pending: $(ctl status)"
	expect_contains "status: mounted" "$(ctl status)" "$T/views/waits"
	out=$(container waits-b --mount "$T/shared:/s" -- cat /s/shop/later/v) ||
		fail "the per-caller mount still hides the view"
	expect_eq "per-caller value" later-value "$out"
	# deleting what running views require: done, with a warning naming them
	out=$(ctl delete secret later -n shop 2>&1) || fail "delete failed: $out"
	expect_contains "delete warns" "$out" \
		"Warning: secret \"later\" in namespace \"shop\" was required by running views \"waits\""
	expect_contains "per-caller daemon named" "$out" "(secretfs $pc)"
	expect_contains "deleted" "$out" 'secret "later" deleted'
	out=$(ctl delete secret db -n billing 2>&1)
	case $out in *Warning*) fail "a secret no view names by name warned: $out" ;; esac
	fusermount3 -u "$T/views/waits"
	fusermount3 -u "$T/shared"
	wait "$pc" || fail "the per-caller daemon exited with status $?: $(tail -5 "$T/pc.log")"
	if grep -q "Sanitizer\|runtime error" "$T/pc.log"; then
		fail "sanitizer report from the per-caller daemon: $(head -40 "$T/pc.log")"
	fi
	return 0
}
