"""The account service the escalation agent calls (examples/incident):
GET /accounts/ID answers the account's state from accounts.json (in the
directory given, read on every request); POST /accounts/ID/close and
/accounts/ID/grace act on it and answer what was done.

    python3 account_service.py DIR PORT   (port 0: any; prints "listening on URL")
"""
import http.server
import json
import os
import sys

directory, port = sys.argv[1], int(sys.argv[2])


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        accounts = json.load(open(os.path.join(directory, "accounts.json")))
        if len(parts) == 2 and parts[0] == "accounts" and parts[1] in accounts:
            return self.answer(200, accounts[parts[1]])
        self.answer(404, {"error": "no such account"})

    def do_POST(self):
        parts = self.path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "accounts" and parts[2] in ("close", "grace"):
            result = "closed" if parts[2] == "close" else "put on a 30-day grace period"
            return self.answer(200, {"account": parts[1], "result": result})
        self.answer(404, {"error": "no such action"})

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
print("listening on http://127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
