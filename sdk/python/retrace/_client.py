"""Transport to the recorder's event API (docs/event-api.md).

Record mode queues events and a background thread posts them in batches, so
the calling code pays for a JSON encoding and a queue append, not a round
trip. Replay mode asks synchronously, one keep-alive connection per thread.

So that a model request the program sends after an event is numbered after
it, though the event may reach the recorder later: each process counts the
events it has queued in a ledger file of its own ($RETRACE_ORDER_DIR, one
8-byte write per event), and tags each with its number; the recorder waits
for the events a file counts before numbering a request.
"""

import atexit
import http.client
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse


class RetraceError(RuntimeError):
    """The recorder could not be reached or refused a request."""


class Divergence(RetraceError):
    """During replay, the program asked for something the recording does not
    hold (a changed input, or more calls than were recorded). The replay
    reports it and exits 1."""

    def __init__(self, message, divergence=None):
        super().__init__(message)
        self.divergence = divergence or {}


def _dumps(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class _Connection:
    """One HTTP/1.1 keep-alive connection to the recorder. A minimal client:
    the recorder always answers with a Content-Length, and http.client's
    header parsing would cost more than the whole round trip."""

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        self._host, self._port = parts.hostname, parts.port or 80
        # (the recorder's URL carries the run's access token in its path)
        self._prefix = parts.path.rstrip("/")
        self._sock = self._file = None

    def _open(self):
        sock = socket.create_connection((self._host, self._port), timeout=300)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock, self._file = sock, sock.makefile("rb")

    def _close(self):
        for f in (self._file, self._sock):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        self._sock = self._file = None

    def _response(self):
        status_line = self._file.readline(65537)
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise http.client.BadStatusLine(repr(status_line))
        length, close = 0, False
        while True:
            line = self._file.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        body = self._file.read(length) if length else b""
        if len(body) != length:
            raise http.client.IncompleteRead(body, length - len(body))
        if close:
            self._close()
        return int(parts[1]), body

    def post(self, path, body):
        data = body.encode("utf-8")
        request = (("POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                    "Content-Length: %d\r\n\r\n") % (self._prefix + path, self._host, self._port, len(data))
                   ).encode("ascii") + data
        for attempt in (0, 1):
            try:
                if self._sock is None:
                    self._open()
                self._sock.sendall(request)
                return self._response()
            except (OSError, ValueError, http.client.HTTPException) as e:
                self._close()
                if attempt == 1:
                    raise RetraceError("cannot reach the retrace recorder at %s:%s: %s"
                                       % (self._host, self._port, e)) from e
        raise AssertionError("unreachable")


class _Sender:
    """Posts queued events in order, in batches, from a daemon thread."""

    def __init__(self, url):
        self._url = url
        self._connection = None
        self._queue = []
        self._busy = False
        self._cond = threading.Condition()
        self._warned = False
        self._thread = None
        self._pid = None
        self._ledger = self._ledger_fd = None
        self._issued = 0

    def _start(self):
        # (Again in a forked child, whose copy of the thread is gone.)
        self._pid = os.getpid()
        self._open_ledger()
        self._connection = _Connection(self._url)
        self._thread = threading.Thread(target=self._run, name="retrace-events", daemon=True)
        self._thread.start()

    def _open_ledger(self):
        if self._ledger_fd is not None:
            try:
                os.close(self._ledger_fd)  # (the parent's, in a forked child)
            except OSError:
                pass
        self._ledger = self._ledger_fd = None
        self._issued = 0
        directory = os.environ.get("RETRACE_ORDER_DIR")
        if not directory:
            return
        name = "%d-%d" % (self._pid, time.monotonic_ns())
        try:
            self._ledger_fd = os.open(os.path.join(directory, name),
                                      os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            self._ledger = name
        except OSError:
            pass  # recorded in arrival order

    def put(self, message):
        with self._cond:
            if self._pid != os.getpid():
                self._queue, self._busy = [], False
                self._start()
            if self._ledger_fd is not None:
                self._issued += 1
                message["ledger"], message["issue"] = self._ledger, self._issued
            self._queue.append(_dumps(message))
            if self._ledger_fd is not None:
                # Counted before the call that issued it returns, so before
                # any request the program sends after it.
                try:
                    os.pwrite(self._ledger_fd, struct.pack("<Q", self._issued), 0)
                except OSError:
                    pass
            self._cond.notify()

    def flush(self):
        with self._cond:
            if self._pid != os.getpid():
                return
            while self._queue or self._busy:
                self._cond.wait()

    def _run(self):
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                batch, self._queue, self._busy = self._queue, [], True
            try:
                status, body = self._connection.post("/_retrace/v1/events",
                                                     "[" + ",".join(batch) + "]")
                if status != 200:
                    self._warn("the recorder refused %d event(s): %s"
                               % (len(batch), body.decode("utf-8", "replace")))
                else:
                    for answer in json.loads(body):
                        if "error" in answer:
                            self._warn(answer["error"])
            except RetraceError as e:
                self._warn(str(e))
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _warn(self, message):
        if not self._warned:
            self._warned = True
            print("retrace: " + message, file=sys.stderr)


class Client:
    def __init__(self, url):
        self._url = url
        self._sender = _Sender(url)
        self._local = threading.local()
        atexit.register(self.flush)

    def send(self, message):
        """Queues one event (a dict) for recording; returns at once."""
        self._sender.put(message)

    def flush(self):
        """Waits until every queued event is recorded."""
        self._sender.flush()

    def replay(self, message):
        """The recorded answer for one event: a dict with output and error,
        or live: true; raises Divergence."""
        self.flush()  # spans this event may name as parent are known first
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = _Connection(self._url)
        status, body = conn.post("/_retrace/v1/replay", _dumps(message))
        try:
            answer = json.loads(body)
        except ValueError:
            raise RetraceError("the recorder answered %d: %r" % (status, body[:200]))
        if status == 409 and answer.get("error", {}).get("type") == "retrace_divergence":
            raise Divergence(answer["error"]["message"], answer.get("divergence"))
        if status != 200:
            raise RetraceError(answer.get("error", {}).get("message", "status %d" % status))
        return answer
