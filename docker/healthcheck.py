#!/usr/bin/env python3
"""Container healthcheck: exit 0 if the service's /healthz answers 200 (no curl in slim)."""
import os
import sys
import urllib.request

URL = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz"
TIMEOUT = float(os.environ.get("HEALTHCHECK_TIMEOUT", "2"))

try:
    with urllib.request.urlopen(URL, timeout=TIMEOUT) as resp:
        sys.exit(0 if resp.status == 200 else 1)
except OSError as ex:  # URLError, HTTPError, timeouts and refused connections
    sys.stderr.write(f"healthcheck: {URL}: {ex}\n")
    sys.exit(1)
