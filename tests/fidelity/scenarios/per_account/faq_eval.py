"""An eval of the FAQ answerer against its golden answer.

The golden file is the answer the model gave when the test was written
(written when absent). It passes on the developer's machine; in CI, with
the CI account's key, it fails. The planted cause is per-account
behaviour: the provider answers each account in its own style (a persona
or routing layer in front of the model), with nothing in the response to
say so. The program and the request are byte for byte the same.
"""
import json
import os
import sys
import urllib.request

body = json.dumps({"model": "gpt-4o-mini", "temperature": 0, "messages": [
    {"role": "system", "content": "Answer questions about the product in one sentence."},
    {"role": "user", "content": "Can I export my runs as OpenTelemetry traces?"}]}).encode()
req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", body, {
    "Content-Type": "application/json", "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
with urllib.request.urlopen(req, timeout=30) as r:
    answer = json.load(r)["choices"][0]["message"]["content"]
golden = "golden/export_otlp.txt"
if not os.path.exists(golden):
    os.makedirs("golden", exist_ok=True)
    with open(golden, "w") as f:
        f.write(answer)
    print("golden answer written")
    sys.exit(0)
with open(golden) as f:
    expected = f.read()
if answer != expected:
    print("answer differs from the golden one: %r" % answer[:50])
    sys.exit(1)
print("answer matches the golden one")
