"""A JSON-RPC client written from bitcoin-cli's documented behaviour, for
the tests: HTTP/1.1 POST to / with a JSON-RPC 1.0 body, Basic auth from
the cookie file (<datadir>/<chain>/.cookie, "user:password") or given
credentials, one keep-alive connection. Standard library only.
Not a test itself (ctest globs py_*.py only)."""
import base64
import http.client
import json
import os


class RPCError(Exception):
    def __init__(self, status, error):
        self.status = status
        self.error = error
        super().__init__("HTTP %s: %s" % (status, error))


def read_cookie(path):
    with open(path) as f:
        user, _, password = f.read().strip().partition(":")
    return user, password


class Client:
    def __init__(self, port, user=None, password=None, cookie=None, host="127.0.0.1", timeout=30):
        if cookie:
            user, password = read_cookie(cookie)
        self.auth = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)
        self.next_id = 0

    def raw(self, body, headers=None):
        """POSTs body (bytes or str); returns (status, parsed JSON or None, raw bytes)."""
        h = {"Authorization": self.auth, "Content-Type": "application/json"}
        h.update(headers or {})
        try:
            self.conn.request("POST", "/", body=body, headers=h)
            resp = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # the server closed an idle keep-alive connection: a new one
            self.conn.close()
            self.conn.request("POST", "/", body=body, headers=h)
            resp = self.conn.getresponse()
        data = resp.read()
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return resp.status, parsed, data

    def call(self, method, *params, **named):
        self.next_id += 1
        req = {"jsonrpc": "1.0", "id": self.next_id, "method": method,
               "params": named if named else list(params)}
        status, reply, data = self.raw(json.dumps(req))
        if reply is None or not isinstance(reply, dict):
            raise RPCError(status, data[:200])
        if reply.get("error"):
            raise RPCError(status, reply["error"])
        return reply["result"]

    def close(self):
        self.conn.close()
