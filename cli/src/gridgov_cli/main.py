"""The ``gridgov`` command: up, serve, token, demo, apikey, analytics, history, grids, sensing."""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from pathlib import Path

from gridgov_cli import assist as assist_cli
from gridgov_cli import grids as grids_cli
from gridgov_cli import sensing as sensing_cli
from gridgov_cli.stack import LAUNCH_MODES, ONE_PROCESS, SERVICES, run_up
from gridgov_common.auth import ROLES, load_secret, mint_token
from gridgov_common.settings import CommonSettings


def _data_dir(arg: str | None) -> Path:
    return Path(arg or os.environ.get("GRIDGOV_DATA_DIR") or "var")


def cmd_up(args: argparse.Namespace) -> int:
    """Start all the services and their consumers on the embedded stack, with demo data."""
    return run_up(_data_dir(args.data_dir), mode=args.launch)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve one service in this process."""
    svc = SERVICES[args.service]
    if args.data_dir:
        os.environ["GRIDGOV_DATA_DIR"] = args.data_dir
    if args.port:
        os.environ[f"{svc.env_prefix}PORT"] = str(args.port)
    runpy.run_module(svc.module, run_name="__main__", alter_sys=True)
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    """Print a bearer token for a role (signed with this data directory's secret)."""
    common = CommonSettings(data_dir=_data_dir(args.data_dir))
    print(mint_token(load_secret(common), sub=args.sub or f"{args.role}-cli", role=args.role,
                     department=args.department, grid=args.grid, name=args.name, ttl_seconds=args.ttl))
    return 0


def cmd_apikey_create(args: argparse.Namespace) -> int:
    """Register an Open311 client system and print its API key (last line; only its hash is stored)."""
    from gridgov_common.db import Database
    from gridgov_common.errors import DomainError
    from gridgov_common.migrations import upgrade_to_head
    from gridgov_event_intake.open311.handlers import create_client
    from gridgov_event_intake.settings import IntakeSettings
    from gridgov_event_intake.tables import metadata

    if args.data_dir:
        os.environ["GRIDGOV_DATA_DIR"] = args.data_dir
    settings = IntakeSettings()
    db = Database(settings.resolved_database_url(), metadata, settings.service_name)
    upgrade_to_head(db, "gridgov_event_intake")
    try:
        key = create_client(db, args.name)
    except DomainError as exc:
        print(f"apikey create FAILED: {exc.message}", file=sys.stderr)
        return 1
    print(f"Open311 API key for {args.name} (shown once; store it now):")
    print(key)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Drive one report (or, with --sensing, a camera's and a sensor's alarms) round the loop against a running
    stack; non-zero if a step fails."""
    from gridgov_cli.demo import DemoFailed, Urls, run_demo, run_sensing_demo

    common = CommonSettings(data_dir=_data_dir(args.data_dir))
    secret = load_secret(common)

    def mint(**claims: str) -> str:
        return mint_token(secret, **claims)

    urls = Urls(intake=args.intake_url, registry=args.registry_url, dispatch=args.dispatch_url,
                notification=args.notification_url, sensing=args.sensing_url)
    try:
        (run_sensing_demo if args.sensing else run_demo)(urls, mint, timeout=args.timeout)
    except DemoFailed as exc:
        print(f"demo FAILED: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a refused connection means the stack is not up
        print(f"demo FAILED: {type(exc).__name__}: {exc} (is `gridgov up` running?)", file=sys.stderr)
        return 1
    return 0


def cmd_analytics_rebuild(args: argparse.Namespace) -> int:
    """Rebuild analytics' read model from the bus: drop what the bus built (the history stays) and move to a new
    consumer generation, which a running analytics follows within seconds, reading the topics from the earliest."""
    from gridgov_analytics.cube.handlers import rebuild
    from gridgov_analytics.cube.service import consumer_group
    from gridgov_analytics.settings import AnalyticsSettings
    from gridgov_analytics.tables import metadata
    from gridgov_common.db import Database
    from gridgov_common.migrations import upgrade_to_head

    if args.data_dir:
        os.environ["GRIDGOV_DATA_DIR"] = args.data_dir
    settings = AnalyticsSettings()
    db = Database(settings.resolved_database_url(), metadata, settings.service_name)
    upgrade_to_head(db, "gridgov_analytics")
    generation = rebuild(db)
    print(f"analytics read model rebuilding: generation {generation}, consumer group {consumer_group(generation)}")
    return 0


def cmd_history_generate(args: argparse.Namespace) -> int:
    """Generate the demo city's past into this data directory's databases (again, even if it has one)."""
    from gridgov_cli.history.run import generate

    result = generate(_data_dir(args.data_dir), days=args.days, per_day=args.per_day, seed=args.seed,
                      jobs=args.jobs)
    print(f"history: {result['cases']} reports {result['from']} … {result['to']}, rows {result['rows']}, "
          f"{result['seconds']['total']:.0f} s {result['seconds']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="gridgov", description="gridgov: grid-based grassroots governance")
    parser.add_argument("--data-dir", help="data directory (default $GRIDGOV_DATA_DIR or ./var)")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the embedded stack with demo data")
    up.add_argument("--launch", choices=LAUNCH_MODES, default="fork",
                    help="fork: one process per service, forked from a launcher that imported their libraries once "
                         "(default); spawn: each service a fresh interpreter; one-process: all services in one "
                         "interpreter (least memory, one CPU core for the whole stack)")
    up.add_argument("--one-process", dest="launch", action="store_const", const=ONE_PROCESS,
                    help="the same as --launch one-process")
    up.set_defaults(func=cmd_up)

    serve = sub.add_parser("serve", help="serve one service (API, relay, consumers)")
    serve.add_argument("service", choices=sorted(SERVICES))
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    token = sub.add_parser("token", help="mint a bearer token")
    token.add_argument("role", choices=ROLES)
    token.add_argument("--department", help="department code the holder acts for (dept_dispatcher)")
    token.add_argument("--grid", help="grid code the holder acts for (grid_worker)")
    token.add_argument("--sub", help="subject (user id); default <role>-cli")
    token.add_argument("--name", help="display name (姓名) the ticket trail shows for the holder's actions")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds")
    token.set_defaults(func=cmd_token)

    apikey = sub.add_parser("apikey", help="Open311 API keys of client systems")
    apikey_sub = apikey.add_subparsers(dest="apikey_command", required=True)
    create = apikey_sub.add_parser("create", help="register a client system; prints its key on the last line")
    create.add_argument("name", help="the client system's name")
    create.set_defaults(func=cmd_apikey_create)

    demo = sub.add_parser("demo", help="drive one report round the loop against a running stack")
    demo.add_argument("--intake-url", default="http://127.0.0.1:8001")
    demo.add_argument("--registry-url", default="http://127.0.0.1:8002")
    demo.add_argument("--dispatch-url", default="http://127.0.0.1:8003")
    demo.add_argument("--notification-url", default="http://127.0.0.1:8004")
    demo.add_argument("--sensing-url", default="http://127.0.0.1:8005")
    demo.add_argument("--sensing", action="store_true",
                      help="drive a camera's and a sensor's alarms round the loop instead of a patrol report")
    demo.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each step")
    demo.set_defaults(func=cmd_demo)

    analytics = sub.add_parser("analytics", help="analytics' read model")
    analytics_sub = analytics.add_subparsers(dest="analytics_command", required=True)
    rebuild = analytics_sub.add_parser("rebuild", help="rebuild the read model from the bus (the history stays)")
    rebuild.set_defaults(func=cmd_analytics_rebuild)

    history = sub.add_parser("history", help="the demo city's past (generated once on the first `gridgov up`)")
    history_sub = history.add_subparsers(dest="history_command", required=True)
    generate = history_sub.add_parser("generate", help="plan the past and load it into the services' databases")
    generate.add_argument("--days", type=int, default=90, help="how many days back (default 90)")
    generate.add_argument("--per-day", type=int, default=2400, help="reports a day on average (default 2400)")
    generate.add_argument("--seed", type=int, default=15, help="the plan's seed (default 15)")
    generate.add_argument("--jobs", type=int, default=0, help="worker processes (default: the CPUs + 1, at most 4)")
    generate.set_defaults(func=cmd_history_generate)

    assist_cli.add_parser(sub)
    grids_cli.add_parser(sub)
    sensing_cli.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gridgov`` command."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
