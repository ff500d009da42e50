"""A support assistant: one system prompt, with per-intent instructions.

    python3 assistant.py INTENT "customer message"

The reply is parsed as JSON ({"answer": ...}) by the code that files it.
The planted bug is a prompt conflict on one intent: the shared rules ask
for JSON, but the instructions someone added for cancellations ask for a
plain-text reply that can be pasted into an email, and turn JSON mode off
for it. Every other intent works.
"""
import json
import os
import sys
import urllib.request

BASE_RULES = "You are the support assistant of a streaming service. Always reply with a JSON object {\"answer\": ...}."
INTENTS = {
    "billing": {"instructions": "Explain charges line by line.", "json": True},
    "playback": {"instructions": "Suggest one troubleshooting step.", "json": True},
    "cancel": {"instructions": "Reply in plain text, ready to paste into an email to the customer.", "json": False},
    "account": {"instructions": "Never reveal account details; link to the account page.", "json": True},
}

intent, message = sys.argv[1], sys.argv[2]
spec = INTENTS[intent]
request = {"model": "gpt-4o-mini", "temperature": 0,
           "messages": [{"role": "system", "content": BASE_RULES + " " + spec["instructions"]},
                        {"role": "user", "content": message}]}
if spec["json"]:
    request["response_format"] = {"type": "json_object"}
req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions",
                             json.dumps(request).encode(),
                             {"Content-Type": "application/json",
                              "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
with urllib.request.urlopen(req, timeout=30) as r:
    content = json.load(r)["choices"][0]["message"]["content"]
try:
    reply = json.loads(content)["answer"]
except ValueError as e:
    print("could not file the reply for %s: %s" % (intent, e))
    sys.exit(1)
print("%s: %s" % (intent, reply[:60]))
