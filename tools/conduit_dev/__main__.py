"""python -m conduit_dev {run,gateway-routes,newman}: see `--help`."""
import argparse
import os
import sys

from conduit_dev import routes


def _gateway_routes(args) -> int:
    if args.check:
        if routes.rendered_template() != routes.TEMPLATE_FILE.read_text():
            print(f"{routes.TEMPLATE_FILE} is out of date with {routes.ROUTES_FILE}: "
                  "run `make gateway-routes`", file=sys.stderr)
            return 1
        return 0
    changed = routes.update_template()
    print(f"{routes.TEMPLATE_FILE.relative_to(routes.ROOT)} "
          f"{'updated' if changed else 'already up to date'}")
    return 0


def _newman(args) -> int:
    from conduit_dev import newman

    collection = newman.collection_path()
    if collection is None:
        print(newman.SKIP_MESSAGE, file=sys.stderr)
        return 0
    result = newman.run(args.api_url, collection, routes.ROOT / "reports" / "newman.json",
                        args.delay_ms)
    print(result.output)
    print(f"newman: {result.assertions} assertions, {result.failed_assertions} failed")
    return result.returncode or int(result.assertions == 0)


def _run(args) -> int:
    from conduit_dev import run

    return run.main()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conduit_dev")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="the whole stack in the foreground").set_defaults(func=_run)
    routes_cmd = commands.add_parser("gateway-routes", help="regenerate the nginx routing blocks")
    routes_cmd.add_argument("--check", action="store_true", help="fail if they are out of date")
    routes_cmd.set_defaults(func=_gateway_routes)
    newman_cmd = commands.add_parser("newman", help="the RealWorld Postman suite via newman")
    port = os.environ.get("GATEWAY_PORT") or "8080"
    newman_cmd.add_argument("--api-url", default=os.environ.get("CONDUIT_BASE_URL")
                            or f"http://127.0.0.1:{port}/flask/api")
    newman_cmd.add_argument("--delay-ms", type=int, default=0)
    newman_cmd.set_defaults(func=_newman)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
