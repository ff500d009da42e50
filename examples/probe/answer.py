"""A small question-answering step with two kinds of failure: the model
service sometimes fails (no retry here: flaky), and the query builder
breaks on questions holding "||" (deterministic, but only for some inputs).

    python3 answer.py "How do I reset my password?"

`retrace probe` tells one from the other: rerolls of one question measure
the flaky rate; `--vary` over questions finds the trigger.
"""

import json
import os
import sys
import urllib.request


def build_query(question):
    # The bug: "||" is taken for an operator with nothing on its left.
    parts = [p.strip() for p in question.split("||")]
    if len(parts) > 1 and not all(parts):
        raise ValueError("query builder: dangling operator in %r" % question)
    return " OR ".join(parts)


def main():
    question = sys.argv[1] if len(sys.argv) > 1 else "How do I reset my password?"
    query = build_query(question)
    request = urllib.request.Request(
        os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1") + "/chat/completions",
        data=json.dumps({"model": "gpt-4o-mini", "temperature": 0, "seed": 1,
                         "messages": [{"role": "user", "content": query}]}).encode(),
        headers={"Content-Type": "application/json",
                 "Authorization": "Bearer " + os.environ.get("OPENAI_API_KEY", "")})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)["choices"][0]["message"]["content"]
    print("Q: %s\nA: %s" % (question, answer[:60]))


if __name__ == "__main__":
    main()
