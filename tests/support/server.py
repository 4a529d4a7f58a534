"""Deterministic HTTP server for awaitify's execution-equivalence tests.

`python server.py` binds 127.0.0.1 on a free port, prints its base URL
(`http://127.0.0.1:PORT`) as the first line of stdout, flushes, and serves
until killed. Standard library only, so it runs on any CPython 3.11+.

Every answer depends only on the request and on what this process has seen
before (the /store and the /flaky counters), so a fresh server answers the
same request sequence the same way. Tests start one server per program run.

Endpoints (JSON unless noted; JSON is serialised with sorted keys):
  GET  /json                     fixed document with nested keys
  GET  /text                     text/plain "hello from test server\\n"
  GET  /echo?k=v&...             {"method": "GET", "args": {...}}; a repeated key gives a list
  POST|PUT /echo                 the raw body back, with the request's Content-Type
  GET  /headers                  {"headers": {...}}: the x-* and authorization headers, lower-cased
  GET  /status/CODE              that status (200..599), body {"status": CODE} (empty for 204, 304)
  GET  /slow?ms=N                sleeps N ms (capped at 2000), then {"slept_ms": N}
  GET  /redirect?to=PATH         302 to PATH (default /json)
  GET  /items[?page=P&per_page=N] the 5 items; with page: that page and a "next" path or null
  GET  /items/ID                 one item, 404 for an unknown ID
  GET  /bytes/N                  N deterministic bytes (capped at 1 MiB), application/octet-stream
  GET  /lines[?n=N]              N text lines "line 1\\n".. (default 5, capped at 1000)
  GET  /flaky?key=K&fail=N       the first N calls for K answer 503, later ones 200
  GET  /auth                     200 with "Authorization: Bearer secret-token", else 401
  GET  /cookies                  {"cookies": {...}}: the request's cookies
  GET  /set-cookie?k=v           sets cookie k=v, answers {"set": {...}}
  POST /form                     {"form": {...}, "type": ...}: an urlencoded body, parsed
  POST /upload                   {"files": {field: [filename, size, type]}, "fields": {...}}: a multipart body
  GET  /store                    {"keys": [...]} sorted
  GET|PUT|POST|DELETE /store/KEY key-value store of raw bodies; PUT answers 201 when new, 200 after
  anything else                  404 {"error": "not found"}
"""

from __future__ import annotations

import json
import sys
import threading
import time
import email.policy
from email.parser import BytesParser
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DOC = {
    "service": "awaitify-test-server",
    "version": 1,
    "features": ["json", "text", "echo", "store"],
    "owner": {"name": "test", "address": {"city": "Springfield", "zip": "00000"}},
    "limits": {"slow_ms": 2000, "bytes": 1048576},
}
ITEMS = [
    {"id": 1, "name": "apple", "price": 1.25},
    {"id": 2, "name": "banana", "price": 0.5},
    {"id": 3, "name": "cherry", "price": 3.0},
    {"id": 4, "name": "damson", "price": 2.75},
    {"id": 5, "name": "elder", "price": 4.5},
]
MAX_SLOW_MS = 2000
MAX_BYTES = 1 << 20
MAX_LINES = 1000
TOKEN = "Bearer secret-token"


class Bad(Exception):
    """A malformed request: answered with 400."""


class State:
    """What the server has seen; shared by all handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.store: dict[str, tuple[bytes, str]] = {}
        self.flaky: dict[str, int] = {}


STATE = State()


def number(value: object, default: int) -> int:
    if value is None:
        return default
    try:
        return int(str(value))
    except ValueError:
        raise Bad(f"not a number: {value!r}") from None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "awaitify-test-server"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:
        pass  # one stderr line per request would drown the test output

    # -- answers ---------------------------------------------------------
    def send(self, status: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def json(self, status: int, obj: object) -> None:
        body = json.dumps(obj, sort_keys=True).encode()
        self.send(status, body, "application/json")

    # -- dispatch --------------------------------------------------------
    def do_GET(self) -> None:
        self.route("GET")

    def do_HEAD(self) -> None:
        self.route("GET")

    def do_POST(self) -> None:
        self.route("POST")

    def do_PUT(self) -> None:
        self.route("PUT")

    def do_DELETE(self) -> None:
        self.route("DELETE")

    def route(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = parse_qs(url.query, keep_blank_values=True)
        args = {k: v[0] if len(v) == 1 else v for k, v in sorted(query.items())}
        ctype = self.headers.get("Content-Type") or "application/octet-stream"
        try:
            self.answer(method, parts, args, body, ctype)
        except Bad as e:
            self.json(400, {"error": str(e)})

    def answer(self, method: str, parts: list[str], args: dict, body: bytes, ctype: str) -> None:
        head, rest = (parts[0], parts[1:]) if parts else ("", [])
        get = method == "GET"

        if head == "json" and not rest and get:
            return self.json(200, DOC)
        if head == "text" and not rest and get:
            return self.send(200, b"hello from test server\n", "text/plain; charset=utf-8")
        if head == "echo" and not rest:
            if get:
                return self.json(200, {"method": "GET", "args": args})
            if method in ("POST", "PUT"):
                return self.send(200, body, ctype)
        if head == "headers" and not rest and get:
            wanted = {
                k.lower(): v
                for k, v in self.headers.items()
                if k.lower().startswith("x-") or k.lower() == "authorization"
            }
            return self.json(200, {"headers": dict(sorted(wanted.items()))})
        if head == "status" and len(rest) == 1 and rest[0].isdigit():
            code = int(rest[0])
            if not 200 <= code <= 599:
                raise Bad(f"status out of range: {code}")
            if code in (204, 304):  # these may not carry a body
                return self.send(code, b"", "text/plain")
            return self.json(code, {"status": code})
        if head == "slow" and not rest and get:
            ms = max(0, min(number(args.get("ms"), 0), MAX_SLOW_MS))
            time.sleep(ms / 1000)
            return self.json(200, {"slept_ms": ms})
        if head == "redirect" and not rest and get:
            target = str(args.get("to", "/json"))
            return self.send(302, b"", "text/plain", {"Location": target})
        if head == "items" and not rest and get:
            if "page" not in args:
                return self.json(200, {"items": ITEMS, "count": len(ITEMS)})
            page = max(1, number(args.get("page"), 1))
            per = max(1, number(args.get("per_page"), 2))
            start = (page - 1) * per
            chunk = ITEMS[start : start + per]
            more = start + per < len(ITEMS)
            nxt = f"/items?page={page + 1}&per_page={per}" if more else None
            return self.json(200, {"items": chunk, "next": nxt})
        if head == "items" and len(rest) == 1 and get:
            for item in ITEMS:
                if str(item["id"]) == rest[0]:
                    return self.json(200, item)
            return self.json(404, {"error": "no such item", "id": rest[0]})
        if head == "bytes" and len(rest) == 1 and get:
            n = max(0, min(number(rest[0], 0), MAX_BYTES))
            data = bytes((i * 31 + 7) % 256 for i in range(n))
            return self.send(200, data, "application/octet-stream")
        if head == "lines" and not rest and get:
            n = max(0, min(number(args.get("n"), 5), MAX_LINES))
            text = "".join(f"line {i}\n" for i in range(1, n + 1))
            return self.send(200, text.encode(), "text/plain; charset=utf-8")
        if head == "flaky" and not rest and get:
            key = str(args.get("key", ""))
            fail = number(args.get("fail"), 1)
            with STATE.lock:
                seen = STATE.flaky[key] = STATE.flaky.get(key, 0) + 1
            if seen <= fail:
                return self.json(503, {"error": "try again", "attempt": seen})
            return self.json(200, {"key": key, "attempts": seen})
        if head == "auth" and not rest and get:
            if self.headers.get("Authorization") == TOKEN:
                return self.json(200, {"user": "alice"})
            return self.json(401, {"error": "unauthorized"})
        if head == "cookies" and not rest and get:
            jar = SimpleCookie(self.headers.get("Cookie") or "")
            return self.json(200, {"cookies": {k: m.value for k, m in sorted(jar.items())}})
        if head == "set-cookie" and not rest and get:
            self.send_response(200)
            body = json.dumps({"set": args}, sort_keys=True).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in args.items():
                self.send_header("Set-Cookie", f"{k}={v}; Path=/")
            self.end_headers()
            self.wfile.write(body)
            return None
        if head == "form" and not rest and method == "POST":
            fields = {k: v[0] if len(v) == 1 else v for k, v in sorted(parse_qs(body.decode()).items())}
            return self.json(200, {"form": fields, "type": ctype.split(";")[0]})
        if head == "upload" and not rest and method == "POST":
            msg = BytesParser(policy=email.policy.default).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
            files, fields = {}, {}
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                data = part.get_payload(decode=True) or b""
                if part.get_filename() is not None:
                    files[name] = [part.get_filename(), len(data), part.get_content_type()]
                else:
                    fields[name] = data.decode()
            return self.json(200, {"files": files, "fields": fields})
        if head == "store" and not rest and get:
            with STATE.lock:
                keys = sorted(STATE.store)
            return self.json(200, {"keys": keys})
        if head == "store" and len(rest) == 1:
            return self.store(method, rest[0], body, ctype)
        return self.json(404, {"error": "not found"})

    def store(self, method: str, key: str, body: bytes, ctype: str) -> None:
        with STATE.lock:
            if method in ("PUT", "POST"):
                created = key not in STATE.store
                STATE.store[key] = (body, ctype)
                return self.json(201 if created else 200, {"key": key, "size": len(body)})
            if method == "DELETE":
                existed = STATE.store.pop(key, None) is not None
                return self.json(200 if existed else 404, {"key": key, "deleted": existed})
            found = STATE.store.get(key)
        if found is None:
            return self.json(404, {"error": "no such key", "key": key})
        data, stored_type = found
        return self.send(200, data, stored_type)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up mid-answer (a cancelled task, a timeout) is
        # normal in these tests; anything else is a server bug and is shown.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def main() -> int:
    server = Server(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    sys.stdout.write(f"http://{host}:{port}\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
