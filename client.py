# client.py N: N requests, each with 16 KB of fresh random text (so that
# the store cannot compress it away); prints how many were answered 200,

import json, os, sys, urllib.request
ok = 0
for i in range(int(sys.argv[1])):
    body = json.dumps({"model": "gpt-4o", "temperature": 0,
                       "messages": [{"role": "user", "content": os.urandom(8192).hex()}]}).encode()
    req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", data=body,
                                 headers={"content-type": "application/json",
                                          "authorization": "Bearer sk-test-FULL0001"})
    with urllib.request.urlopen(req, timeout=20) as r:
        ok += r.status == 200
print(ok)
