# test_install.sh - 'make install' into a temporary tree: the installed
# programs run and serve a store, the man pages render, the completion
# loads and completes, the systemd units verify and their commands start
# and stop a mount, and 'make uninstall' takes it all away again.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# install_to PREFIX [MAKE ARGS...]: the binaries under test ($BIN), not a rebuild
install_to() {
	local prefix=$1
	shift
	make -s -C "$ROOT" -o all install BIN="$BIN" PREFIX="$prefix" "$@" >"$T/install.log" 2>&1 ||
		fail "make install failed: $(cat "$T/install.log")"
}

test_install_layout_and_uninstall() {
	local d=$T/dest f
	install_to /usr DESTDIR="$d"
	for f in usr/bin/secretctl usr/sbin/secretfs usr/sbin/secretfs-oci-hook \
		usr/sbin/secretfs-apiserver; do
		[ -x "$d/$f" ] || fail "$f is not installed executable"
	done
	for f in usr/share/man/man1/secretctl.1 usr/share/man/man5/secretfs.ini.5 \
		usr/share/man/man8/secretfs.8 usr/share/bash-completion/completions/secretctl \
		usr/lib/systemd/system/secretfs.service usr/lib/systemd/system/secretfs@.service \
		usr/share/man/man8/secretfs-apiserver.8 usr/lib/systemd/system/secretfs-apiserver.service \
		usr/share/doc/secretfs/secretfs.ini.sample etc/secretfs/secretfs.ini; do
		[ -f "$d/$f" ] || fail "$f is not installed"
	done
	expect_eq "config mode" "640" "$(stat -c %a "$d/etc/secretfs/secretfs.ini")"
	expect_eq "units point at PREFIX" \
		"ExecStart=/usr/sbin/secretfs -c /etc/secretfs/secretfs.ini --views /run/secretfs/views" \
		"$(grep ^ExecStart= "$d/usr/lib/systemd/system/secretfs.service")"
	expect_eq "podman's driver points at PREFIX" 'lookup = "/usr/bin/secretctl podman-driver lookup"' \
		"$(grep '^lookup =' "$d/etc/containers/secretfs.conf")"

	# an operator's configuration survives a reinstall and an uninstall
	echo "; edited" >>"$d/etc/secretfs/secretfs.ini"
	install_to /usr DESTDIR="$d"
	expect_eq "config kept on reinstall" "; edited" "$(tail -1 "$d/etc/secretfs/secretfs.ini")"
	make -s -C "$ROOT" uninstall PREFIX=/usr DESTDIR="$d" >/dev/null || fail "make uninstall failed"
	expect_eq "left after uninstall" "$d/etc/secretfs/secretfs.ini" "$(find "$d" -type f)"
}

# PREFIX and SYSCONFDIR hold everywhere: no installed text file names
# /usr/local or /etc/secretfs (the units, the configuration's key_file, the
# OCI hook's JSON, the man pages, the completion, the README).
test_install_honours_prefix_and_sysconfdir() {
	local d=$T/dest stray
	install_to /opt/sfs DESTDIR="$d" SYSCONFDIR=/opt/sfs/etc
	stray=$(grep -rIlP '/usr/local|(?<!/opt/sfs)/etc/secretfs' "$d") || true
	[ -z "$stray" ] || fail "installed files name /usr/local or /etc/secretfs: $stray: $(grep -rInP '/usr/local|(?<!/opt/sfs)/etc/secretfs' "$d" | head -5)"
	expect_eq "key_file" "key_file = /opt/sfs/etc/secretfs/master.key" \
		"$(grep '^key_file' "$d/opt/sfs/etc/secretfs/secretfs.ini")"
	expect_eq "the OCI hook's program" '"path": "/opt/sfs/sbin/secretfs-oci-hook",' \
		"$(grep -o '"path": .*' "$d/opt/sfs/share/doc/secretfs/secretfs-oci-hook.json")"
	expect_contains "the OCI hook's config" "$(cat "$d/opt/sfs/share/doc/secretfs/runc-hooks.json")" \
		'"--config", "/opt/sfs/etc/secretfs/secretfs.ini", "createRuntime"'
	expect_eq "the unit" "ExecStart=/opt/sfs/sbin/secretfs -c /opt/sfs/etc/secretfs/secretfs.ini --views /run/secretfs/views" \
		"$(grep ^ExecStart= "$d/opt/sfs/lib/systemd/system/secretfs.service")"
	expect_contains "the man page" "$(cat "$d/opt/sfs/share/man/man8/secretfs.8")" "/opt/sfs/etc/secretfs/secretfs.ini"
}

# The programs' default configuration follows SYSCONFDIR: a build with
# another one (only what compiles the paths in is rebuilt, from a copy of
# the build under test) reads its file there without -c.
test_built_default_config_follows_sysconfdir() {
	local build san= out
	case $BIN in
	"$ROOT/bin") build=release ;;
	"$ROOT/bin/asan") build=asan san=1 ;;
	"$ROOT/bin/tsan") build=tsan san=thread ;;
	*) fail "BIN=$BIN is none of $ROOT/bin, bin/asan, bin/tsan: no build tree to rebuild from" ;;
	esac
	cp -a "$ROOT/build/$build" "$T/build"
	# secretctl alone: secretfs and the hook read the path through the same
	# conf/conf.o
	make -s -C "$ROOT" SAN=$san BUILD="$T/build" BIN="$T/bin" SYSCONFDIR="$T/etc" \
		"$T/bin/secretctl" >"$T/make.log" 2>&1 || fail "rebuild failed: $(cat "$T/make.log")"
	expect_contains "secretctl's help" "$("$T/bin/secretctl" --help)" "else $T/etc/secretfs/secretfs.ini)"
	mkdir -p "$T/etc/secretfs"
	printf '[store]\npath = %s/store/store.db\nkey_file = %s/store/master.key\n' "$T" "$T" \
		>"$T/etc/secretfs/secretfs.ini"
	out=$(env -u SECRETFS_CONFIG "$T/bin/secretctl" init) || fail "init with the built-in path failed"
	expect_contains "the store of SYSCONFDIR's configuration" "$out" "$T/store/store.db"
	[ -f "$T/store/master.key" ] || fail "no key file where SYSCONFDIR's configuration says"
}

# make run installs what building and running need, and no test tool;
# make check installs those too.  Every library the Makefile builds against
# comes from a package of the --run list.
test_make_run_installs_no_test_tools() {
	local run all pkg pc pcs owner owners pcfiles=()
	# MAKE=true: the recipes' own make calls are printed, not run
	expect_contains "make run" "$(make -s -n -C "$ROOT" run MAKE=true)" "tools/install-deps.sh --run"
	case $(make -s -n -C "$ROOT" check MAKE=true) in
	*"install-deps.sh --run"*) fail "make check installs only the run list" ;;
	*install-deps.sh*) ;;
	*) fail "make check installs nothing" ;;
	esac
	run=$'\n'$("$ROOT/tools/install-deps.sh" --run --list)$'\n'
	all=$'\n'$("$ROOT/tools/install-deps.sh" --list)$'\n'
	for pkg in clang valgrind etcd-server etcd-client runc busybox-static libcmocka-dev \
		python3 man-db systemd dash; do
		case $run in *$'\n'"$pkg"$'\n'*) fail "make run installs the test tool $pkg" ;; esac
		case $all in *$'\n'"$pkg"$'\n'*) ;; *) fail "make check does not install $pkg" ;; esac
	done
	for pkg in gcc make pkg-config fuse3; do
		case $run in *$'\n'"$pkg"$'\n'*) ;; *) fail "make run does not install $pkg" ;; esac
	done
	# the Makefile's PKGS, each .pc file's package (one dpkg -S: it is slow)
	pcs=$(sed -n 's/^PKGS *:= *//p' "$ROOT/Makefile")
	[ -n "$pcs" ] || fail "no PKGS line in the Makefile"
	for pc in $pcs; do
		pcfiles+=("$(pkg-config --variable=pcfiledir "$pc")/$pc.pc")
	done
	owners=$(dpkg -S "${pcfiles[@]}" | cut -d: -f1 | sort -u)
	[ "$(echo "$owners" | wc -l)" -ge 8 ] || fail "packages of $pcs: $owners"
	for owner in $owners; do
		case $run in *$'\n'"$owner"$'\n'*) ;; *) fail "make run does not install $owner" ;; esac
	done
}

test_installed_programs_serve_a_store() {
	local p=$T/prefix
	install_to "$p" SYSCONFDIR="$p/etc"
	expect_contains "version" "$("$p/sbin/secretfs" --version)" "secretfs 0."
	expect_contains "help" "$("$p/bin/secretctl" --help)" "secretctl status"
	new_store
	"$p/bin/secretctl" -c "$T/secretfs.ini" create secret generic db \
		--from-literal=password=s3cr3t >/dev/null || fail "installed secretctl cannot create"
	BIN=$p/sbin mount_fs
	expect_eq "served by the installed daemon" "s3cr3t" "$(cat "$M/default/db/password")"
	expect_contains "status sees the mount" "$("$p/bin/secretctl" -c "$T/secretfs.ini" status)" "$M"
}

test_man_pages_render_without_warnings() {
	local p=$T/prefix page out
	install_to "$p" SYSCONFDIR="$p/etc"
	for page in man1/secretctl.1 man5/secretfs.ini.5 man8/secretfs.8 man8/secretfs-apiserver.8; do
		out=$(MANWIDTH=80 man --warnings -l "$p/share/man/$page" 2>"$T/man.err") ||
			fail "man -l $page failed: $(cat "$T/man.err")"
		[ -s "$T/man.err" ] && fail "man -l $page warns: $(cat "$T/man.err")"
		expect_contains "$page has a NAME" "$out" "NAME"
		expect_contains "$page has a SYNOPSIS or DESCRIPTION" "$out" "DESCRIPTION"
	done
	# every command in 'secretctl --help' is in its man page
	out=$(MANWIDTH=200 man -l "$p/share/man/man1/secretctl.1" 2>/dev/null)
	for page in init create get describe delete apply replace exec env edit status rotate-key rekey watch; do
		expect_contains "secretctl(1) documents $page" "$out" "$page"
	done
}

# complete 'LINE' -> the candidates bash completion offers, one per line
complete_line() {
	local comp=$1 line=$2
	PATH=$T/prefix/bin:$PATH SECRETFS_CONFIG=$T/secretfs.ini bash -c '
		source /usr/share/bash-completion/bash_completion
		source "$1"
		line=$2
		read -ra COMP_WORDS <<<"$line"
		[[ $line == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
		COMP_LINE=$line
		COMP_POINT=${#line}
		_secretctl
		printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$comp" "$line"
}

test_bash_completion_loads_and_completes() {
	local p=$T/prefix comp
	[ -f /usr/share/bash-completion/bash_completion ] ||
		fail "bash-completion is not installed (make deps installs it)"
	install_to "$p" SYSCONFDIR="$p/etc"
	comp=$p/share/bash-completion/completions/secretctl
	expect_eq "registered" "complete -F _secretctl secretctl" \
		"$(bash -c 'source /usr/share/bash-completion/bash_completion; source "$1"; complete -p secretctl' _ "$comp")"
	new_store
	ctl create namespace shop >/dev/null
	ctl create secret generic hmac -n shop --from-literal=k=v >/dev/null
	ctl create secret generic tls-a -n shop --from-literal=k=v >/dev/null
	ctl create secret generic other --from-literal=k=v >/dev/null
	expect_contains "commands" "$(complete_line "$comp" "secretctl ")" "rotate-key"
	expect_eq "resources" "events
keys
namespaces
secrets" "$(complete_line "$comp" "secretctl get ")"
	expect_eq "namespaces after -n" "default
shop" "$(complete_line "$comp" "secretctl get secrets -n ")"
	expect_eq "secrets of the -n namespace" "hmac
tls-a" "$(complete_line "$comp" "secretctl -n shop describe secret ")"
	expect_eq "prefix" "tls-a" "$(complete_line "$comp" "secretctl get secret -n shop t")"
	expect_eq "default namespace" "other" "$(complete_line "$comp" "secretctl delete secret ")"
	expect_contains "flags" "$(complete_line "$comp" "secretctl create secret generic x --from")" "--from-literal="
	expect_eq "secret kinds" "docker-registry
generic
tls" "$(complete_line "$comp" "secretctl create secret ")"
}

# Every flag secretctl takes (tools/ctl/flags.c, as each command's --help
# lists it) is in secretctl(1) and offered by the completion of that command.
test_every_flag_documented_and_completed() {
	local p=$T/prefix comp man words flag flags offered n=0
	install_to "$p" SYSCONFDIR="$p/etc"
	comp=$p/share/bash-completion/completions/secretctl
	man=$(MANWIDTH=200 man -l "$p/share/man/man1/secretctl.1" 2>/dev/null)
	new_store
	# the command words of each usage line: "create secret generic", "apply"...
	while read -r words; do
		# shellcheck disable=SC2086
		flags=$("$p/bin/secretctl" $words --help | sed -n '/^Flags:$/,/^$/s/^ *\(-., \)\{0,1\}\(--[a-z-]*\).*/\2/p')
		offered=$'\n'$(complete_line "$comp" "secretctl $words x --")$'\n'
		for flag in $flags; do
			expect_contains "secretctl(1) documents $flag" "$man" "$flag"
			case $offered in
			*$'\n'"$flag"$'\n'* | *$'\n'"$flag="$'\n'*) ;;
			*) fail "completion of 'secretctl $words x --' does not offer $flag" ;;
			esac
			n=$((n + 1))
		done
	done < <("$p/bin/secretctl" --help | awk '/^  secretctl / {
		w = ""; for (i = 2; i <= NF && $i ~ /^[a-z][a-z-]*$/; i++) w = w (w ? " " : "") $i
		print w }')
	[ "$n" -ge 30 ] || fail "only $n flags found in the commands' --help"
}

# The units' commands, run as systemd would run them: ExecStartPre and
# ExecStart start a daemon that forks and serves the view; the stop
# (SIGTERM to the main process, KillMode=mixed) leaves no mount behind.
test_systemd_units_verify_and_start_a_view() {
	local p=$T/prefix unit view=e2e$$ cmd pid
	install_to "$p" SYSCONFDIR="$p/etc"
	command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (make deps installs systemd)"
	MANPATH=$p/share/man systemd-analyze verify "$p/lib/systemd/system/secretfs.service" \
		"$p/lib/systemd/system/secretfs@.service" \
		"$p/lib/systemd/system/secretfs-apiserver.service" >"$T/verify.log" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$T/verify.log")"
	[ -s "$T/verify.log" ] && fail "systemd-analyze verify warns: $(cat "$T/verify.log")"

	new_store
	cp "$T/secretfs.ini" "$p/etc/secretfs/secretfs.ini"
	cat >>"$p/etc/secretfs/secretfs.ini" <<INI
[view $view]
secret = default/db
INI
	ctl create secret generic db --from-literal=password=s3cr3t >/dev/null
	ctl create secret generic hidden --from-literal=password=other >/dev/null
	unit=$p/lib/systemd/system/secretfs@.service
	eval "cleanup_extra() { fusermount3 -uz /run/secretfs/$view; rmdir /run/secretfs/$view; }"
	# a stale mount from a crashed run does not block the start
	mkdir -p "/run/secretfs/$view"
	while IFS= read -r cmd; do
		cmd=${cmd#*=}
		cmd=${cmd#-}
		sh -c "${cmd//%i/$view}" || fail "unit command failed: $cmd"
	done < <(grep -E '^ExecStart(Pre)?=' "$unit")
	eventually 5 'mountpoint -q /run/secretfs/$view' || fail "the unit's ExecStart did not mount"
	expect_eq "the view" "db" "$(ls "/run/secretfs/$view/default")"
	expect_eq "a value" "s3cr3t" "$(cat "/run/secretfs/$view/default/db/password")"
	pid=$(ctl status | awk -v m="/run/secretfs/$view" '$1 == m && $2 == v {print $4}' v="$view")
	[ -n "$pid" ] || fail "secretctl status does not list the view: $(ctl status)"
	kill -TERM "$pid"
	eventually 5 '! kill -0 $pid' || fail "the daemon did not stop on SIGTERM"
	mountpoint -q "/run/secretfs/$view" && fail "the mount outlived the service"
	[ -e "/run/secretfs/status/$pid.json" ] && fail "the status file outlived the service"
	return 0
}

# Daemonized, secretfs logs to syslog: run it in a private mount namespace
# whose /dev has a /dev/log that this test listens on, at -o debug, and read
# what it said (and that no value is in it).
test_daemon_logs_to_syslog_at_the_chosen_level() {
	new_store
	ctl create secret generic db --from-literal=password=Syslog-Canary-7 >/dev/null
	mkdir -p "$T/mnt"
	unshare -m bash -euc '
		T=$1 BIN=$2
		mount --make-rprivate /
		mount -t tmpfs -o mode=0755 tmpfs /dev
		mknod -m 0666 /dev/fuse c 10 229
		mknod -m 0666 /dev/null c 1 3
		mknod -m 0666 /dev/urandom c 1 9
		python3 -c "
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(\"/dev/log\")
open(sys.argv[1] + \".ready\", \"w\").close()
with open(sys.argv[1], \"ab\", buffering=0) as out:
    while True:
        out.write(s.recv(65536) + b\"\\n\")
" "$T/syslog" &
		listener=$!
		while [ ! -e "$T/syslog.ready" ]; do sleep 0.05; done
		"$BIN/secretfs" -c "$T/secretfs.ini" -o debug "$T/mnt"
		mountpoint -q "$T/mnt"
		cat "$T/mnt/default/db/password" >"$T/read"
		"$BIN/secretctl" -c "$T/secretfs.ini" create secret generic b --from-literal=k=Syslog-Canary-8 >/dev/null
		for _ in $(seq 40); do grep -q "revision" "$T/syslog" && break; sleep 0.05; done
		fusermount3 -u "$T/mnt"
		sleep 0.3
		kill $listener
	' _ "$T" "$BIN" || fail "the namespace run failed"
	expect_eq "served while daemonized" "Syslog-Canary-7" "$(cat "$T/read")"
	expect_contains "an info line via syslog" "$(cat "$T/syslog")" "secretfs["
	expect_contains "what it serves" "$(cat "$T/syslog")" "serving the whole store at '$T/mnt'"
	expect_contains "debug lines at -o debug" "$(cat "$T/syslog")" "revision"
	expect_contains "the stop" "$(cat "$T/syslog")" "unmounting"
	grep -q "Syslog-Canary" "$T/syslog" && fail "a value reached the log"
	return 0
}
