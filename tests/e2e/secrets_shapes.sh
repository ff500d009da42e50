# Secrets beyond "sk-" never reach the store: one table of shapes, each put
# where a program would put it (headers, query strings, request bodies,
# tool inputs and outputs, stdout, argv, --param, --env), each checked
# against a decompressed dump of the store, next to a control value stored
# beside it, so that the dump's silence means something.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 3

GH_TOKEN_VALUE=ghp_$(printf 'a%.0s' $(seq 36))
AWS_ID=AKIAIOSFODNN7EXAMPLE
export CFG_AWS=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
AWS_SECRET=$CFG_AWS
JWT=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U
export MY_SERVICE_TOKEN='Q"uote\back/é-zz1'   # changes bytes under JSON escaping
export API_PASS=pass-VALUE-77                 # a secret by its name only
export GOOG=AIzaSyA-$(printf 'k%.0s' $(seq 31))

cat > prog.py <<'PY'
import json, os, sys, urllib.request
base = os.environ["OPENAI_BASE_URL"]
proxy = os.environ["RETRACE_PROXY_URL"]
def post(url, body, headers):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json", "authorization": "Bearer sk-shapes-test-0000", **headers})
    return urllib.request.urlopen(req).read()
gh, aws_id, jwt = sys.argv[1:4]
aws_secret = os.environ["CFG_AWS"]  # (a name that says nothing: only the shape in the body does)
svc = os.environ["MY_SERVICE_TOKEN"]
post(base + "/chat/completions?alt=json&key=" + os.environ["GOOG"], {
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": f"control-body-1 {gh} {aws_id} aws_secret_access_key={aws_secret} {jwt} {svc}"}],
}, {"x-goog-api-key": os.environ["GOOG"], "x-auth-token": "opaque-AUTH-99", "x-custom-note": "control-header-1"})
post(proxy + "/_retrace/v1/events", {"kind": "tool", "name": "lookup", "input": {"q": "control-tool-1", "svc": svc},
     "output": {"token": jwt, "note": "control-tool-2"}}, {})
print("control-stdout-1", json.dumps({"svc": svc}), json.dumps({"svc": svc}, ensure_ascii=False))
print("url", urllib.parse.quote(svc, safe=""))
PY
expect_exit 0 retrace record --name shapes --upstream openai="$SIM_URL/v1" \
  --env API_PASS --param api_key=param-SECRET-5 --param control_param=control-param-1 -- \
  python3 prog.py "$GH_TOKEN_VALUE" "$AWS_ID" "$JWT" --password=argv-SECRET-6 --token argv-SECRET-7 control-argv-1
store_dump > dump.txt

for control in control-body-1 control-header-1 control-tool-1 control-tool-2 control-stdout-1 \
    control-param-1 control-argv-1 '"API_PASS":"<present>"' 'alt=json&key=[REDACTED]' \
    '"x-goog-api-key":"[REDACTED]"' '"x-auth-token":"[REDACTED]"' '--password=[REDACTED]' \
    'aws_secret_access_key=[REDACTED]'; do
  grep -qF -- "$control" dump.txt || fail "control '$control' not found in the dump"
done
svc_json=$(python3 -c 'import json,os; print(json.dumps(os.environ["MY_SERVICE_TOKEN"])[1:-1])')
svc_ascii=$(python3 -c 'import json,os; print(json.dumps(os.environ["MY_SERVICE_TOKEN"], ensure_ascii=True)[1:-1])')
svc_url=$(python3 -c 'import os,urllib.parse; print(urllib.parse.quote(os.environ["MY_SERVICE_TOKEN"], safe=""))')
leaks=0
while IFS='|' read -r label needle; do
  if grep -qF -- "$needle" dump.txt; then echo "LEAK: $label ($needle)" >&2; leaks=$((leaks + 1)); fi
done <<EOF2
GitHub token|$GH_TOKEN_VALUE
AWS access key id|$AWS_ID
AWS secret key|$AWS_SECRET
JWT|$JWT
Google key (query, header)|$GOOG
x-auth-token header|opaque-AUTH-99
secret env value, raw|$MY_SERVICE_TOKEN
secret env value, JSON-escaped|$svc_json
secret env value, ensure_ascii|$svc_ascii
secret env value, URL-encoded|$svc_url
--env of a secret-named variable|$API_PASS
--param api_key|param-SECRET-5
argv --password=|argv-SECRET-6
argv --token VALUE|argv-SECRET-7
EOF2
expect_eq "$leaks" 0 "secrets stored"
expect_exit 0 retrace verify shapes

# The recorded request is matched by its redacted query: replayed with
# another key in the URL, it is still served (the tool event, sent to the
# recording endpoint again, is not asked of the recording).
kill "$SIM_PID"
expect_exit 0 env GOOG=AIzaSyB-$(printf 'z%.0s' $(seq 31)) "$RETRACE_BIN" replay shapes --allow-unused -- \
  python3 prog.py "$GH_TOKEN_VALUE" "$AWS_ID" "$JWT" --password=argv-SECRET-6 --token argv-SECRET-7 control-argv-1
expect_contains "$ERR" "retrace: reproduced"
echo "secrets_shapes: ok"
