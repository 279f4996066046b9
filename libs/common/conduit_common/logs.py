"""JSON logs that carry the request id (and, while a span is active, the trace and
span ids: tracing.py), and the middleware that sets the request id."""
import contextvars
import logging
import re
import sys
import time
import uuid

import orjson

from conduit_common.tracing import current_ids

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
# A client-supplied id is kept only if it is short and harmless in a log line.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_STANDARD_RECORD_KEYS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

access_log = logging.getLogger("conduit.access")
# Query values under these names never reach a log line.
_SENSITIVE_QUERY_KEYS = frozenset({"token", "access_token", "password", "secret", "key",
                                   "signature", "code"})
# Probes, scrapes and the projectors' long-polls hit these every few seconds; at INFO
# they would drown the real traffic.
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/internal/events"})


def current_request_id() -> str | None:
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id.get(),
        }
        ids = current_ids()
        if ids is not None:
            entry["trace_id"], entry["span_id"] = ids
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD_RECORD_KEYS})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


JsonFormatter.converter = time.gmtime


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time of the record (test capture too)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every log record to stderr as one JSON object per line."""
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def loggable_uri(req) -> str:
    """The path and query, with the values of sensitive query keys redacted."""
    if not req.query_string:
        return req.path
    parts = []
    for pair in req.query_string.split("&"):
        name, sep, _ = pair.partition("=")
        redact = sep and name.lower() in _SENSITIVE_QUERY_KEYS
        parts.append(f"{name}=[redacted]" if redact else pair)
    return f"{req.path}?{'&'.join(parts)}"


class SecurityHeadersMiddleware:
    """nosniff on every answer; no-store where a resource says it carries secrets
    (`no_store = True`: tokens, the current user)."""

    def process_response(self, req, resp, resource, req_succeeded):
        resp.set_header("X-Content-Type-Options", "nosniff")
        if getattr(resource, "no_store", False):
            resp.set_header("Cache-Control", "no-store")


class RequestIdMiddleware:
    """Take X-Request-ID from the caller (or make one), echo it, log the request
    (unless `access_log` is off: the gateway logs every request too)."""

    def __init__(self, access_log: bool = True):
        self._access_log = access_log

    def process_request(self, req, resp):
        supplied = req.get_header(REQUEST_ID_HEADER) or ""
        request_id = supplied if _SAFE_REQUEST_ID.match(supplied) else uuid.uuid4().hex
        req.context.request_id = request_id
        req.context.started = time.perf_counter()
        req.context.request_id_token = _request_id.set(request_id)
        resp.set_header(REQUEST_ID_HEADER, request_id)

    def process_response(self, req, resp, resource, req_succeeded):
        started = getattr(req.context, "started", None)
        if started is not None and self._access_log:
            level = logging.DEBUG if req.path in _QUIET_PATHS else logging.INFO
            fields = {"method": req.method, "path": req.path, "status": resp.status_code,
                      "duration_ms": round((time.perf_counter() - started) * 1000, 2)}
            access_log.log(level, "%s %s %s", req.method, loggable_uri(req), resp.status_code,
                           extra=fields)
        token = getattr(req.context, "request_id_token", None)
        if token is not None:
            _request_id.reset(token)
