"""Classifies a ticket with three few-shot examples drawn at random.

random.sample() is unseeded, so each run draws from OS randomness. The
planted bug: one example of the pool holds a JSON snippet whose braces
str.format() takes for a placeholder; whenever the draw picks it, building
the prompt raises and the run fails. The program never heard of retrace.
"""
import json
import os
import random
import sys
import urllib.request

POOL = [
    "Q: I was charged twice. A: billing",
    "Q: The app crashes on start. A: bug",
    "Q: Please add dark mode. A: feature",
    'Q: The API returns {"error": "quota"} on every call. A: bug',
    "Q: How do I change my plan? A: billing",
    "Q: Export to CSV would help. A: feature",
]
TEMPLATE = "Label the ticket as billing, bug or feature.\n{examples}\nQ: {ticket} A:"

examples = random.sample(POOL, 3)
try:
    prompt = TEMPLATE.format(examples="\n".join(examples), ticket="Refund my last invoice").format()
except (KeyError, ValueError, IndexError) as e:
    print("could not build the prompt: %r" % e)
    sys.exit(1)
body = json.dumps({"model": "gpt-4o-mini", "temperature": 0,
                   "messages": [{"role": "user", "content": prompt}]}).encode()
req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", body, {
    "Content-Type": "application/json", "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
with urllib.request.urlopen(req, timeout=30) as r:
    print("label: %s" % json.load(r)["choices"][0]["message"]["content"].split()[0])
