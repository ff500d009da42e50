"""A support agent that decides what to do with an overdue account: the
program `retrace repro` is tested on (tests/e2e/repro.sh).

Its world is a JSON file ($WORLD) standing in for the services it calls: an
account database (the tool `account_state`), a policy index (the retrieval
`policy`), the clock and the random source, and `noise` lookups whose
answers differ from run to run and change nothing. The rules it breaks
when those answers change are the planted causes:

- the account's state says overdue without a grace flag: close (a stale
  tool result);
- the policy documents say "no grace": close;
- the clock reads past the 23:00 cutoff and the random draw is above 0.5,
  both: close (two causes that fail only together);
- the model's answer holds $TRIGGER: close;
- a 429 from the provider, retried, loses the grace flag: close (a retry bug);
- the command line says --urgent: close (a trigger word);
- $ACCOUNT_TIER is "trial": close;
- the run's param REGION (record --param, given as $RETRACE_PARAM_REGION)
  is "legacy": close.

Closing an account that should have had a grace period exits 1.
"""
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request

world = json.load(open(os.environ["WORLD"]))
# The clock and the random source, as this world has them.
time.time = lambda: float(world.get("now", 1764547200))
random.SystemRandom.random = lambda self: float(world.get("draw", 0.25))

import retrace  # noqa: E402  (after the world is in place)


def lookup(name, key):
    return retrace.tool_call(name, lambda key: world["noise"].get(key, "none"), key=key)


state = retrace.tool_call("account_state", lambda account: world["state"], account="A-1")
found = {key: lookup("lookup", key) for key in sorted(world.get("noise", {}))}
if "n2" in found and "n3" in found:  # a follow-up asked with two earlier answers
    retrace.tool_call("detail", lambda key: "ok", key=str(found["n2"]) + str(found["n3"]))
docs = retrace.retrieval("policy", "grace period for overdue accounts", lambda q: world["docs"])
now = retrace.now()
draw = retrace.random()

answer = ""
retried = False
if world.get("ask_model"):
    body = json.dumps({"model": "gpt-4o", "temperature": 0, "messages": [
        {"role": "user", "content": "Account A-1 is " + state["status"] + ". What should we do?"}]})
    request = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions",
                                     data=body.encode(), headers={
                                         "content-type": "application/json",
                                         "authorization": "Bearer " + os.environ.get("OPENAI_API_KEY", "")})
    for attempt in range(3):
        try:
            answer = json.load(urllib.request.urlopen(request))["choices"][0]["message"]["content"]
            break
        except urllib.error.HTTPError as e:
            if e.code != 429:
                raise
            retried = True  # and, the bug: the retry path forgets the grace flag

reasons = []
if state["status"] == "overdue" and not state.get("grace"):
    reasons.append("overdue without grace")
if retried and state["status"] == "overdue":
    reasons.append("retried after a 429 and lost the grace flag")
if any("no grace" in d for d in docs):
    reasons.append("the policy says no grace")
if time.gmtime(now).tm_hour >= 23 and draw > 0.5:
    reasons.append("past the cutoff and drawn for review")
trigger = os.environ.get("TRIGGER")
if trigger and trigger in answer.split():
    reasons.append("the model said " + trigger)
if "--urgent" in sys.argv[1:]:
    reasons.append("asked to act urgently")
if os.environ.get("ACCOUNT_TIER") == "trial":
    reasons.append("trial accounts get no grace")
if os.environ.get("RETRACE_PARAM_REGION") == "legacy":
    reasons.append("the legacy region closes overdue reviews")
if reasons:
    print("closed account A-1: " + "; ".join(reasons))
    sys.exit(1)
print("account A-1 put on a grace period")
