"""Command line: `business-exporter serve|check|generate|report|probe|demo`; main() returns it."""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from exporter import __version__
from exporter.config import Config, ConfigError, parse_duration
from exporter.config.inputs import Loaded, load_with_inputs
from exporter.config.isolated import load_config_bounded
from exporter.config.limits import ConfigLimits, format_size, parse_size
from exporter.generate.grafana.provisioning import GrafanaOptions
from exporter.generate.kubernetes.options import KubernetesOptions, check_namespace, parse_label
from exporter.generate.prometheus import PrometheusOptions
from exporter.sharding import Shard

if TYPE_CHECKING:
    from exporter.generate.bundle import BundleOptions, Written
    from exporter.generate.kubernetes.kit import Kit

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
    _config_arguments(serve)
    serve.add_argument("--listen", default=DEFAULT_LISTEN, help="HOST:PORT (default %(default)s)")
    shard = serve.add_mutually_exclusive_group()
    shard.add_argument(
        "--shard",
        type=_shard,
        metavar="I/N",
        help="probe only replica I's share of the targets, of N replicas (rendezvous hashing)",
    )
    shard.add_argument(
        "--shard-from-hostname",
        type=int,
        metavar="N",
        help="the same, I taken from the ordinal a StatefulSet pod's host name ends in, plus 1",
    )
    serve.add_argument(
        "--max-concurrent-probes",
        type=_positive,
        help="global limit (default: from the config, room for every target to hang at once)",
    )
    _web_options(serve)
    serve.add_argument(
        "--alertmanager-url",
        type=_http_url,
        metavar="URL",
        help="show the alert and escalation state this Alertmanager holds on the pages",
    )
    serve.set_defaults(run=_serve)

    check = sub.add_parser("check", help="validate a config file, and a bundle with promtool")
    _config_arguments(check)
    check.add_argument(
        "--bundle", type=Path, default=None, help="a generated bundle DIR to run promtool over"
    )
    check.set_defaults(run=_check)

    generate = sub.add_parser("generate", help="write the Prometheus bundle: config, rules, tests")
    _config_arguments(generate)
    generate.add_argument("--out", required=True, type=Path, help="the bundle directory")
    _bundle_options(generate)
    _kubernetes_options(generate)
    generate.set_defaults(run=_generate)

    probe = sub.add_parser("probe", help="run one target once and show each step")
    _config_arguments(probe)
    probe.add_argument("name")
    probe.set_defaults(run=_probe)

    report = sub.add_parser("report", help="the SLA report of each tenant over a period")
    _config_arguments(report)
    report.add_argument("--prometheus", required=True, type=_http_url, metavar="URL")
    report.add_argument("--from", dest="start", required=True, metavar="DATE")
    report.add_argument("--to", dest="end", required=True, metavar="DATE", help="not included")
    report.add_argument("--tenant", default=None, metavar="NAME")
    report.add_argument("--format", choices=("json", "html", "markdown"), default="json")
    report.add_argument("--out", type=Path, default=None, help="default: standard output")
    report.add_argument(
        "--step", type=_duration, default="1m", help="incident resolution (default %(default)s)"
    )
    report.set_defaults(run=_report)

    validate = sub.add_parser(
        "validate-app",
        help="deploy gate: import an ASGI app and check that every required route is registered",
    )
    validate.add_argument("app", metavar="MODULE:ATTR", help="the app as uvicorn takes it")
    validate.add_argument("--config", required=True, type=Path)
    validate.add_argument(
        "--app-dir",
        type=Path,
        default=Path("."),
        help="put first on sys.path, as uvicorn's --app-dir (default: the current directory)",
    )
    validate.add_argument("--factory", action="store_true", help="ATTR is a function making it")
    validate.add_argument(
        "--strict", action="store_true", help="fail too when the app logs an error while importing"
    )
    validate.set_defaults(run=_validate_app)

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


def _config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, type=Path)
    defaults = ConfigLimits()
    parser.add_argument(
        "--config-max-size",
        type=_size,
        default=defaults.max_size,
        metavar="SIZE",
        help=f"refuse a larger config file (default {format_size(defaults.max_size)})",
    )
    parser.add_argument(
        "--config-parse-timeout",
        type=_seconds,
        default=defaults.parse_timeout,
        metavar="DURATION",
        help="stop a parse that takes longer (default 1m)",
    )
    parser.add_argument(
        "--config-parse-memory",
        type=_size,
        default=defaults.parse_memory,
        metavar="SIZE",
        help=f"stop a parse that needs more memory (default {format_size(defaults.parse_memory)})",
    )


def _limits(args: argparse.Namespace) -> ConfigLimits:
    return ConfigLimits(args.config_max_size, args.config_parse_timeout, args.config_parse_memory)


def _web_options(parser: argparse.ArgumentParser) -> None:
    from exporter.web import DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PENDING_PROBES

    parser.add_argument(
        "--web.config.file",
        dest="web_config_file",
        type=Path,
        metavar="FILE",
        help="TLS and basic auth for every endpoint, in Prometheus' exporter-toolkit format",
    )
    parser.add_argument(
        "--web.enable-lifecycle",
        dest="web_enable_lifecycle",
        action="store_true",
        help="allow POST /-/reload (SIGHUP always reloads)",
    )
    parser.add_argument(
        "--web.max-connections",
        dest="web_max_connections",
        metavar="N",
        type=_positive,
        default=DEFAULT_MAX_CONNECTIONS,
        help="open connections at most; more are closed at once (default %(default)s)",
    )
    parser.add_argument(
        "--max-pending-probes",
        metavar="N",
        type=_positive,
        default=DEFAULT_MAX_PENDING_PROBES,
        help="/probe runs waiting or running at most; more get 429 (default %(default)s)",
    )


def _bundle_options(parser: argparse.ArgumentParser) -> None:
    defaults = PrometheusOptions()
    parser.add_argument(
        "--exporter",
        action="append",
        help=f"HOST:PORT to scrape, once per replica (default {defaults.exporters[0]})",
    )
    parser.add_argument(
        "--app",
        action="append",
        metavar="HOST:PORT",
        help="an instance of the application serving the in-app integration's /metrics, to "
        "scrape for the app rules (repeat per instance; default: none)",
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


def _kubernetes_options(parser: argparse.ArgumentParser) -> None:
    kube = parser.add_argument_group("Kubernetes (prometheus-operator)")
    kube.add_argument(
        "--kubernetes",
        action="store_true",
        help="also write DIR/kubernetes/: PrometheusRules, ServiceMonitor, AlertmanagerConfig, "
        "dashboard ConfigMaps and the exporter's StatefulSet (`kubectl apply -k`)",
    )
    defaults = KubernetesOptions()
    kube.add_argument(
        "--namespace",
        type=_namespace,
        default=defaults.namespace,
        help="of the exporter, its ServiceMonitor and PrometheusRules (default %(default)s)",
    )
    for flag, what in (
        ("--alertmanager-namespace", "Alertmanager"),
        ("--grafana-namespace", "Grafana"),
    ):
        kube.add_argument(flag, type=_namespace, help=f"{what}'s (default: --namespace)")
    for flag, selector in (
        ("--rule-label", "the Prometheus' ruleSelector"),
        ("--monitor-label", "the Prometheus' serviceMonitorSelector"),
        ("--alertmanager-config-label", "the Alertmanager's alertmanagerConfigSelector"),
    ):
        kube.add_argument(
            flag, type=_label, action="append", default=[], metavar="KEY=VALUE",
            help=f"a label {selector} matches (repeat for more)",
        )  # fmt: skip
    kube.add_argument(
        "--replicas",
        type=_positive,
        default=defaults.replicas,
        help="exporter pods, each probing its shard of the targets (default %(default)s)",
    )
    kube.add_argument(
        "--image", default=defaults.image, help="the exporter's (default %(default)s)"
    )
    kube.add_argument(
        "--kubernetes-prometheus-url",
        default=defaults.prometheus_url,
        help="Prometheus as Grafana reaches it in the cluster (default %(default)s)",
    )


def _kubernetes(args: argparse.Namespace) -> KubernetesOptions:
    return KubernetesOptions(
        namespace=args.namespace,
        alertmanager_namespace=args.alertmanager_namespace or "",
        grafana_namespace=args.grafana_namespace or "",
        rule_labels=tuple(args.rule_label),
        monitor_labels=tuple(args.monitor_label),
        alertmanager_config_labels=tuple(args.alertmanager_config_label),
        replicas=args.replicas,
        image=args.image,
        prometheus_url=args.kubernetes_prometheus_url,
    )


def _label(value: str) -> tuple[str, str]:
    try:
        return parse_label(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _namespace(value: str) -> str:
    try:
        return check_namespace(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, not {value!r}")
    return int(value)


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
    _seconds(value)
    return value


def _seconds(value: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _size(value: str) -> int:
    try:
        return parse_size(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _load(
    args: argparse.Namespace,
    *,
    offline: bool = False,
    only_target: str | None = None,
) -> Config | None:
    path, limits = args.config, _limits(args)
    try:
        return load_config_bounded(path, limits, offline=offline, only_target=only_target)
    except ConfigError as err:
        print(f"{path}: invalid config:\n{err}", file=sys.stderr)
        return None


def _load_to_serve(args: argparse.Namespace) -> Loaded | None:
    """The config and its inputs, parsed in a child: the parse's memory peak stays there."""
    try:
        return load_with_inputs(args.config, _limits(args), in_process_fallback=True)
    except ConfigError as err:
        print(f"{args.config}: invalid config:\n{err}", file=sys.stderr)
        return None


def _serve(args: argparse.Namespace) -> int:
    from exporter.serve import WebOptions, serve
    from exporter.web.config import WebConfigError, load_web_config

    shard = args.shard
    if args.shard_from_hostname is not None:
        try:
            shard = Shard.from_hostname(socket.gethostname(), args.shard_from_hostname)
        except ValueError as err:
            print(f"--shard-from-hostname: {err}", file=sys.stderr)
            return EXIT_CONFIG
    security = None
    if args.web_config_file is not None:
        try:
            security = load_web_config(args.web_config_file)
        except WebConfigError as err:
            print(f"{args.web_config_file}: invalid web config:\n{err}", file=sys.stderr)
            return EXIT_CONFIG
    loaded = _load_to_serve(args)
    if loaded is None:
        return EXIT_CONFIG
    config, inputs = loaded
    host, _, port = args.listen.rpartition(":")
    web = WebOptions(
        security,
        args.web_enable_lifecycle,
        args.web_max_connections,
        args.max_pending_probes,
        args.alertmanager_url,
    )
    serve(
        config,
        args.config,
        host or "127.0.0.1",
        int(port),
        args.max_concurrent_probes,
        shard,
        web,
        limits=_limits(args),
        inputs=inputs,
    )
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    # Checking a bundle needs no secrets; checking a config alone asks "would serve start?".
    config = _load(args, offline=args.bundle is not None)
    if config is None:
        return EXIT_CONFIG
    print(f"{args.config}: OK, {len(config.targets)} targets")
    if args.bundle is not None:
        from exporter.check.bundle import check_bundle

        return EXIT_OK if check_bundle(args.bundle, config=config) else EXIT_FAILED
    return EXIT_OK


def _generate(args: argparse.Namespace) -> int:
    from exporter.generate.alertmanager.files import RoutingError, routing_warnings
    from exporter.generate.bundle import BundleOptions, build, write

    config = _load(args, offline=True)
    if config is None:
        return EXIT_CONFIG
    prometheus = PrometheusOptions(
        tuple(args.exporter or PrometheusOptions().exporters),
        args.alertmanager,
        args.scrape_interval,
        args.evaluation_interval,
        apps=tuple(args.app or ()),
    )
    grafana = GrafanaOptions(args.prometheus_url, args.grafana_dashboards_path)
    options = BundleOptions(prometheus, grafana, args.notify_to or "")
    try:
        files = build(config, options)
    except RoutingError as err:
        print(f"{args.config}: the Alertmanager routing tree is wrong:\n{err}", file=sys.stderr)
        return EXIT_FAILED
    kit = _kubernetes_kit(args, config, options) if args.kubernetes else None
    if args.kubernetes and kit is None:
        return EXIT_FAILED
    _print_written(args.out, write(files, args.out))
    if kit is not None:
        from exporter.generate.kubernetes.kit import DIR, OWNED_DIRS

        _print_written(args.out / DIR, write(kit.files, args.out, OWNED_DIRS))
        for line in kit.warnings:
            print(f"warning: {line}", file=sys.stderr)
    for line in routing_warnings(config):  # `check` fails on these
        print(f"warning: {line}", file=sys.stderr)
    return EXIT_OK


def _kubernetes_kit(args: argparse.Namespace, config: Config, options: BundleOptions) -> Kit | None:
    from exporter.generate.kubernetes.kit import kubernetes_files
    from exporter.generate.kubernetes.meta import KubernetesError

    try:
        text = args.config.read_text(encoding="utf-8")
        return kubernetes_files(config, text, _kubernetes(args), options)
    except KubernetesError as err:
        print(f"{args.config}: cannot deploy to Kubernetes: {err}", file=sys.stderr)
        return None


def _print_written(out: Path, done: Written) -> None:
    print(
        f"{out}: {len(done.written)} files written, {len(done.unchanged)} unchanged, "
        f"{len(done.removed)} stale files removed"
    )
    for path in done.removed:
        print(f"  removed {path}")


def _probe(args: argparse.Namespace) -> int:
    from exporter.probes import Trace
    from exporter.scheduler import run_once

    config = _load(args, only_target=args.name)  # the other targets' secrets are not needed
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


def _report(args: argparse.Namespace) -> int:
    from exporter.report.command import run_report

    config = _load(args, offline=True)
    if config is None:
        return EXIT_CONFIG
    return run_report(
        config,
        args.prometheus,
        args.start,
        args.end,
        tenant=args.tenant,
        output=args.format,
        out=args.out,
        step=parse_duration(args.step),
    )


def _validate_app(args: argparse.Namespace) -> int:
    from exporter.integration.gate import validate_app

    return validate_app(args.app, args.config, args.app_dir, args.factory, args.strict)


def _demo(args: argparse.Namespace) -> int:
    from exporter.demo.run import run_demo

    return run_demo(args.config, fast=args.fast)
