"""One turn of a support chat whose history is kept in a transcript file.

The hand-written retry on 429 tells the user it is retrying and, so the
status message shows in the chat log, appends it to the conversation as
an assistant turn before sending again. The planted bug: the retried
request carries that message as history, and the saved transcript then
has two assistant turns in a row, which the transcript store rejects.
Runs that were never rate-limited pass.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request


def ask(messages):
    body = json.dumps({"model": "gpt-4o-mini", "temperature": 0, "messages": messages}).encode()
    req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", body, {
        "Content-Type": "application/json", "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["choices"][0]["message"]["content"]


messages = [{"role": "system", "content": "You are a helpful support agent."},
            {"role": "user", "content": "My invoice shows the wrong company name."}]
for attempt in range(3):
    try:
        answer = ask(messages)
        break
    except urllib.error.HTTPError as e:
        if e.code != 429:
            raise
        messages.append({"role": "assistant", "content": "Sorry, I'm a bit busy. Retrying..."})
        time.sleep(0.05)
messages.append({"role": "assistant", "content": answer})

roles = [m["role"] for m in messages[1:]]
if any(a == b for a, b in zip(roles, roles[1:])):
    print("transcript rejected: consecutive %s turns" % roles[-1])
    sys.exit(1)
print("saved %d turns: %s" % (len(roles), answer[:50]))
