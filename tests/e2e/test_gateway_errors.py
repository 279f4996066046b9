"""nginx's own answers to requests it cannot serve come back in the RealWorld error shape.

400 (a malformed request line or header), 414 (request line over nginx's 8 KiB buffer)
and 494 (a header over it, answered 400) go through error_page to internal JSON
locations. What nginx cannot shape is in gateway/README.md (HTTP/0.9 requests get a
body without status line; a client that times out gets no answer at all).
"""
import json
import socket
from urllib.parse import urlsplit

import pytest


def _raw(stack, request: bytes) -> tuple[int, dict, bytes]:
    url = urlsplit(stack.api_url)
    with socket.create_connection((url.hostname, url.port), timeout=15) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _request(path: str = "/flask/api/tags", *headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: localhost", *headers, "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


@pytest.mark.parametrize("request_bytes, status, message", [
    (_request("/flask/api/tags", "Host: twice"), 400, "bad request"),
    (_request("/flask/api/articles?q=" + "x" * 9000), 414, "request URI is too long"),
    (_request("/flask/api/tags", "X-Big: " + "y" * 9000), 400, "request headers are too large"),
], ids=["duplicate-host", "uri-too-long", "header-too-large"])
def test_nginx_errors_come_back_in_the_error_shape(stack, request_bytes, status, message):
    got, headers, body = _raw(stack, request_bytes)
    assert got == status, body
    assert headers.get("content-type", "").startswith("application/json"), headers
    assert json.loads(body) == {"errors": {"body": [message]}}


@pytest.mark.parametrize("request_bytes", [
    b"NOT A REQUEST\r\n\r\n", b"GET / HTTP/1.x\r\n\r\n", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
], ids=["garbage", "bad-version", "http2-preface"])
def test_a_request_line_nginx_cannot_parse_gets_400_in_the_error_shape(stack, request_bytes):
    got, headers, body = _raw(stack, request_bytes)
    assert got == 400, body
    assert json.loads(body) == {"errors": {"body": ["bad request"]}}
