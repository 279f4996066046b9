"""The nginx template is the routing table of gateway/routes.yml, and nginx accepts it."""
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conduit_dev import gateway, routes
from conduit_dev.config import StackConfig
from conduit_dev.system import MissingProgram, ensure_program

README = routes.ROOT / "gateway" / "README.md"


def test_template_routing_blocks_are_generated_from_routes_yml():
    assert routes.rendered_template() == routes.TEMPLATE_FILE.read_text(), (
        "gateway template is out of date with gateway/routes.yml: run `make gateway-routes`")


def test_every_route_is_under_the_stripped_prefix_and_names_a_known_service():
    table = routes.load_routes()
    assert table.strip_prefix == "/flask"
    for route in table.routes:
        assert table.upstream_path(route.prefix).startswith("/api/")
        assert route.service in {"auth", "profiles", "articles"}


def test_locations_are_exactly_the_routes():
    table = routes.load_routes()
    found = re.findall(r"location (=|\^~) (\S+) \{\n.*?proxy_pass http://conduit_(\w+)(\S+);",
                       routes.TEMPLATE_FILE.read_text(), re.DOTALL)
    expected = []
    for route in table.routes:
        target = table.upstream_path(route.prefix)
        expected.append(("=", route.prefix, route.service, target))
        if route.subpaths:
            expected.append(("^~", route.prefix + "/", route.service, target + "/"))
    assert sorted(found) == sorted(expected)


def test_every_template_variable_is_documented():
    variables = set(re.findall(r"\$\{([A-Z_]+)\}", routes.TEMPLATE_FILE.read_text()))
    documented = set(re.findall(r"`([A-Z_]+)`", README.read_text()))
    assert variables <= documented


@pytest.fixture
def run_dir():
    """Not pytest's tmp_path: under root that is 0700, and write_config would move nginx's
    temp dirs to /var/lib/conduit-dev for the workers (`nobody`), where they would stay."""
    path = Path(tempfile.mkdtemp(prefix="conduit-gateway-"))
    path.chmod(0o755)
    yield path / "run"
    shutil.rmtree(path, ignore_errors=True)


def test_rendered_configuration_passes_nginx_t(run_dir: Path):
    try:
        nginx = ensure_program("nginx", "nginx-light")
    except MissingProgram as ex:
        pytest.fail(str(ex))
    main_conf = gateway.write_config(StackConfig(run_dir=run_dir))
    assert not (run_dir / "nginx" / "tmp").is_symlink()
    result = subprocess.run([str(nginx), "-t", "-p", f"{main_conf.parent}/", "-c", str(main_conf),
                             "-e", "stderr"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_rendering_refuses_a_missing_variable():
    with pytest.raises(KeyError, match="LOGIN_RATE"):
        gateway.render("rate=${LOGIN_RATE}; $request_id", {})


def test_make_run_listens_on_loopback_unless_gateway_bind_says_otherwise():
    config = StackConfig.from_env({})
    assert config.gateway_bind == "127.0.0.1"
    assert gateway.template_variables(config)["GATEWAY_BIND"] == "127.0.0.1"
    wide = StackConfig.from_env({"GATEWAY_BIND": "0.0.0.0"})
    assert gateway.template_variables(wide)["GATEWAY_BIND"] == "0.0.0.0"
    assert wide.gateway_url.startswith("http://127.0.0.1:")
    assert re.search(r"^\s*listen \$\{GATEWAY_BIND\}:\$\{GATEWAY_PORT\};",
                     routes.TEMPLATE_FILE.read_text(), re.MULTILINE)


def test_login_and_registration_limits_come_from_the_environment():
    config = StackConfig.from_env({"REGISTER_RATE": "7r/m", "REGISTER_BURST": "3"})
    variables = gateway.template_variables(config)
    assert (variables["REGISTER_RATE"], variables["REGISTER_BURST"]) == ("7r/m", "3")
    assert (variables["LOGIN_RATE"], variables["LOGIN_BURST"]) == ("10r/m", "10")
    defaults = gateway.template_variables(StackConfig.from_env({}))
    assert (defaults["REGISTER_RATE"], defaults["REGISTER_BURST"]) == ("5r/m", "5")
