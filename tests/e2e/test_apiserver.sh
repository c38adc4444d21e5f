# test_apiserver.sh - secretfs-apiserver against real clients: kubectl 1.32
# and 1.33 (the google-cloud-sdk builds on this machine), the python
# kubernetes client, curl for what no client sends (oversized and broken
# bodies).  Each test starts its own server on a free port, as the README
# sets one up: 'secretctl init' makes the CA and the server's certificate
# in pki/, 'secretctl kubeconfig' the clients' kubeconfigs, and [api] names
# only listen and token_file.  What kubectl prints is compared with
# golden/apiserver/, which holds what kubectl prints against a real
# apiserver for the same objects (AGE written as <age>).

source "$(dirname "${BASH_SOURCE[0]}")/api.sh"
GOLDEN=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/golden/apiserver

# api_cert NAME SUBJECT: a client certificate signed by $T/pki/ca.key
# (a CA of the test's own: the server must refuse what it signs)
api_cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/pki/$1.key" \
		-out "$T/pki/$1.csr" -subj "$2" 2>/dev/null || fail "openssl: cannot make $1's key"
	openssl x509 -req -in "$T/pki/$1.csr" -CA "$T/pki/ca.crt" -CAkey "$T/pki/ca.key" \
		-CAcreateserial -out "$T/pki/$1.crt" -days 1 2>/dev/null || fail "openssl: cannot sign $1"
}

# ages as <age>, as the golden files write them; a column after AGE
# starts three spaces after it, whatever the age's width
ages() {
	sed -E 's/(^|  )[0-9]{1,2}s( +|$)/\1<age>\2/; s/<age> +([^ ])/<age>   \1/'
}

test_kubectl_get() {
	start_api
	local v
	ctl create secret generic s1 --from-literal=user=canary1 --from-literal=pass=canary2 >/dev/null
	ctl label secret s1 app=web >/dev/null
	ctl create namespace team >/dev/null
	ctl create secret generic s2 -n team --from-literal=k=canary3 >/dev/null
	ctl create secret tls web-tls --cert="$(dirname "$GOLDEN")/../data/test-cert.pem" \
		--key="$(dirname "$GOLDEN")/../data/test-key.pem" >/dev/null
	for v in 1.32 1.33; do
		expect_eq "$v get secrets" "$(cat "$GOLDEN/get-secrets.txt")" \
			"$(k $v admin get secrets | ages)"
		expect_eq "$v get secrets -A --show-labels" "$(cat "$GOLDEN/get-secrets-all-labels.txt")" \
			"$(k $v admin get secrets -A --show-labels | ages)"
		expect_errno "$v not found" 'Error from server (NotFound): secrets "nope" not found' \
			k $v admin get secret nope
	done
	# the rest once: the same requests from either version
	v=1.32
	expect_eq "$v get ns" "$(cat "$GOLDEN/get-ns.txt")" "$(k $v admin get ns | ages)"
	expect_eq "$v -l" "$(cat "$GOLDEN/get-secrets-label.txt")" \
		"$(k $v admin get secrets -l app=web | ages)"
	expect_eq "$v --field-selector" "secret/web-tls" \
		"$(k $v admin get secrets --field-selector type=kubernetes.io/tls -o name)"
	# the apiserver's words for a field it does not index, as secretctl's
	expect_errno "$v unknown field" 'field selector "data.a=1": field label not supported: data.a' \
		k $v admin get secrets --field-selector data.a=1
	expect_errno "$v namespaces have no type" 'field label not supported: type' \
		k $v admin get ns --field-selector type=x
	# kube/select.c's escapes: "\," is a comma in the value, not a second term
	expect_eq "$v escaped comma" "" "$(k $v admin get secrets --field-selector 'metadata.name=s1\,x' -o name 2>&1)"
	expect_eq "$v -o name" "$(printf 'secret/s1\nsecret/web-tls')" \
		"$(k $v admin get secrets -o name)"
	expect_eq "$v jsonpath" "canary2" \
		"$(k $v admin get secret s1 -o jsonpath='{.data.pass}' | base64 -d)"
	expect_eq "$v -o json" "Secret s1 default Opaque web" \
		"$(k $v admin get secret s1 -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); m=d["metadata"]; print(d["kind"], m["name"], m["namespace"], d["type"], m["labels"]["app"])')"
	expect_eq "$v -o yaml resourceVersion" "$(ctl get secret s1 -o yaml | grep resourceVersion)" \
		"$(k $v admin get secret s1 -o yaml | grep resourceVersion)"
	stop_api
}

test_kubectl_write() {
	start_api
	local v=1.32
	cat >"$T/s.json" <<EOF
{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "labels": {"app": "db"}},
 "stringData": {"password": "canary4"}, "data": {"user": "YWRtaW4="}}
EOF
	expect_eq "create -f" "secret/db created" "$(k $v admin create -f "$T/s.json")"
	expect_eq "stored" "canary4" "$(ctl get secret db -o jsonpath='{.data.password}' | base64 -d)"
	expect_errno "create again" 'Error from server (AlreadyExists): error when creating "'"$T"'/s.json": secrets "db" already exists' \
		k $v admin create -f "$T/s.json"
	# replace carries the resourceVersion it read: a change between is a conflict
	k $v admin get secret db -o json >"$T/db.json"
	ctl label secret db tier=x >/dev/null
	expect_errno "conflict" 'Operation cannot be fulfilled on secrets "db": the object has been modified; please apply your changes to the latest version and try again' \
		k $v admin replace -f "$T/db.json"
	sed 's/"resourceVersion": "[0-9]*",//' "$T/db.json" >"$T/db2.json"
	expect_eq "replace -f" "secret/db replaced" "$(k $v admin replace -f "$T/db2.json")"
	expect_eq "replaced labels" "app=db" "$(ctl get secret db --show-labels | awk 'NR==2 {print $NF}')"
	# unknown fields: kubectl asks for Strict
	printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"},"dataa":{}}' >"$T/bad.json"
	expect_errno "strict" 'Error from server (BadRequest): error when creating "'"$T"'/bad.json": strict decoding error: unknown field "dataa"' \
		k $v admin create -f "$T/bad.json"
	# --validate=warn: created, with the apiserver's Warning header
	sed 's/"x"/"w"/' "$T/bad.json" >"$T/warn.json"
	expect_eq "warn" 'Warning: unknown field "dataa"
secret/w created' "$(k $v admin create -f "$T/warn.json" --validate=warn 2>&1)"
	k $v admin delete secret w >/dev/null
	# the store's rules, as 422 Invalid built from details.causes
	printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"t"},"type":"kubernetes.io/tls","data":{"tls.crt":"eA=="}}' >"$T/tls.json"
	expect_errno "invalid" 'The Secret "t" is invalid: data[tls.key]: Required value' \
		k $v admin create -f "$T/tls.json"
	# type never changes; an immutable secret's data never does either
	sed 's/"resourceVersion": "[0-9]*",//; s/"type": "Opaque"/"type": "example.com\/x"/' \
		"$T/db.json" >"$T/type.json"
	expect_errno "type immutable" 'The Secret "db" is invalid: type: Invalid value: "example.com/x": field is immutable' \
		k $v admin replace -f "$T/type.json"
	printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"frozen"},"immutable":true,"data":{"k":"MQ=="}}' >"$T/frozen.json"
	k $v admin create -f "$T/frozen.json" >/dev/null
	sed 's/MQ==/Mg==/' "$T/frozen.json" >"$T/frozen2.json"
	expect_errno "immutable" 'The Secret "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set' \
		k $v admin replace -f "$T/frozen2.json"
	k $v admin delete secret frozen >/dev/null
	# generateName: the apiserver's five characters after the prefix
	expect_contains "generateName" "$(curl -sk --cert "$T/pki/admin.crt" --key "$T/pki/admin.key" \
		-H 'Content-Type: application/json' --data-binary '{"metadata":{"generateName":"gen-"}}' \
		"https://127.0.0.1:$API_PORT/api/v1/namespaces/default/secrets" |
		python3 -c 'import json,sys; n=json.load(sys.stdin)["metadata"]["name"]; print(len(n), n[:4])')" "9 gen-"
	k $v admin delete secret "$(ctl get secrets -o name | grep gen- | cut -d/ -f2)" >/dev/null
	# --dry-run=server: checked, nothing written
	sed 's/"db"/"dry"/' "$T/s.json" >"$T/dry.json"
	expect_eq "dry run" "secret/dry created (server dry run)" \
		"$(k $v admin create -f "$T/dry.json" --dry-run=server)"
	expect_errno "dry run wrote nothing" 'secrets "dry" not found' k $v admin get secret dry
	# kubectl apply's first POST carries its last-applied annotation, every
	# value in clear: the store keeps it with each value a placeholder
	printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"ap"},"stringData":{"k":"canary9"}}' >"$T/ap.json"
	expect_eq "apply" "secret/ap created" "$(k $v admin apply -f "$T/ap.json" 2>&1)"
	expect_contains "placeholder" \
		"$(k $v admin get secret ap -o jsonpath='{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}')" \
		'"stringData":{"k":"***"}'
	! sqlite3 "$T/store/store.db" .dump | grep -q canary9 || fail "a value reached an annotation"
	k $v admin delete secret ap >/dev/null
	expect_eq "delete" 'secret "db" deleted' "$(k $v admin delete secret db)"
	expect_errno "deleted" 'not found' ctl get secret db
	expect_eq "nothing left" "No resources found in default namespace." "$(ctl get secrets 2>&1)"
	stop_api
}

# kubectl 1.32+ sends protobuf bodies for these: they pass once api/pb.c
# (the protobuf decoder) is built into the server
test_kubectl_protobuf_bodies() {
	start_api
	local out
	out=$(k 1.32 admin create secret generic pb1 --from-literal=k=canary5 2>&1) ||
		fail "create secret generic (a protobuf body): $out"
	expect_eq "created" "secret/pb1 created" "$out"
	expect_eq "stored" "canary5" "$(ctl get secret pb1 -o jsonpath='{.data.k}' | base64 -d)"
	out=$(k 1.33 admin create namespace pbns 2>&1) || fail "create namespace (a protobuf body): $out"
	expect_eq "namespace" "namespace/pbns created" "$out"
	expect_eq "get ns" "pbns" "$(k 1.33 admin get ns pbns -o name | cut -d/ -f2)"
	stop_api
}

test_kubectl_namespaces_json() {
	start_api
	printf '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"blue"}}' >"$T/ns.json"
	expect_eq "create -f" "namespace/blue created" "$(k 1.33 admin create -f "$T/ns.json")"
	ctl create secret generic s -n blue --from-literal=k=v >/dev/null
	expect_eq "get ns blue" "blue   Active   <age>" "$(k 1.33 admin get ns blue --no-headers | ages)"
	expect_eq "delete ns" 'namespace "blue" deleted' "$(k 1.33 admin delete ns blue)"
	expect_errno "gone" 'namespaces "blue" not found' k 1.33 admin get ns blue
	expect_errno "its secrets too" 'not found' ctl get secret s -n blue
	expect_errno "default stays" 'namespaces "default" is forbidden: this namespace may not be deleted' \
		k 1.33 admin delete ns default
	stop_api
}

test_kubectl_watch() {
	start_api
	ctl create secret generic before --from-literal=k=v >/dev/null
	local v
	for v in 1.32 1.33; do
		# no --request-timeout: the watch ends when the test kills it, not
		# when a loaded machine makes it run past a timer
		k $v admin get secrets -w >"$T/watch-$v.out" 2>&1 &
		local wp=$!
		for _ in $(seq 300); do
			grep -q before "$T/watch-$v.out" && break
			sleep 0.05
		done
		ctl create secret generic w$v --from-literal=k=canary6 >/dev/null
		ctl delete secret w$v >/dev/null
		for _ in $(seq 300); do
			[ "$(grep -c "^w$v " "$T/watch-$v.out")" = 2 ] && break
			sleep 0.05
		done
		kill "$wp" 2>/dev/null || true
		wait "$wp" 2>/dev/null || true
		expect_eq "$v watch" "$(sed "s/VERSION/$v/" "$GOLDEN/watch.txt")" "$(ages <"$T/watch-$v.out")"
	done
	# a namespace's deletion deletes its secrets at one revision: a watch
	# gets each (one DELETED alone before the fix)
	ctl create namespace z >/dev/null
	ctl create secret generic z1 -n z --from-literal=k=v >/dev/null
	ctl create secret generic z2 -n z --from-literal=k=v >/dev/null
	local rv
	rv=$(revision)
	ctl delete namespace z >/dev/null
	expect_eq "both deleted" "DELETED z1 DELETED z2" "$(curl -sk --cert "$T/pki/admin.crt" --key "$T/pki/admin.key" \
		"https://127.0.0.1:$API_PORT/api/v1/secrets?watch=1&resourceVersion=$rv&timeoutSeconds=1" |
		python3 -c 'import json, sys; print(" ".join(sorted(e["type"] + " " + e["object"]["metadata"]["name"] for e in map(json.loads, sys.stdin))))')"
	# a resourceVersion the store never reached: 410 Expired, as an ERROR event
	expect_contains "410" "$(curl -sk --cert "$T/pki/admin.crt" --key "$T/pki/admin.key" \
		"https://127.0.0.1:$API_PORT/api/v1/secrets?watch=1&resourceVersion=99999")" \
		'{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 99999'
	# SIGTERM with watches open (their connections suspended in MHD):
	# a clean exit 0, no sanitizer report (stop_api checks both)
	curl -skN --cert "$T/pki/admin.crt" --key "$T/pki/admin.key" \
		"https://127.0.0.1:$API_PORT/api/v1/namespaces?watch=1" >"$T/open-watch.out" &
	for _ in $(seq 100); do
		grep -q ADDED "$T/open-watch.out" && break
		sleep 0.05
	done
	expect_contains "namespace watch" "$(cat "$T/open-watch.out")" '{"type":"ADDED","object":{"apiVersion":"v1","kind":"Namespace"'
	stop_api
}

test_authn() {
	start_api
	ctl create secret generic s --from-literal=k=v >/dev/null
	expect_errno "not in system:masters" 'Error from server (Forbidden): secrets "s" is forbidden: User "bob" cannot get resource "secrets" in API group "" in the namespace "default"' \
		k 1.32 bob get secret s
	expect_errno "list" 'Error from server (Forbidden): secrets is forbidden: User "bob" cannot list resource "secrets" in API group "" in the namespace "default"' \
		k 1.32 bob get secrets
	# a bad token: with nothing cached, discovery meets the 401 first
	# (what kubectl prints against any apiserver then); with discovery
	# cached, the request itself
	expect_errno "bad token, cold" 'error: You must be logged in to the server (the server has asked for the client to provide credentials)' \
		"$(kubectl_bin 1.32)" --cache-dir "$T/kc" --server "https://127.0.0.1:$API_PORT" \
		--certificate-authority "$T/pki/ca.crt" --token wrongtoken get secrets
	expect_eq "token in system:masters" "secret/s" \
		"$("$(kubectl_bin 1.32)" --cache-dir "$T/kc" --server "https://127.0.0.1:$API_PORT" \
		--certificate-authority "$T/pki/ca.crt" --token admintoken get secrets -o name)"
	expect_errno "bad token" 'error: You must be logged in to the server (Unauthorized)' \
		"$(kubectl_bin 1.32)" --cache-dir "$T/kc" --server "https://127.0.0.1:$API_PORT" \
		--certificate-authority "$T/pki/ca.crt" --token wrongtoken get secrets
	expect_errno "token not in system:masters" 'User "dan" cannot list resource "secrets"' \
		"$(kubectl_bin 1.33)" --cache-dir "$T/kc" --server "https://127.0.0.1:$API_PORT" \
		--certificate-authority "$T/pki/ca.crt" --token devtoken get secrets
	# a certificate from another CA is 401, not anonymous
	mv "$T/pki/ca.crt" "$T/pki/real-ca.crt"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/pki/ca.key" \
		-out "$T/pki/ca.crt" -days 1 -subj /CN=other-ca 2>/dev/null
	api_cert mallory "/O=system:masters/CN=mallory"
	expect_eq "foreign certificate" "401" "$(curl -sk -o /dev/null -w '%{http_code}' \
		--cert "$T/pki/mallory.crt" --key "$T/pki/mallory.key" \
		"https://127.0.0.1:$API_PORT/api/v1/namespaces/default/secrets")"
	mv "$T/pki/real-ca.crt" "$T/pki/ca.crt"
	# a token file others may read is refused, naming it
	chmod 0644 "$T/tokens.csv"
	expect_errno "loose token file" "token file '$T/tokens.csv' is readable or writable by others (mode 644): refusing it" \
		"$BIN/secretfs-apiserver" -c "$T/secretfs.ini" -f
	chmod 0600 "$T/tokens.csv"
	# anonymous: /version and /healthz only
	expect_contains "version" "$(curl -sk "https://127.0.0.1:$API_PORT/version")" '"minor":"32"'
	expect_eq "anonymous" "403" "$(curl -sk -o /dev/null -w '%{http_code}' \
		"https://127.0.0.1:$API_PORT/api/v1/namespaces/default/secrets/s")"
	stop_api
}

# the audit log: one audit.k8s.io/v1 Event a request, with the verb, user,
# code and objectRef kube-apiserver would write; never a value or a token
test_api_audit() {
	mkdir -p "$T/audit"
	API_EXTRA="audit_path = $T/audit/api.log" start_api
	[ "$(stat -c %a "$T/audit/api.log" 2>/dev/null)" = 600 ] ||
		fail "the audit log is not created 0600: $(ls -l "$T/audit" 2>&1)"
	local kc=("$(kubectl_bin 1.32)" --cache-dir "$T/kc" --server "https://127.0.0.1:$API_PORT"
		  --certificate-authority "$T/pki/ca.crt")
	k 1.32 admin get secrets >/dev/null
	k 1.32 admin create secret generic au --from-literal=k=canaryaudit1 >/dev/null ||
		fail "kubectl create secret failed"
	"${kc[@]}" --token admintoken get secret au -o name >/dev/null || fail "get with a token failed"
	k 1.32 bob get secret au >/dev/null 2>&1 && fail "bob may read au"
	"${kc[@]}" --token wrongtoken1 get secrets >/dev/null 2>&1 && fail "a wrong token got in"
	k 1.32 admin delete secret au >/dev/null || fail "kubectl delete failed"
	curl -sk "https://127.0.0.1:$API_PORT/healthz" >/dev/null
	stop_api
	python3 - "$T/audit/api.log" <<'PY' || fail "audit log: $(tail -3 "$T/audit/api.log")"
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
ev = [json.loads(l) for l in lines]
uuid = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')
ts = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$')
for e in ev:
    assert e['kind'] == 'Event' and e['apiVersion'] == 'audit.k8s.io/v1', e
    assert e['level'] == 'Metadata' and e['stage'] == 'ResponseComplete', e
    assert uuid.match(e['auditID']) and e['sourceIPs'] == ['127.0.0.1'], e
    assert ts.match(e['requestReceivedTimestamp']) and ts.match(e['stageTimestamp']), e
    assert e['requestReceivedTimestamp'] <= e['stageTimestamp'], e
assert len({e['auditID'] for e in ev}) == len(ev), 'auditIDs repeat'
def find(verb, code, user, name=None):
    for e in ev:
        ref = e.get('objectRef', {})
        if (e['verb'], e['responseStatus']['code'], e['user'].get('username')) == (verb, code, user) \
           and ref.get('resource') == 'secrets' and ref.get('name') == name:
            return e
    sys.exit('no %s %s by %s on %s in:\n%s' % (verb, code, user, name, '\n'.join(lines)))
e = find('list', 200, 'admin')
assert e['objectRef'] == {'resource': 'secrets', 'namespace': 'default', 'apiGroup': '', 'apiVersion': 'v1'}, e
assert e['user']['groups'] == ['system:masters', 'system:authenticated'] and e['userAgent'].startswith('kubectl'), e
assert e['requestURI'].startswith('/api/v1/namespaces/default/secrets?limit=500'), e
e = find('create', 201, 'admin')
assert e['requestURI'].startswith('/api/v1/namespaces/default/secrets?'), e
find('get', 200, 'tina', 'au')
e = find('get', 403, 'bob', 'au')
assert e['user']['groups'] == ['dev', 'system:authenticated'], e
find('delete', 200, 'admin', 'au')
assert [e for e in ev if e['responseStatus']['code'] == 401 and e['user'] == {}], '401 not audited'
assert [e for e in ev if e['requestURI'] == '/healthz' and e['verb'] == 'get' and
        'objectRef' not in e and e['user']['username'] == 'system:anonymous'], 'healthz'
PY
	local f
	for f in "$T/audit/api.log" "$T/api.log"; do
		! grep -q "canaryaudit1\|$(printf %s canaryaudit1 | base64)\|admintoken\|wrongtoken1\|BEGIN" "$f" ||
			fail "a value, a token or a certificate reached $f"
	done
}

# an audit log that cannot be written: requests go on, the loss is counted
# and said once in the server's log, not once a request
test_api_audit_full() {
	mkdir -p "$T/small"
	mount -t tmpfs -o size=64k tmpfs "$T/small" || fail "cannot mount a tmpfs"
	API_EXTRA="audit_path = $T/small/api.log" start_api
	head -c 64k /dev/zero >"$T/small/fill" 2>/dev/null || true  # fills it
	local i
	for i in $(seq 30); do
		curl -sk -o /dev/null "https://127.0.0.1:$API_PORT/healthz"
	done
	expect_eq "served while full" "ok" "$(curl -sk "https://127.0.0.1:$API_PORT/healthz")"
	stop_api
	umount "$T/small"
	expect_eq "said once" 1 "$(grep -c "cannot write the audit log '$T/small/api.log': No space left on device" "$T/api.log")"
}

test_python_client() {
	start_api
	# Debian's python, where python3-kubernetes is (not a pyenv's first on PATH)
	/usr/bin/python3 -c 'import kubernetes' 2>/dev/null || fail "python3-kubernetes is missing (make deps installs it)"
	PORT=$API_PORT PKI=$T/pki /usr/bin/python3 - <<'EOF' || fail "the python client failed"
import base64, os, threading
from kubernetes import client, watch

c = client.Configuration()
c.host = "https://127.0.0.1:%s" % os.environ["PORT"]
c.ssl_ca_cert = os.environ["PKI"] + "/ca.crt"
c.cert_file = os.environ["PKI"] + "/admin.crt"
c.key_file = os.environ["PKI"] + "/admin.key"
api = client.CoreV1Api(client.ApiClient(c))

api.create_namespaced_secret("default", client.V1Secret(
    metadata=client.V1ObjectMeta(name="py1", labels={"via": "python"}),
    string_data={"k": "canary7"}))
s = api.read_namespaced_secret("py1", "default")
assert base64.b64decode(s.data["k"]) == b"canary7", s.data
names = [i.metadata.name for i in api.list_namespaced_secret("default", label_selector="via=python").items]
assert names == ["py1"], names
assert [i.metadata.name for i in api.list_secret_for_all_namespaces().items] == ["py1"]

seen = []
def follow():
    w = watch.Watch()
    for ev in w.stream(api.list_namespaced_secret, "default", timeout_seconds=5):
        seen.append((ev["type"], ev["object"].metadata.name))
        if ev["object"].metadata.name == "py2":
            break  # closes the stream now
t = threading.Thread(target=follow)
t.start()
import time
time.sleep(0.3)
api.create_namespaced_secret("default", client.V1Secret(
    metadata=client.V1ObjectMeta(name="py2"), data={"k": base64.b64encode(b"x").decode()}))
t.join(10)
assert ("ADDED", "py1") in seen and ("ADDED", "py2") in seen, seen

st = api.delete_namespaced_secret("py1", "default")
assert st.status == "Success" and st.details.name == "py1", st
try:
    api.read_namespaced_secret("py1", "default")
    raise SystemExit("py1 still there")
except client.exceptions.ApiException as e:
    assert e.status == 404, e
EOF
	expect_eq "store" "py2" "$(ctl get secrets -o name | cut -d/ -f2)"
	stop_api
}

# what no client sends: an oversized body, broken JSON, a wrong type:
# each refused with the apiserver's code, nothing written, no crash
test_hostile_requests() {
	start_api
	local url="https://127.0.0.1:$API_PORT/api/v1/namespaces/default/secrets" rev
	local auth=(--cert "$T/pki/admin.crt" --key "$T/pki/admin.key")
	ctl create secret generic leak --from-literal=k=v >/dev/null
	rev=$(revision)
	head -c $((3 * 1024 * 1024 + 10)) /dev/zero | tr '\0' 'a' >"$T/big"
	expect_eq "3 MiB" "413" "$(curl -sk "${auth[@]}" -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary @"$T/big" "$url")"
	expect_eq "broken JSON" "400" "$(curl -sk "${auth[@]}" -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary '{"metadata":' "$url")"
	expect_eq "not an object" "400" "$(curl -sk "${auth[@]}" -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary '[1]' "$url")"
	expect_eq "a value that is not base64" "422" "$(curl -sk "${auth[@]}" -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/json' \
		--data-binary '{"metadata":{"name":"x"},"data":{"k":"canary8!"}}' "$url")"
	expect_eq "broken protobuf" "400" "$(curl -sk "${auth[@]}" -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/vnd.kubernetes.protobuf' --data-binary 'k8s garbage' "$url")"
	expect_eq "yaml body" "415" "$(curl -sk "${auth[@]}" -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/yaml' --data-binary 'a: b' "$url")"
	expect_eq "broken patch" "400" "$(curl -sk "${auth[@]}" -o /dev/null -w '%{http_code}' \
		-X PATCH -H 'Content-Type: application/merge-patch+json' --data-binary '{"data":' "$url/x")"
	# jansson's message quotes the input "near" where it failed: a value,
	# in a body or a patch, must not come back in the error
	local leak
	leak=$(curl -sk "${auth[@]}" -H 'Content-Type: application/json' \
		--data-binary '{"metadata":{"name":"x"},"stringData":{"pw":hunter2canary}}' "$url")
	expect_contains "broken body: where" "$leak" "line 1, column"
	case "$leak" in *hunter2*) fail "a broken body's value in the error: $leak" ;; esac
	leak=$(curl -sk "${auth[@]}" -X PATCH -H 'Content-Type: application/merge-patch+json' \
		--data-binary '{"stringData":{"pw":hunter2canary}}' "$url/leak")
	expect_contains "broken patch: where" "$leak" "line 1, column"
	case "$leak" in *hunter2*) fail "a broken patch's value in the error: $leak" ;; esac
	expect_eq "patch of nothing" "404" "$(curl -sk "${auth[@]}" -o /dev/null -w '%{http_code}' \
		-X PATCH -H 'Content-Type: application/merge-patch+json' --data-binary '{}' "$url/x")"
	expect_eq "unknown path" "404" "$(curl -sk "${auth[@]}" -o /dev/null -w '%{http_code}' \
		"https://127.0.0.1:$API_PORT/api/v1/configmaps")"
	# no name: the apiserver's cause, "Required value: ..." in its message
	# (kubectl prints "field: message" from it), for either kind
	local cause='import json,sys; d=json.load(sys.stdin); c=d["details"]["causes"][0]; print(d["code"], d["details"]["kind"], c["field"] + ": " + c["message"])'
	expect_eq "no name" '422 Secret metadata.name: Required value: name or generateName is required' \
		"$(curl -sk "${auth[@]}" -H 'Content-Type: application/json' \
			--data-binary '{"metadata":{},"data":{"k":"Y2FuYXJ5MTI="}}' "$url" | python3 -c "$cause")"
	expect_eq "no name (namespace)" '422 Namespace metadata.name: Required value: name or generateName is required' \
		"$(curl -sk "${auth[@]}" -H 'Content-Type: application/json' \
			--data-binary '{"metadata":{}}' "https://127.0.0.1:$API_PORT/api/v1/namespaces" |
			python3 -c "$cause")"
	expect_eq "nothing written" "$rev" "$(revision)"
	expect_eq "still serving" "ok" "$(curl -sk "https://127.0.0.1:$API_PORT/livez")"
	! grep -q canary "$T/api.log" || fail "a value reached the log"
	stop_api
}

# [limits] max_secrets_per_namespace: kube-apiserver's quota refusal, a 403
# with the store's words as they are (not a 422 "is invalid")
test_api_quota() {
	API_EXTRA=$(printf '[limits]\nmax_secrets_per_namespace = 1') start_api
	k 1.32 admin create secret generic q1 --from-literal=k=canary10 >/dev/null
	expect_errno "quota" 'error: failed to create secret secrets "q2" is forbidden: exceeded quota in namespace "default": max_secrets_per_namespace=1, used: 1, requested: 1' \
		k 1.32 admin create secret generic q2 --from-literal=k=canary11
	printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"q3"}}' >"$T/q3.json"
	expect_errno "quota, create -f" 'Error from server (Forbidden): error when creating "'"$T"'/q3.json": secrets "q3" is forbidden: exceeded quota' \
		k 1.32 admin create -f "$T/q3.json"
	expect_errno "not written" 'not found' ctl get secret q2
	expect_errno "not written" 'not found' ctl get secret q3
	stop_api
}

# a watcher that never reads: its queue is bounded (4 MiB) and its stream
# ends, rather than the server holding every event for it
test_watch_never_read() {
	start_api
	# twelve 900 KiB secrets, written by one secretctl apply
	python3 -c 'import base64, json, os
v = base64.b64encode(os.urandom(921600)).decode()
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "big%d" % i}, "data": {"v": v}}
    for i in range(12)]}))' >"$T/big.json"
	PORT=$API_PORT PKI=$T/pki /usr/bin/python3 - "$T" <<'EOF' &
import os, socket, ssl, sys, time
t = sys.argv[1]
ctx = ssl.create_default_context(cafile=os.environ["PKI"] + "/ca.crt")
ctx.load_cert_chain(os.environ["PKI"] + "/admin.crt", os.environ["PKI"] + "/admin.key")
raw = socket.socket()
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
raw.connect(("127.0.0.1", int(os.environ["PORT"])))
s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
s.sendall(b"GET /api/v1/namespaces/default/secrets?watch=1 HTTP/1.1\r\nHost: t\r\n\r\n")
open(t + "/asked", "w").close()
while not os.path.exists(t + "/written"):   # reads nothing meanwhile
    time.sleep(0.05)
s.settimeout(5)
data = b""
try:
    while not data.endswith(b"\r\n0\r\n\r\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    pass
ended = data.endswith(b"\r\n0\r\n\r\n")
events = data.count(b'{"type":"ADDED"')
open(t + "/result", "w").write("%s %d\n" % ("ended" if ended else "open", events))
EOF
	local py=$!
	for _ in $(seq 100); do
		[ -e "$T/asked" ] && break
		sleep 0.05
	done
	sleep 0.2
	ctl apply -f "$T/big.json" >/dev/null
	touch "$T/written"
	wait "$py" || fail "the never-reading client failed"
	local ended events
	read -r ended events <"$T/result"
	expect_eq "the lagging stream ended" "ended" "$ended"
	[ "$events" -lt 12 ] || fail "all 12 events were held for a client that did not read"
	# a watch that starts with more than the bound (11 MiB of ADDED
	# events, as a list would carry them) is sent it all
	expect_eq "a large start" "12" "$(curl -sk --cert "$T/pki/admin.crt" --key "$T/pki/admin.key" \
		"https://127.0.0.1:$API_PORT/api/v1/namespaces/default/secrets?watch=1&timeoutSeconds=1" |
		grep -c '^{"type":"ADDED"')"
	# and the server still serves, the values out of its log
	expect_eq "still serving" "ok" "$(curl -sk "https://127.0.0.1:$API_PORT/readyz")"
	stop_api
}

# kubectl auth whoami / can-i / can-i --list (protobuf bodies in 1.32+),
# answered by the authorizer every request meets; the review groups in
# discovery
test_auth_reviews() {
	start_api
	local v out
	for v in 1.32 1.33; do
		expect_eq "$v whoami" "$(printf 'ATTRIBUTE   VALUE\nUsername    admin\nGroups      [system:masters system:authenticated]')" \
			"$(k $v admin auth whoami 2>&1)"
		expect_eq "$v can-i admin" "yes" "$(k $v admin auth can-i delete secrets -n foo 2>&1)"
		out=$(k $v bob auth can-i get secrets 2>&1) && fail "$v can-i bob: exit 0 for no"
		expect_eq "$v can-i bob" "no" "$out"
	done
	expect_eq "can-i review" "yes" \
		"$(k 1.32 bob auth can-i create selfsubjectaccessreviews.authorization.k8s.io 2>/dev/null)"
	expect_eq "can-i path" "yes" "$(k 1.33 bob auth can-i get /apis/foo 2>&1)"
	out=$(k 1.33 bob auth can-i get /metrics 2>&1) && fail "can-i bob /metrics: exit 0 for no"
	expect_eq "whoami bob" "$(printf 'ATTRIBUTE   VALUE\nUsername    bob\nGroups      [dev system:authenticated]')" \
		"$(k 1.33 bob auth whoami 2>&1)"
	out=$(k 1.33 admin auth can-i --list -n foo 2>&1) || fail "can-i --list: $out"
	# as against kube-apiserver: cluster-admin's rules, then those every
	# authenticated user has (system:basic-user, system:discovery...)
	expect_eq "admin --list" "$(printf '%s\n' \
		'Resources                                       Non-Resource URLs   Resource Names   Verbs' \
		'*.*                                             []                  []               [*]' \
		'                                                [*]                 []               [*]')" "$(head -3 <<<"$out")"
	out=$(k 1.32 bob auth can-i --list 2>&1) || fail "can-i --list bob: $out"
	expect_contains "bob --list" "$out" 'selfsubjectaccessreviews.authorization.k8s.io   []                  []               [create]'
	expect_contains "bob --list paths" "$out" '[/apis/*]'
	! grep -q '^secrets' <<<"$out" || fail "bob may list secrets: $out"
	# discovery names both groups; anonymous may not ask
	expect_contains "/apis" "$(curl -sk --cert "$T/pki/bob.crt" --key "$T/pki/bob.key" \
		"https://127.0.0.1:$API_PORT/apis")" '"name":"authentication.k8s.io"'
	expect_contains "anonymous review" "$(curl -sk -X POST -H 'Content-Type: application/json' \
		-d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' \
		"https://127.0.0.1:$API_PORT/apis/authentication.k8s.io/v1/selfsubjectreviews")" \
		'"message":"selfsubjectreviews.authentication.k8s.io is forbidden: User \"system:anonymous\" cannot create resource \"selfsubjectreviews\" in API group \"authentication.k8s.io\" at the cluster scope"'
	stop_api
}

# RBAC through the API: kubectl create role / rolebinding / clusterrole
# (protobuf bodies in 1.32+), a user bound in namespace a only, a
# resourceNames rule, a group binding, escalation refused, anonymous
# refused, and the Tables kubectl prints for the four kinds
test_rbac() {
	start_api
	local out
	ctl create namespace a >/dev/null
	ctl create namespace b >/dev/null
	ctl create secret generic s1 -n a --from-literal=k=canary7 >/dev/null
	ctl create secret generic s1 -n b --from-literal=k=canary8 >/dev/null
	expect_eq "create role" "role.rbac.authorization.k8s.io/writer created" \
		"$(k 1.32 admin create role writer -n a --verb=get,list,create --resource=secrets 2>&1)"
	expect_eq "create rolebinding" "rolebinding.rbac.authorization.k8s.io/bob-writer created" \
		"$(k 1.33 admin create rolebinding bob-writer -n a --role=writer --user=bob 2>&1)"
	# bob in a: get, list, create; in b: the apiserver's 403
	expect_eq "bob get in a" "canary7" "$(k 1.32 bob get secret s1 -n a -o jsonpath='{.data.k}' | base64 -d)"
	expect_eq "bob list in a" "secret/s1" "$(k 1.32 bob get secrets -n a -o name 2>&1)"
	expect_eq "bob create in a" "secret/s2 created" \
		"$(k 1.33 bob create secret generic s2 -n a --from-literal=k=v 2>&1)"
	expect_errno "bob delete in a" 'Error from server (Forbidden): secrets "s2" is forbidden: User "bob" cannot delete resource "secrets" in API group "" in the namespace "a"' \
		k 1.32 bob delete secret s2 -n a
	expect_errno "bob get in b" 'Error from server (Forbidden): secrets "s1" is forbidden: User "bob" cannot get resource "secrets" in API group "" in the namespace "b"' \
		k 1.32 bob get secret s1 -n b
	expect_eq "can-i in a" "yes" "$(k 1.33 bob auth can-i create secrets -n a 2>&1)"
	out=$(k 1.33 bob auth can-i get secrets -n b 2>&1) && fail "can-i in b: exit 0"
	expect_eq "can-i in b" "no" "$out"
	expect_contains "can-i --list in a" "$(k 1.32 bob auth can-i --list -n a 2>&1)" \
		'secrets                                         []                  []               [get list create]'
	# resourceNames: one secret of b, by name only
	k 1.32 admin create role one -n b --verb=get --resource=secrets --resource-name=s1 >/dev/null ||
		fail "create role with resourceNames"
	k 1.32 admin create rolebinding dev-one -n b --role=one --group=dev >/dev/null ||
		fail "create rolebinding for a group"
	expect_eq "bob (group dev) gets b/s1" "secret/s1" "$(k 1.32 bob get secret s1 -n b -o name 2>&1)"
	expect_errno "not a list" 'cannot list resource "secrets" in API group "" in the namespace "b"' \
		k 1.32 bob get secrets -n b
	# bob may make roles in a, but grant only what he holds
	k 1.32 admin create role role-maker -n a --verb=create --resource=roles.rbac.authorization.k8s.io >/dev/null &&
		k 1.32 admin create rolebinding bob-maker -n a --role=role-maker --user=bob >/dev/null ||
		fail "create role-maker"
	expect_eq "no escalation" "role.rbac.authorization.k8s.io/less created" \
		"$(k 1.32 bob create role less -n a --verb=get --resource=secrets 2>&1)"
	expect_errno "escalation" 'is attempting to grant RBAC permissions not currently held' \
		k 1.32 bob create role more -n a --verb=delete --resource=secrets
	# the Tables
	expect_eq "get roles" "$(printf 'NAME         CREATED AT\nless         X\nrole-maker   X\nwriter       X')" \
		"$(k 1.33 admin get roles -n a | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$/X/')"
	expect_eq "get rolebindings" "$(printf 'NAME         ROLE              AGE\nbob-maker    Role/role-maker   <age>\nbob-writer   Role/writer       <age>')" \
		"$(k 1.33 admin get rolebindings -n a | ages)"
	out=$(k 1.33 admin get rolebindings -n b -o wide)
	expect_eq "-o wide header" "NAME      ROLE       AGE   USERS   GROUPS   SERVICEACCOUNTS" "$(head -1 <<<"$out")"
	expect_eq "-o wide row" "dev-one Role/one dev" "$(tail -1 <<<"$out" | awk '{print $1, $2, $4}')"
	expect_contains "clusterrolebindings" "$(k 1.32 admin get clusterrolebindings cluster-admin 2>&1)" \
		'ClusterRole/cluster-admin'
	# apply twice (a strategic merge PATCH the second time), label (merge)
	printf '%s\n' 'apiVersion: rbac.authorization.k8s.io/v1' 'kind: Role' \
		'metadata: {name: applied, namespace: a}' \
		'rules: [{apiGroups: [""], resources: [secrets], verbs: [get]}]' >"$T/role.yaml"
	expect_eq "apply role" "role.rbac.authorization.k8s.io/applied created" "$(k 1.32 admin apply -f "$T/role.yaml" 2>&1)"
	sed -i 's/verbs: \[get\]/verbs: [get, list]/' "$T/role.yaml"
	expect_eq "apply role again" "role.rbac.authorization.k8s.io/applied configured" \
		"$(k 1.33 admin apply -f "$T/role.yaml" 2>&1)"
	expect_eq "its rules" '["get","list"]' "$(k 1.32 admin get role applied -n a -o jsonpath='{.rules[0].verbs}')"
	expect_eq "label role" "role.rbac.authorization.k8s.io/applied labeled" \
		"$(k 1.32 admin label role applied -n a team=blue 2>&1)"
	expect_eq "delete" 'rolebinding.rbac.authorization.k8s.io "bob-writer" deleted' \
		"$(k 1.32 admin delete rolebinding bob-writer -n a 2>&1)"
	expect_errno "unbound" 'cannot get resource "secrets"' k 1.32 bob get secret s1 -n a
	# anonymous: refused
	expect_eq "anonymous" "403" "$(curl -sk -o /dev/null -w '%{http_code}' \
		"https://127.0.0.1:$API_PORT/api/v1/namespaces/a/secrets")"
	stop_api
}

# PATCH, as kubectl and the python client send it: apply twice (kubectl's
# three-way merge on the placeholder last-applied), edit with a scripted
# EDITOR, label/annotate (merge patch), patch --type=strategic|merge|json,
# diff (dryRun=All), a resourceVersion precondition, server-side apply's
# 415; no value ever in the annotation (canaries in the database and WAL)
test_kubectl_patch() {
	start_api
	local v=1.32 out rv
	local b64
	b64=$(printf canary11 | base64)
	printf '%s\n' 'apiVersion: v1' 'kind: Secret' 'metadata: {name: ap}' \
		'stringData: {a: canary10}' "data: {b: $b64}" >"$T/ap.yaml"
	expect_eq "apply 1" "secret/ap created" "$(k $v admin apply -f "$T/ap.yaml" 2>&1)"
	# by hand: a key added, a label; then b removed from the manifest, a changed
	k $v admin patch secret ap --type=merge -p '{"data":{"h":"aGFuZA=="}}' >/dev/null ||
		fail "patch --type=merge"
	expect_eq "label" "secret/ap labeled" "$(k $v admin label secret ap team=blue 2>&1)"
	# (data kept in the manifest: a manifest without it sends "data": null,
	# which drops every key, as against any apiserver)
	printf '%s\n' 'apiVersion: v1' 'kind: Secret' 'metadata: {name: ap}' \
		'stringData: {a: canary12}' "data: {c: $(printf canary14 | base64)}" >"$T/ap.yaml"
	# diff: a dryRun=All PATCH (exit 1: there are differences)
	out=$(k $v admin diff -f "$T/ap.yaml" 2>&1) && fail "diff: exit 0"
	expect_contains "diff" "$out" "-  b: '***'"
	expect_eq "apply 2" "secret/ap configured" "$(k 1.33 admin apply -f "$T/ap.yaml" 2>&1)"
	# kubectl's three-way merge: b gone (the last apply set it), h kept
	# (never applied), c added, a changed, the label kept
	expect_eq "keys" "a c h" "$(ctl get secret ap -o json | python3 -c 'import json,sys; print(*sorted(json.load(sys.stdin)["data"]))')"
	expect_eq "a" "canary12" "$(ctl get secret ap -o jsonpath='{.data.a}' | base64 -d)"
	expect_eq "label kept" "blue" "$(k $v admin get secret ap -o jsonpath='{.metadata.labels.team}')"
	expect_eq "unlabel" "secret/ap unlabeled" "$(k $v admin label secret ap team- 2>&1)"
	expect_eq "annotate" "secret/ap annotated" "$(k $v admin annotate secret ap note=x 2>&1)"
	# edit: a scripted EDITOR changes one value
	printf '#!/bin/sh\nsed -i "s/^  h: .*/  h: ZWRpdGVk/" "$1"\n' >"$T/editor.sh"
	chmod +x "$T/editor.sh"
	expect_eq "edit" "secret/ap edited" "$(EDITOR="$T/editor.sh" k $v admin edit secret ap 2>&1)"
	expect_eq "edited" "edited" "$(ctl get secret ap -o jsonpath='{.data.h}' | base64 -d)"
	# the three types
	expect_eq "strategic" "secret/ap patched" \
		"$(k $v admin patch secret ap -p '{"stringData":{"s":"canary13"}}' 2>&1)"
	expect_eq "json" "secret/ap patched" \
		"$(k 1.33 admin patch secret ap --type=json -p '[{"op":"remove","path":"/data/s"}]' 2>&1)"
	expect_errno "json test fails" 'The Secret "ap" is invalid: patch: ' \
		k $v admin patch secret ap --type=json -p '[{"op":"test","path":"/data/h","value":"eA=="}]'
	# resourceVersion in the patch: a precondition
	rv=$(k $v admin get secret ap -o jsonpath='{.metadata.resourceVersion}')
	expect_errno "stale rv" 'Operation cannot be fulfilled on secrets "ap": the object has been modified' \
		k $v admin patch secret ap --type=merge -p "{\"metadata\":{\"resourceVersion\":\"$((rv - 1))\"},\"data\":{\"x\":\"eA==\"}}"
	# dryRun: checked, nothing written
	# (kubectl patch prints no "(server dry run)", against any apiserver)
	expect_eq "dry run" "secret/ap patched" \
		"$(k $v admin patch secret ap --type=merge -p '{"data":{"d":"ZA=="}}' --dry-run=server 2>&1)"
	expect_eq "not written" "" "$(ctl get secret ap -o jsonpath='{.data.d}')"
	# fieldValidation=Strict on the patched object
	# fieldValidation: kubectl patch sends none, so the default, Warn (as
	# kube-apiserver); Strict refuses
	expect_eq "unknown field warns" "$(printf 'Warning: unknown field "dataa"\nsecret/ap patched (no change)')" \
		"$(k $v admin patch secret ap --type=merge -p '{"dataa":{"d":"ZA=="}}' 2>&1)"
	expect_contains "strict" "$(curl -sk --cert "$T/pki/admin.crt" --key "$T/pki/admin.key" -X PATCH \
		-H 'Content-Type: application/merge-patch+json' -d '{"dataa":{}}' \
		"https://127.0.0.1:$API_PORT/api/v1/namespaces/default/secrets/ap?fieldValidation=Strict")" \
		'"message":"strict decoding error: unknown field \"dataa\"'
	# server-side apply: 415, which kubectl prints as it comes
	expect_errno "server-side" 'the body of the request was in an unknown format' \
		k $v admin apply --server-side -f "$T/ap.yaml"
	# the python client: a dict is a strategic merge patch, a list a JSON patch
	/usr/bin/python3 - "$T/admin.conf" <<'PY' || fail "python client patch"
import sys
from kubernetes import client, config
config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
v1.patch_namespaced_secret("ap", "default", {"metadata": {"labels": {"py": "dict"}}})
v1.patch_namespaced_secret("ap", "default", [{"op": "add", "path": "/metadata/labels/pl", "value": "list"}])
s = v1.read_namespaced_secret("ap", "default")
assert s.metadata.labels == {"py": "dict", "pl": "list"}, s.metadata.labels
PY
	# no value in the annotation, the database or its WAL
	expect_contains "placeholder" "$(ctl get secret ap -o jsonpath='{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}')" \
		'"stringData":{"a":"***"}'
	for f in "$T/store/store.db" "$T/store/store.db-wal"; do
		[ -f "$f" ] || continue
		! grep -aq "canary1[0-4]\|$b64" "$f" || fail "a value in clear in $f"
	done
	stop_api
}

# deletecollection (labelSelector; the reply names what went, without
# values) and limit/continue paging, with curl and the python client
test_list_paging_deletecollection() {
	start_api
	local i
	for i in 1 2 3 4 5; do
		ctl create secret generic p$i --from-literal=k=canary15 >/dev/null
		ctl label secret p$i batch=$((i % 2)) >/dev/null
	done
	PORT=$API_PORT PKI=$T/pki /usr/bin/python3 - <<'PY' || fail "the python client failed"
import os
from kubernetes import client
c = client.Configuration()
c.host = "https://127.0.0.1:%s" % os.environ["PORT"]
c.ssl_ca_cert = os.environ["PKI"] + "/ca.crt"
c.cert_file = os.environ["PKI"] + "/admin.crt"
c.key_file = os.environ["PKI"] + "/admin.key"
api = client.CoreV1Api(client.ApiClient(c))
pages, cont = [], None
while True:
    l = api.list_namespaced_secret("default", limit=2, _continue=cont)
    pages.append([s.metadata.name for s in l.items])
    cont = l.metadata._continue
    if not cont:
        break
    assert l.metadata.remaining_item_count == 5 - sum(map(len, pages)), l.metadata
assert pages == [["p1", "p2"], ["p3", "p4"], ["p5"]], pages
gone = api.delete_collection_namespaced_secret("default", label_selector="batch=1",
                                              _preload_content=False)
import json
body = json.loads(gone.data)
assert sorted(s["metadata"]["name"] for s in body["items"]) == ["p1", "p3", "p5"], body
assert all("data" not in s for s in body["items"]), body
left = [s.metadata.name for s in api.list_namespaced_secret("default").items]
assert left == ["p2", "p4"], left
PY
	expect_contains "bad continue" "$(curl -sk --cert "$T/pki/admin.crt" --key "$T/pki/admin.key" \
		"https://127.0.0.1:$API_PORT/api/v1/namespaces/default/secrets?limit=1&continue=xx")" \
		'"code":400'
	expect_eq "kubectl delete --all" "$(printf 'secret "p2" deleted\nsecret "p4" deleted')" \
		"$(k 1.32 admin delete secrets --all 2>&1)"
	expect_eq "empty" "No resources found in default namespace." "$(ctl get secrets 2>&1)"
	stop_api
}

# core/v1 Events: the store's events (secretctl get events) listed with
# kubectl's Table, read by name, across namespaces; RBAC on them
test_kubectl_events() {
	start_api
	local out name
	ctl create secret generic db --from-literal=1BAD=canary16 --from-literal=OK=v >/dev/null
	ctl exec --from db -- true 2>/dev/null
	out=$(k 1.32 admin get events 2>&1)
	expect_eq "header" "LAST SEEN   TYPE      REASON                            OBJECT      MESSAGE" "$(head -1 <<<"$out")"
	expect_contains "row" "$(tail -1 <<<"$out")" "   Warning   InvalidEnvironmentVariableNames   secret/db   Keys [1BAD] from the EnvFrom secret default/db were skipped"
	expect_contains "-A" "$(k 1.33 admin get events -A 2>&1)" "default     "
	name=$(k 1.32 admin get events -o jsonpath='{.items[0].metadata.name}')
	expect_contains "by name" "$(k 1.32 admin get event "$name" -o json)" '"reason": "InvalidEnvironmentVariableNames"'
	expect_errno "forbidden" 'events is forbidden: User "bob" cannot list resource "events" in API group "" in the namespace "default"' \
		k 1.32 bob get events
	case "$out" in *canary16*) fail "an event holds a value: $out" ;; esac
	# selectors are applied, or refused: never ignored (a list of every
	# event for --field-selector involvedObject.name=db would be wrong)
	expect_eq "by metadata.name" "$name" \
		"$(k 1.32 admin get events --field-selector "metadata.name=$name" -o jsonpath='{.items[*].metadata.name}')"
	expect_eq "another name" "" \
		"$(k 1.32 admin get events --field-selector metadata.name=nope -o jsonpath='{.items[*].metadata.name}')"
	expect_eq "a label (events have none)" "" \
		"$(k 1.32 admin get events -l app=x -o jsonpath='{.items[*].metadata.name}')"
	expect_errno "a field not served" 'field label not supported: involvedObject.name' \
		k 1.32 admin get events --field-selector involvedObject.name=db
	# and on the RBAC kinds, in a list and in a watch's start
	k 1.32 admin create role ra --verb=get --resource=secrets >/dev/null
	k 1.32 admin create role rb --verb=get --resource=secrets >/dev/null
	k 1.32 admin label role ra team=a >/dev/null
	expect_eq "roles -l" "ra" "$(k 1.32 admin get roles -l team=a -o jsonpath='{.items[*].metadata.name}')"
	expect_eq "roles -l !team" "rb" "$(k 1.32 admin get roles -l '!team' -o jsonpath='{.items[*].metadata.name}')"
	expect_eq "roles by name" "rb" \
		"$(k 1.32 admin get roles --field-selector metadata.name=rb -o jsonpath='{.items[*].metadata.name}')"
	expect_errno "roles: a field not served" 'field label not supported: type' \
		k 1.32 admin get roles --field-selector type=x
	out=$(curl -sk --cert "$T/pki/admin.crt" --key "$T/pki/admin.key" -m 2 \
		"https://127.0.0.1:$API_PORT/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles?watch=1&timeoutSeconds=1&labelSelector=team%3Da" || true)
	expect_contains "watch -l: ra" "$out" '"name":"ra"'
	case "$out" in *'"name":"rb"'*) fail "watch -l team=a sent rb: $out" ;; esac
	stop_api
}

# watch_until FILE PATTERN [COUNT]: FILE has COUNT (1) lines matching PATTERN
# within 10 s (a loaded machine's kubectl start is slow, a watch is not)
watch_until() {
	eventually 10 "[ \"\$(grep -c -- '$2' '$1')\" -ge ${3:-1} ]" ||
		fail "no '$2' (x${3:-1}) in $(basename "$1"): $(cat "$1")"
}

# audited_lists RESOURCE: how many lists of RESOURCE the audit log holds
audited_lists() {
	grep '"verb":"list"' "$T/audit.log" | grep -c "\"resource\":\"$1\"" || true
}

# kubectl get events -w and --watch-only (1.32 and 1.33): an event recorded
# by secretctl (in another process) reaches both as a Table row; a watch
# from a list's resourceVersion gets exactly what came after; a
# resourceVersion the store never reached is 410 Expired; watch is its own
# verb (list alone does not grant it)
test_kubectl_watch_events() {
	API_EXTRA="audit_path = $T/audit.log" start_api
	local v out rv pids=()
	ctl create secret generic db --from-literal=1BAD=canary17 --from-literal=OK=v >/dev/null
	ctl exec --from db -- true 2>/dev/null
	for v in 1.32 1.33; do
		k $v admin get events -w >"$T/ev-$v" 2>&1 &
		pids+=($!)
		k $v admin get events -A -w --watch-only >"$T/evo-$v" 2>&1 &
		pids+=($!)
	done
	# each kubectl lists, then watches from the list's resourceVersion:
	# an event after its list reaches it
	eventually 10 '[ "$(audited_lists events)" -ge 4 ]' || fail "kubectl did not list events: $(cat "$T"/ev*-*)"
	ctl exec --from db -- true 2>/dev/null
	for v in 1.32 1.33; do
		watch_until "$T/ev-$v" InvalidEnvironmentVariableNames 2
		watch_until "$T/evo-$v" InvalidEnvironmentVariableNames
	done
	kill "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	for v in 1.32 1.33; do
		expect_eq "$v -w header" "LAST SEEN   TYPE      REASON                            OBJECT      MESSAGE" \
			"$(head -1 "$T/ev-$v")"
		expect_eq "$v -w rows" 2 "$(grep -c '   Warning   InvalidEnvironmentVariableNames   secret/db   Keys \[1BAD\] from the EnvFrom secret default/db were skipped' "$T/ev-$v")"
		expect_eq "$v --watch-only: the new one" 1 "$(grep -c '^default     .*InvalidEnvironmentVariableNames   secret/db' "$T/evo-$v")"
	done
	# the stream itself: from a list's resourceVersion, exactly what came after
	out=$(curl -sk --cert "$T/pki/admin.crt" --key "$T/pki/admin.key" \
		"https://127.0.0.1:$API_PORT/api/v1/namespaces/default/events")
	rv=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["metadata"]["resourceVersion"])' "$out")
	ctl exec --from db -- true 2>/dev/null
	curl -sk --cert "$T/pki/admin.crt" --key "$T/pki/admin.key" \
		"https://127.0.0.1:$API_PORT/api/v1/namespaces/default/events?watch=1&resourceVersion=$rv&timeoutSeconds=1" |
		python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin]
assert [e["type"] for e in ev] == ["ADDED"], ev
o = ev[0]["object"]
assert o["kind"] == "Event" and o["reason"] == "InvalidEnvironmentVariableNames", o
assert int(o["metadata"]["resourceVersion"]) > '"$rv"', o
' || fail "events watch from resourceVersion $rv"
	expect_contains "410" "$(curl -sk --cert "$T/pki/admin.crt" --key "$T/pki/admin.key" \
		"https://127.0.0.1:$API_PORT/api/v1/events?watch=1&resourceVersion=99999")" \
		'{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 99999'
	# list granted, watch not: kubectl lists, then the watch is refused
	printf '%s' '{"kind": "Role", "metadata": {"name": "ev-list", "namespace": "default"}, "rules": [{"apiGroups": [""], "resources": ["events"], "verbs": ["list"]}]}' >"$T/r.json"
	printf '%s' '{"kind": "RoleBinding", "metadata": {"name": "bob-ev", "namespace": "default"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "ev-list"}, "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}]}' >"$T/rb.json"
	"$BIN/test/rbacobj" "$T/secretfs.ini" put "$T/r.json" >/dev/null &&
		"$BIN/test/rbacobj" "$T/secretfs.ini" put "$T/rb.json" >/dev/null || fail "ev-list role (make $BIN/test/rbacobj)"
	expect_eq "bob lists" "3" "$(k 1.32 bob get events -o name | wc -l)"
	expect_errno "bob may not watch" 'cannot watch resource "events" in API group "" in the namespace "default"' \
		k 1.32 bob get events -w --request-timeout=5s
	case "$(cat "$T"/ev-* "$T"/evo-*)" in *canary17*) fail "an event holds a value" ;; esac
	stop_api
}

# kubectl get -w --output-watch-events for the four RBAC kinds (1.32 and
# 1.33): ADDED, MODIFIED, DELETED for what kubectl writes through the
# server and for what another process writes through the store writer
# (rbacobj); 410 Expired; watch refused without the verb; the python
# client's watch of RoleBindings
test_kubectl_watch_rbac() {
	local rbac=$BIN/test/rbacobj v kind e pids=()
	[ -x "$rbac" ] || fail "$rbac is missing: make $rbac"
	start_api
	ctl create namespace a >/dev/null
	# the first objects, through the store writer (kubectl's start costs)
	rbac_put() {
		printf '{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "%s", "metadata": {"name": "%s"%s}, %s}' \
			"$1" "$2" "${3:+, \"namespace\": \"$3\"}" "$4" >"$T/obj.json"
		"$rbac" "$T/secretfs.ini" put "$T/obj.json" >/dev/null || fail "rbacobj put $1 $2"
	}
	local rule='"rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]'
	rbac_put Role r0 a "$rule"
	rbac_put Role r2 a "$rule"
	rbac_put RoleBinding rb0 a '"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r0"}, "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}]'
	rbac_put ClusterRole cr0 "" "$rule"
	rbac_put ClusterRoleBinding crb0 "" '"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cr0"}, "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}]'
	for v in 1.32 1.33; do
		for kind in roles rolebindings clusterroles clusterrolebindings; do
			case $kind in
			roles) k $v admin get roles -n a -w --output-watch-events ;;
			rolebindings) k $v admin get rolebindings -A -w --output-watch-events ;;
			*) k $v admin get $kind -w --output-watch-events ;;
			esac >"$T/w-$kind-$v" 2>&1 &
			pids+=($!)
		done
	done
	# the first objects printed: each kubectl has listed
	for v in 1.32 1.33; do
		watch_until "$T/w-roles-$v" '^ADDED  *r0 '
		watch_until "$T/w-rolebindings-$v" '^ADDED  *a  *rb0  *Role/r0 '
		watch_until "$T/w-clusterroles-$v" '^ADDED  *cr0 '
		watch_until "$T/w-clusterrolebindings-$v" '^ADDED  *crb0  *ClusterRole/cr0 '
	done
	# each step seen by every watcher before the next: the hub sends a
	# change that a later one in the same round covers once, as it is
	# then (a secret changed many times comes once)
	seen() {
		watch_until "$T/w-$1-1.32" "$2"
		watch_until "$T/w-$1-1.33" "$2"
	}
	# through the server (kubectl) ...
	k 1.33 admin create role r1 -n a --verb=get --resource=secrets >/dev/null || fail "create r1"
	seen roles '^ADDED  *r1 '
	k 1.33 admin label role r1 -n a team=blue >/dev/null || fail "label r1"
	seen roles '^MODIFIED  *r1 '
	k 1.33 admin delete role r1 -n a >/dev/null || fail "delete r1"
	seen roles '^DELETED  *r1 '
	# ... and by another process, through the store writer
	rbac_put ClusterRole cr1 "" "$rule"
	seen clusterroles '^ADDED  *cr1 '
	"$rbac" "$T/secretfs.ini" delete ClusterRole "" cr1 || fail "delete cr1"
	seen clusterroles '^DELETED  *cr1 '
	cat >"$T/rb1.json" <<'JSON'
{"kind": "RoleBinding", "metadata": {"name": "rb1", "namespace": "a"},
 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r0"},
 "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "carol"}]}
JSON
	cat >"$T/crb1.json" <<'JSON'
{"kind": "ClusterRoleBinding", "metadata": {"name": "crb1"},
 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cr0"},
 "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ops"}]}
JSON
	expect_eq "rb1" created "$("$rbac" "$T/secretfs.ini" put "$T/rb1.json")"
	expect_eq "crb1" created "$("$rbac" "$T/secretfs.ini" put "$T/crb1.json")"
	seen rolebindings '^ADDED  *a  *rb1  *Role/r0 '
	seen clusterrolebindings '^ADDED  *crb1  *ClusterRole/cr0 '
	sed -i 's/carol/dave/' "$T/rb1.json"
	expect_eq "rb1 again" configured "$("$rbac" "$T/secretfs.ini" put "$T/rb1.json")"
	seen rolebindings '^MODIFIED  *a  *rb1  *Role/r0 '
	"$rbac" "$T/secretfs.ini" delete RoleBinding a rb1 || fail "delete rb1"
	"$rbac" "$T/secretfs.ini" delete ClusterRoleBinding "" crb1 || fail "delete crb1"
	seen rolebindings '^DELETED  *a  *rb1  *Role/r0 '
	seen clusterrolebindings '^DELETED  *crb1  *ClusterRole/cr0 '
	# the python client's watch of RoleBindings
	/usr/bin/python3 -c 'import kubernetes' 2>/dev/null || fail "python3-kubernetes is missing (make deps installs it)"
	PORT=$API_PORT PKI=$T/pki /usr/bin/python3 - <<'EOF' || fail "the python client's watch of rolebindings"
import os, threading, time
from kubernetes import client, watch

c = client.Configuration()
c.host = "https://127.0.0.1:%s" % os.environ["PORT"]
c.ssl_ca_cert = os.environ["PKI"] + "/ca.crt"
c.cert_file = os.environ["PKI"] + "/admin.crt"
c.key_file = os.environ["PKI"] + "/admin.key"
rbac = client.RbacAuthorizationV1Api(client.ApiClient(c))
seen, started = [], threading.Event()
def follow():
    w = watch.Watch()
    for ev in w.stream(rbac.list_namespaced_role_binding, "a", timeout_seconds=10):
        seen.append((ev["type"], ev["object"].metadata.name))
        started.set()
        if ev["type"] == "DELETED":
            break
t = threading.Thread(target=follow)
t.start()
assert started.wait(10), seen
body = client.V1RoleBinding(metadata=client.V1ObjectMeta(name="py"),
    role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="r0"),
    subjects=[(getattr(client, "RbacV1Subject", None) or client.V1Subject)(
        api_group="rbac.authorization.k8s.io", kind="User", name="eve")])
rbac.create_namespaced_role_binding("a", body)
for _ in range(200):  # seen before the delete (else one round may carry both)
    if ("ADDED", "py") in seen:
        break
    time.sleep(0.05)
rbac.delete_namespaced_role_binding("py", "a")
t.join(10)
assert seen == [("ADDED", "rb0"), ("ADDED", "py"), ("DELETED", "py")], seen
EOF
	# a namespace's deletion deletes its Roles at one revision: each is sent
	ctl delete namespace a >/dev/null
	for v in 1.32 1.33; do
		watch_until "$T/w-roles-$v" '^DELETED  *r0 '
		watch_until "$T/w-roles-$v" '^DELETED  *r2 '
		watch_until "$T/w-rolebindings-$v" '^DELETED  *a  *rb0 '
	done
	kill "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	expect_eq "roles, in order" "$(printf 'ADDED r0\nADDED r2\nADDED r1\nMODIFIED r1\nDELETED r1')" \
		"$(awk 'NR > 1 && NR < 7 {print $1, $2}' "$T/w-roles-1.33")"
	expect_eq "roles header" "EVENT      NAME   CREATED AT" "$(head -1 "$T/w-roles-1.32")"
	expect_contains "410" "$(curl -sk --cert "$T/pki/admin.crt" --key "$T/pki/admin.key" \
		"https://127.0.0.1:$API_PORT/apis/rbac.authorization.k8s.io/v1/clusterroles?watch=1&resourceVersion=99999")" \
		'{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 99999'
	# bob may get secrets (rb0), not watch roles
	expect_contains "bob may not watch" "$(curl -sk --cert "$T/pki/bob.crt" --key "$T/pki/bob.key" \
		"https://127.0.0.1:$API_PORT/apis/rbac.authorization.k8s.io/v1/namespaces/a/roles?watch=1")" \
		'"message":"roles.rbac.authorization.k8s.io is forbidden: User \"bob\" cannot watch resource \"roles\" in API group \"rbac.authorization.k8s.io\" in the namespace \"a\""'
	stop_api
}

# the rest of what the issue names, with real kubectl: describe (sizes,
# never a value), api-resources, version, create secret docker-registry and
# tls (protobuf bodies), -o custom-columns; and an expired certificate of
# the server's own CA is 401, where the same certificate in date is served
test_kubectl_describe_resources_version_and_expiry() {
	start_api
	local v=1.33 out
	ctl create secret generic s1 --from-literal=user=canary1 --from-literal=pass=canary22 >/dev/null
	out=$(k $v admin describe secret s1)
	expect_contains "describe: name" "$out" "Name:         s1"
	expect_contains "describe: type" "$out" "Type:  Opaque"
	expect_contains "describe: a size" "$out" "pass:  8 bytes"
	[[ $out == *canary* ]] && fail "describe printed a value: $out"
	out=$(k $v admin api-resources)
	expect_contains "api-resources: secrets" "$(echo "$out" | awk '$1 == "secrets" {print $2, $3, $4}')" "v1 true Secret"
	expect_contains "api-resources: namespaces" "$(echo "$out" | awk '$1 == "namespaces" {print $2, $3, $4, $5}')" "ns v1 false Namespace"
	expect_contains "api-resources: roles" "$(echo "$out" | awk '$1 == "roles" {print $2, $3}')" "rbac.authorization.k8s.io/v1 true"
	expect_contains "version" "$(k $v admin version)" "Server Version: v1.32"
	expect_eq "docker-registry" "secret/reg created" \
		"$(k $v admin create secret docker-registry reg --docker-server=r.example \
			--docker-username=u --docker-password=canary9)"
	expect_eq "docker-registry: kubectl's document" \
		"$(k $v admin create secret docker-registry reg --docker-server=r.example \
			--docker-username=u --docker-password=canary9 --dry-run=client \
			-o jsonpath='{.data.\.dockerconfigjson}')" \
		"$(ctl get secret reg -o jsonpath='{.data.\.dockerconfigjson}')"
	expect_eq "tls" "secret/t2 created" \
		"$(k 1.32 admin create secret tls t2 --cert="$(dirname "$GOLDEN")/../data/test-cert.pem" \
			--key="$(dirname "$GOLDEN")/../data/test-key.pem")"
	expect_eq "tls stored" "kubernetes.io/tls" "$(ctl get secret t2 -o jsonpath='{.type}')"
	expect_eq "custom-columns" "$(printf 'NAME   TYPE\ns1     Opaque\nt2     kubernetes.io/tls')" \
		"$(k $v admin get secrets -o custom-columns=NAME:.metadata.name,TYPE:.type | grep -v '^reg ')"
	# certificates of the server's own CA, one in date and one expired
	mkdir -p "$T/ca"
	: >"$T/ca/index.txt"
	echo 01 >"$T/ca/serial"
	cat >"$T/ca/ca.cnf" <<CNF
[ca]
default_ca = c
[c]
database = $T/ca/index.txt
serial = $T/ca/serial
new_certs_dir = $T/ca
default_md = sha256
policy = p
[p]
commonName = supplied
organizationName = optional
CNF
	local name dates code
	for name in fresh old; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/pki/$name.key" \
			-out "$T/pki/$name.csr" -subj "/O=system:masters/CN=$name" 2>/dev/null || fail "openssl req"
		if [ $name = old ]; then
			dates="-startdate 20200101000000Z -enddate 20200102000000Z"
		else
			dates="-days 1"
		fi
		# shellcheck disable=SC2086
		openssl ca -batch -config "$T/ca/ca.cnf" -cert "$T/store/pki/ca.crt" \
			-keyfile "$T/store/pki/ca.key" -in "$T/pki/$name.csr" -out "$T/pki/$name.crt" \
			-notext $dates 2>"$T/ca.err" || fail "openssl ca: $(cat "$T/ca.err")"
	done
	for name in fresh old; do
		code=$(curl -sk -o /dev/null -w '%{http_code}' --cert "$T/pki/$name.crt" --key "$T/pki/$name.key" \
			"https://127.0.0.1:$API_PORT/api/v1/namespaces/default/secrets")
		expect_eq "certificate $name" "$([ $name = old ] && echo 401 || echo 200)" "$code"
	done
	stop_api
}

# LIST is streamed (chunked, one item at a time): 2,000 secrets in two
# namespaces listed by kubectl (-o name -A) and by the python client,
# whole and in pages, are exactly secretctl's, values included; a value
# that fails to authenticate in the middle of a list breaks the reply off
# (no terminating chunk: curl and the client see a broken reply, never a
# short list that looks whole), and the Table, which reads no value, is
# still served
test_list_streamed_2000() {
	start_api
	# s-I in lst-000(I % 2), one 1 KiB key "value": I, then x's
	"$BIN/test/populate" "$T/secretfs.ini" 2000 2 lst || fail "populate failed"
	local i
	for i in 1 3 5; do
		ctl label secret "s-$i" -n lst-0001 pick=yes >/dev/null
	done
	ctl get secrets -A -o json | jq -r '.items[] | "\(.metadata.namespace)/\(.metadata.name)"' \
		>"$T/want" || fail "secretctl get -A failed"
	expect_eq "secretctl's count" 2000 "$(wc -l <"$T/want")"
	expect_eq "kubectl -A -o name" "$(sed 's|.*/|secret/|' "$T/want")" \
		"$(k 1.32 admin get secrets -A -o name)"
	PORT=$API_PORT PKI=$T/pki WANT=$T/want DB=$T/store/store.db /usr/bin/python3 - <<'PY' ||
import base64, json, os, subprocess
from kubernetes import client
c = client.Configuration()
c.host = "https://127.0.0.1:%s" % os.environ["PORT"]
c.ssl_ca_cert = os.environ["PKI"] + "/ca.crt"
c.cert_file = os.environ["PKI"] + "/admin.crt"
c.key_file = os.environ["PKI"] + "/admin.key"
c.retries = 0
api = client.CoreV1Api(client.ApiClient(c))
want = open(os.environ["WANT"]).read().split()
# the raw reply (the client's model objects take seconds for 2,000)
whole = json.loads(api.list_secret_for_all_namespaces(_preload_content=False).data)
assert ["%s/%s" % (s["metadata"]["namespace"], s["metadata"]["name"]) for s in whole["items"]] == want
for s in whole["items"]:
    i = s["metadata"]["name"][2:].encode()
    assert base64.b64decode(s["data"]["value"]) == i + b"x" * (1024 - len(i)), s["metadata"]["name"]
paged, cont = [], None
while True:
    l = json.loads(api.list_secret_for_all_namespaces(limit=333, _continue=cont,
                                                      _preload_content=False).data)
    paged += ["%s/%s" % (s["metadata"]["namespace"], s["metadata"]["name"]) for s in l["items"]]
    cont = l["metadata"].get("continue")
    if not cont:
        break
    assert len(l["items"]) == 333 and l["metadata"]["remainingItemCount"] == 2000 - len(paged), l["metadata"]
assert paged == want
sel = api.list_namespaced_secret("lst-0001", label_selector="pick=yes", limit=2)
assert [s.metadata.name for s in sel.items] == ["s-1", "s-3"], sel.items
assert sel.metadata.remaining_item_count == 1, sel.metadata
# s-1501's value no longer authenticates: a list reading it breaks off
subprocess.run(["sqlite3", os.environ["DB"], """UPDATE items SET blob = substr(blob, 1, 29) ||
    CASE WHEN substr(blob, 30, 1) = X'00' THEN X'01' ELSE X'00' END || substr(blob, 31)
    WHERE secret_id = (SELECT id FROM secrets WHERE name = 's-1501')"""], check=True)
try:
    l = api.list_namespaced_secret("lst-0001")
except Exception as e:
    pass
else:
    raise SystemExit("a list of %d items came back whole" % len(l.items))
PY
		fail "the python client's lists differ from secretctl's"
	local rc=0 before
	curl -sk --cert "$T/pki/admin.crt" --key "$T/pki/admin.key" -o "$T/broken.json" \
		"https://127.0.0.1:$API_PORT/api/v1/namespaces/lst-0001/secrets" || rc=$?
	[ "$rc" = 18 ] || fail "curl of a list with a tampered value: exit $rc, wanted 18 (a chunked reply cut short)"
	! jq -e . "$T/broken.json" >/dev/null 2>&1 || fail "a broken list reply parses as whole JSON"
	# what came is every item before s-1501, each whole
	before=$(grep '^lst-0001/' "$T/want" | grep -B1 '^lst-0001/s-1501$' | head -1)
	expect_contains "it stopped at s-1501" "$(tail -c 1700 "$T/broken.json")" \
		"\"name\":\"${before#lst-0001/}\""
	expect_eq "it ends after a whole item" "}" "$(tail -c 1 "$T/broken.json")"
	expect_contains "the server says which" "$(cat "$T/api.log")" "cannot read 'lst-0001/s-1501'"
	expect_eq "Table without values" 1000 "$(k 1.32 admin get secrets -n lst-0001 --no-headers | wc -l)"
	stop_api
}

# The server's peak RSS (VmHWM) over a LIST of 2,000 secrets of 1 KiB (as
# JSON and as kubectl's Table) and 4 watchers each reading its start (2,000
# ADDED events) at once: the server holds one secret per request at a time,
# so the whole stays under the README's bound of 32 MiB (it held every
# watcher's start at once, values included: 4 x 2,000 x 1.7 KiB, 14 MiB
# more).  Sanitizer builds keep freed memory in quarantine (ASan: 690 MiB
# here): their bound, test_load's 1 GiB, is a sanity check only; the
# release build's is the one that holds.
test_api_memory_bound() {
	start_api
	local bound=$((32 * 1024)) hwm j u
	case $BIN in */asan | */tsan) bound=$((1024 * 1024)) ;; esac
	"$BIN/test/populate" "$T/secretfs.ini" 2000 1 mem || fail "populate failed"
	u="https://127.0.0.1:$API_PORT/api/v1/namespaces/mem-0000/secrets"
	expect_eq "LIST" 2000 "$(curl -sk -H 'Authorization: Bearer admintoken' "$u" | jq '.items | length')"
	expect_eq "Table LIST" 2000 "$(curl -sk -H 'Authorization: Bearer admintoken' \
		-H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io' "$u" | jq '.rows | length')"
	j=$("$BIN/test/apiload" -t admintoken -c "$T/pki/ca.crt" start "$u" 4 2000 "$API_PID") ||
		fail "4 watchers did not each read their 2,000 ADDED events"
	hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$API_PID/status")
	echo "peak RSS ${hwm} KiB (bound $bound KiB); start: $j"
	[ "$hwm" -le "$bound" ] || fail "secretfs-apiserver's peak RSS: $hwm KiB, bound $bound KiB"
	stop_api
}
