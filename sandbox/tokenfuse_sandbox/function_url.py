"""Emulation: a Lambda Function URL as a real HTTP endpoint on 127.0.0.1.

Each request becomes the Function URL event (payload format 2.0) and the handler's response goes
back the way Lambda maps it (a dict with statusCode, or any other value as a JSON 200)."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded", "application/xml")


def request_event(  # noqa: PLR0917
    method: str, raw_path: str, headers: dict[str, str], body: bytes, source_ip: str, domain: str
) -> dict[str, Any]:
    parts = urlsplit(raw_path)
    lower = {k.lower(): v for k, v in headers.items()}
    content_type = lower.get("content-type", "")
    is_text = not body or any(content_type.startswith(t) for t in _TEXT_TYPES)
    now = datetime.now(UTC)
    query: dict[str, str] = {}
    if parts.query:
        for pair in parts.query.split("&"):
            key, _, value = pair.partition("=")
            from urllib.parse import unquote_plus

            k, v = unquote_plus(key), unquote_plus(value)
            query[k] = f"{query[k]},{v}" if k in query else v
    cookies = [c.strip() for c in lower.pop("cookie", "").split(";") if c.strip()]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        "headers": lower,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": domain.split(".", maxsplit=1)[0],
            "domainName": domain,
            "domainPrefix": domain.split(".", maxsplit=1)[0],
            "http": {
                "method": method,
                "path": parts.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lower.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if query:
        event["queryStringParameters"] = query
    if cookies:
        event["cookies"] = cookies
    if body:
        event["body"] = body.decode() if is_text else base64.b64encode(body).decode()
    return event


def response_parts(result: Any) -> tuple[int, dict[str, str], bytes]:
    """Lambda's Function URL response mapping: a dict with statusCode is a full response; anything
    else is returned as JSON with status 200."""
    if isinstance(result, dict) and "statusCode" in result:
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        body = result.get("body")
        if body is None:
            raw = b""
        elif result.get("isBase64Encoded"):
            raw = base64.b64decode(body)
        else:
            raw = (body if isinstance(body, str) else json.dumps(body)).encode()
        for cookie in result.get("cookies") or []:
            headers.setdefault("set-cookie", cookie)
        return int(result["statusCode"]), headers, raw
    if isinstance(result, str):
        return 200, {"content-type": "application/json"}, result.encode()
    return 200, {"content-type": "application/json"}, json.dumps(result).encode()


class FunctionUrlServer:
    """One loopback HTTP server for one function; ``invoke(event) -> (ok, result)``."""

    def __init__(self, logical_id: str, invoke: Callable[[dict[str, Any]], tuple[bool, Any]]) -> None:
        self.logical_id = logical_id
        self._invoke = invoke
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                event = request_event(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    body,
                    self.client_address[0],
                    server.domain,
                )
                ok, result = server._invoke(event)
                if ok:
                    status, headers, raw = response_parts(result)
                else:
                    status, headers = (
                        502,
                        {"content-type": "application/json", "x-amzn-errortype": "Unhandled"},
                    )
                    raw = json.dumps({"Message": "Internal Server Error"}).encode()
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "connection"):
                        self.send_header(key, value)
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.domain = f"127.0.0.1:{self.port}"
        # shutdown() waits for the serving loop's next poll: 0.05 s, not socketserver's 0.5 s
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"url-{logical_id}",
            daemon=True,
        )

    def start(self) -> FunctionUrlServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
