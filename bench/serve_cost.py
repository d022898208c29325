"""CPU per probe of a whole running exporter, beside blackbox_exporter driven at the same rate.

    .venv/bin/python bench/serve_cost.py [--targets 1000] [--interval 2] [--scrape 5]
                                         [--warmup 15] [--seconds 30] [--rounds 3] [--cpu 0]
                                         [--old SOURCE_DIR [--together]]

What a user pays for, not the bare probe: `business-exporter serve` runs --targets HTTP
targets every --interval seconds against a local nginx (`return 200 "ok"`, a fresh connection
per probe) and is scraped with gzip every --scrape seconds, as Prometheus scrapes it. Its cost
is the utime + stime of its process (/proc/PID/stat) over the window, divided by the runs its
own scheduler counted in that window (business_exporter_scheduler_lag_seconds_count).

blackbox_exporter gets the same load the way Prometheus gives it: one /probe request per target
every --interval seconds, spread evenly over the interval, each target on its own keep-alive
connection; its cost is its process' CPU over the window divided by the probes answered.

Each round runs one then the other on the same CPU (--cpu), with this driver and nginx on the
other CPUs; the ratio is taken per round and shown as min / median / max. With --old, each
round first runs the exporter of SOURCE_DIR (a checkout of another commit, run with this .venv)
on the same load, so that a change is measured against the code before it in the same rounds;
with --together as well, the two run at the same time on the CPU over one window, so that a
host whose speed drifts between windows slows both alike (each one's CPU is its own process's;
sharing the core raises both a little). blackbox_exporter still runs alone after them.
Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvloop
from probe_cost import (
    BLACKBOX,
    BLACKBOX_CONF,
    KeepAlive,
    free_port,
    process_cpu,
    start_nginx,
    version,
    wait_listening,
)

_RUNS = re.compile(rb"^business_exporter_scheduler_lag_seconds_count (\S+)$", re.M)


@dataclass
class Window:
    cpu_seconds: float
    probes: float
    failures: int = 0

    @property
    def cpu_ms_per_probe(self) -> float:
        return self.cpu_seconds * 1000 / self.probes


@dataclass
class Load:
    targets: int
    interval: float
    scrape: float
    warmup: float
    seconds: float


@contextmanager
def pinned(
    args: list[str],
    port: int,
    cpu: int,
    what: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """`args` running on CPU `cpu` alone, until the block ends."""
    proc = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
        cwd=cwd,
        env=env,
    )
    try:
        wait_listening(port, proc, what)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def config_text(targets: int, interval: float, url: str) -> str:
    lines = [f"defaults: {{interval: {round(interval * 1000)}ms, timeout: 1s}}", "targets:"]
    lines += [
        f"  - {{name: t{i}, severity: medium, context: bench, service: s{i % 20}, "
        f'tenant: tenant{i % 100}, http: {{url: "{url}"}}}}'
        for i in range(targets)
    ]
    return "\n".join(lines) + "\n"


# business_exporter


def scrape_runs(port: int) -> float:
    """Scrape /metrics with gzip, as Prometheus does; return the runs counted so far."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Accept-Encoding": "gzip"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = gzip.decompress(response.read())
    match = _RUNS.search(body)
    return float(match.group(1)) if match else 0.0


def measure_ours(
    load: Load, url: str, cpu: int, folder: Path, source: Path | None = None
) -> Window:
    """This tree's exporter, or with `source` the one of that checkout."""
    return measure_trees(load, url, cpu, folder, [source])[0]


def measure_trees(
    load: Load, url: str, cpu: int, folder: Path, sources: list[Path | None]
) -> list[Window]:
    """The exporters of `sources` (None: this tree) at once, on one CPU, over one window."""
    config = folder / "serve.yaml"
    config.write_text(config_text(load.targets, load.interval, url))
    with contextlib.ExitStack() as stack:
        running = [stack.enter_context(started(config, cpu, source)) for source in sources]
        ports = [port for port, _ in running]
        scrape_for(load.warmup, load.scrape, ports)
        before = [(scrape_runs(port), cpu_of()) for port, cpu_of in running]
        scrape_for(load.seconds, load.scrape, ports)
        after = [(scrape_runs(port), cpu_of()) for port, cpu_of in running]
    return [Window(c1 - c0, r1 - r0) for (r0, c0), (r1, c1) in zip(before, after, strict=True)]


@contextmanager
def started(
    config: Path, cpu: int, source: Path | None
) -> Iterator[tuple[int, Callable[[], float]]]:
    """An exporter serving `config` on CPU `cpu`: its port and its CPU-seconds reader."""
    port = free_port()
    args = [sys.executable, "-m", "exporter", "serve", "--config", str(config)]
    args += ["--listen", f"127.0.0.1:{port}"]
    # Its package first on the path, for the parser child too; and run from `source`, since
    # `python -m` puts the working directory first on the path.
    env = None if source is None else {**os.environ, "PYTHONPATH": str(source)}
    with pinned(args, port, cpu, "business-exporter", cwd=source, env=env) as proc:
        yield port, process_cpu(proc.pid)


def scrape_for(seconds: float, every: float, ports: list[int]) -> None:
    """Scrape every `every` seconds for `seconds`; the caller scrapes once more at the end."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > every:
        time.sleep(every)
        for port in ports:
            scrape_runs(port)
    time.sleep(max(0.0, left))


# blackbox_exporter


def measure_blackbox(load: Load, url: str, cpu: int, folder: Path) -> Window:
    conf = folder / "blackbox.yml"
    conf.write_text(BLACKBOX_CONF)
    port = free_port()
    args = [BLACKBOX, f"--config.file={conf}", f"--web.listen-address=127.0.0.1:{port}"]
    with pinned(args, port, cpu, "blackbox_exporter") as proc:
        return uvloop.run(drive_blackbox(load, port, url, process_cpu(proc.pid)))


async def drive_blackbox(load: Load, port: int, url: str, cpu: Callable[[], float]) -> Window:
    """Probe every target through /probe on its interval; read the CPU around the window."""
    request = (
        f"GET /probe?target={url}&module=http_2xx HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    start = loop.time() + 1.0  # every connection open before the first slot
    window = (start + load.warmup, start + load.warmup + load.seconds)
    answered: list[float] = []
    failed: list[float] = []

    async def target(i: int) -> None:
        transport, protocol = await loop.create_connection(KeepAlive, "127.0.0.1", port)
        due = start + i * load.interval / load.targets
        try:
            while due < window[1]:
                await asyncio.sleep(due - loop.time())
                protocol.done = loop.create_future()
                transport.write(request)
                body = await protocol.done
                finished = loop.time()
                answered.append(finished)
                if b"\nprobe_success 1\n" not in body:
                    failed.append(finished)
                due += load.interval
        finally:
            transport.close()

    async def sample(at: float) -> tuple[float, int]:
        await asyncio.sleep(at - loop.time())
        return cpu(), len(answered)

    probes = [asyncio.create_task(target(i)) for i in range(load.targets)]
    (cpu0, done0), (cpu1, done1) = await asyncio.gather(sample(window[0]), sample(window[1]))
    await asyncio.gather(*probes)
    errors = sum(window[0] <= t < window[1] for t in failed)
    return Window(cpu1 - cpu0, done1 - done0, errors)


# Report


def spread(values: list[float]) -> str:
    return f"{min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between runs")
    parser.add_argument("--scrape", type=float, default=5.0, help="seconds between scrapes")
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--seconds", type=float, default=30.0, help="the measured window")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cpu", type=int, default=0, help="the CPU both exporters run on")
    parser.add_argument("--old", type=Path, help="a checkout of the code to compare with")
    parser.add_argument(
        "--together",
        action="store_true",
        help="with --old, run both exporters at once on the CPU, over one window",
    )
    args = parser.parse_args()
    old = args.old.resolve() if args.old is not None else None
    load = Load(args.targets, args.interval, args.scrape, args.warmup, args.seconds)
    others = (os.sched_getaffinity(0) - {args.cpu}) or {args.cpu}
    os.sched_setaffinity(0, others)  # this driver, and nginx started from it
    rows: list[tuple[Window, Window]] = []
    olds: list[Window] = []
    with tempfile.TemporaryDirectory(prefix="serve-cost-") as tmp:
        nginx, nginx_port = start_nginx(Path(tmp))
        url = f"http://127.0.0.1:{nginx_port}/"
        with nginx:
            print_header(load, args.cpu, others)
            for i in range(args.rounds):
                if old is not None and args.together:
                    earlier, ours_now = measure_trees(load, url, args.cpu, Path(tmp), [old, None])
                    olds.append(earlier)
                    print_old(earlier)
                elif old is not None:
                    olds.append(measure_ours(load, url, args.cpu, Path(tmp), old))
                    print_old(olds[-1])
                if old is None or not args.together:
                    ours_now = measure_ours(load, url, args.cpu, Path(tmp))
                row = (ours_now, measure_blackbox(load, url, args.cpu, Path(tmp)))
                rows.append(row)
                print_round(i + 1, *row)
    ours = [o.cpu_ms_per_probe for o, _ in rows]
    theirs = [t.cpu_ms_per_probe for _, t in rows]
    print(f"\n{'min / median / max':>52}")
    if olds:
        old_costs = [o.cpu_ms_per_probe for o in olds]
        print(f"{'old tree CPU-ms per probe':<34} {spread(old_costs):>26}")
        changed = [n / o for n, o in zip(ours, old_costs, strict=True)]
        print(f"{'this tree / old tree, per round':<34} {spread(changed):>26}")
    print(f"{'business_exporter CPU-ms per probe':<34} {spread(ours):>26}")
    print(f"{'blackbox_exporter CPU-ms per probe':<34} {spread(theirs):>26}")
    print(
        f"{'ratio, per round':<34} {spread([o / t for o, t in zip(ours, theirs, strict=True)]):>26}"
    )
    return 0


def print_header(load: Load, cpu: int, others: set[int]) -> None:
    print(f"{version([BLACKBOX, '--version'])}")
    print(
        f"{load.targets} targets every {load.interval:g}s, scraped every {load.scrape:g}s; "
        f"{load.warmup:g}s warm-up, then {load.seconds:g}s measured; exporters on CPU {cpu}, "
        f"driver and nginx on CPU {','.join(map(str, sorted(others)))}\n"
    )
    print(
        f"{'round':>5} {'business_exporter':>18} {'runs':>7} {'blackbox_exporter':>18} "
        f"{'probes':>7} {'failed':>6} {'ratio':>6}"
    )


def print_old(old: Window) -> None:
    print(f"{'old':>5} {old.cpu_ms_per_probe:>12.3f} CPU-ms {old.probes:>7.0f}")


def print_round(i: int, ours: Window, theirs: Window) -> None:
    ratio = ours.cpu_ms_per_probe / theirs.cpu_ms_per_probe
    print(
        f"{i:>5} {ours.cpu_ms_per_probe:>12.3f} CPU-ms {ours.probes:>7.0f} "
        f"{theirs.cpu_ms_per_probe:>12.3f} CPU-ms {theirs.probes:>7.0f} {theirs.failures:>6} "
        f"{ratio:>6.2f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
