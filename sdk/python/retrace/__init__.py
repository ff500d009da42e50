"""retrace: record and replay what a program does besides calling models.

Under `retrace record`, the real tool, retrieval, clock and random calls run
and their results are recorded; under `retrace replay`, the recorded results
are returned and the real functions are not called; outside retrace every
call is a plain pass-through. Standard library only. See docs/event-api.md.

    import retrace

    @retrace.tool
    def get_weather(city):
        return weather_api(city)

    docs = retrace.retrieval("kb", question, search)
    stamp = retrace.now()
    with retrace.span("answer"):
        ...
"""

import builtins
import contextvars
import functools
import hashlib
import inspect
import os
import random as _random
import sys
import time

from ._client import Client, Divergence, RetraceError, _dumps

__all__ = [
    "tool", "tool_call", "retrieval", "now", "random", "checkpoint", "span", "headers",
    "flush", "mode", "run_id", "Divergence", "RetraceError", "ReplayedError",
]
__version__ = "0.1.0"

_MODE = os.environ.get("RETRACE_MODE") if os.environ.get("RETRACE_PROXY_URL") else None
if _MODE not in ("record", "replay"):
    _MODE = None
_RUN_ID = os.environ.get("RETRACE_RUN_ID", "") if _MODE else ""
_client = Client(os.environ["RETRACE_PROXY_URL"]) if _MODE else None
_TRACE_ID = hashlib.sha256(_RUN_ID.encode()).hexdigest()[:32] if _MODE else ""
_current = contextvars.ContextVar("retrace_span", default=None)
_counter = iter(range(1, 1 << 32))
_system_random = _random.SystemRandom()
# Under --deterministic, the shim's values are the program's own reads: a
# call the SDK records (and does not run on replay) reads with the shim
# paused, so the program reads as many values in record as in replay.
_pause = None
if _MODE and os.environ.get("RETRACE_SHIM_MODE"):
    try:
        import ctypes

        _pause = ctypes.CDLL(None).retrace_shim_pause
        _pause.argtypes, _pause.restype = [ctypes.c_int], None
    except (OSError, AttributeError):
        _pause = None
# Event times are the wall clock read once here plus the monotonic clock, so
# that recording reads the wall clock no more often than replaying does.
_WALL0, _MONO0 = time.time_ns(), time.monotonic_ns()


class ReplayedError(Exception):
    """Stands in for a recorded exception whose class cannot be found on replay."""


def mode():
    """"record", "replay", or None outside retrace."""
    return _MODE


def run_id():
    """The id of the run being recorded (or of the replay), or None."""
    return _RUN_ID or None


def flush():
    """Waits until every recorded event has reached the recorder."""
    if _client:
        _client.flush()


def _now_ns():
    return _WALL0 + (time.monotonic_ns() - _MONO0)


def _new_span():
    # Unique within the run: the pid and a counter (no OS randomness, which
    # a --deterministic run records).
    return "%08x%08x" % (os.getpid() & 0xFFFFFFFF, next(_counter))


def _error_of(exc):
    cls = type(exc)
    error = {"type": cls.__module__ + "." + cls.__qualname__, "message": str(exc)}
    try:
        _dumps(list(exc.args))
        error["args"] = list(exc.args)
    except (TypeError, ValueError):
        pass
    return error


def _rebuild(error):
    """The exception a recorded error stands for, as the program raised it."""
    module, _, qualname = error.get("type", "").rpartition(".")
    cls = sys.modules.get(module) if module != "builtins" else builtins
    for part in qualname.split("."):
        cls = getattr(cls, part, None) if cls is not None else None
    message = error.get("message", "")
    if isinstance(cls, type) and issubclass(cls, BaseException):
        for args in (error.get("args"), [message]):
            if args is None:
                continue
            try:
                exc = cls(*args)
                if str(exc) == message:
                    return exc
            except Exception:
                pass
    name = qualname.rpartition(".")[2] or "Error"
    return type(name, (ReplayedError,), {"__module__": module or "retrace"})(message)


def _json_text(what, value):
    try:
        return _dumps(value)
    except (TypeError, ValueError) as e:
        raise TypeError("retrace: %s must be JSON (dict, list, str, number, bool, None): %s"
                        % (what, e)) from None


def _call(kind, name, input, thunk, **extra):
    """Runs thunk as event kind/name with this input: recorded, replayed or plain."""
    if _MODE is None:
        return thunk()
    _json_text("the input of %s %s" % (kind, name), input)
    span, parent = _new_span(), _current.get()
    message = dict(kind=kind, name=name, span=span, input=input, pid=os.getpid(), **extra)
    if parent:
        message["parent"] = parent
    if _MODE == "replay":
        answer = _client.replay(message)
        if not answer.get("live"):
            if answer.get("error"):
                raise _rebuild(answer["error"])
            return answer.get("output")
        # A fork with --live-tools: the real call runs, and is recorded.
        return _run_recorded(span, thunk, kind, name, sync=True)
    message.update(phase="start", start_ns=_now_ns())
    _client.send(message)
    return _run_recorded(span, thunk, kind, name, sync=False)


def _run_recorded(span, thunk, kind, name, sync):
    token = _current.set(span)
    end = {"phase": "end", "span": span}
    if _pause:
        _pause(1)
    try:
        result = thunk()
    except BaseException as exc:
        end.update(error=_error_of(exc), end_ns=_now_ns())
        _client.send(end)
        if sync:
            _client.flush()
        raise
    finally:
        if _pause:
            _pause(-1)
        _current.reset(token)
    end.update(output=result, end_ns=_now_ns())
    _json_text("the result of %s %s" % (kind, name), result)
    _client.send(end)
    if sync:
        _client.flush()
    return result


def _schema_of(fn, name):
    schema = {"name": name, "parameters": []}
    try:
        for p in inspect.signature(fn).parameters.values():
            param = {"name": p.name, "kind": p.kind.name}
            if p.annotation is not p.empty:
                param["type"] = getattr(p.annotation, "__name__", str(p.annotation))
            if p.default is not p.empty:
                param["default"] = repr(p.default)
            schema["parameters"].append(param)
    except (TypeError, ValueError):
        pass
    doc = inspect.getdoc(fn)
    if doc:
        schema["description"] = doc.split("\n\n")[0]
    return schema


def tool(fn=None, *, name=None):
    """Decorator: calls to fn are tool events named after it (or name).
    Its arguments are the input, its return value the output; an exception it
    raises is recorded and raised again on replay."""
    if fn is None:
        return lambda f: tool(f, name=name)
    if _MODE is None:
        return fn
    tool_name = name or fn.__name__
    signature = inspect.signature(fn)
    schema = _schema_of(fn, tool_name)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return _call("tool", tool_name, dict(bound.arguments),
                     lambda: fn(*args, **kwargs), schema=schema)

    return wrapper


def tool_call(name, fn, /, **args):
    """Calls fn(**args) as the tool event name."""
    return _call("tool", name, args, lambda: fn(**args))


def retrieval(name, query, fn, source=None):
    """Calls fn(query) as the retrieval event name; source (JSON, e.g. an
    index name and version) goes into the run's `data` conditions."""
    extra = {"source": source} if source is not None else {}
    return _call("retrieval", name, {"query": query}, lambda: fn(query), **extra)


def now():
    """time.time(), recorded and replayed."""
    return _call("clock", "now", None, time.time)


def random():
    """A float in [0, 1) from OS randomness, recorded and replayed."""
    return _call("random", "random", None, _system_random.random)


def checkpoint(name, state):
    """Records state (JSON) under name; on replay, a different state is a
    divergence, caught where it happens instead of at the end."""
    if _MODE is None:
        return
    _call("checkpoint", name, state, lambda: None)


class span:
    """`with retrace.span("step"):` groups the events inside it."""

    def __init__(self, name):
        self._name = name
        self._token = None
        self._id = None

    def __enter__(self):
        if _MODE is None:
            return self
        self._id = _new_span()
        message = {"phase": "start", "kind": "custom", "name": self._name, "span": self._id,
                   "group": True, "pid": os.getpid(), "start_ns": _now_ns()}
        parent = _current.get()
        if parent:
            message["parent"] = parent
        _client.send(message)
        # Delivered before going on, so that a model request sent inside
        # without retrace.headers() still finds its span.
        _client.flush()
        self._token = _current.set(self._id)
        return self

    def __exit__(self, exc_type, exc, tb):
        if _MODE is None:
            return False
        _current.reset(self._token)
        end = {"phase": "end", "span": self._id, "end_ns": _now_ns()}
        if exc is not None:
            end["error"] = _error_of(exc)
        _client.send(end)
        _client.flush()
        return False


def headers():
    """W3C trace context naming the current span, to send with a model
    request (`extra_headers=retrace.headers()`) so the recorded exchange
    becomes its child, numbered after every event issued before it. Empty
    outside retrace or outside any span."""
    current = _current.get() if _MODE else None
    if _MODE:
        # Events issued before the request reach the recorder before it, so
        # they are numbered before it too.
        _client.flush()
    return {"traceparent": "00-%s-%s-01" % (_TRACE_ID, current)} if current else {}
