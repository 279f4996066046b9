"""Keep NUL characters out: PostgreSQL's text types cannot store U+0000.

psycopg refuses a parameter holding one (DataError: "PostgreSQL text fields cannot
contain NUL (0x00) bytes"), so a NUL that reached a query would be a 500. Input is
checked at the edge instead: the URL (path and query string) by `NulGuardMiddleware`,
JSON bodies by the media handler with `nul_field`.
"""
from conduit_common.errors import ENVELOPES, ConduitError

NUL = "\x00"


def nul_field(document, prefix: str = "") -> str | None:
    """The name of the first string value holding a NUL ("title", "tagList"), or
    None; a NUL at the top level of the document is reported as "body"."""
    if isinstance(document, str):
        return (prefix or "body") if NUL in document else None
    if isinstance(document, dict):
        for key, value in document.items():
            name = str(key)
            if not prefix and name in ENVELOPES and isinstance(value, dict):
                found = nul_field(value)
            else:
                found = nul_field(value, f"{prefix}.{name}" if prefix else name)
            if found:
                return found
    elif isinstance(document, list):
        for value in document:
            found = nul_field(value, prefix)
            if found:
                return found
    return None


class NulGuardMiddleware:
    """A URL whose path or query decodes to a NUL is a 400, before any responder."""

    def process_request(self, req, resp):
        # The query string is still percent-encoded here; "%00" is how a NUL arrives.
        if NUL in req.path or "%00" in req.query_string:
            raise ConduitError("the URL must not contain NUL (%00) characters")
