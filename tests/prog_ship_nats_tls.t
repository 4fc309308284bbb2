#!/bin/bash
# prog_ship_nats_tls.t - ring-ship --nats over TLS to a JetStream server on
# 127.0.0.1 that requires client certificates (verify: true), with a CA,
# a server and a client certificate made here with openssl: the lines
# arrive with --tls-ca/--tls-cert/--tls-key and with NATS_CA/NATS_CERT/
# NATS_KEY; without a client certificate, with a CA that did not sign the
# server's, and with a missing file ring-ship exits 1 with one line that
# names no secret. Skips (TAP skip) without openssl, nats-server or a
# ring-ship built with libnats-dev. Runs from the repository root.

. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/nats.sh"
nats_skip_unless_ready
if ! command -v openssl >/dev/null 2>&1; then
	echo "1..0 # skip openssl is not installed (Debian: openssl)"
	exit 0
fi
plan 11

tap_tmpdir prog_ship_nats_tls
TAP_GROUP=ship
PKI=$TMP/pki
mkdir -p "$PKI"

# make_ca NAME: a self-signed CA NAME.crt/NAME.key in $PKI.
make_ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
		-keyout "$PKI/$1.key" -out "$PKI/$1.crt" 2>/dev/null
}

# make_cert NAME CA EXT: a key and certificate NAME signed by CA, with the
# extensions EXT (e.g. the server's IP address).
make_cert() {
	printf '%s\n' "$3" > "$PKI/$1.ext"
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" \
		-keyout "$PKI/$1.key" -out "$PKI/$1.csr" 2>/dev/null &&
	openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$2.crt" \
		-CAkey "$PKI/$2.key" -CAcreateserial -days 2 \
		-extfile "$PKI/$1.ext" -out "$PKI/$1.crt" 2>/dev/null
}

make_ca ca && make_ca other &&
	make_cert server ca "subjectAltName=IP:127.0.0.1" &&
	make_cert client ca "extendedKeyUsage=clientAuth"
ok $? "a CA, a server and a client certificate"

PORT=$(free_port)
MPORT=$(free_port)
URL=tls://127.0.0.1:$PORT
cat > "$TMP/tls.conf" <<CONF
tls {
  cert_file: "$PKI/server.crt"
  key_file: "$PKI/server.key"
  ca_file: "$PKI/ca.crt"
  verify: true
  timeout: 5
}
CONF
nats_start tls "$PORT" "$MPORT" -c "$TMP/tls.conf"
ok $? "nats-server with TLS and client certificates is up on port $PORT"

R=$(new_ring tls --capacity 64K)
"$BIN/ring-ship" "$R" --group ship --nats "$URL" --subject t.tls \
	--stream TLS --tls-ca "$PKI/ca.crt" --tls-cert "$PKI/client.crt" \
	--tls-key "$PKI/client.key" --connect-timeout 10000 \
	2> "$TMP/ship.err" &
ship=$!
PIDS+=($ship)
seq -f "line %.0f" 1 1000 | t "$BIN/ring-send" "$R" -q
wait_stream "$MPORT" TLS 1000 20
ok $? "1000 lines shipped over TLS with a client certificate" \
	"stream: $(stream_msgs "$MPORT" TLS); $(cat "$TMP/ship.err")"
kill -TERM $ship
wait $ship
is $? 0 "ring-ship exits 0 on SIGTERM"

NATS_CA=$PKI/ca.crt NATS_CERT=$PKI/client.crt NATS_KEY=$PKI/client.key \
	"$BIN/ring-ship" "$R" --group ship --nats "$URL" --subject t.tls \
	--connect-timeout 10000 2> "$TMP/env.err" &
ship=$!
PIDS+=($ship)
t "$BIN/ring-send" "$R" -q -m "from the environment"
wait_stream "$MPORT" TLS 1001 20
ok $? "the TLS files from NATS_CA, NATS_CERT and NATS_KEY" \
	"stream: $(stream_msgs "$MPORT" TLS); $(cat "$TMP/env.err")"
kill -TERM $ship
wait $ship

t "$BIN/ring-ship" "$R" --group ship --nats "$URL" --subject t.tls \
	--tls-ca "$PKI/ca.crt" --connect-timeout 2000 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err")" "1:1" \
	"no client certificate for a server that wants one: status 1, one line"
grep -q "client certificate" "$TMP/err"
ok $? "and it asks whether the server wants a client certificate" "$(cat "$TMP/err")"
t "$BIN/ring-ship" "$R" --group ship --nats "$URL" --subject t.tls \
	--tls-ca "$PKI/other.crt" --tls-cert "$PKI/client.crt" \
	--tls-key "$PKI/client.key" --connect-timeout 2000 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err")" "1:1" \
	"a CA that did not sign the server's certificate: status 1, one line"
grep -qi "tls\|certificate\|ssl" "$TMP/err"
ok $? "and it says it is about TLS" "$(cat "$TMP/err")"
t "$BIN/ring-ship" "$R" --group ship --nats "$URL" --subject t.tls \
	--tls-ca "$PKI/nosuch.crt" --connect-timeout 2000 2> "$TMP/err"
is "$?:$(cat "$TMP/err")" \
	"1:ring-ship: nats: --tls-ca $PKI/nosuch.crt: No such file or directory" \
	"a missing CA file: status 1, one line naming it"
is "$(stream_msgs "$MPORT" TLS)" 1001 "nothing more arrived meanwhile"

finish
