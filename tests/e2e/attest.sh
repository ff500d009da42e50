# Signed statements of runs for audits: `keygen` makes an Ed25519 pair (the
# private key 0600), `attest` signs an in-toto Statement v1 of a sealed run
# in a DSSE envelope, `verify --attestation` checks the signature, the run
# in the store and the outputs on disk. Independently: Debian's
# securesystemslib verifies retrace's envelope (its Ed25519 verifier over
# the DSSE pre-authentication encoding, computed from the DSSE spec: that
# version has no envelope class), and retrace verifies an envelope
# securesystemslib signed. A changed byte of payload or signature is refused
# by both; a changed output file or run by retrace.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

printf 'alpha\nbeta\n' > in.txt
retrace record --name report --input in.txt --output out.txt -- sh -c 'sort -r in.txt > out.txt' > /dev/null 2>&1
expect_exit 0 retrace keygen -o signing.key
expect_contains "$OUT" "private key signing.key (mode 0600"
keyid=$(sed -n 's/^keyid *//p' <<< "$OUT")
expect_eq "$(stat -c %a signing.key)" 600 "private key mode"
expect_contains "$(head -1 signing.key)" "BEGIN PRIVATE KEY"
expect_contains "$(head -1 signing.key.pub)" "BEGIN PUBLIC KEY"
# An existing key is never replaced.
expect_exit 2 retrace keygen -o signing.key
expect_contains "$ERR" "already exists"

expect_exit 0 retrace attest report --key signing.key -o report.intoto.json
expect_contains "$ERR" "signed by keyid $keyid"
json 'j["payloadType"]' < report.intoto.json > type.txt
expect_eq "$(cat type.txt)" "application/vnd.in-toto+json"
python3 - report.intoto.json "$WORK/out.txt" <<'PY'
import base64, hashlib, json, sys
env = json.load(open(sys.argv[1]))
st = json.loads(base64.b64decode(env["payload"]))
assert st["_type"] == "https://in-toto.io/Statement/v1", st["_type"]
assert st["predicateType"] == "urn:retrace:predicate:run:v1"
names = [s["name"] for s in st["subject"]]
out = hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
assert st["subject"][0] == {"name": sys.argv[2], "digest": {"sha256": out}}, st["subject"]
assert names[1].startswith("retrace-run:"), names
p = st["predicate"]
assert p["run"]["record_digest"] == "sha256:" + st["subject"][1]["digest"]["sha256"]
assert p["command"] == ["sh", "-c", "sort -r in.txt > out.txt"], p["command"]
assert p["exit_code"] == 0 and p["started"].endswith("Z") and p["conditions"]["digest"].startswith("sha256:")
assert set(p["conditions"]["sections"]) >= {"code", "env", "data", "models", "backend"}, p["conditions"]["sections"]
PY
expect_exit 0 retrace verify --attestation report.intoto.json --key signing.key.pub
expect_contains "$OUT" "ok     attestation report.intoto.json: run"
expect_contains "$OUT" "1 output(s) on disk match"

# securesystemslib checks retrace's envelope (and refuses a changed one).
cat > sslib_verify.py <<'PY'
import base64, json, sys
from securesystemslib.signer import SSlibKey, Signature
def raw_public(pem_file):
    der = base64.b64decode("".join(l for l in open(pem_file) if not l.startswith("-----")))
    assert der[:12] == bytes.fromhex("302a300506032b6570032100"), "not an Ed25519 public key"
    return der[12:].hex()
env = json.load(open(sys.argv[1]))
payload = base64.b64decode(env["payload"])
ptype = env["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
sig = env["signatures"][0]
key = SSlibKey(sig["keyid"], "ed25519", "ed25519", {"public": raw_public(sys.argv[2])})
try:
    key.verify_signature(Signature(sig["keyid"], base64.b64decode(sig["sig"]).hex()), pae)
    print("verified")
except Exception as e:
    print("refused", type(e).__name__)
PY
expect_eq "$($PY sslib_verify.py report.intoto.json signing.key.pub)" verified "securesystemslib on retrace's envelope"
# flip FILE FIELD: a copy with one byte of the decoded field changed.
flip() {
  python3 - "$1" "$2" "$3" <<'PY'
import base64, json, sys
env = json.load(open(sys.argv[1]))
holder = env if sys.argv[2] == "payload" else env["signatures"][0]
key = "payload" if sys.argv[2] == "payload" else "sig"
b = bytearray(base64.b64decode(holder[key])); b[len(b) // 2] ^= 1
holder[key] = base64.b64encode(bytes(b)).decode()
json.dump(env, open(sys.argv[3], "w"))
PY
}
for field in payload sig; do
  flip report.intoto.json $field tampered.json
  expect_eq "$($PY sslib_verify.py tampered.json signing.key.pub)" "refused UnverifiedSignatureError" "securesystemslib on a changed $field"
  expect_exit 1 retrace verify --attestation tampered.json --key signing.key.pub
  expect_contains "$OUT" "FAILED attestation tampered.json: no signature of the envelope verifies"
done

# securesystemslib signs retrace's statement with its own key; retrace verifies it.
$PY - report.intoto.json sslib.intoto.json sslib.pub <<'PY'
import base64, json, sys
from securesystemslib import keys
from securesystemslib.signer import SSlibSigner
env = json.load(open(sys.argv[1]))
payload = base64.b64decode(env["payload"])
ptype = env["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
key = keys.generate_ed25519_key()
sig = SSlibSigner(key).sign(pae)
signed = {"payloadType": env["payloadType"], "payload": env["payload"],
          "signatures": [{"keyid": key["keyid"], "sig": base64.b64encode(bytes.fromhex(sig.signature)).decode()}]}
json.dump(signed, open(sys.argv[2], "w"))
der = bytes.fromhex("302a300506032b6570032100" + key["keyval"]["public"])
open(sys.argv[3], "w").write("-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der).decode() + "\n-----END PUBLIC KEY-----\n")
PY
expect_exit 0 retrace verify --attestation sslib.intoto.json --key sslib.pub
expect_contains "$OUT" "ok     attestation sslib.intoto.json"
# The control: the same envelope against retrace's own key is refused.
expect_exit 1 retrace verify --attestation sslib.intoto.json --key signing.key.pub

# The outputs on disk and the run in the store are checked too.
echo changed > out.txt
expect_exit 1 retrace verify --attestation report.intoto.json --key signing.key.pub
expect_contains "$OUT" "out.txt: content differs from the statement"
rm out.txt
expect_exit 1 retrace verify --attestation report.intoto.json --key signing.key.pub
expect_contains "$OUT" "out.txt: missing"
sort -r in.txt > out.txt
expect_exit 0 retrace verify --attestation report.intoto.json --key signing.key.pub
run=$(retrace show report --json | json 'j["id"]')
expect_exit 0 retrace rm "$run"
expect_exit 1 retrace verify --attestation report.intoto.json --key signing.key.pub
expect_contains "$OUT" "run $run is not in this store"

# No secret reaches a statement: a key in the command line is stored
# redacted, and the statement says what was stored.
export OPENAI_API_KEY=sk-test-ATTESTSECRET0000001
retrace record --name secret --output s.txt -- sh -c "echo $OPENAI_API_KEY | wc -c > s.txt" > /dev/null 2>&1
expect_exit 0 retrace attest secret --key signing.key -o secret.json
python3 -c 'import base64,json,sys; print(base64.b64decode(json.load(open(sys.argv[1]))["payload"]).decode())' secret.json > secret.payload
expect_contains "$(cat secret.payload)" "[REDACTED]" "the redacted command line in the statement"
expect_not_contains "$(cat secret.payload secret.json)" "ATTESTSECRET" "the key in the statement"

# Bad input: exit 2, one line.
expect_exit 2 retrace verify --attestation report.intoto.json
expect_contains "$ERR" "--attestation FILE wants --key PUBKEY"
echo '{"payload": 1}' > notenv.json
expect_exit 2 retrace verify --attestation notenv.json --key signing.key.pub
expect_contains "$ERR" "not a DSSE envelope"
expect_exit 2 retrace verify --attestation report.intoto.json --key in.txt
expect_contains "$ERR" "is not a PEM public key"
retrace record --name other -- true > /dev/null 2>&1
expect_exit 2 retrace attest other --key signing.key.pub
expect_contains "$ERR" "is not a PEM private key"
echo "attest: ok"
