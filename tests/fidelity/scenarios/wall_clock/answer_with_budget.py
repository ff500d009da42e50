"""Answers a question within a latency budget, or gives up.

The budget is measured with time.time(), the wall clock, across the model
call: if the answer took longer than 1.5 s the program reports an SLA
breach and exits 1 (it should use a monotonic clock, and arguably wait).
The program never heard of retrace; under `record --deterministic` its
clock reads are recorded, so a replay answered in microseconds still sees
the slow call it was recorded with.
"""
import json
import os
import sys
import time
import urllib.request

started = time.time()
body = json.dumps({"model": "gpt-4o-mini", "temperature": 0, "messages": [
    {"role": "user", "content": "What is the capital of Portugal?"}]}).encode()
req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", body, {
    "Content-Type": "application/json", "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
with urllib.request.urlopen(req, timeout=30) as r:
    answer = json.load(r)["choices"][0]["message"]["content"]
elapsed = time.time() - started
if elapsed > 1.5:
    print("SLA breach: the answer took %.1f s" % elapsed)
    sys.exit(1)
print("answered within budget: %s" % answer[:40])
