"""Command line: `business-exporter serve|check|generate|probe|demo`; main() returns the code."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from exporter import __version__
from exporter.config import Config, ConfigError, load_config, parse_duration
from exporter.config.isolated import load_config_isolated
from exporter.generate.grafana_provisioning import GrafanaOptions
from exporter.generate.prometheus import PrometheusOptions
from exporter.sharding import Shard

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
DEFAULT_LISTEN = "127.0.0.1:9117"


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand and return its exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    code: int = args.run(args)
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="business-exporter",
        description="Probe the business-critical paths of a SaaS platform for Prometheus.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the probes and serve /metrics")
    serve.add_argument("--config", required=True, type=Path)
    serve.add_argument("--listen", default=DEFAULT_LISTEN, help="HOST:PORT (default %(default)s)")
    serve.add_argument(
        "--shard",
        type=_shard,
        metavar="I/N",
        help="probe only replica I's share of the targets, of N replicas (a stable name hash)",
    )
    serve.add_argument(
        "--max-concurrent-probes", type=int, default=500, help="global limit (default %(default)s)"
    )
    serve.set_defaults(run=_serve)

    check = sub.add_parser("check", help="validate a config file, and a bundle with promtool")
    check.add_argument("--config", required=True, type=Path)
    check.add_argument(
        "--bundle", type=Path, default=None, help="a generated bundle DIR to run promtool over"
    )
    check.set_defaults(run=_check)

    generate = sub.add_parser("generate", help="write the Prometheus bundle: config, rules, tests")
    generate.add_argument("--config", required=True, type=Path)
    generate.add_argument("--out", required=True, type=Path, help="the bundle directory")
    _bundle_options(generate)
    generate.set_defaults(run=_generate)

    probe = sub.add_parser("probe", help="run one target once and show each step")
    probe.add_argument("--config", required=True, type=Path)
    probe.add_argument("name")
    probe.set_defaults(run=_probe)

    demo = sub.add_parser("demo", help="run the demo API and the exporter on the reference config")
    demo.add_argument("--config", type=Path, default=None, help="default: examples/marketedge.yaml")
    demo.add_argument(
        "--fast",
        action="store_true",
        help="divide probe intervals, escalation times and Alertmanager's group_wait, "
        "group_interval and repeat_interval by 10, so that a fault is notified within about a "
        "minute (`make demo` sets it)",
    )
    demo.set_defaults(run=_demo)
    return parser


def _bundle_options(parser: argparse.ArgumentParser) -> None:
    defaults = PrometheusOptions()
    parser.add_argument(
        "--exporter",
        action="append",
        help=f"HOST:PORT to scrape, once per replica (default {defaults.exporters[0]})",
    )
    parser.add_argument(
        "--alertmanager", default=defaults.alertmanager, help="HOST:PORT (default %(default)s)"
    )
    for flag, default in (
        ("--scrape-interval", defaults.scrape_interval),
        ("--evaluation-interval", defaults.evaluation_interval),
    ):
        parser.add_argument(flag, default=default, type=_duration, help="default %(default)s")
    grafana = GrafanaOptions()
    parser.add_argument(
        "--prometheus-url",
        default=grafana.prometheus_url,
        help="Prometheus as Grafana reaches it (default %(default)s)",
    )
    parser.add_argument(
        "--grafana-dashboards-path",
        default=grafana.dashboards_path,
        help="where Grafana reads the dashboard files (default %(default)s)",
    )
    parser.add_argument(
        "--notify-to",
        metavar="URL",
        type=_http_url,
        help="replace every receiver's delivery by a webhook to URL/<receiver name>, the "
        "routing unchanged (staging stacks, the demo)",
    )


def _shard(value: str) -> Shard:
    try:
        return Shard.parse(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"must be an http:// or https:// URL, not {value!r}")
    return value


def _duration(value: str) -> str:
    try:
        parse_duration(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return value


def _load(path: Path, *, offline: bool = False, isolated: bool = False) -> Config | None:
    try:
        if isolated:  # for a long-running process: the parse's memory peak stays in a child
            return load_config_isolated(path)
        return load_config(path, offline=offline)
    except ConfigError as err:
        print(f"{path}: invalid config:\n{err}", file=sys.stderr)
        return None


def _serve(args: argparse.Namespace) -> int:
    from exporter.serve import serve

    config = _load(args.config, isolated=True)
    if config is None:
        return EXIT_CONFIG
    host, _, port = args.listen.rpartition(":")
    serve(
        config, args.config, host or "127.0.0.1", int(port), args.max_concurrent_probes, args.shard
    )
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    # Checking a bundle needs no secrets; checking a config alone asks "would serve start?".
    config = _load(args.config, offline=args.bundle is not None)
    if config is None:
        return EXIT_CONFIG
    print(f"{args.config}: OK, {len(config.targets)} targets")
    if args.bundle is not None:
        from exporter.check import check_bundle

        return EXIT_OK if check_bundle(args.bundle, config=config) else EXIT_FAILED
    return EXIT_OK


def _generate(args: argparse.Namespace) -> int:
    from exporter.generate.alertmanager import RoutingError, routing_warnings
    from exporter.generate.bundle import BundleOptions, build, write

    config = _load(args.config, offline=True)
    if config is None:
        return EXIT_CONFIG
    prometheus = PrometheusOptions(
        tuple(args.exporter or PrometheusOptions().exporters),
        args.alertmanager,
        args.scrape_interval,
        args.evaluation_interval,
    )
    grafana = GrafanaOptions(args.prometheus_url, args.grafana_dashboards_path)
    try:
        files = build(config, BundleOptions(prometheus, grafana, args.notify_to or ""))
    except RoutingError as err:
        print(f"{args.config}: the Alertmanager routing tree is wrong:\n{err}", file=sys.stderr)
        return EXIT_FAILED
    done = write(files, args.out)
    print(
        f"{args.out}: {len(done.written)} files written, {len(done.unchanged)} unchanged, "
        f"{len(done.removed)} stale files removed"
    )
    for path in done.removed:
        print(f"  removed {path}")
    for line in routing_warnings(config):  # `check` fails on these
        print(f"warning: {line}", file=sys.stderr)
    return EXIT_OK


def _probe(args: argparse.Namespace) -> int:
    from exporter.probes import Trace
    from exporter.scheduler import run_once

    config = _load(args.config)
    if config is None:
        return EXIT_CONFIG
    target = config.target(args.name)
    if target is None:
        names = ", ".join(t.name for t in config.targets)
        print(f"no target named {args.name!r} in {args.config}; targets: {names}", file=sys.stderr)
        return EXIT_CONFIG
    trace = Trace()
    result, duration = asyncio.run(run_once(target, trace))
    print("\n".join(trace.lines))
    print(f"finished in {duration:.3f}s: {'success' if result.success else 'failure'}")
    return EXIT_OK if result.success else EXIT_FAILED


def _demo(args: argparse.Namespace) -> int:
    from exporter.demo.run import run_demo

    return run_demo(args.config, fast=args.fast)
