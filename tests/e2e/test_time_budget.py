"""A frozen service costs its clients at most the gateway's budget: 503 within 3 s.

The service's processes are stopped with SIGSTOP (as a hung worker or a paused VM
would be): connections still open (the kernel accepts them), nothing answers. The
gateway's per-route read timeout (gateway/routes.yml) turns that into our 503.
"""
import os
import signal
import time

UNAVAILABLE = {"errors": {"body": ["service unavailable"]}}


def _signal_group(local_stack, name, sig):
    os.killpg(os.getpgid(local_stack.pid(name)), sig)


def test_a_frozen_service_answers_503_in_the_error_shape_within_3_s(local_stack, api):
    author = api.register("frozen")
    assert api.request("GET", f"/profiles/{author.username}").status_code == 200

    _signal_group(local_stack, "profiles", signal.SIGSTOP)
    try:
        for _ in range(2):   # the first on a kept-alive connection, then whatever follows
            started = time.monotonic()
            resp = api.request("GET", f"/profiles/{author.username}", author.token)
            elapsed = time.monotonic() - started
            assert resp.status_code == 503, resp.text
            assert resp.json() == UNAVAILABLE
            assert elapsed < 3.0, f"took {elapsed:.1f} s"
        # The other services are not held up by it.
        assert api.request("GET", "/tags").status_code == 200
    finally:
        _signal_group(local_stack, "profiles", signal.SIGCONT)
    local_stack.wait_ready("profiles")
    assert api.request("GET", f"/profiles/{author.username}").status_code == 200
