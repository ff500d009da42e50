"""Books a seat at a workshop and has the model write the confirmation.

The reservation system is a small JSON database the tool reads and
updates. The planted bug: the code after the tool call assumes the happy
path (a seat was free) and reads result["seat"]; once the workshop is full
the tool answers with a waitlist position instead, and the program fails
with a KeyError. Whether a run passes depends on the state earlier runs
left behind, not on the program or the model.
"""
import json
import os
import urllib.request

import retrace

WORKSHOP = "reproducible-agents"


@retrace.tool
def reserve_seat(workshop: str, attendee: str) -> dict:
    """Reserves a seat, or a place on the waitlist when the workshop is full."""
    with open("seats.json") as f:
        db = json.load(f)
    w = db[workshop]
    if w["free"] > 0:
        w["free"] -= 1
        result = {"workshop": workshop, "status": "confirmed", "seat": w["capacity"] - w["free"]}
    else:
        w["waitlist"] += 1
        result = {"workshop": workshop, "status": "waitlisted", "position": w["waitlist"]}
    with open("seats.json", "w") as f:
        json.dump(db, f)
    return result


def chat(messages):
    body = json.dumps({"model": "gpt-4o-mini", "temperature": 0, "messages": messages}).encode()
    req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", body, {
        "Content-Type": "application/json",
        "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["choices"][0]["message"]["content"]


booking = reserve_seat(WORKSHOP, "ada@example.com")
seat = booking["seat"]  # the bug: a waitlisted booking has no seat
text = chat([{"role": "system", "content": "You write short booking confirmations."},
             {"role": "user", "content": "Confirm seat %d at %s for ada@example.com." % (seat, WORKSHOP)}])
print("booked seat %d: %s" % (seat, text[:60]))
