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


@pytest.mark.timeout(900)
def test_the_postman_suite_passes_nine_more_times_in_a_row(stack):
    """Read-your-writes across services, repeatedly: ten green runs in all (with the one
    above); each run registers new users and reads their writes at once."""
    collection = newman.collection_path()
    if collection is None:
        pytest.skip(newman.SKIP_MESSAGE)
    for run in range(2, 11):
        result = newman.run(stack.api_url, collection,
                            ROOT / "reports" / f"e2e-newman-{run}.json")
        assert result.returncode == 0 and not result.failures, (
            f"run {run}: {result.failed_assertions} of {result.assertions} failed:\n"
            + "\n".join(result.failures))
