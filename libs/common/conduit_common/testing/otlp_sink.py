"""A tiny OTLP/HTTP trace receiver: answers 200 to POST /v1/traces.

`make bench` runs it as a process that discards what it gets (tracing on costs what
it costs the services, not a collector); tests run it in a thread with `keep=True`
to see which spans arrived (service name, trace id, span name).

    python -m conduit_common.testing.otlp_sink --port 4318
"""
import argparse
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OtlpSink:
    def __init__(self, port: int = 0, keep: bool = False, host: str = "127.0.0.1"):
        self.spans: list[dict] = []
        self.requests = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.requests += 1
                if keep and self.path == "/v1/traces":
                    sink.spans.extend(decode(body))
                self.send_response(200 if self.path == "/v1/traces" else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self):
        self._server.serve_forever()


def decode(body: bytes) -> list[dict]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import \
        ExportTraceServiceRequest
    request = ExportTraceServiceRequest.FromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        service = next((a.value.string_value for a in resource_spans.resource.attributes
                        if a.key == "service.name"), "")
        for scope in resource_spans.scope_spans:
            for span in scope.spans:
                spans.append({"service": service, "name": span.name,
                              "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                              "parent_span_id": span.parent_span_id.hex(),
                              "kind": span.kind, "links": [link.trace_id.hex()
                                                           for link in span.links]})
    return spans


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=4318)
    OtlpSink(parser.parse_args(argv).port).serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
