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
