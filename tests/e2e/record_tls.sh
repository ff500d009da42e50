# HTTPS upstreams: the proxy verifies the upstream's certificate against the
# system store plus --ca-file. The test CA given with --ca-file records fine;
# no CA, or the wrong one, is refused with a clear error for the program and
# on stderr.
source "$(dirname "$0")/lib.sh"
mkca() { # mkca NAME: a CA and, for the first one, the server certificate it signs
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=$1" 2> /dev/null
}
mkca testca
mkca otherca
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2> /dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > ext.cnf
openssl x509 -req -in server.csr -CA testca.pem -CAkey testca.key -CAcreateserial -out server.pem \
  -days 2 -extfile ext.cnf 2> /dev/null
start_sim --sim-seed 1 --tls server.pem server.key
expect_contains "$SIM_URL" "https://"
ask='curl -sS "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer sk-test-TLSKEY00001" -H "content-type: application/json" -d "{\"model\":\"gpt-4o\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"'

expect_exit 0 retrace record --name good --ca-file testca.pem --upstream openai=$SIM_URL/v1 -- sh -c "$ask"
expect_contains "$OUT" '"object":"chat.completion"'
expect_eq "$(retrace show good --json | json 'j["events"][1]["attrs"]["status"]')" 200

for ca in "" "--ca-file otherca.pem"; do
  # shellcheck disable=SC2086
  expect_exit 0 retrace record $ca --upstream openai=$SIM_URL/v1 -- sh -c "$ask"
  expect_contains "$OUT" '"code":"retrace_upstream_error"'
  expect_contains "$OUT" "certificate verify failed"
  expect_contains "$ERR" "retrace: upstream openai ($SIM_URL): TLS handshake failed: certificate verify failed"
  expect_eq "$(retrace show @latest --json | json 'j["events"][1]["attrs"]["status"]')" 502
done

# A certificate for another name is refused even from a trusted CA.
openssl req -newkey rsa:2048 -nodes -keyout other.key -out other.csr -subj "/CN=example.org" 2> /dev/null
printf 'subjectAltName=DNS:example.org\n' > other.cnf
openssl x509 -req -in other.csr -CA testca.pem -CAkey testca.key -CAcreateserial -out other.pem \
  -days 2 -extfile other.cnf 2> /dev/null
kill $SIM_PID; wait $SIM_PID 2> /dev/null || true
start_sim --sim-seed 1 --tls other.pem other.key
expect_exit 0 retrace record --ca-file testca.pem --upstream openai=$SIM_URL/v1 -- sh -c "$ask"
expect_contains "$OUT" "retrace_upstream_error"

# A --ca-file that is not a certificate is bad input, before anything runs.
echo "not a pem" > bad.pem
expect_exit 2 retrace record --ca-file bad.pem -- true
expect_contains "$ERR" "--ca-file bad.pem"
echo "record_tls: ok"
