#!/usr/bin/env python3
"""Container healthcheck: exit 0 if the service answers 200 on a health path of $PORT
(no curl in slim).

    conduit-healthcheck            /healthz: the process answers (the image's default)
    conduit-healthcheck /readyz    ready: docker-compose's projectors use it, so that
                                   "healthy" means their read models have caught up
"""
import os
import sys
import urllib.request

PATH = sys.argv[1] if len(sys.argv) > 1 else "/healthz"
URL = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}{PATH}"
TIMEOUT = float(os.environ.get("HEALTHCHECK_TIMEOUT", "2"))

if not PATH.startswith("/"):
    sys.exit(f"healthcheck: the path must start with '/', not {PATH!r}")
try:
    with urllib.request.urlopen(URL, timeout=TIMEOUT) as resp:
        sys.exit(0 if resp.status == 200 else 1)
except OSError as ex:  # URLError, HTTPError (a 503 too), timeouts and refused connections
    sys.stderr.write(f"healthcheck: {URL}: {ex}\n")
    sys.exit(1)
