# api.sh - a secretfs-apiserver of the test's own for real clients, as the
# README sets one up, for the test files that hold secretfs against kubectl
# (sourced after lib.sh): start_api, stop_api, k, kubectl_bin.

KUBECTL_DIR=${KUBECTL_DIR:-/usr/lib/google-cloud-sdk/bin}

# kubectl_bin VERSION: the path of kubectl.VERSION, or fail loudly
kubectl_bin() {
	local k="$KUBECTL_DIR/kubectl.$1"
	[ -x "$k" ] || fail "kubectl $1 is missing: expected $k (the google-cloud-sdk kubectl builds; set KUBECTL_DIR)"
	echo "$k"
}

# kubeconfig USER GROUP: $T/USER.conf from 'secretctl kubeconfig', and its
# certificate and key in $T/pki/USER.crt and .key for curl and python
kubeconfig() {
	(umask 077; ctl kubeconfig "$1" --group "$2" --server "https://127.0.0.1:$API_PORT" >"$T/$1.conf") ||
		fail "secretctl kubeconfig $1 failed"
	"$(kubectl_bin 1.32)" --kubeconfig "$T/$1.conf" config view --raw \
		-o jsonpath='{.users[0].user.client-certificate-data}' | base64 -d >"$T/pki/$1.crt"
	(umask 077; "$(kubectl_bin 1.32)" --kubeconfig "$T/$1.conf" config view --raw \
		-o jsonpath='{.users[0].user.client-key-data}' | base64 -d >"$T/pki/$1.key")
}

# start_api: a store with its pki/ (secretctl init), a token file and the
# server on a free port (API_PORT), logging to $T/api.log; kubeconfigs for
# admin (group system:masters) and bob (group dev)
start_api() {
	new_store
	command -v openssl >/dev/null || fail "openssl is missing (make deps installs it)"
	[ -f "$T/store/pki/server.crt" ] || fail "secretctl init made no pki/"
	mkdir -p "$T/pki"
	cp "$T/store/pki/ca.crt" "$T/pki/ca.crt"
	API_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	printf '%s\n' 'admintoken,tina,1001,"system:masters,ops"' 'devtoken,dan,1002,dev' >"$T/tokens.csv"
	chmod 0600 "$T/tokens.csv"
	cat >>"$T/secretfs.ini" <<EOF
[api]
listen = 127.0.0.1:$API_PORT
token_file = $T/tokens.csv
${API_EXTRA:-}
EOF
	# the subshell keeps the server's exit status for stop_api
	( "$BIN/secretfs-apiserver" -c "$T/secretfs.ini" -f 2>"$T/api.log" &
	  echo $! >"$T/api.pid"
	  wait $!
	  echo $? >"$T/api.rc" ) &
	for _ in $(seq 100); do
		[ -s "$T/api.pid" ] && break
		sleep 0.01
	done
	API_PID=$(cat "$T/api.pid")
	track "$API_PID" secretfs-apiser
	for _ in $(seq 100); do
		curl -sk "https://127.0.0.1:$API_PORT/healthz" >/dev/null 2>&1 && break
		sleep 0.05
	done
	expect_eq "healthz" "ok" "$(curl -sk "https://127.0.0.1:$API_PORT/healthz")"
	kubeconfig admin system:masters
	kubeconfig bob dev
	cleanup_extra() { stop_api; }
}

# stop_api: SIGTERM ends it cleanly (exit 0), with no sanitizer report and
# no value in its log
stop_api() {
	[ -n "${API_PID:-}" ] || return 0
	kill -TERM "$API_PID" 2>/dev/null
	for _ in $(seq 200); do
		[ -s "$T/api.rc" ] && break
		sleep 0.05
	done
	local rc
	rc=$(cat "$T/api.rc" 2>/dev/null || echo "none: still running 10 s after SIGTERM")
	API_PID=
	if grep -q "Sanitizer\|runtime error" "$T/api.log"; then
		fail "sanitizer report from secretfs-apiserver: $(grep -A30 "Sanitizer\|runtime error" "$T/api.log" | head -40)"
	fi
	[ $rc = 0 ] || fail "secretfs-apiserver exited $rc on SIGTERM: $(tail -5 "$T/api.log")"
	! grep -q "canary" "$T/api.log" || fail "a value reached the server's log"
}

# k VERSION USER ARGS...: kubectl of that version as USER, its own cache
k() {
	local v=$1 u=$2
	shift 2
	"$(kubectl_bin "$v")" --kubeconfig "$T/$u.conf" --cache-dir "$T/kcache-$v" "$@"
}
