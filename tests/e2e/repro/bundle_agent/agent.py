"""A billing agent shipped in a git work tree: the program the bundle
scenario of tests/e2e/repro_bundle.sh hands over (tests copy these files
into a fresh repository, commit policy_committed.py as policy.py, then
change it to policy_changed.py and add accounts.py untracked, so the
program that ran is the dirty work tree, not the commit).

It reads an account's state from the account service ($ACCOUNTS, a JSON
file standing in for it; accounts.py raises when it is gone), asks the
model what to tell the customer, and decides with policy.py: closing an
account that should have had a grace period exits 1.
"""
import json
import os
import sys
import urllib.request

import retrace
from accounts import fetch_state
from policy import decide

state = retrace.tool_call("account_state", fetch_state, account="A-1")
body = json.dumps({"model": "gpt-4o-mini", "temperature": 0, "messages": [
    {"role": "user", "content": "Account A-1 is " + state["status"] + ". Draft a notice."}]})
request = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions",
                                 data=body.encode(), headers={
                                     "content-type": "application/json",
                                     "authorization": "Bearer " + os.environ.get("OPENAI_API_KEY", "")})
notice = json.load(urllib.request.urlopen(request))["choices"][0]["message"]["content"]
verdict = decide(state)
print(verdict)
# (the notice's heading, from a file of the work tree the run names in a variable)
template = os.environ.get("NOTICE_TEMPLATE")
heading = open(template).read().strip() if template else "notice"
print(heading + ": " + notice[:40])
sys.exit(1 if verdict.startswith("closed") else 0)
