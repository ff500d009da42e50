"""Writes the on-call report for one week from the incident index.

Retrieval asks the search index for the incidents in a date range and the
model summarises them. The planted bug is in the data, not the code: the
index was rebuilt between two runs by a re-index that skipped the pages of
2024-03-11 to 2024-03-17, so the same question over the same week finds
nothing, and the report generator refuses to publish an empty week.
"""
import json
import os
import urllib.request

import retrace

WEEK = {"from": "2024-03-11", "to": "2024-03-17"}


def search(query):
    hits = []
    with open("index/incidents.jsonl") as f:
        for line in f:
            doc = json.loads(line)
            if query["from"] <= doc["date"] <= query["to"]:
                hits.append(doc)
    return hits


def chat(messages):
    body = json.dumps({"model": "gpt-4o-mini", "temperature": 0, "messages": messages}).encode()
    req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", body, {
        "Content-Type": "application/json",
        "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["choices"][0]["message"]["content"]


docs = retrace.retrieval("incidents", WEEK, search, source={"index": "incidents"})
context = "\n".join("%s %s: %s" % (d["date"], d["id"], d["title"]) for d in docs)
summary = chat([{"role": "system", "content": "Summarise the week's incidents for the on-call report."},
                {"role": "user", "content": "Incidents %s to %s:\n%s" % (WEEK["from"], WEEK["to"], context or "(none)")}])
if not docs:
    print("no incidents found for %s..%s: refusing to publish an empty report" % (WEEK["from"], WEEK["to"]))
    raise SystemExit(1)
print("%d incidents: %s" % (len(docs), summary[:60]))
