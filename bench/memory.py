"""Memory: resident set size per 1,000 targets of a running, scraped exporter.

    .venv/bin/python bench/memory.py [--targets 1000 10000] [--seconds 30] [--scrape 5]

For each size, `business-exporter serve` runs in its own process on a config of that many
targets, each probing a local nginx every 5 seconds, and is scraped with gzip every --scrape
seconds, as Prometheus would. After --seconds its RSS is read from /proc, with its peak
(VmHWM). The same exporter with one target is the baseline: the cost of N targets is
(RSS - baseline RSS), reported per 1,000 targets. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from probe_cost import free_port, running, start_nginx
from scheduling import config_text


@dataclass
class Reading:
    targets: int
    runs: float
    rss_mib: float
    peak_mib: float


def proc_status(pid: int, field: str) -> float:
    """A VmRSS-like line of /proc/PID/status, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def scrape(port: int) -> bytes:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Accept-Encoding": "gzip"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body: bytes = response.read()
        return body


def probe_runs(port: int) -> float:
    """Runs so far, from the exporter's own scheduler-lag histogram (one observation a run)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        text = response.read().decode()
    match = re.search(r"^business_exporter_scheduler_lag_seconds_count (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def measure(targets: int, url: str, seconds: float, every: float, folder: Path) -> Reading:
    config = folder / f"targets-{targets}.yaml"
    config.write_text(config_text(targets, "5s", url))
    port = free_port()
    exporter = Path(sys.executable).with_name("business-exporter")
    args = [str(exporter), "serve", "--config", str(config), "--listen", f"127.0.0.1:{port}"]
    with running(args, port, "business-exporter") as proc:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            scrape(port)
            time.sleep(every)
        runs = probe_runs(port)
        return Reading(
            targets, runs, proc_status(proc.pid, "VmRSS"), proc_status(proc.pid, "VmHWM")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--scrape", type=float, default=5.0, help="seconds between scrapes")
    args = parser.parse_args()
    print(
        f"{'targets':>8} {'runs':>8} {'RSS':>9} {'peak RSS':>9} "
        f"{'per 1,000 targets':>18} {'peak per 1,000':>15}"
    )
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        server, port = start_nginx(folder)
        with server:
            url = f"http://127.0.0.1:{port}/"
            base = measure(1, url, args.seconds, args.scrape, folder)
            print(f"{1:>8} {base.runs:>8.0f} {base.rss_mib:>7.1f}MB {base.peak_mib:>7.1f}MB")
            for targets in args.targets:
                got = measure(targets, url, args.seconds, args.scrape, folder)
                per = (got.rss_mib - base.rss_mib) / targets * 1000
                peak = (got.peak_mib - base.peak_mib) / targets * 1000
                print(
                    f"{targets:>8} {got.runs:>8.0f} {got.rss_mib:>7.1f}MB {got.peak_mib:>7.1f}MB "
                    f"{per:>15.2f}MiB {peak:>12.2f}MiB"
                )


if __name__ == "__main__":
    main()
