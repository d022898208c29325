"""Memory: resident set size per 1,000 targets, with every target probed and scraped.

    .venv/bin/python bench/memory.py [--targets 1000 10000] [--seconds 6]

For each size a fresh Python process imports the exporter, notes its RSS, loads a config of
that many targets probing a local nginx every 5 seconds, runs them for --seconds on uvloop,
renders /metrics once, and notes its RSS again. The difference is what the targets cost.
Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from probe_cost import start_nginx  # type: ignore[import-not-found]


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def child(targets: int, seconds: float, url: str) -> None:
    import asyncio

    import uvloop
    from scheduling import config_text  # type: ignore[import-not-found]

    from exporter.config import parse_config
    from exporter.exposition import MetricsRenderer
    from exporter.runtime import Runtime

    before = rss_kib()

    async def run() -> int:
        runtime = Runtime(parse_config(config_text(targets, "5s", url)), None)
        runtime.start()
        await asyncio.sleep(seconds)
        body = await MetricsRenderer().render(runtime)
        runs = sum(sum(s.runs.values()) for s in runtime.scheduler.states.values())
        await runtime.stop()
        assert body
        return runs

    runs = uvloop.run(run())
    print(before, rss_kib(), runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), float(args.child[1]), args.child[2])
        return
    print(
        f"{'targets':>8} {'runs':>8} {'RSS before':>11} {'RSS after':>10} {'per 1,000 targets':>18}"
    )
    with tempfile.TemporaryDirectory() as folder:
        server, port = start_nginx(Path(folder))
        with server:
            for targets in args.targets:
                url = f"http://127.0.0.1:{port}/"
                cmd = [sys.executable, __file__, "--child", str(targets), str(args.seconds), url]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                before, after, runs = (int(x) for x in out.split())
                per = (after - before) / 1024 / targets * 1000
                print(
                    f"{targets:>8} {runs:>8} {before / 1024:>9.1f}MB {after / 1024:>8.1f}MB "
                    f"{per:>15.2f}MiB"
                )


if __name__ == "__main__":
    main()
