# test_kubectl_parity.sh - secretctl create secret ... --dry-run=client -o json
# gives the same name, namespace, type and data as kubectl's.  The expected
# objects in golden/ were printed by kubectl itself (golden/cases.txt lists
# the arguments; regenerate with kubectl create secret ARGS --dry-run=client
# -o json); the test certificate and keys in data/ are throwaway.

# the fields kubectl and secretctl must agree on, as one sorted line
fields() {
	python3 -c 'import json,sys
d = json.load(sys.stdin)
print(json.dumps([d.get("kind"), d.get("apiVersion"), d["metadata"], d.get("type"),
                  d.get("data"), d.get("immutable")], sort_keys=True))'
}

test_dry_run_matches_kubectl() {
	new_store
	local here i=0 line
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	cd "$here"
	while read -r line; do
		i=$((i + 1))
		# shellcheck disable=SC2086
		expect_eq "create secret $line" "$(fields <"golden/case$i.json")" \
			"$(ctl create secret $line --dry-run=client -o json | fields)"
	done <golden/cases.txt
	[ "$i" -ge 10 ] || fail "only $i cases ran"
	# and a dry run wrote nothing
	expect_eq "nothing written" "No resources found in default namespace." "$(ctl get secrets 2>&1)"
}

test_create_tls_and_docker_registry() {
	new_store
	local here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	expect_eq "tls" "secret/web-tls created" \
		"$(ctl create secret tls web-tls --cert="$here/data/test-cert.pem" --key="$here/data/test-key.pem")"
	expect_eq "tls type" "kubernetes.io/tls" \
		"$(ctl get secret web-tls -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["type"])')"
	expect_errno "mismatched key" 'secret "bad": failed to load key pair: private key does not match public key' \
		ctl create secret tls bad --cert="$here/data/test-cert.pem" --key="$here/data/other-key.pem"
	expect_errno "not PEM" 'the certificate is not a PEM certificate' \
		ctl create secret tls bad --cert="$here/data/app.env" --key="$here/data/test-key.pem"
	expect_errno "both needed" '--cert and --key are both required' \
		ctl create secret tls bad --cert="$here/data/test-cert.pem"
	expect_eq "docker" "secret/reg created" \
		"$(ctl create secret docker-registry reg --docker-username=u --docker-password=p)"
	expect_eq "docker document" '{"auths":{"https://index.docker.io/v1/":{"username":"u","password":"p","auth":"dTpw"}}}' \
		"$(ctl get secret reg -o json | python3 -c 'import json,sys,base64; print(base64.b64decode(json.load(sys.stdin)["data"][".dockerconfigjson"]).decode())')"
	expect_errno "docker needs a user" '--docker-username and --docker-password are required' \
		ctl create secret docker-registry reg2 --docker-password=p
	local hashed
	hashed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["name"])' "$here/golden/case3.json")
	expect_eq "append-hash creates the hashed name" "secret/$hashed created" \
		"$(ctl create secret generic hashed --from-literal=a=1 --from-literal=b=2 --append-hash)"
	# kubectl's way to update: a dry run piped into apply
	expect_eq "piped create" "secret/piped created" \
		"$(ctl create secret generic piped --from-literal=a=1 --dry-run=client -o yaml | ctl apply -f -)"
	expect_eq "piped update" "secret/piped configured" \
		"$(ctl create secret generic piped --from-literal=a=2 --dry-run=client -o yaml | ctl apply -f -)"
	expect_eq "piped json" "secret/piped unchanged" \
		"$(ctl create secret generic piped --from-literal=a=2 --dry-run=client -o json | ctl apply -f -)"
}

# label and annotate, with kubectl's messages (as kubectl v1.32 prints them
# with --local) and the API server's rules; a refusal writes nothing
test_label_and_annotate_as_kubectl() {
	new_store
	local rev out
	ctl create secret generic s --from-literal=a=1 >/dev/null
	ctl create secret generic t --from-literal=a=2 >/dev/null
	label_of() { ctl get secret "$1" -o jsonpath="{.metadata.labels.$2}"; }
	expect_eq "add" "secret/s labeled" "$(ctl label secret s app=web)"
	expect_eq "added" "web" "$(label_of s app)"
	rev=$(revision)
	expect_errno "no overwrite" "error: 'app' already has a value (web), and --overwrite is false" \
		ctl label secret s app=web2
	expect_eq "kept" "web" "$(label_of s app)"
	expect_eq "same value" "secret/s not labeled" "$(ctl label secret s app=web)"
	expect_errno "bad value" 'error: invalid label value: "k=bad value": a valid label must be an empty string' \
		ctl label secret s 'k=bad value'
	expect_errno "bad key" 'error: Secret "s" is invalid: metadata.labels: Invalid value: "bad key": name part must consist' \
		ctl label secret s 'bad key=x'
	expect_errno "set and remove" "error: can not both modify and remove a label in the same command" \
		ctl label secret s a=1 a-
	expect_errno "nothing to do" "error: at least one label update is required" ctl label secret s
	expect_eq "refusals and no-ops wrote nothing" "$rev" "$(revision)"
	expect_eq "overwrite" "secret/s labeled" "$(ctl label secret s app=web2 --overwrite)"
	expect_eq "overwritten" "web2" "$(label_of s app)"
	expect_eq "remove" "secret/s unlabeled" "$(ctl label secret s app-)"
	expect_eq "removed" "" "$(label_of s app)"
	expect_eq "remove again" "secret/s not labeled" "$(ctl label secret s app-)"
	# several secrets: --all, a selector, --list; refusals one per line
	expect_eq "all" "secret/s labeled
secret/t labeled" "$(ctl label secret --all tier=back)"
	expect_eq "selector list" "tier=back
tier=back" "$(ctl label secret -l tier=back --list)"
	out=$(ctl label secrets s t tier=front 2>&1) && fail "overwrote two labels without --overwrite"
	expect_eq "two refusals" "'tier' already has a value (back), and --overwrite is false
'tier' already has a value (back), and --overwrite is false" "$out"
	expect_contains "show labels" "$(ctl get secrets --show-labels)" "LABELS"
	expect_contains "show labels row" "$(ctl get secrets --show-labels)" "tier=back"
	expect_contains "label column" "$(ctl get secrets -L tier | head -1)" "TIER"
	expect_contains "label column value" "$(ctl get secrets -L tier | tail -1)" "back"
	# dry run: printed, not written
	rev=$(revision)
	expect_eq "dry run" "secret/s labeled (dry run)" "$(ctl label secret s x=1 --dry-run=client)"
	expect_eq "dry run object" "1" "$(ctl label secret s x=1 --dry-run=client -o json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["labels"]["x"])')"
	expect_eq "dry run wrote nothing" "$rev" "$(revision)"
	# a resource version is a precondition
	expect_errno "moved since" 'the object has been modified' \
		ctl label secret s x=1 --resource-version=1
	expect_eq "current version" "secret/s labeled" \
		"$(ctl label secret s x=1 --resource-version="$(ctl get secret s -o jsonpath='{.metadata.resourceVersion}')")"
	# an immutable secret's labels may change, its data stays
	ctl create secret generic frozen --from-literal=k=v --immutable >/dev/null
	expect_eq "immutable labeled" "secret/frozen labeled" "$(ctl label secret frozen app=x)"
	expect_eq "immutable data" "dg==" "$(ctl get secret frozen -o jsonpath='{.data.k}')"
	# annotations
	expect_eq "annotate" "secret/s annotated" "$(ctl annotate secret s note=hello)"
	expect_errno "annotate no overwrite" \
		"error: --overwrite is false but found the following declared annotation(s): 'note' already has a value (hello)" \
		ctl annotate secret s note=bye
	expect_eq "annotate same" "secret/s annotated" "$(ctl annotate secret s note=hello)"
	expect_eq "annotate overwrite" "secret/s annotated" "$(ctl annotate secret s 'note=any text, even spaces' --overwrite)"
	expect_eq "annotate list" "note=any text, even spaces" "$(ctl annotate secret s --list)"
	expect_errno "annotate set and remove" \
		"error: can not both modify and remove the following annotation(s) in the same command: a" \
		ctl annotate secret s a=1 a-
	expect_errno "annotation key" 'metadata.annotations: Invalid value: "a/b/c"' ctl annotate secret s a/b/c=1
	expect_eq "annotate remove" "secret/s annotated" "$(ctl annotate secret s note-)"
	expect_eq "annotate removed" "" "$(ctl annotate secret s --list)"
	expect_errno "missing" 'secret "nosuch" in namespace "default" not found' ctl label secret nosuch k=v
}
