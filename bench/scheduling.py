"""Scheduling at scale: how late probe runs start with many targets, while /metrics is scraped.

    .venv/bin/python bench/scheduling.py [--targets 10000] [--interval 10s] [--timeout 5s]
                                         [--seconds 60] [--hung 0.5] [--cpu 0]
                                         [--max-concurrent-probes N]

Every target probes a local nginx (`return 200 "ok"`, a fresh connection per probe) on the
same interval, on uvloop, as `business-exporter serve` runs them. Every --scrape seconds
the bench renders and gzips /metrics as the server does (on the event loop, in slices).
Lateness is the time from a run's slot to its start (after the concurrency limit let it
through). Without --max-concurrent-probes, the limit is the exporter's default, computed from
the config.
Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import socket
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import uvloop
from probe_cost import start_nginx

from exporter.config import format_duration, parse_config, parse_duration
from exporter.exposition import MetricsRenderer
from exporter.heap import settle_delay
from exporter.runtime import Runtime
from exporter.scheduler import LAG_BUCKETS
from exporter.server import gzip_stream
from exporter.state import Histogram


def config_text(
    targets: int,
    interval: str,
    url: str,
    hung: str = "",
    hung_share: float = 0,
    timeout: str = "5s",
) -> str:
    """`targets` targets on `url`, the first `hung_share` of every hundred on `hung` instead."""
    lines = [f"defaults: {{interval: {interval}, timeout: {timeout}}}", "targets:"]
    for i in range(targets):
        where = hung if i % 100 < hung_share * 100 else url
        lines.append(
            f"  - {{name: t{i}, severity: medium, context: bench, service: s{i % 20}, "
            f'tenant: tenant{i % 100}, http: {{url: "{where}"}}}}'
        )
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def never_answers() -> Iterator[str]:
    """A port whose connections are never accepted: the kernel's queue takes them, then none."""
    with socket.create_server(("127.0.0.1", 0), backlog=128) as listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"


async def sample_resources(runtime: Runtime, peaks: dict[str, float]) -> None:
    """Every 100 ms: probes in flight, open file descriptors, RSS; keep the peaks."""
    while True:
        fds = len(os.listdir("/proc/self/fd"))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        for key, value in (("in_flight", runtime.scheduler.in_flight), ("fds", fds), ("rss", rss)):
            peaks[key] = max(peaks.get(key, 0), value)
        await asyncio.sleep(0.1)


async def run(
    runtime: Runtime, seconds: float, scrape_every: float, warmup: float
) -> dict[str, float]:
    recorder = _EveryValue(LAG_BUCKETS)
    runtime.scheduler.lag = recorder
    runtime.start()
    peaks: dict[str, float] = {}
    sampler = asyncio.create_task(sample_resources(runtime, peaks))
    renderer = MetricsRenderer()
    scrapes: list[float] = []
    cpu_start, wall_start = _cpu(), time.perf_counter()
    deadline = wall_start + seconds
    while time.perf_counter() < deadline:
        await asyncio.sleep(min(scrape_every, deadline - time.perf_counter()))
        started, size = time.perf_counter(), 0
        async for piece in gzip_stream(renderer.chunks(runtime)):  # as the server sends it
            size += len(piece)
        scrapes.append(time.perf_counter() - started)
    cpu, wall = _cpu() - cpu_start, time.perf_counter() - wall_start
    sampler.cancel()
    await runtime.stop()
    runs = sum(sum(s.runs.values()) for s in runtime.scheduler.states.values())
    failed = runs - sum(s.runs["success"] for s in runtime.scheduler.states.values())
    # Scheduling 10,000 targets, and settling the heap after the first interval (exporter/heap.py),
    # take a moment of their own: that start-up is reported apart from the steady state.
    ordered = sorted(v for t, v in recorder.values if t >= wall_start + warmup)
    first = sorted(v for t, v in recorder.values if t < wall_start + warmup)
    return {
        "runs": runs,
        "failed": failed,
        "missed": runtime.scheduler.missed_runs,
        "p50": statistics.median(ordered) if ordered else 0.0,
        "p99": ordered[int(len(ordered) * 0.99)] if ordered else 0.0,
        "max": ordered[-1] if ordered else 0.0,
        "first_p99": first[int(len(first) * 0.99)] if first else 0.0,
        "cpu": cpu / wall,
        "scrape": max(scrapes) if scrapes else 0.0,
        "scrape_bytes": size if scrapes else 0,
        "wall": wall,
        "limit": runtime.scheduler.max_concurrency,
        **{f"peak_{k}": v for k, v in peaks.items()},
    }


class _EveryValue(Histogram):
    """The scheduler's lag histogram, keeping every value for exact percentiles."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        super().__init__(bounds)
        self.values: list[tuple[float, float]] = []  # (when, lateness)

    def observe(self, value: float) -> None:
        self.values.append((time.perf_counter(), value))
        super().observe(value)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--interval", default="10s")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--scrape", type=float, default=15.0, help="seconds between scrapes")
    parser.add_argument("--timeout", default="5s")
    parser.add_argument("--max-concurrent-probes", type=int, default=None)
    parser.add_argument(
        "--hung", type=float, default=0.0, help="share of targets on a server that never answers"
    )
    parser.add_argument(
        "--cpu", type=int, default=None, help="pin the exporter to this CPU (nginx stays free)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, never_answers() as hung:
        server, port = start_nginx(Path(folder))
        with server:
            if args.cpu is not None:  # after nginx started: it keeps the other cores
                os.sched_setaffinity(0, {args.cpu})
            url = f"http://127.0.0.1:{port}/"
            text = config_text(args.targets, args.interval, url, hung, args.hung, args.timeout)
            config = parse_config(text)
            runtime = Runtime(config, None, args.max_concurrent_probes)
            startup = settle_delay(t.interval for t in config.targets) + 1.0
            del config
            result = uvloop.run(run(runtime, args.seconds, args.scrape, startup))
    expected = args.targets * args.seconds / parse_duration(args.interval)
    pinned = f" pinned to CPU {args.cpu}" if args.cpu is not None else ""
    print(
        f"{args.targets} targets every {args.interval} for {args.seconds:g}s on uvloop{pinned}, ",
        end="",
    )
    given = "" if args.max_concurrent_probes else " (the default, computed from the config)"
    print(f"scraped every {args.scrape:g}s, max {result['limit']:.0f} probes in flight{given}")
    print(
        "lateness once started and the heap settled; during start-up (targets scheduled, "
        f"heap settling): p99 {_ms(result['first_p99'])}"
    )
    print(
        f"{args.hung:.0%} of targets on a server that never answers (timeout {args.timeout}); "
        "peaks: "
        f"{result['peak_in_flight']:.0f} probes in flight, {result['peak_fds']:.0f} open files, "
        f"RSS {result['peak_rss']:.0f} MB"
    )
    print()
    print(
        f"{'runs':>8} {'expected':>9} {'failed':>7} {'missed':>7} {'late p50':>9} "
        f"{'late p99':>9} {'late max':>9} {'CPU':>6} {'scrape max':>11} {'gzipped':>12}"
    )
    r = result
    print(
        f"{r['runs']:>8.0f} {expected:>9.0f} {r['failed']:>7.0f} {r['missed']:>7.0f} "
        f"{_ms(r['p50']):>9} {_ms(r['p99']):>9} {_ms(r['max']):>9} "
        f"{r['cpu']:>6.0%} {_ms(r['scrape']):>11} {r['scrape_bytes'] / 1e6:>9.1f} MB"
    )


def _ms(seconds: float) -> str:
    return format_duration(seconds) if seconds >= 1 else f"{seconds * 1000:.1f}ms"


if __name__ == "__main__":
    main()
