# test_cluster.sh - cluster mode: a real three-member etcd on loopback
# (Debian's etcd-server), and secretfs nodes each with its own store, mount
# and secretctl, all pointed at it.

ETCD_CLIENTS=http://127.0.0.1:23791,http://127.0.0.1:23792,http://127.0.0.1:23793
PREFIX=/secretfs-test/

etcdctl_() {
	ETCDCTL_API=3 etcdctl --command-timeout=3s \
		--endpoints 127.0.0.1:23791,127.0.0.1:23792,127.0.0.1:23793 "$@"
}

# etcd_member N: start member N (1-3); a data folder it had is reused
etcd_member() {
	local i=$1
	etcd --name "m$i" --data-dir "$T/etcd/m$i" \
		--listen-client-urls "http://127.0.0.1:2379$i" \
		--advertise-client-urls "http://127.0.0.1:2379$i" \
		--listen-peer-urls "http://127.0.0.1:2380$i" \
		--initial-advertise-peer-urls "http://127.0.0.1:2380$i" \
		--initial-cluster "m1=http://127.0.0.1:23801,m2=http://127.0.0.1:23802,m3=http://127.0.0.1:23803" \
		--initial-cluster-state new --initial-cluster-token "secretfs-test-$$" \
		>>"$T/etcd/m$i.log" 2>&1 &
	echo $! >"$T/etcd/m$i.pid"
	track $! etcd
}

etcd_healthy() {
	etcdctl_ endpoint health >/dev/null 2>&1
}

# etcd_ports: the members listen on fixed ports, so the cluster tests of
# other checkouts on this machine wait their turn (the lock is held by this
# test's shell and its etcd processes until they end)
etcd_ports() {
	[ -n "${ETCD_LOCK:-}" ] && return 0
	exec {ETCD_LOCK}>/tmp/secretfs-e2e-etcd.lock
	flock -w 900 "$ETCD_LOCK" || fail "another checkout's cluster tests held etcd's ports for 15 minutes"
}

etcd_up() {
	etcd_ports
	command -v etcd >/dev/null || fail "etcd is missing (make deps installs etcd-server)"
	command -v etcdctl >/dev/null || fail "etcdctl is missing (make deps installs etcd-client)"
	mkdir -p "$T/etcd"
	for i in 1 2 3; do
		etcd_member "$i"
	done
	eventually 15 etcd_healthy || fail "etcd did not come up: $(tail -3 "$T/etcd/m1.log")"
}

# etcd_stop N [SIGNAL]
etcd_stop() {
	local pid
	pid=$(cat "$T/etcd/m$1.pid")
	kill "-${2:-TERM}" "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null || true
}

# The member that leads now (1-3).
etcd_leader() {
	etcdctl_ endpoint status -w json | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    s = e["Status"]
    if s["header"]["member_id"] == s["leader"]:
        print(e["Endpoint"][-1])
        break
'
}

# What etcd holds at KEY: its revisions and value, whichever member answers.
etcd_kv() {
	etcdctl_ get "$1" -w json | python3 -c 'import json, sys; print(json.load(sys.stdin).get("kvs"))'
}

etcd_head() {
	etcdctl_ get "${PREFIX}keyring" -w json | python3 -c 'import json, sys; print(json.load(sys.stdin)["header"]["revision"])'
}

# node_init NAME: this node's config and store; the first founds the
# cluster, the others join with a copy of its master key
node_init() {
	local dir=$T/$1
	mkdir -p "$dir/mnt"
	cat >"$dir/secretfs.ini" <<INI
[store]
path = $dir/store.db
key_file = $dir/master.key
[cluster]
endpoints = $ETCD_CLIENTS
prefix = $PREFIX
timeout = 2
INI
	chmod 0644 "$dir/secretfs.ini"
	if [ -f "$T/cluster.key" ]; then
		install -m 0400 "$T/cluster.key" "$dir/master.key"
		expect_contains "node $1 joins" "$(nctl "$1" init)" "joined the cluster"
	else
		expect_contains "node $1 founds" "$(nctl "$1" init)" "founded the cluster"
		cp "$dir/master.key" "$T/cluster.key"
	fi
}

nctl() {
	local n=$1
	shift
	"$BIN/secretctl" -c "$T/$n/secretfs.ini" "$@"
}

node_mount() {
	"$BIN/secretfs" -c "$T/$1/secretfs.ini" -f "$T/$1/mnt" 2>>"$T/$1/fs.log" &
	echo $! >"$T/$1/fs.pid"
	eventually 5 "mountpoint -q '$T/$1/mnt'" || fail "node $1 did not mount: $(tail -3 "$T/$1/fs.log")"
}

node_unmount() {
	local pid
	mountpoint -q "$T/$1/mnt" && fusermount3 -u "$T/$1/mnt"
	pid=$(cat "$T/$1/fs.pid" 2>/dev/null) || return 0
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && fail "node $1's secretfs still running after unmount"
	rm -f "$T/$1/fs.pid"
	if grep -q "Sanitizer\|runtime error" "$T/$1/fs.log"; then
		fail "sanitizer report from node $1: $(grep -A20 "Sanitizer\|runtime error" "$T/$1/fs.log" | head -30)"
	fi
	return 0
}

# The etcd revision a node's store has applied.
node_rev() {
	sqlite3 "$T/$1/store.db" "SELECT value FROM meta WHERE key = 'etcd_revision'"
}

# cluster_up NODE...: etcd, then each node initialised and mounted
cluster_up() {
	etcd_up
	for n in "$@"; do
		node_init "$n"
	done
	for n in "$@"; do
		node_mount "$n"
	done
	cleanup_extra() {
		for n in a b c; do
			[ -d "$T/$n" ] && node_unmount "$n"
		done
		for i in 1 2 3; do
			[ -f "$T/etcd/m$i.pid" ] && etcd_stop "$i"
		done
		return 0
	}
}

# secrets_yaml FILE PREFIX COUNT: COUNT secrets PREFIX-I with k = vI
secrets_yaml() {
	local i
	for i in $(seq 0 $(($3 - 1))); do
		printf -- '---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s-%d}\nstringData: {k: v%d}\n' \
			"$2" "$i" "$i"
	done >"$1"
}

# file NODE PATH: what PATH reads through NODE's mount ("" if nothing)
file() {
	cat "$T/$1/mnt/$2" 2>/dev/null || true
}

test_cluster_a_write_on_one_node_is_read_on_another() {
	cluster_up a b
	nctl a create namespace shop >/dev/null
	nctl a create secret generic db -n shop --from-literal=password=pw-1 >/dev/null
	eventually 2 'test "$(file b shop/db/password)" = pw-1' ||
		fail "node b does not serve node a's secret: '$(file b shop/db/password)'"
	expect_eq "secretctl on b" "pw-1" \
		"$(nctl b get secret db -n shop -o jsonpath='{.data.password}' | base64 -d)"
	# an update through b shows on a
	cat >"$T/db.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
stringData: {password: pw-2, user: app}
YAML
	expect_eq "apply on b" "secret/db configured" "$(nctl b apply -f "$T/db.yaml")"
	eventually 2 'test "$(file a shop/db/password)" = pw-2' || fail "node a did not see b's update"
	expect_eq "new key on a" "app" "$(file a shop/db/user)"
	# deletes, of a secret and of a namespace, hold on every node
	nctl b create secret generic gone -n shop --from-literal=k=v >/dev/null
	eventually 2 'test "$(file a shop/gone/k)" = v' || fail "node a did not see 'gone'"
	nctl a delete secret gone -n shop >/dev/null
	eventually 2 '! test -e "$T/b/mnt/shop/gone"' || fail "node b still serves a deleted secret"
	nctl b create namespace temp >/dev/null
	nctl b create secret generic t -n temp --from-literal=k=v >/dev/null
	eventually 2 'test -e "$T/a/mnt/temp/t/k"' || fail "node a did not see namespace temp"
	nctl a delete namespace temp >/dev/null
	eventually 2 '! test -e "$T/b/mnt/temp"' || fail "node b still serves a deleted namespace"
	# a name taken on one node is taken on all
	local out
	out=$(nctl b create secret generic db -n shop --from-literal=x=y 2>&1) &&
		fail "b created a secret a already had"
	expect_contains "already exists" "$out" "already exists"
	# labels and annotations go through etcd too, with their precondition
	local rv
	rv=$(nctl a get secret db -n shop -o jsonpath='{.metadata.resourceVersion}')
	expect_eq "label on a" "secret/db labeled" "$(nctl a label secret db -n shop tier=back)"
	expect_eq "annotate on b" "secret/db annotated" "$(nctl b annotate secret db -n shop note=hi)"
	expect_eq "label seen on b" "tier=back" "$(nctl b label secret db -n shop --list)"
	# (the apply above left kubectl's last-applied annotation, without values)
	expect_eq "annotation seen on a" "note=hi" \
		"$(nctl a annotate secret db -n shop --list | grep -v -e last-applied-configuration -e '^$')"
	expect_errno "stale resource version" "the object has been modified" \
		nctl a label secret db -n shop x=1 --resource-version="$rv"
	expect_eq "the value is untouched" "pw-2" "$(file b shop/db/password)"
	expect_eq "the nodes agree on the etcd revision" "$(node_rev a)" "$(node_rev b)"
	expect_eq "resourceVersion is etcd's, on every node" \
		"$(etcdctl_ get "${PREFIX}secrets/shop/db" -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])')" \
		"$(nctl b get secret db -n shop -o jsonpath='{.metadata.resourceVersion}')"
	expect_eq "the same on a" "$(nctl b get secret db -n shop -o yaml)" "$(nctl a get secret db -n shop -o yaml)"
}

test_cluster_update_rules_hold_across_nodes() {
	cluster_up a b
	nctl a create secret generic frozen --from-literal=k=ice --type=example.com/frozen \
		>/dev/null
	cat >"$T/frozen.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata: {name: frozen, namespace: default}
type: example.com/frozen
immutable: true
stringData: {k: ice}
YAML
	nctl a apply -f "$T/frozen.yaml" >/dev/null || fail "a could not make it immutable"
	local before out
	before=$(etcd_kv "${PREFIX}secrets/default/frozen")
	sed 's/k: ice/k: thawed/' "$T/frozen.yaml" >"$T/thawed.yaml"
	out=$(nctl b apply -f "$T/thawed.yaml" 2>&1) && fail "b changed an immutable secret's data"
	expect_contains "immutable data" "$out" "data: Forbidden: field is immutable when \`immutable\` is set"
	sed 's/type: example.com\/frozen/type: Opaque/' "$T/frozen.yaml" >"$T/retyped.yaml"
	out=$(nctl b apply -f "$T/retyped.yaml" 2>&1) && fail "b changed a secret's type"
	expect_contains "type" "$out" "field is immutable"
	expect_eq "etcd untouched" "$before" "$(etcd_kv "${PREFIX}secrets/default/frozen")"
	eventually 2 'test "$(file b default/frozen/k)" = ice' || fail "b lost the secret"
}

# Two operators: an edit on node a, while node b changes the same secret,
# must not silently overwrite b's change.
test_cluster_concurrent_edit_is_refused() {
	cluster_up a b
	nctl a create secret generic shared --from-literal=k=v1 >/dev/null
	cat >"$T/editor" <<SH
#!/bin/sh
"$BIN/secretctl" -c "$T/b/secretfs.ini" create secret generic shared --from-literal=k=by-b \\
	--dry-run=client -o yaml | "$BIN/secretctl" -c "$T/b/secretfs.ini" apply -f - >/dev/null
sed -i 's/^  k: .*/  k: YnktYQ==/' "\$1"
SH
	chmod +x "$T/editor"
	local out
	out=$(EDITOR=$T/editor nctl a edit secret shared 2>&1) && fail "a's edit overwrote b's change"
	expect_contains "conflict" "$out" "the object has been modified"
	eventually 2 'test "$(file a default/shared/k)" = by-b' || fail "b's change did not stay"
	# a manifest read on a, then changed on b: a's stale resourceVersion is refused
	nctl a get secret shared -o yaml | sed 's/^  k: .*/  k: c3RhbGU=/' >"$T/stale.yaml"
	nctl b create secret generic shared --from-literal=k=b-again --dry-run=client -o yaml |
		nctl b apply -f - >/dev/null
	out=$(nctl a replace -f "$T/stale.yaml" 2>&1) && fail "a stale resourceVersion went through etcd"
	expect_contains "stale" "$out" "the object has been modified"
	eventually 2 'test "$(file a default/shared/k)" = b-again' || fail "b's second change did not stay"
}

test_cluster_etcd_holds_no_plaintext() {
	cluster_up a
	local canary b64
	canary=canary-$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n')
	b64=$(printf %s "$canary" | base64)
	printf '%s' "$canary" >"$T/canary.bin"
	nctl a create secret generic c1 --from-literal=password="$canary" >/dev/null
	nctl a create secret generic c2 --from-file=key="$T/canary.bin" >/dev/null
	nctl a create secret tls c3 --cert=/dev/null --key=/dev/null >/dev/null 2>&1 || true
	etcdctl_ get --prefix "$PREFIX" >"$T/dump"
	etcdctl_ get --prefix "$PREFIX" -w json >"$T/dump.json"
	grep -q "secrets/default/c1" "$T/dump" || fail "the secret is not in etcd"
	for f in dump dump.json; do
		grep -qF "$canary" "$T/$f" && fail "etcd holds the plaintext value ($f)"
		grep -qF "$b64" "$T/$f" && fail "etcd holds the value base64-encoded ($f)"
	done
	# every record's values, decoded, are sealed: none is the value
	python3 - "$T/dump.json" "$canary" <<'PY' || fail "a record's value decodes to the plaintext"
import base64, json, sys
doc = json.load(open(sys.argv[1]))
for kv in doc["kvs"]:
    rec = json.loads(base64.b64decode(kv["value"]))
    for v in rec.get("data", {}).values():
        if sys.argv[2].encode() in base64.b64decode(v):
            sys.exit(1)
PY
	eventually 2 'test "$(file a default/c1/password)" = "$canary"' || fail "the node cannot open it"
}

test_cluster_killing_the_leader_loses_no_acknowledged_write() {
	cluster_up a b
	nctl a create namespace load >/dev/null
	(
		for i in $(seq 1 60); do
			if nctl a create secret generic "s$i" -n load --from-literal=v="$i" \
				>/dev/null 2>>"$T/writes.err"; then
				echo "$i" >>"$T/acked"
			fi
		done
	) &
	local writer=$! leader
	eventually 20 'test "$(wc -l <"$T/acked" 2>/dev/null)" -ge 15' || fail "writes did not start"
	leader=$(etcd_leader)
	[ -n "$leader" ] || fail "no etcd leader found"
	etcd_stop "$leader" KILL
	echo "killed member $leader after $(wc -l <"$T/acked") writes"
	wait $writer
	local acked n
	acked=$(sort -n "$T/acked")
	n=$(echo "$acked" | wc -l)
	echo "$n of 60 writes acknowledged"
	[ "$n" -ge 30 ] || fail "only $n writes went through: $(tail -3 "$T/writes.err")"
	[ "$(echo "$acked" | tail -1)" -gt 40 ] || fail "no write went through after the leader died"
	for i in $acked; do
		[ "$(etcdctl_ get "${PREFIX}secrets/load/s$i" --print-value-only | wc -c)" -gt 0 ] ||
			fail "acknowledged write s$i is not in etcd"
	done
	local want
	want=$(for i in $acked; do echo "s$i"; done | sort)
	eventually 10 'test "$(ls "$T/a/mnt/load" | sort)" = "$want" && test "$(ls "$T/b/mnt/load" | sort)" = "$want"' ||
		fail "the nodes do not serve exactly the acknowledged writes"
	local head
	head=$(etcd_head)
	eventually 10 'test "$(node_rev a)" = "$head" && test "$(node_rev b)" = "$head"' ||
		fail "the nodes did not converge to etcd's revision $head: a $(node_rev a), b $(node_rev b)"
}

test_cluster_nodes_serve_while_etcd_is_down() {
	cluster_up a b
	nctl a create secret generic db --from-literal=password=pw-1 >/dev/null
	eventually 2 'test "$(file b default/db/password)" = pw-1' || fail "b did not see db"
	for i in 1 2 3; do
		etcd_stop "$i"
	done
	expect_eq "a serves" "pw-1" "$(file a default/db/password)"
	expect_eq "b serves" "pw-1" "$(file b default/db/password)"
	local out
	out=$(nctl b get secret db -o jsonpath='{.data.password}' 2>"$T/get.err" | base64 -d)
	expect_eq "secretctl reads the node's copy" "pw-1" "$out"
	expect_contains "and says so" "$(cat "$T/get.err")" "showing this node's copy"
	out=$(nctl a create secret generic offline --from-literal=k=v 2>&1) &&
		fail "a write was acknowledged with etcd down"
	expect_contains "the write names etcd" "$out" "etcd at http://127.0.0.1:2379"
	nctl a get secret offline >/dev/null 2>&1 && fail "the failed write is in a's store"
	eventually 5 'grep -q "serving this node.s copy" "$T/a/fs.log"' || fail "node a did not log the outage: $(tail -3 "$T/a/fs.log")"
	# etcd comes back: the nodes catch up by themselves
	for i in 1 2 3; do
		etcd_member "$i"
	done
	eventually 15 etcd_healthy || fail "etcd did not come back"
	eventually 10 'nctl a create secret generic after --from-literal=k=back >/dev/null 2>&1' ||
		fail "no write went through after etcd came back"
	eventually 10 'test "$(file b default/after/k)" = back' || fail "node b did not catch up"
	grep -q "caught up with etcd" "$T/b/fs.log" || fail "node b did not log its recovery"
}

test_cluster_a_node_down_across_a_compaction_catches_up() {
	cluster_up a b
	nctl a create secret generic s1 --from-literal=k=1 >/dev/null
	eventually 2 'test "$(file b default/s1/k)" = 1' || fail "b did not see s1"
	node_unmount b
	for i in 2 3 4 5; do
		nctl a create secret generic "s$i" --from-literal=k="$i" >/dev/null
	done
	nctl a delete secret s1 >/dev/null
	etcdctl_ compact "$(etcd_head)" >/dev/null || fail "compaction failed"
	node_mount b
	eventually 5 'test "$(ls "$T/b/mnt/default" | tr "\n" " ")" = "s2 s3 s4 s5 "' ||
		fail "node b serves $(ls "$T/b/mnt/default" | tr "\n" " ") after the compaction"
	expect_eq "the nodes agree" "$(node_rev a)" "$(node_rev b)"
	# and it follows again from there
	nctl a create secret generic s6 --from-literal=k=6 >/dev/null
	eventually 2 'test "$(file b default/s6/k)" = 6' || fail "node b does not follow after catching up"
}

test_cluster_status_shows_revision_and_lag() {
	cluster_up a
	nctl a create secret generic s --from-literal=k=v >/dev/null
	local out
	eventually 2 'nctl a status | grep -q "lag: 0 revisions"' || fail "status: $(nctl a status)"
	out=$(nctl a status)
	expect_contains "etcd head" "$out" "etcd:      revision $(etcd_head)"
	expect_contains "daemon" "$out" "watching http://127.0.0.1:2379"
	# a node behind: its store is older than etcd
	node_unmount a
	etcdctl_ put "${PREFIX}unrelated" x >/dev/null
	etcdctl_ put "${PREFIX}unrelated" y >/dev/null
	expect_contains "behind" "$(nctl a status)" "lag: 2 revisions"
}

test_cluster_config_and_join_errors() {
	etcd_up
	cleanup_extra() { for i in 1 2 3; do etcd_stop "$i"; done; return 0; }
	mkdir -p "$T/x"
	printf '[store]\npath = %s/x/store.db\nkey_file = %s/x/master.key\n[cluster]\nprefix = /p/\n' \
		"$T" "$T" >"$T/x/secretfs.ini"
	chmod 0644 "$T/x/secretfs.ini"
	expect_errno "no endpoints" "[cluster] needs endpoints" nctl x init
	printf '[store]\npath = %s/x/store.db\nkey_file = %s/x/master.key\n[cluster]\nendpoints = ftp://h\n' \
		"$T" "$T" >"$T/x/secretfs.ini"
	expect_errno "bad URL" "is not an http:// or https:// URL" nctl x init
	printf 'pw\n' >"$T/x/pw"
	printf '[store]\npath = %s/x/store.db\nkey_file = %s/x/master.key\n[cluster]\nendpoints = http://127.0.0.1:23791\nusername = u\npassword_file = %s/x/pw\n' \
		"$T" "$T" "$T" >"$T/x/secretfs.ini"
	expect_errno "a password over http" "would cross 'http://127.0.0.1:23791' in clear" nctl x init
	[ -e "$T/x/store.db" ] && fail "a failed init left a store behind"
	node_init a
	# a node with another master key cannot join
	mkdir -p "$T/c"
	head -c 32 /dev/urandom >"$T/other.key"
	cat >"$T/c/secretfs.ini" <<INI
[store]
path = $T/c/store.db
key_file = $T/c/master.key
[cluster]
endpoints = $ETCD_CLIENTS
prefix = $PREFIX
INI
	chmod 0644 "$T/c/secretfs.ini"
	install -m 0400 "$T/other.key" "$T/c/master.key"
	expect_errno "wrong master key" "does not open the cluster's data keys" nctl c init
	[ -e "$T/c/store.db" ] && fail "a failed join left a store behind"
	[ -e "$T/c/master.key" ] || fail "a failed join removed a key file it did not create"
	# a master key change is refused in cluster mode
	expect_errno "rekey" "not available in cluster mode" nctl a rekey
}

# The nodes watch through the first endpoint: when that member dies, they
# go on through the others.
test_cluster_nodes_fail_over_between_endpoints() {
	cluster_up a b
	nctl a create secret generic s1 --from-literal=k=1 >/dev/null
	eventually 2 'test "$(file b default/s1/k)" = 1' || fail "b did not see s1"
	etcd_stop 1 KILL
	nctl a create secret generic s2 --from-literal=k=2 >/dev/null ||
		fail "no write through the remaining members"
	eventually 10 'test "$(file b default/s2/k)" = 2' || fail "b did not fail over: $(tail -3 "$T/b/fs.log")"
	eventually 5 'nctl b status | grep -q "watching http://127.0.0.1:2379[23]"' ||
		fail "b's status: $(nctl b status)"
}

# A member cut off from the others (here: the two others stopped) has no
# leader; a watch through it must end rather than go silently stale.
test_cluster_a_member_without_leader_ends_the_watch() {
	cluster_up a
	nctl a create secret generic s1 --from-literal=k=1 >/dev/null
	eventually 2 'test "$(file a default/s1/k)" = 1' || fail "a did not see s1"
	kill -STOP "$(cat "$T/etcd/m2.pid")" "$(cat "$T/etcd/m3.pid")"
	eventually 15 'grep -q "no leader" "$T/a/fs.log"' ||
		fail "the watch through a leaderless member did not end: $(tail -3 "$T/a/fs.log")"
	expect_eq "a still serves" "1" "$(file a default/s1/k)"
	kill -CONT "$(cat "$T/etcd/m2.pid")" "$(cat "$T/etcd/m3.pid")"
	eventually 15 'nctl a create secret generic s2 --from-literal=k=2 >/dev/null 2>&1' ||
		fail "no write after the members came back"
	eventually 10 'test "$(file a default/s2/k)" = 2' || fail "a did not catch up"
}

# A secret at Kubernetes' 1 MiB limit, sealed and base64-encoded, still fits
# in one etcd request (1.5 MiB by default).
test_cluster_a_1mib_secret_fits() {
	cluster_up a b
	head -c 700000 /dev/urandom >"$T/big1"
	head -c $((1048576 - 700000)) /dev/urandom >"$T/big2"
	nctl a create secret generic big --from-file=one="$T/big1" --from-file=two="$T/big2" \
		>/dev/null || fail "a 1 MiB secret did not go through etcd"
	eventually 5 'cmp -s "$T/big2" "$T/b/mnt/default/big/two"' || fail "node b does not serve it"
	cmp "$T/big1" "$T/b/mnt/default/big/one" || fail "node b serves other bytes"
	head -c 1 /dev/urandom >>"$T/big2"
	expect_errno "over the limit" "must have at most 1048576 bytes" \
		nctl a create secret generic bigger --from-file=one="$T/big1" --from-file=two="$T/big2"
}

# TLS with client certificates, and etcd's own users: the node logs in with
# a password.  etcd 3.4's JSON gateway refuses, once authentication is on,
# a client certificate that carries a CommonName, and it calls itself with
# the server's certificate: hence a client certificate without CN, and a
# server certificate good for clientAuth too.
test_cluster_tls_and_password_authentication() {
	command -v etcd >/dev/null || fail "etcd is missing (make deps installs etcd-server)"
	local pki=$T/pki
	mkdir -p "$pki" "$T/etcd"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-keyout "$pki/ca.key" -out "$pki/ca.pem" -subj /CN=secretfs-test-ca 2>/dev/null
	for who in server client; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$pki/$who.key" -out "$pki/$who.csr" \
			-subj "$([ $who = server ] && echo /CN=etcd || echo /O=secretfs-node)" 2>/dev/null
		printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=%s\n' \
			"$([ $who = server ] && echo serverAuth,clientAuth || echo clientAuth)" >"$pki/$who.ext"
		openssl x509 -req -in "$pki/$who.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
			-CAcreateserial -days 1 -out "$pki/$who.pem" -extfile "$pki/$who.ext" 2>/dev/null
	done
	etcd_ports
	etcd --name tls --data-dir "$T/etcd/tls" --listen-client-urls https://127.0.0.1:23794 \
		--advertise-client-urls https://127.0.0.1:23794 --listen-peer-urls http://127.0.0.1:23804 \
		--initial-advertise-peer-urls http://127.0.0.1:23804 \
		--initial-cluster tls=http://127.0.0.1:23804 --cert-file "$pki/server.pem" \
		--key-file "$pki/server.key" --client-cert-auth --trusted-ca-file "$pki/ca.pem" \
		>"$T/etcd/tls.log" 2>&1 &
	echo $! >"$T/etcd/m1.pid"
	track $! etcd
	cleanup_extra() {
		[ -d "$T/a" ] && node_unmount a
		etcd_stop 1
		return 0
	}
	tctl() {
		ETCDCTL_API=3 etcdctl --endpoints https://127.0.0.1:23794 --cacert "$pki/ca.pem" \
			--cert "$pki/client.pem" --key "$pki/client.key" "$@"
	}
	eventually 15 'tctl endpoint health >/dev/null 2>&1' || fail "etcd with TLS did not come up"
	tctl user add root:root-pw >/dev/null
	tctl user grant-role root root >/dev/null
	tctl user add node:node-pw >/dev/null
	tctl role add secretfs >/dev/null
	tctl role grant-permission secretfs --prefix=true readwrite "$PREFIX" >/dev/null
	tctl user grant-role node secretfs >/dev/null
	tctl auth enable >/dev/null
	mkdir -p "$T/a/mnt"
	printf 'node-pw\n' >"$T/a/password"
	chmod 0600 "$T/a/password"
	cat >"$T/a/secretfs.ini" <<INI
[store]
path = $T/a/store.db
key_file = $T/a/master.key
[cluster]
endpoints = https://127.0.0.1:23794
prefix = $PREFIX
cacert = $pki/ca.pem
cert = $pki/client.pem
key = $pki/client.key
username = node
password_file = $T/a/password
INI
	chmod 0644 "$T/a/secretfs.ini"
	expect_contains "init over TLS" "$(nctl a init)" "founded the cluster at https://127.0.0.1:23794"
	nctl a create secret generic db --from-literal=password=over-tls >/dev/null
	node_mount a
	expect_eq "served" "over-tls" "$(file a default/db/password)"
	nctl a create secret generic db2 --from-literal=password=later >/dev/null
	eventually 2 'test "$(file a default/db2/password)" = later' || fail "the watch over TLS does not deliver"
	# a password file others can read, a wrong password, and no client
	# certificate: refused, clearly
	chmod 0644 "$T/a/password"
	expect_errno "readable password file" "is accessible by group or others (mode 0644)" \
		nctl a create secret generic db3 --from-literal=k=v
	chmod 0600 "$T/a/password"
	printf 'wrong\n' >"$T/a/password"
	expect_errno "wrong password" "authentication failed" \
		nctl a create secret generic db3 --from-literal=k=v
	printf 'node-pw\n' >"$T/a/password"
	sed -i '/^cert = \|^key = /d' "$T/a/secretfs.ini"
	expect_errno "no client certificate" "etcd at https://127.0.0.1:23794" \
		nctl a create secret generic db3 --from-literal=k=v
}

# Keys under the prefix that break the rules (written to etcd by something
# else) are skipped, and said so; the nodes go on following the rest.
test_cluster_records_that_break_the_rules_are_skipped() {
	cluster_up a b
	nctl a create secret generic good --from-literal=k=1 >/dev/null
	local uid=0bcbbaf4-72ff-46dc-89b0-ecbbe2692cff plain
	plain=$(head -c 60 /dev/zero | tr '\0' 'p' | base64 -w0)
	etcdctl_ put "${PREFIX}secrets/default/Bad_Name" \
		'{"format":1,"uid":"'$uid'","type":"Opaque","generation":1,"data":{}}' >/dev/null
	etcdctl_ put "${PREFIX}secrets/default/notjson" 'not a record' >/dev/null
	etcdctl_ put "${PREFIX}secrets/default/plain" \
		'{"format":1,"uid":"'$uid'","type":"Opaque","generation":1,"data":{"k":"'"$plain"'"}}' >/dev/null
	etcdctl_ put "${PREFIX}secrets/default/escape" \
		'{"format":1,"uid":"'$uid'","type":"Opaque","generation":1,"data":{},"labels":{"x":"\u001b[2J"}}' >/dev/null
	# kubectl's annotation still holding a value (the store keeps it
	# without): refused by rows_pair_add(), so it must be skipped, not
	# stop the node at that record
	etcdctl_ put "${PREFIX}secrets/default/leaky" \
		'{"format":1,"uid":"'$uid'","type":"Opaque","generation":1,"key_id":1,"data":{},"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"k\":\"hunter2\"}}"}}' >/dev/null
	# a data key the ring does not have (or none): the row's key_id
	# references the ring
	etcdctl_ put "${PREFIX}secrets/default/nokey" \
		'{"format":1,"uid":"'$uid'","type":"Opaque","generation":1,"key_id":99,"data":{}}' >/dev/null
	etcdctl_ put "${PREFIX}namespaces/UPPER" '{"format":1,"created":1}' >/dev/null
	nctl b create secret generic after --from-literal=k=2 >/dev/null
	eventually 2 'test "$(file a default/after/k)" = 2' || fail "node a stopped following"
	eventually 2 'grep -q "skipped .* that break the rules" "$T/a/fs.log"' ||
		fail "node a did not say it skipped records: $(tail -3 "$T/a/fs.log")"
	grep -q "not a sealed value" "$T/a/fs.log" "$T/b/fs.log" ||
		grep -q "is malformed\|no JSON record\|a lowercase RFC 1123" "$T/a/fs.log" ||
		fail "no reason given: $(grep skipped "$T/a/fs.log")"
	expect_eq "only the good ones" "after good " "$(ls "$T/a/mnt/default" | tr '\n' ' ')"
	grep -q hunter2 "$T/a/fs.log" "$T/b/fs.log" && fail "a skipped record's value was logged"
	[ -e "$T/a/mnt/UPPER" ] && fail "a namespace with a bad name was mirrored"
	expect_eq "nodes agree" "$(node_rev a)" "$(node_rev b)"
}

# A reader on another node never sees a torn value or a mix of generations:
# each etcd record is one secret whole, and each batch one SQLite
# transaction (the same readers as test_updates, on node b's views, while
# node a writes through etcd).
test_cluster_no_torn_values_through_another_node() {
	cluster_up a
	node_init b
	stamp_views "$T/b/secretfs.ini"
	"$BIN/test/stamp" "$T/a/secretfs.ini" default s 1 big || fail "stamp failed"
	mkdir -p "$T/b/views"
	"$BIN/secretfs" -c "$T/b/secretfs.ini" -f --views "$T/b/views" 2>>"$T/b/fs.log" &
	echo $! >"$T/b/fs.pid"
	eventually 5 "mountpoint -q '$T/b/views/plain' && mountpoint -q '$T/b/views/kube'" ||
		fail "node b's views did not mount: $(tail -3 "$T/b/fs.log")"
	eval "cleanup_extra() {
		touch '$T/stop' # the readers end, even when the test failed before they were told
		for v in plain kube; do mountpoint -q '$T/b/views/\$v' && fusermount3 -u '$T/b/views/\$v'; done
		node_unmount a
		for i in 1 2 3; do etcd_stop \$i; done
		return 0
	}"
	local here pids=() kind f
	here=$(dirname "${BASH_SOURCE[0]}")
	for kind in plain kubelet; do
		python3 "$here/torn_reader.py" "$kind" "$T/b/views/${kind/kubelet/kube}/default/s" "$T/stop" \
			>"$T/$kind.json" 2>"$T/$kind.err" &
		pids+=($!)
	done
	sleep 0.3
	"$BIN/test/stamp" "$T/a/secretfs.ini" default s 120 big || fail "writer failed"
	eventually 5 'head -c 20 "$T/b/views/plain/default/s/a" | grep -q "gen=120 "' ||
		fail "node b did not reach the last update"
	touch "$T/stop"
	for p in "${pids[@]}"; do wait "$p" || fail "a reader failed: $(cat "$T"/*.err)"; done
	for f in "$T/plain.json" "$T/kubelet.json"; do
		echo "$(basename "$f"): $(cat "$f")"
		python3 - "$f" <<'PY' || fail "$(basename "$f"): $(cat "$f")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["reads"] > 100 and r["torn"] == 0 and r["mixed"] == 0 and r["gens"] > 5
PY
	done
}

# apply -f in cluster mode: secrets go to etcd 64 (or 512 KiB) to a
# transaction, each batch whole or not at all; a name met twice is written
# in file order.
test_cluster_apply_many_in_batches() {
	cluster_up a b
	secrets_yaml "$T/many.yaml" s 150
	printf -- '---\napiVersion: v1\nkind: Secret\nmetadata: {name: s-7}\nstringData: {k: again}\n' \
		>>"$T/many.yaml"
	local out head
	out=$(nctl a apply -f "$T/many.yaml") || fail "apply failed"
	[ "$(echo "$out" | grep -c created)" = 150 ] || fail "not 150 created: $(echo "$out" | sort | uniq -c | head)"
	expect_contains "the name met twice" "$out" "secret/s-7 configured"
	eventually 5 'test "$(ls "$T/b/mnt/default" | wc -l)" = 150' || fail "node b has $(ls "$T/b/mnt/default" | wc -l)"
	expect_eq "in file order" "again" "$(file b default/s-7/k)"
	head=$(etcd_head)
	# the same state again, each name once: nothing to write
	sed 's/stringData: {k: v7}/stringData: {k: again}/' "$T/many.yaml" | head -n -5 >"$T/same.yaml"
	out=$(nctl a apply -f "$T/same.yaml") || fail "apply again failed"
	[ "$(echo "$out" | grep -c unchanged)" = 150 ] || fail "not all unchanged the second time"
	expect_eq "nothing written the second time" "$head" "$(etcd_head)"
	# a bad object in the second batch: the first batch stays, the second
	# is not written at all
	secrets_yaml "$T/bad.yaml" t 70
	printf -- "---\napiVersion: v1\nkind: Secret\nmetadata: {name: t-bad}\nstringData: {'bad key!': v}\n" \
		>>"$T/bad.yaml"
	out=$(nctl a apply -f "$T/bad.yaml" 2>&1) && fail "a bad object went through"
	expect_contains "names the object" "$out" 't-bad'
	[ "$(etcdctl_ get --prefix --keys-only "${PREFIX}secrets/default/t-" | grep -c .)" = 64 ] ||
		fail "etcd does not hold exactly the first batch"
}

# Key rotation through etcd: every node takes the new ring and the
# re-sealed records; the old key, retired on another node, leaves every
# node's ring.
test_cluster_key_rotation_reaches_every_node() {
	cluster_up a b
	secrets_yaml "$T/70.yaml" s 70
	nctl a apply -f "$T/70.yaml" >/dev/null || fail "apply failed"
	eventually 5 'test "$(ls "$T/b/mnt/default" | wc -l)" = 70' || fail "b did not get the secrets"
	expect_contains "rotate" "$(nctl a rotate-key)" "data key 2 is active; 70 secrets re-sealed under it"
	etcdctl_ get --prefix "$PREFIX" -w json >"$T/dump.json"
	python3 - "$T/dump.json" <<'PY' || fail "etcd's records are not all under key 2"
import base64, json, sys
for kv in json.load(open(sys.argv[1]))["kvs"]:
    key = base64.b64decode(kv["key"]).decode()
    rec = json.loads(base64.b64decode(kv["value"]))
    if key.endswith("keyring"):
        assert rec["active_key"] == 2 and sorted(k["id"] for k in rec["keys"]) == [1, 2], rec
    elif "/secrets/" in key:
        assert rec["key_id"] == 2, key
PY
	eventually 5 'nctl b get keys | grep -q "^2 *active *70"' || fail "b's ring: $(nctl b get keys)"
	expect_eq "b reads the re-sealed values" "v5" "$(file b default/s-5/k)"
	nctl b create secret generic later --from-literal=k=new >/dev/null
	expect_eq "a later write is sealed with key 2" "2" \
		"$(etcdctl_ get "${PREFIX}secrets/default/later" --print-value-only | python3 -c 'import json,sys; print(json.load(sys.stdin)["key_id"])')"
	expect_eq "retire key 1 on b" "data key 1 deleted" "$(nctl b delete key 1)"
	eventually 5 'test "$(sqlite3 "$T/a/store.db" "SELECT group_concat(id) FROM keyring")" = 2' ||
		fail "a's ring still holds: $(sqlite3 "$T/a/store.db" "SELECT group_concat(id) FROM keyring")"
	expect_errno "the active key stays" "is the active key" nctl a delete key 2
	eventually 2 'test "$(file a default/later/k)" = new' || fail "a does not read the later write"
	expect_eq "a reads an old one" "v69" "$(file a default/s-69/k)"
}

# A record's metadata changed in etcd fails where it is read, as a changed
# value does: every node stores the writer's tag as it is.  (A node that has
# that generation already keeps its own copy.)  A record from before tags
# (none in it) is tagged by the node that takes it.
test_cluster_metadata_changed_in_etcd_fails_when_read() {
	cluster_up a b
	nctl a create secret generic m --from-literal=k=meta-1 >/dev/null
	nctl a label secret m tier=web >/dev/null
	nctl a create secret generic old --from-literal=k=old-1 >/dev/null
	eventually 3 'test "$(file b default/old/k)" = old-1' || fail "node b did not get them"
	# edit: a label changed; legacy: the tag dropped, as an older writer's
	etcdctl_ get "${PREFIX}secrets/default/m" --print-value-only |
		python3 -c 'import json, sys; r = json.load(sys.stdin); r["labels"]["tier"] = "prod"; print(json.dumps(r))' \
		>"$T/m.json"
	etcdctl_ put "${PREFIX}secrets/default/m" <"$T/m.json" >/dev/null
	etcdctl_ get "${PREFIX}secrets/default/old" --print-value-only |
		python3 -c 'import json, sys; r = json.load(sys.stdin); del r["meta_tag"]; print(json.dumps(r))' \
		>"$T/old.json"
	etcdctl_ put "${PREFIX}secrets/default/old" <"$T/old.json" >/dev/null
	# a node that joins now takes both as etcd has them
	node_init c
	node_mount c
	expect_errno "read" "Input/output error" cat "$T/c/mnt/default/m/k"
	expect_errno "get" "failed authentication" nctl c get secret m
	expect_contains "event" "$(nctl c get events)" "AuthenticationFailed   secret/m"
	expect_eq "legacy record" "old-1" "$(file c default/old/k)"
	expect_eq "node b keeps its own" "meta-1" "$(file b default/m/k)"
}

# A member that commits a write but answers too late: the client sends the
# transaction again to the next endpoint, whose compares then fail on the
# write's own result.  That must read as the success it was, not as
# "Operation cannot be fulfilled" with the write in place.
test_cluster_a_write_whose_reply_was_lost_is_not_a_conflict() {
	local here
	here=$(dirname "${BASH_SOURCE[0]}")
	etcd_up
	cleanup_extra() { for i in 1 2 3; do etcd_stop $i; done; }
	python3 "$here/etcd_drop_proxy.py" 23805 127.0.0.1:23791 "$T/arm" 2>"$T/proxy.err" {ETCD_LOCK}>&- &
	track $! python3
	eventually 5 'curl -s -o /dev/null http://127.0.0.1:23805/ -d x' || fail "the proxy did not start: $(cat "$T/proxy.err")"
	ETCD_CLIENTS=http://127.0.0.1:23805,http://127.0.0.1:23792 node_init a
	nctl a create secret generic s --from-literal=k=v1 >/dev/null
	touch "$T/arm"
	out=$(nctl a create secret generic s --from-literal=k=v2 --dry-run=client -o yaml | nctl a apply -f - 2>&1) ||
		fail "the write whose reply was lost failed: $out"
	[ -e "$T/arm" ] && fail "the proxy never dropped a reply: the test tested nothing"
	expect_eq "applied" "secret/s configured" "$out"
	expect_eq "the value" "v2" "$(nctl a get secret s -o jsonpath='{.data.k}' | base64 -d)"
	expect_eq "in etcd once" "1" "$(etcdctl_ get --prefix --keys-only "$PREFIX" | grep -c 'secrets/default/s$')"
	# etcd answers "leader changed" while it elects a leader (a loaded
	# machine once failed a write that way): with the proxy its only
	# endpoint, node b waits and tries again, as etcd's own client does
	ETCD_CLIENTS=http://127.0.0.1:23805 node_init b
	echo "leader 4" >"$T/arm"
	out=$(nctl b create secret generic s --from-literal=k=v3 --dry-run=client -o yaml | nctl b apply -f - 2>&1) ||
		fail "a write during an election failed: $out"
	[ -e "$T/arm" ] && fail "the proxy answered no election: the test tested nothing"
	expect_eq "applied during an election" "secret/s configured" "$out"
	expect_eq "the value" "v3" "$(nctl a get secret s -o jsonpath='{.data.k}' | base64 -d)"
}

# node_api NODE: NODE's secretfs-apiserver on a free port (its [api]
# listen), logging to $T/NODE/api.log; $T/NODE/admin.conf its kubeconfig
node_api() {
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	printf '[api]\nlisten = 127.0.0.1:%s\n' "$port" >>"$T/$1/secretfs.ini"
	(umask 077; nctl "$1" kubeconfig admin --group system:masters >"$T/$1/admin.conf") ||
		fail "secretctl kubeconfig on node $1 failed"
	"$BIN/secretfs-apiserver" -c "$T/$1/secretfs.ini" -f 2>"$T/$1/api.log" &
	echo $! >"$T/$1/api.pid"
	track $! secretfs-apiser
	eventually 5 "curl -sk https://127.0.0.1:$port/healthz >/dev/null" ||
		fail "node $1's API server did not come up: $(tail -3 "$T/$1/api.log")"
}

# node_api_stop NODE: SIGTERM ends it cleanly, with no sanitizer report
node_api_stop() {
	local pid
	pid=$(cat "$T/$1/api.pid")
	kill -TERM "$pid"
	eventually 10 "! kill -0 $pid 2>/dev/null" || fail "node $1's API server outlived SIGTERM"
	! grep -q "Sanitizer\|runtime error\|ThreadSanitizer" "$T/$1/api.log" ||
		fail "sanitizer report from node $1's API server: $(grep -A20 "Sanitizer\|runtime error" "$T/$1/api.log" | head -30)"
}

# kc NODE ARGS...: kubectl 1.32 against NODE's API server
kc() {
	local n=$1
	shift
	"${KUBECTL_DIR:-/usr/lib/google-cloud-sdk/bin}/kubectl.1.32" --kubeconfig "$T/$n/admin.conf" \
		--cache-dir "$T/$n/kcache" "$@"
}

# Two nodes, each with an API server and no secretfs (each server follows
# etcd itself): kubectl's watch on one sees what kubectl or secretctl wrote
# through the other, with etcd's revisions as resourceVersions
test_cluster_apiserver_watch_across_nodes() {
	etcd_up
	node_init a
	node_init b
	cleanup_extra() {
		for n in a b; do
			[ -f "$T/$n/api.pid" ] && kill "$(cat "$T/$n/api.pid")" 2>/dev/null
		done
		for i in 1 2 3; do etcd_stop $i; done
	}
	[ -x "${KUBECTL_DIR:-/usr/lib/google-cloud-sdk/bin}/kubectl.1.32" ] ||
		fail "kubectl 1.32 is missing (make deps installs the google-cloud-sdk builds)"
	node_api a
	node_api b
	# kubectl lists, then watches from the list's resourceVersion: etcd's
	kc b get secrets -w -o name >"$T/watch-b" 2>&1 &
	track $! kubectl
	kc a get secrets -w -o name >"$T/watch-a" 2>&1 &
	track $! kubectl
	local rv0
	rv0=$(kc a get --raw /api/v1/namespaces/default/secrets |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
	expect_eq "a list's resourceVersion is etcd's revision" "$(etcd_head)" "$rv0"
	sleep 0.3 # both watches started
	kc a create secret generic via-a --from-literal=k=canary-a >/dev/null || fail "create on a failed"
	eventually 3 'grep -qx secret/via-a "$T/watch-b"' ||
		fail "b's watch did not see a's write: $(cat "$T/watch-b")"
	nctl b create secret generic via-b --from-literal=k=canary-b >/dev/null
	eventually 3 'grep -qx secret/via-b "$T/watch-a"' ||
		fail "a's watch did not see secretctl's write on b: $(cat "$T/watch-a")"
	kc b delete secret via-a >/dev/null || fail "delete on b failed"
	local head
	head=$(etcd_head)
	# a watch from an etcd revision: exactly the changes after it, each
	# with its etcd revision, on a node that made none of them
	kc a get --raw "/api/v1/namespaces/default/secrets?watch=1&resourceVersion=$rv0&timeoutSeconds=1" |
		python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin]
got = [(e["type"], e["object"]["metadata"]["name"], int(e["object"]["metadata"]["resourceVersion"])) for e in ev]
names = [(t, n) for t, n, _ in got]
assert names == [("DELETED", "via-a"), ("ADDED", "via-b")] or names == [("ADDED", "via-b"), ("DELETED", "via-a")] or \
       names == [("ADDED", "via-a"), ("ADDED", "via-b"), ("DELETED", "via-a")], got
rvs = {n: r for t, n, r in got}
assert rvs["via-a"] == '"$head"', got
assert all('"$rv0"' < r <= '"$head"' for _, _, r in got), got
' || fail "watch from etcd revision $rv0 (head $head)"
	kc b get --raw "/api/v1/namespaces/default/secrets?watch=1&resourceVersion=$head&timeoutSeconds=1" >"$T/none"
	expect_eq "nothing after the head" "" "$(cat "$T/none")"
	node_api_stop a
	node_api_stop b
	! grep -q canary "$T/a/api.log" "$T/b/api.log" || fail "a value reached a server's log"
}

# RBAC objects (store/objects.c) go through etcd as secrets do: one written
# through node a is read on node b, with the same uid and etcd's revision as
# resourceVersion; deletes, and a namespace's deletion, reach every node;
# an object changed in etcd fails its tag when read.
test_cluster_rbac_objects_reach_every_node() {
	local rbac=$BIN/test/rbacobj out
	[ -x "$rbac" ] || fail "$rbac is missing: make $rbac"
	cluster_up a b
	nctl a create namespace team >/dev/null
	cat >"$T/role.json" <<'JSON'
{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
 "metadata": {"name": "reader", "namespace": "team"},
 "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]}
JSON
	cat >"$T/crb.json" <<'JSON'
{"kind": "ClusterRoleBinding", "metadata": {"name": "ops"},
 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
 "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ops"}]}
JSON
	expect_eq "put on a" "created" "$("$rbac" "$T/a/secretfs.ini" put "$T/role.json")"
	expect_eq "put on b" "created" "$("$rbac" "$T/b/secretfs.ini" put "$T/crb.json")"
	eventually 3 '"$rbac" "$T/b/secretfs.ini" get Role team reader >/dev/null 2>&1' ||
		fail "node b does not have node a's Role"
	eventually 3 '"$rbac" "$T/a/secretfs.ini" get ClusterRoleBinding "" ops >/dev/null 2>&1' ||
		fail "node a does not have node b's ClusterRoleBinding"
	expect_eq "the same object on both" "$("$rbac" "$T/a/secretfs.ini" get Role team reader)" \
		"$("$rbac" "$T/b/secretfs.ini" get Role team reader)"
	expect_eq "resourceVersion is etcd's" \
		"$(etcdctl_ get "${PREFIX}rbac/roles/team/reader" -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])')" \
		"$("$rbac" "$T/b/secretfs.ini" get Role team reader | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')"
	expect_eq "again: unchanged" "unchanged" "$("$rbac" "$T/b/secretfs.ini" put "$T/role.json")"
	# changed in etcd behind the writers' backs: refused when read
	etcdctl_ get "${PREFIX}rbac/roles/team/reader" --print-value-only |
		python3 -c 'import json, sys; r = json.load(sys.stdin); r["body"] = r["body"].replace("\"list\"", "\"list\",\"delete\""); print(json.dumps(r))' \
		>"$T/forged.json"
	etcdctl_ put "${PREFIX}rbac/roles/team/reader" <"$T/forged.json" >/dev/null
	eventually 3 '! "$rbac" "$T/b/secretfs.ini" get Role team reader >/dev/null 2>&1' ||
		fail "node b serves a Role changed in etcd"
	out=$("$rbac" "$T/b/secretfs.ini" get Role team reader 2>&1) || true
	expect_contains "tag" "$out" "fails authentication"
	# deletes reach every node; a namespace takes its Roles with it
	"$rbac" "$T/a/secretfs.ini" delete ClusterRoleBinding "" ops || fail "delete on a"
	eventually 3 '! "$rbac" "$T/b/secretfs.ini" get ClusterRoleBinding "" ops >/dev/null 2>&1' ||
		fail "node b still has a deleted ClusterRoleBinding"
	nctl b delete namespace team >/dev/null
	eventually 3 'test -z "$("$rbac" "$T/a/secretfs.ini" list)"' ||
		fail "node a still has: $("$rbac" "$T/a/secretfs.ini" list 2>&1)"
	expect_eq "etcd holds none" "" "$(etcdctl_ get "${PREFIX}rbac/" --prefix --keys-only)"
}

# RBAC in cluster mode rests on each node's mirror.  Node b reaches etcd
# only through a relay the test can hold (SIGSTOP: b's mirror lags):
# - b's server starting on a mirror behind etcd reconciles the bootstrap
#   policy against etcd, not against its stale copy: a default that an
#   administrator changed through node a (autoupdate "false") stays as
#   changed (b's server caught up first, and writes a missing default only
#   if it is still missing in etcd);
# - a RoleBinding created through node a's server authorizes there at once,
#   on node b not while b's mirror lags (b refuses), and on b as soon as b's
#   mirror has it.
test_cluster_apiserver_rbac_on_a_lagging_mirror() {
	local rport
	etcd_up
	node_init a
	node_init b
	rport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# without the etcd lock's descriptor: a relay left behind must not hold it
	python3 "$(dirname "${BASH_SOURCE[0]}")/tcp_relay.py" "$rport" 127.0.0.1:23791 {ETCD_LOCK}>&- &
	RELAY_PID=$! # global: the cleanup runs after this function returned
	track $RELAY_PID python3
	sed -i "s|^endpoints = .*|endpoints = http://127.0.0.1:$rport|" "$T/b/secretfs.ini"
	cleanup_extra() {
		kill -CONT "$RELAY_PID" 2>/dev/null || true
		for n in a b; do
			[ ! -f "$T/$n/api.pid" ] || kill "$(cat "$T/$n/api.pid")" 2>/dev/null || true
		done
		for i in 1 2 3; do etcd_stop $i; done
	}
	[ -x "${KUBECTL_DIR:-/usr/lib/google-cloud-sdk/bin}/kubectl.1.32" ] ||
		fail "kubectl 1.32 is missing (make deps installs the google-cloud-sdk builds)"
	node_api a
	# through a, while b follows nothing: a default changed and kept so
	kc a patch clusterrole system:basic-user --type=merge -p '{"metadata": {"annotations": {"rbac.authorization.kubernetes.io/autoupdate": "false"}}, "rules": [{"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews"], "verbs": ["create"]}]}' >/dev/null ||
		fail "patch system:basic-user on a"
	node_api b
	expect_eq "b's start kept a's change" '1 false' \
		"$(etcdctl_ get "${PREFIX}rbac/clusterroles/system:basic-user" --print-value-only |
			python3 -c 'import json, sys; o = json.loads(json.load(sys.stdin)["body"]); print(len(o["rules"]), o["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"])')"
	for n in a b; do
		(umask 077; nctl "$n" kubeconfig bob --group dev >"$T/$n/bob.conf") || fail "kubeconfig bob on $n"
	done
	kb() {
		local n=$1
		shift
		"${KUBECTL_DIR:-/usr/lib/google-cloud-sdk/bin}/kubectl.1.33" --kubeconfig "$T/$n/bob.conf" \
			--cache-dir "$T/$n/kcache-bob" "$@"
	}
	local denied='secrets is forbidden: User "bob" cannot list resource "secrets" in API group "" in the namespace "default"'
	expect_errno "bob on b, before" "$denied" kb b get secrets
	# b's mirror stops: the relay holds every byte
	kill -STOP "$RELAY_PID"
	kc a create rolebinding bob-edit --clusterrole=edit --user=bob >/dev/null || fail "rolebinding on a"
	expect_eq "bob on a, at once" "" "$(kb a get secrets -o name 2>&1)"
	expect_errno "bob on b, its mirror behind" "$denied" kb b get secrets
	[ "$(node_rev b)" -lt "$(etcd_head)" ] || fail "b's mirror is not behind: $(node_rev b) of $(etcd_head)"
	kill -CONT "$RELAY_PID"
	eventually 10 '[ "$(node_rev b)" -ge "$(etcd_head)" ]' || fail "b did not catch up: $(node_rev b) of $(etcd_head)"
	expect_eq "bob on b, once its mirror has it" "" "$(kb b get secrets -o name 2>&1)"
	# events are each node's own (never in etcd): one b records between a
	# list (resourceVersion: etcd's head) and a watch from it reaches it
	nctl b create secret generic envdb --from-literal=1BAD=canary-e >/dev/null
	local rv
	rv=$(kc b get --raw /api/v1/namespaces/default/events |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
	nctl b exec --from envdb -- true 2>/dev/null
	expect_eq "b's event after its list" "ADDED InvalidEnvironmentVariableNames" \
		"$(kc b get --raw "/api/v1/namespaces/default/events?watch=1&resourceVersion=$rv&timeoutSeconds=1" |
			python3 -c 'import json, sys; print(" ".join(e["type"] + " " + e["object"]["reason"] for e in map(json.loads, sys.stdin)))')"
	node_api_stop a
	node_api_stop b
}
