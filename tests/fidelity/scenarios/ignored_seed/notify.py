"""Writes the push-notification text for an order update.

A notification card holds at most 20 words, so the program rejects longer
texts. It samples at temperature 0.7 for variety and sends a fixed seed,
believing that makes every run give the same text. The planted bug is that
belief: the provider accepts `seed` and ignores it, so the length check
passes or fails from one run to the next.
"""
import http.client
import json
import os
import sys
import urllib.parse

base = urllib.parse.urlsplit(os.environ["OPENAI_BASE_URL"])
conn = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
conn.request("POST", base.path + "/chat/completions", body=json.dumps({
    "model": "gpt-4o-mini", "temperature": 0.7, "seed": 1234,
    "messages": [{"role": "system", "content": "Write a push notification, at most 20 words."},
                 {"role": "user", "content": "Order 5521 has shipped and arrives Thursday."}]}),
    headers={"Content-Type": "application/json",
             "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
text = json.loads(conn.getresponse().read())["choices"][0]["message"]["content"]
words = len(text.split())
if words > 20:
    print("notification too long (%d words)" % words)
    sys.exit(1)
print("notification (%d words): %s" % (words, text))
