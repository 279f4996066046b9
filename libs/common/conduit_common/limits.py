"""Refuse request bodies above the configured size before anything reads them."""
import falcon


class BodyLimitMiddleware:
    def __init__(self, max_body_bytes: int):
        self._max = max_body_bytes

    def process_request(self, req, resp):
        length = req.content_length
        if length is not None and length > self._max:
            raise falcon.HTTPContentTooLarge(
                description=f"request body is larger than {self._max} bytes")
