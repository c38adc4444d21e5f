# test_pki.sh - the API's certificates: secretctl init / pki init (the CA
# and the server's certificate in pki/ beside the key file), secretctl
# kubeconfig (client certificates), checked with openssl, real kubectl and
# a real TLS handshake (openssl s_server with the generated files).

PKI=

# pki_store: a fresh store (init makes pki/ too); $PKI is its folder
pki_store() {
	new_store
	PKI=$T/store/pki
}

# cert_text FILE: openssl's text of a certificate, then its notBefore=,
# notAfter= and serial= lines (one openssl run: each costs ~0.2 s)
cert_text() {
	openssl x509 -in "$1" -noout -text -startdate -enddate -serial
}

# cert_span TEXT: notAfter - notBefore in seconds (the TTL and the 300 s
# of clock skew allowed before now)
cert_span() {
	echo $(($(date -d "$(sed -n 's/^notAfter=//p' <<<"$1")" +%s) -
		$(date -d "$(sed -n 's/^notBefore=//p' <<<"$1")" +%s)))
}

# host_san: ", DNS:HOST" for the host name, as the server's certificate
# names it (when it is a DNS name, and not localhost, named already)
host_san() {
	local h
	h=$(hostname)
	[[ $h =~ ^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$ && ${h,,} != localhost ]] && echo ", DNS:$h"
	return 0
}

# kc_field CONFIG JSONPATH: what real kubectl reads from a kubeconfig
kc_field() {
	kubectl --kubeconfig "$1" config view --raw -o jsonpath="$2"
}

# kc_pair CONFIG PREFIX: the CA, client certificate and key of a kubeconfig
# as PREFIX.ca, PREFIX.crt and PREFIX.key (for curl; the test's own copies)
kc_pair() {
	local ca crt key
	read -r ca crt key < <(kc_field "$1" '{.clusters[0].cluster.certificate-authority-data} {.users[0].user.client-certificate-data} {.users[0].user.client-key-data}{"\n"}')
	base64 -d <<<"$ca" >"$2.ca"
	base64 -d <<<"$crt" >"$2.crt"
	base64 -d <<<"$key" >"$2.key"
}

# init makes the PKI with the contract's modes, names and extensions
test_pki_init_files() {
	command -v openssl >/dev/null || fail "openssl is missing (make deps installs it)"
	local t0
	t0=$(date +%s)
	pki_store
	expect_eq "pki/ mode" "700 0" "$(stat -c '%a %u' "$PKI")"
	expect_eq "pki/ files" "ca.crt ca.key server.crt server.key" "$(ls -A "$PKI" | xargs)"
	expect_eq "key modes" "400 0 400 0" "$(stat -c '%a %u' "$PKI/ca.key" "$PKI/server.key" | xargs)"
	expect_eq "certificate modes" "644 644" "$(stat -c '%a' "$PKI/ca.crt" "$PKI/server.crt" | xargs)"
	expect_eq "verify" "$PKI/server.crt: OK" "$(openssl verify -CAfile "$PKI/ca.crt" "$PKI/server.crt")"
	local ca srv now nb
	ca=$(cert_text "$PKI/ca.crt")
	expect_contains "CA subject" "$ca" "Subject: CN = secretfs-ca"
	expect_contains "CA constraint" "$ca" "CA:TRUE"
	expect_contains "CA key usage" "$ca" "Certificate Sign"
	expect_contains "CA key" "$ca" "NIST CURVE: P-256"
	expect_contains "CA signature" "$ca" "ecdsa-with-SHA256"
	expect_eq "CA lifetime" $((3650 * 86400 + 300)) "$(cert_span "$ca")"
	srv=$(cert_text "$PKI/server.crt")
	expect_contains "server subject" "$srv" "Subject: CN = secretfs-apiserver"
	expect_contains "server issuer" "$srv" "Issuer: CN = secretfs-ca"
	expect_contains "server EKU" "$srv" "TLS Web Server Authentication"
	expect_contains "server SANs" "$srv" "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1$(host_san)"
	expect_eq "server lifetime" $((365 * 86400 + 300)) "$(cert_span "$srv")"
	# notBefore five minutes before it was made, for clocks a little behind
	now=$(date +%s)
	nb=$(date -d "$(sed -n 's/^notBefore=//p' <<<"$srv")" +%s)
	[ "$nb" -ge $((t0 - 300)) ] && [ "$nb" -le $((now - 300)) ] ||
		fail "notBefore $nb is not 300 s before the time it was made ($t0..$now)"
	# pki init again: nothing changes, and --san cannot change a kept certificate
	local sums out
	sums=$(sha256sum "$PKI"/*)
	out=$(ctl pki init --san extra.example 2>&1)
	expect_contains "pki init again" "$out" "is complete: nothing to create"
	expect_contains "pki init --san" "$out" "warning: '$PKI/server.crt' was kept"
	expect_eq "files untouched" "$sums" "$(sha256sum "$PKI"/*)"
	# a new server certificate with more names, signed by the same CA
	rm "$PKI/server.crt" "$PKI/server.key"
	out=$(ctl pki init --san node1.example.com --san 10.1.2.3 --san '*.apps.example' --san 127.0.0.1)
	expect_eq "pki init output" "server certificate created: '$PKI/server.crt' (key '$PKI/server.key', mode 0400)" "$out"
	srv=$(cert_text "$PKI/server.crt")
	expect_contains "--san" "$srv" \
		"IP Address:0:0:0:0:0:0:0:1$(host_san), DNS:node1.example.com, IP Address:10.1.2.3, DNS:*.apps.example"
	expect_eq "127.0.0.1 once" 1 "$(grep -o 'IP Address:127.0.0.1' <<<"$srv" | wc -l)"
	expect_eq "CA kept" "$(echo "$sums" | grep ca.key)" "$(sha256sum "$PKI/ca.key")"
	expect_eq "verify" "$PKI/server.crt: OK" "$(openssl verify -CAfile "$PKI/ca.crt" "$PKI/server.crt")"
	expect_errno "bad --san" "--san 'bad name!': not a host name or an IP address" \
		ctl pki init --san 'bad name!'
	expect_errno "--san on kubeconfig" "unknown flag: --san" ctl kubeconfig x --san y
}

# what is looser than the contract, or half there, is refused by name
test_pki_refuses() {
	pki_store
	local k=$PKI/ca.key
	chmod 0440 "$k"
	expect_errno "group-readable CA key" \
		"error: key file '$k' is mode 0440, looser than 0400: run 'chmod 0400 $k'" \
		ctl kubeconfig admin
	chmod 0600 "$k"
	expect_errno "writable CA key" "key file '$k' is mode 0600, looser than 0400" ctl kubeconfig admin
	chmod 0400 "$k"
	chmod 0600 "$PKI/server.key"
	expect_errno "server key" "key file '$PKI/server.key' is mode 0600" ctl pki init
	chmod 0400 "$PKI/server.key"
	chmod 0750 "$PKI"
	expect_errno "open folder" "folder '$PKI' is mode 0750, open to group or others: run 'chmod 0700 $PKI'" \
		ctl kubeconfig admin
	chmod 0700 "$PKI"
	mv "$k" "$T/ca.key" && ln -s "$T/ca.key" "$k"
	expect_errno "symbolic link" "cannot open key file '$k': is a symbolic link" ctl kubeconfig admin
	rm "$k" && mv "$T/ca.key" "$k"
	chown 1234 "$k"
	expect_errno "owner" "key file '$k' is owned by uid 1234, neither root nor the current user" \
		ctl kubeconfig admin
	chown 0 "$k"
	ctl kubeconfig admin >/dev/null
	# half pairs are never completed by a new key: that would orphan what
	# was signed
	mv "$PKI/server.key" "$T/"
	expect_errno "half pair" "'$PKI/server.crt' exists without '$PKI/server.key'" ctl pki init
	mv "$T/server.key" "$PKI/"
	rm "$PKI/ca.crt" "$PKI/ca.key"
	expect_errno "no CA" "'$PKI/server.crt' exists without the CA that signed it" ctl pki init
	# a key from elsewhere
	rm "$PKI/server.crt" "$PKI/server.key"
	ctl pki init >/dev/null
	openssl ecparam -name prime256v1 -genkey -noout -out "$T/other.key" 2>/dev/null
	rm -f "$PKI/server.key" && install -m 0400 "$T/other.key" "$PKI/server.key"
	expect_errno "wrong key" "'$PKI/server.key' is not the key of '$PKI/server.crt'" ctl pki init
	# kubeconfig on a store without pki/ makes it first
	rm -r "$PKI"
	local out
	out=$(ctl kubeconfig admin --group system:masters 2>"$T/err")
	expect_contains "made on first use" "$(cat "$T/err")" "CA created: '$PKI/ca.crt'"
	expect_contains "kubeconfig" "$out" "client-key-data:"
	expect_eq "pki/ mode" "700" "$(stat -c '%a' "$PKI")"
}

# a kubeconfig real kubectl reads, naming the user, groups and server; the
# client key only in it
test_pki_kubeconfig() {
	command -v kubectl >/dev/null || fail "kubectl is missing: these tests need a real kubectl (1.32) on PATH"
	pki_store
	ctl kubeconfig admin --group system:masters >"$T/admin.conf"
	# user, server; cluster, context and current-context; the context's
	expect_eq "kubectl config view" "admin https://127.0.0.1:6443 secretfs admin@secretfs admin@secretfs secretfs admin" \
		"$(kc_field "$T/admin.conf" '{.users[0].name} {.clusters[0].cluster.server} {.clusters[0].name} {.contexts[0].name} {.current-context} {.contexts[0].context.cluster} {.contexts[0].context.user}')"
	kc_pair "$T/admin.conf" "$T/admin"
	cmp "$T/admin.ca" "$PKI/ca.crt" || fail "certificate-authority-data is not pki/ca.crt"
	expect_eq "verify" "$T/admin.crt: OK" "$(openssl verify -CAfile "$PKI/ca.crt" "$T/admin.crt")"
	local txt txt2
	txt=$(cert_text "$T/admin.crt")
	expect_contains "subject" "$txt" "Subject: O = system:masters, CN = admin"
	expect_contains "EKU" "$txt" "TLS Web Client Authentication"
	expect_contains "not a CA" "$txt" "CA:FALSE"
	openssl pkey -in "$T/admin.key" -noout 2>/dev/null || fail "client-key-data is not a key"
	# the key is nowhere but in the kubeconfig (its body is not in any file
	# under the store's folder)
	local body
	body=$(sed -n 2p "$T/admin.key")
	! grep -rqF -- "$body" "$T/store" || fail "the client key is in a file of the store's folder"
	# groups, TTL, context, and a random 128-bit serial each time
	ctl kubeconfig bob --group team-a --group 'team b' --ttl 90d --context dev >"$T/bob.conf"
	kc_pair "$T/bob.conf" "$T/bob"
	txt2=$(cert_text "$T/bob.crt")
	expect_contains "groups" "$txt2" "Subject: O = team-a, O = team b, CN = bob"
	expect_eq "context" "dev dev bob" \
		"$(kc_field "$T/bob.conf" '{.contexts[0].name} {.current-context} {.contexts[0].context.user}')"
	expect_eq "--ttl 90d" $((90 * 86400 + 300)) "$(cert_span "$txt2")"
	expect_eq "default TTL" $((365 * 86400 + 300)) "$(cert_span "$txt")"
	ctl kubeconfig carol --ttl 1h30m >"$T/carol.conf"
	kc_pair "$T/carol.conf" "$T/carol"
	expect_eq "--ttl 1h30m" $((5400 + 300)) "$(cert_span "$(cert_text "$T/carol.crt")")"
	local s1 s2
	s1=$(sed -n 's/^serial=//p' <<<"$txt")
	s2=$(sed -n 's/^serial=//p' <<<"$txt2")
	[ "$s1" != "$s2" ] && [ ${#s1} -le 32 ] && [ ${#s1} -ge 24 ] || fail "serials $s1 $s2: not random 128-bit"
	# the server from [api] listen, or --server
	printf '[api]\nlisten = 0.0.0.0:7443\n' >>"$T/secretfs.ini"
	expect_eq "wildcard listen" "https://127.0.0.1:7443" \
		"$(ctl kubeconfig a >"$T/a.conf" && kc_field "$T/a.conf" '{.clusters[0].cluster.server}')"
	sed -i 's/^listen = .*/listen = [::1]:6000/' "$T/secretfs.ini"
	expect_eq "IPv6 listen" "https://[::1]:6000" \
		"$(ctl kubeconfig a >"$T/a.conf" && kc_field "$T/a.conf" '{.clusters[0].cluster.server}')"
	expect_eq "--server" "https://node1:443" \
		"$(ctl kubeconfig a --server https://node1:443 >"$T/a.conf" && kc_field "$T/a.conf" '{.clusters[0].cluster.server}')"
	expect_errno "http" "--server 'http://x:1': must be an https:// URL" ctl kubeconfig a --server http://x:1
	expect_errno "ttl" "--ttl '5': not a duration" ctl kubeconfig a --ttl 5
	expect_errno "ttl in hex" "--ttl '0x10h': not a duration" ctl kubeconfig a --ttl 0x10h
	expect_errno "ttl past the CA" "would outlive the CA '$PKI/ca.crt' (valid until 20" ctl kubeconfig a --ttl 3660d
	expect_errno "user" "user \"\": must be 1 to 64 bytes" ctl kubeconfig ''
	# the control character refused is not printed raw, which would let it
	# rewrite the terminal line that reports it
	expect_errno "user with ESC" 'user "a\x1b[2Kb": must be 1 to 64 bytes' ctl kubeconfig $'a\e[2Kb'
	expect_errno "group with CR" '--group "g\x0droot": must be' ctl kubeconfig a --group $'g\rroot'
	expect_errno "context with NL" '--context "c\x0ax": must be' ctl kubeconfig a --context $'c\nx'
	expect_errno "no user" "exactly one NAME is required" ctl kubeconfig
	sed -i 's/^listen = .*/listen = 6443/' "$T/secretfs.ini"
	expect_errno "bad listen" "[api] listen: '6443' is not ADDRESS:PORT" ctl kubeconfig a
	printf 'listen = 127.0.0.1:6443\nclient_ca = /etc/other-ca.crt\n' >>"$T/secretfs.ini"
	sed -i '/^listen = 6443$/d' "$T/secretfs.ini"
	expect_errno "other client CA" "[api] client_ca is '/etc/other-ca.crt', not secretctl's CA" \
		ctl kubeconfig a
	sed -i '/^client_ca = /d' "$T/secretfs.ini"
	printf 'tls_cert = /etc/s.crt\ntls_key = /etc/s.key\n' >>"$T/secretfs.ini"
	ctl kubeconfig a 2>"$T/err" >/dev/null
	expect_contains "other server certificate" "$(cat "$T/err")" \
		"warning: [api] tls_cert is '/etc/s.crt': the kubeconfig trusts only secretctl's CA"
	"$BIN/secretctl" kubeconfig --help | grep -q "secretctl kubeconfig admin --group system:masters > admin.conf" ||
		fail "kubeconfig --help lacks its example"
	"$BIN/secretctl" pki init --help | grep -q "Examples:" || fail "pki init --help lacks examples"
}

# a TLS handshake with exactly these files: openssl s_server requiring a
# client certificate from the CA, real kubectl and curl as clients; a
# foreign CA's client certificate and none at all are refused
test_pki_tls_handshake() {
	command -v curl >/dev/null || fail "curl is missing (make deps installs it)"
	command -v kubectl >/dev/null || fail "kubectl is missing: these tests need a real kubectl (1.32) on PATH"
	pki_store
	openssl s_server -accept 0 -cert "$PKI/server.crt" -key "$PKI/server.key" \
		-CAfile "$PKI/ca.crt" -Verify 1 -verify_return_error -www >"$T/s_server.out" 2>&1 &
	track $! openssl
	local port=
	eventually 5 '[ -n "$(sed -n "s/^ACCEPT .*:\([0-9]*\)$/\1/p" "$T/s_server.out")" ]'
	port=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$T/s_server.out")
	ctl kubeconfig admin --group system:masters --server "https://127.0.0.1:$port" >"$T/admin.conf"
	# kubectl checks the server's certificate (IP SAN 127.0.0.1) and presents
	# the kubeconfig's; s_server's page names the client it verified
	local page
	page=$(timeout 20 kubectl --kubeconfig "$T/admin.conf" get --raw /)
	expect_contains "kubectl over TLS" "$page" "Subject: O=system:masters, CN=admin"
	kc_pair "$T/admin.conf" "$T/admin"
	page=$(curl -sS --noproxy "*" --max-time 10 --cacert "$PKI/ca.crt" --cert "$T/admin.crt" --key "$T/admin.key" \
		"https://localhost:$port/")
	expect_contains "curl by name" "$page" "Subject: O=system:masters, CN=admin"
	curl -sS --noproxy "*" --max-time 10 --cacert "$PKI/ca.crt" --cert "$T/admin.crt" --key "$T/admin.key" \
		"https://[::1]:$port/" | grep -q "CN=admin" || fail "curl to [::1] failed"
	# a client certificate from another CA, and none
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj /CN=evil-ca -keyout "$T/evil-ca.key" -out "$T/evil-ca.crt" 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=system:masters/CN=admin" \
		-keyout "$T/evil.key" -out "$T/evil.csr" 2>/dev/null
	openssl x509 -req -in "$T/evil.csr" -CA "$T/evil-ca.crt" -CAkey "$T/evil-ca.key" \
		-CAcreateserial -days 1 -out "$T/evil.crt" 2>/dev/null
	curl -sS --noproxy "*" --max-time 10 --cacert "$PKI/ca.crt" --cert "$T/evil.crt" --key "$T/evil.key" \
		"https://127.0.0.1:$port/" >"$T/evil.out" 2>&1 && fail "a foreign CA's client certificate was accepted"
	grep -q "CN=admin" "$T/evil.out" && fail "the server answered a foreign client: $(head -3 "$T/evil.out")"
	curl -sS --noproxy "*" --max-time 10 --cacert "$PKI/ca.crt" "https://127.0.0.1:$port/" >"$T/none.out" 2>&1 &&
		fail "no client certificate was accepted"
	expect_contains "no certificate" "$(cat "$T/none.out")" "certificate required"
	# and the server's certificate is refused by a client trusting another CA
	curl -sS --noproxy "*" --max-time 10 --cacert "$T/evil-ca.crt" --cert "$T/admin.crt" --key "$T/admin.key" \
		"https://127.0.0.1:$port/" >/dev/null 2>&1 && fail "the server's certificate passed another CA"
	return 0
}
