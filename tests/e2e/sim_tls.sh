# `retrace sim --tls CERT KEY` serves HTTPS: clients that trust the test CA
# connect (curl, and the openai SDK streaming), clients that do not are refused.
source "$(dirname "$0")/lib.sh"

openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=retrace test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > ext.cnf
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf 2>/dev/null

expect_exit 2 retrace sim --port 0 --tls missing.pem server.key
expect_contains "$ERR" "missing.pem"

start_sim --sim-seed 1 --tls server.pem server.key
expect_contains "$SIM_URL" "https://127.0.0.1:"
expect_eq "$(curl -sS --cacert ca.pem -o /dev/null -w '%{http_code}' "$SIM_URL/v1/models")" 200
set +e; curl -sS -o /dev/null "$SIM_URL/v1/models" 2>/dev/null; rc=$?; set -e
expect_eq "$rc" 60 "an untrusted certificate is refused by the client"
out=$(curl -sS -N --cacert ca.pem "$SIM_URL/v1/chat/completions" -H 'authorization: Bearer k' \
  -d '{"model":"gpt-4o","temperature":0,"stream":true,"messages":[{"role":"user","content":"hi"}]}')
expect_contains "$out" "data: [DONE]"

cd "$SRC/tests/node"
NODE_EXTRA_CA_CERTS=$WORK/ca.pem SIM_URL=$SIM_URL node --input-type=module -e '
import OpenAI from "openai";
const client = new OpenAI({ baseURL: process.env.SIM_URL + "/v1", apiKey: "k", maxRetries: 0 });
const final = await client.chat.completions.stream({ model: "gpt-4o", temperature: 0,
  messages: [{ role: "user", content: "hi" }] }).finalChatCompletion();
if (!final.choices[0].message.content) throw new Error("no content over TLS");
console.log("sdk over tls ok");
' | grep -q "sdk over tls ok" || fail "the openai SDK could not stream over TLS"
echo "sim_tls: ok"
