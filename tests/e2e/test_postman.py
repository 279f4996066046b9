"""The official RealWorld conformance suite (Postman collection) via the pinned newman."""
import pytest

from conduit_dev import newman
from conduit_dev.routes import ROOT

pytestmark = pytest.mark.postman


@pytest.mark.timeout(600)
def test_the_realworld_postman_suite_passes_through_the_gateway(stack, request):
    collection = newman.collection_path()
    if collection is None:
        pytest.skip(newman.SKIP_MESSAGE)
    result = newman.run(stack.api_url, collection, ROOT / "reports" / "e2e-newman.json")
    request.config.conduit_newman_summary = (
        f"RealWorld Postman suite: {result.assertions} assertions, "
        f"{result.failed_assertions} failed")
    failures = "\n".join(result.failures)
    assert result.returncode == 0 and not result.failures, (
        f"{result.failed_assertions} of {result.assertions} assertions failed:\n{failures}\n\n"
        f"{result.output[-6000:]}")
    assert result.assertions > 0
