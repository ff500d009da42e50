"""Client matrix: raw SSE with nothing but the Python standard library.

Streams an OpenAI chat completion and an Anthropic message, assembles their
text deltas from the `data:` lines, and prints the texts (nothing else that
could vary). OPENAI_BASE_URL (ending in /v1), ANTHROPIC_BASE_URL (a bare
host, /v1/messages is appended), OPENAI_API_KEY, ANTHROPIC_API_KEY as the
SDKs read them; TOPIC is one word of the prompts (default Paris).
"""

import json
import os
import sys
import urllib.request

TOPIC = os.environ.get("TOPIC", "Paris")


def sse_events(url, headers, body):
    """POSTs BODY as JSON to URL; yields each SSE event as (event, data)."""
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "accept": "text/event-stream", **headers},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        event, data = None, []
        for raw in resp:
            line = raw.decode("utf-8").rstrip("\r\n")
            if not line:
                if data:
                    yield event, "\n".join(data)
                event, data = None, []
            elif line.startswith(":"):
                continue
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        if data:
            yield event, "\n".join(data)


def openai_stream():
    base = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/")
    text, finish, done = "", None, False
    for _, data in sse_events(
        base + "/chat/completions",
        {"authorization": "Bearer " + os.environ.get("OPENAI_API_KEY", "")},
        {
            "model": "gpt-4o-mini",
            "temperature": 0,
            "stream": True,
            "messages": [{"role": "user", "content": f"Describe {TOPIC} in one sentence."}],
        },
    ):
        if data == "[DONE]":
            done = True
            break
        chunk = json.loads(data)
        for choice in chunk.get("choices", []):
            text += choice.get("delta", {}).get("content") or ""
            finish = choice.get("finish_reason") or finish
    if not (done and text):
        raise SystemExit(f"openai stream incomplete: done={done} text={text!r}")
    print(f"openai sse: [{finish}] {text}")


def anthropic_stream():
    base = os.environ.get("ANTHROPIC_BASE_URL", "https://api.anthropic.com").rstrip("/")
    text, stop, kinds = "", None, []
    for event, data in sse_events(
        base + "/v1/messages",
        {"x-api-key": os.environ.get("ANTHROPIC_API_KEY", ""), "anthropic-version": "2023-06-01"},
        {
            "model": "claude-3-5-haiku-latest",
            "max_tokens": 300,
            "temperature": 0,
            "stream": True,
            "messages": [{"role": "user", "content": f"Name one landmark in {TOPIC}."}],
        },
    ):
        msg = json.loads(data)
        if event != msg.get("type"):
            raise SystemExit(f"anthropic event name {event!r} differs from its type {msg.get('type')!r}")
        kinds.append(event)
        if event == "content_block_delta" and msg["delta"]["type"] == "text_delta":
            text += msg["delta"]["text"]
        elif event == "message_delta":
            stop = msg["delta"].get("stop_reason")
    if not (kinds and kinds[0] == "message_start" and kinds[-1] == "message_stop" and text):
        raise SystemExit(f"anthropic stream incomplete: {kinds} text={text!r}")
    print(f"anthropic sse: [{stop}] {text}")


if __name__ == "__main__":
    openai_stream()
    anthropic_stream()
    sys.stdout.flush()
