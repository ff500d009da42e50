"""A small trip-planning agent: picks a city at random, reads the clock
through a tool, looks up guide notes, asks a model (any OpenAI-compatible
server at $OPENAI_BASE_URL) for a plan, and books it through a tool that
returns a random reference.

    retrace record --deterministic -- python3 agent.py
    TRIP_TOOLS=offline retrace replay --deterministic @latest

With TRIP_TOOLS=offline the tools raise if they are called at all: a replay
answers them from the recording instead. Standard library and the retrace
SDK only (pip install sdk/python, or PYTHONPATH=sdk/python).
"""

import datetime
import json
import os
import random
import urllib.request
import uuid

import retrace

CITIES = ["Lisbon", "Kyoto", "Montreal", "Valparaiso", "Tbilisi", "Hanoi"]
GUIDES = {
    "Lisbon": ["tram 28 before 9am", "miradouros at sunset"],
    "Kyoto": ["Fushimi Inari at dawn", "Nishiki market closes at 6pm"],
    "Montreal": ["Jean-Talon market", "Mount Royal lookout"],
    "Valparaiso": ["ascensores", "street murals of Cerro Alegre"],
    "Tbilisi": ["sulphur baths", "Narikala fortress by cable car"],
    "Hanoi": ["Old Quarter on foot", "egg coffee"],
}
SYSTEM = "You plan short city trips. Answer in two sentences."


def offline(what):
    if os.environ.get("TRIP_TOOLS") == "offline":
        raise RuntimeError(what + " called, but its service is unreachable")


@retrace.tool
def local_time(city):
    """The current time, as the city's booking service reports it."""
    offline("local_time")
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


@retrace.tool
def book(city, start):
    """Books the plan; returns the booking reference."""
    offline("book")
    return "TRIP-" + uuid.uuid4().hex[:10].upper()


def search_guides(city):
    offline("search_guides")
    return GUIDES.get(city, [])


def chat(messages, session):
    request = urllib.request.Request(
        os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1") + "/chat/completions",
        data=json.dumps({"model": "gpt-4o-mini", "temperature": 0, "seed": 7,
                         "user": session, "messages": messages}).encode(),
        headers={"Content-Type": "application/json",
                 "Authorization": "Bearer " + os.environ.get("OPENAI_API_KEY", ""),
                 **retrace.headers()})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["choices"][0]["message"]["content"]


def main():
    city = random.choice(CITIES)
    session = "%016x" % random.getrandbits(64)  # Python seeds random from the OS
    with retrace.span("plan trip"):
        now = local_time(city)
        notes = retrace.retrieval("guides", city, search_guides,
                                  source={"index": "city-guides", "version": 3})
        plan = chat([{"role": "system", "content": SYSTEM},
                     {"role": "user", "content": "It is %s. Plan an afternoon in %s. Notes: %s"
                      % (now, city, "; ".join(notes))}], session)
        reference = book(city, now)
    print("city:     " + city)
    print("time:     " + now)
    print("plan:     " + plan)
    print("booking:  " + reference)


if __name__ == "__main__":
    main()
