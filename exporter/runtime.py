"""The running exporter: its config file, the scheduler, and the outcome of reloads."""

from __future__ import annotations

import asyncio
import logging
import math
import pickle
import resource
import time
from collections.abc import Callable
from pathlib import Path

from exporter.config import Config, ConfigError
from exporter.config.inputs import Inputs, Loaded, load_with_inputs
from exporter.config.limits import DEFAULT_LIMITS, ConfigLimits
from exporter.config.parsed import Parsed, PickledTarget
from exporter.heap import HeapSettler, settle_delay
from exporter.ondemand import OnDemandProbes
from exporter.plan import LabelSets, TargetPlan, compile_plan
from exporter.scheduler import Scheduler
from exporter.sharding import Shard
from exporter.web import DEFAULT_MAX_PENDING_PROBES

log = logging.getLogger(__name__)


class Runtime:
    """Owns the live config. A reload that fails keeps the old config running.

    The targets run as plans (exporter/plan.py) in the scheduler's state table; `config`
    keeps the rest of the config (alerts, tenants, maintenance...) without its targets.
    """

    def __init__(
        self,
        config: Config | Parsed,
        config_path: Path | None,
        max_concurrency: int | None = None,
        shard: Shard | None = None,
        adjust: Callable[[Config], Config] | None = None,
        limits: ConfigLimits = DEFAULT_LIMITS,
        *,
        max_pending_probes: int = DEFAULT_MAX_PENDING_PROBES,
        inputs: Inputs | None = None,
    ) -> None:
        """`adjust` is applied to every reloaded config, as its caller did to `config`.

        `inputs`: what `config` was parsed from (config/inputs.py); a reload that finds them
        unchanged keeps the running config without parsing the file again.

        Without `max_concurrency`, the limit is computed from each config loaded
        (concurrency_for).
        """
        parsed = config if isinstance(config, Parsed) else Parsed.of(config)
        self.config = parsed.rest  # the targets live on as plans
        self._starting: Parsed | None = parsed  # until start() has compiled its targets
        self.config_path = config_path
        self.shard = shard
        self.limits = limits
        self._adjust = adjust
        self._fixed_limit = max_concurrency
        if max_concurrency is None:
            raise_open_files_limit()
            max_concurrency = concurrency_for(_worst_case(self._select(parsed)))
        self.scheduler = Scheduler(max_concurrency)
        self.on_demand = OnDemandProbes(self.scheduler, max_pending_probes)
        self.last_reload_successful = True
        self.last_reload_success_timestamp = time.time()
        self.reloads = {"success": 0, "failure": 0}
        self._latest: asyncio.Task[ConfigError | None] | None = None  # running or queued
        self._queued: asyncio.Task[ConfigError | None] | None = None  # not yet reading
        self.reloads_waiting = 0  # callers of reload() waiting for its outcome
        self._pending: set[asyncio.Task[ConfigError | None]] = set()
        self._heap = HeapSettler()
        self._inputs = inputs
        # Other shards' targets, for /probe: each pickled (about 1 KB, where the
        # parsed model takes kilobytes) and compiled when first asked for.
        self._others: dict[str, bytes] = {}
        self._unscheduled: dict[str, TargetPlan] = {}  # /probe's plans of other shards' targets

    def start(self) -> None:
        """Start the scheduler; call from the event loop."""
        parsed, self._starting = self._starting, None
        if parsed is None:  # started before: the plans are the scheduler's already
            plans = [state.plan for state in self.scheduler.states.values()]
        else:
            plans, self._others = _compile(parsed, self._mine(parsed), {})
            where = f" (shard {self.shard} of {len(parsed.targets)})" if self.shard else ""
            log.info("probing %d targets%s", len(plans), where)
            parsed.release()
        self.scheduler.apply_plans(plans)
        self._heap.settle_later(settle_delay(p.interval for p in plans))

    async def stop(self) -> None:
        self._heap.thaw()
        await self.on_demand.stop()
        await self.scheduler.stop()

    async def reload(self) -> ConfigError | None:
        """Read the config file again and apply it; on error keep the old one and say why.

        Reloads run one at a time. Requests that arrive while one runs share a single
        reload queued behind it, which reads the file after all of them were made: however
        many arrive, one parser process runs and at most one more waits.
        """
        if self.config_path is None:
            return ConfigError([], "<no config file>")
        if self._queued is None:
            self._queued = asyncio.create_task(self._reload_after(self._latest, self.config_path))
            self._latest = self._queued
        self.reloads_waiting += 1
        try:  # shielded: a client that goes away cancels its wait, not the reload others share
            return await asyncio.shield(self._queued)
        finally:
            self.reloads_waiting -= 1

    def reload_soon(self) -> None:
        """Reload from a signal handler: run reload() as a task that is kept until it ends."""
        task = asyncio.get_running_loop().create_task(self.reload())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _reload_after(
        self, previous: asyncio.Task[ConfigError | None] | None, path: Path
    ) -> ConfigError | None:
        if previous is not None:
            await asyncio.wait([previous])
        self._queued = None  # from here on the file may already be read: later requests queue
        outcome = await asyncio.to_thread(_load, path, self.limits, self._inputs)
        if isinstance(outcome, ConfigError):
            self.last_reload_successful = False
            self.reloads["failure"] += 1
            log.error("config reload failed, keeping the running config:\n%s", outcome)
            return outcome
        if outcome is None:
            self._succeeded()
            log.info("config unchanged: %d targets kept as they run", len(self.scheduler.states))
            return None
        loaded, inputs = outcome
        if self._adjust is not None:
            loaded = Parsed.of(self._adjust(loaded.whole()))
        # Compiled in the worker thread too: 10,000 changed targets take 0.5 s, which on the
        # loop would hold back every probe due meanwhile. The plans it reads stay as they are:
        # only a reload changes them, and reloads run one at a time.
        running = {name: state.plan for name, state in self.scheduler.states.items()}
        mine = self._mine(loaded)
        plans, others = await asyncio.to_thread(_compile, loaded, mine, running)
        self._apply(loaded, inputs, plans, others)
        return None

    def _apply(
        self,
        loaded: Parsed,
        inputs: Inputs | None,
        plans: list[TargetPlan],
        others: dict[str, bytes],
    ) -> None:
        self._inputs = inputs
        self._others = others
        self._unscheduled.clear()
        self._heap.thaw()  # the old config's objects must be collectable again
        self.scheduler.apply_plans(plans)
        self.config = loaded.rest
        self._heap.settle_later(settle_delay(p.interval for p in plans))
        self._succeeded()
        log.info("config reloaded: %d targets", len(loaded.targets))

    def _succeeded(self) -> None:
        self.last_reload_successful = True
        self.last_reload_success_timestamp = time.time()
        self.reloads["success"] += 1

    def _select(self, parsed: Parsed) -> list[PickledTarget]:
        shard = self.shard
        return [t for t in parsed.targets if shard is None or shard.owns(t.name)]

    def _mine(self, parsed: Parsed) -> list[PickledTarget]:
        """This shard's targets; the concurrency limit set (or checked) for them."""
        mine = self._select(parsed)
        worst = _worst_case(mine)
        if self._fixed_limit is not None:
            _warn_if_undersized(worst, self._fixed_limit)
        else:
            self.scheduler.max_concurrency = _log_default_concurrency(worst)
        return mine

    def plan(self, name: str) -> TargetPlan | None:
        """The plan of the configured target `name`: the scheduler's, or, for a target another
        shard probes, compiled now and kept until the config changes."""
        state = self.scheduler.states.get(name)
        if state is not None:
            return state.plan
        kept = self._unscheduled.get(name)
        pickled = self._others.get(name)
        if kept is None and pickled is not None:
            kept = self._unscheduled[name] = compile_plan(pickle.loads(pickled))  # our parser's
        return kept

    @property
    def ready(self) -> bool:
        return self.scheduler.running


def _compile(
    parsed: Parsed, mine: list[PickledTarget], running: dict[str, TargetPlan]
) -> tuple[list[TargetPlan], dict[str, bytes]]:
    """Plans of this shard's targets (`mine`), and the other shards' targets still pickled.

    A target is unpickled, compiled and dropped in turn (config/parsed.py says why); one
    whose digest is its running plan's keeps that plan and is not unpickled.
    """
    plans: list[TargetPlan] = []
    label_sets: LabelSets = {}
    for pickled in mine:
        plan = running.get(pickled.name)
        if plan is None or plan.digest != pickled.digest:
            plan = compile_plan(pickled.load(), pickled.digest, label_sets)
        plans.append(plan)
    names = {t.name for t in mine}
    others = {t.name: t.data for t in parsed.targets if t.name not in names}
    return plans, others


def worst_case_in_flight(config: Config) -> float:
    """Probes in flight if every target hung until its timeout: sum of timeout / interval."""
    return sum(t.timeout / t.interval for t in config.targets)


def _worst_case(targets: list[PickledTarget]) -> float:
    return round(sum(t.hung_share for t in targets), 6)  # 200 x 0.9 is 180.00000000000003


# The default --max-concurrent-probes: room for every target to hang at once, and some more (the
# phases of targets spread their runs evenly only on average), between a floor that leaves room
# for /probe and a cap that the open-files limit sets: each probe in flight holds a socket.
CONCURRENCY_HEADROOM = 1.25
CONCURRENCY_SPARE = 10
CONCURRENCY_FLOOR = 100
CONCURRENCY_CAP = 10_000
RESERVED_FILES = 256  # the listener, scrapes and /probe clients, logs, the config parser's pipes


def concurrency_for(worst: float) -> int:
    """The limit when --max-concurrent-probes is not given: the worst case of `worst` probes
    in flight, with headroom."""
    wanted = math.ceil(round(worst * CONCURRENCY_HEADROOM, 6)) + CONCURRENCY_SPARE
    return max(CONCURRENCY_FLOOR, min(wanted, concurrency_cap()))


def concurrency_cap() -> int:
    """The most probes in flight that the open-files limit leaves sockets for."""
    files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if files == resource.RLIM_INFINITY:
        return CONCURRENCY_CAP
    return max(CONCURRENCY_FLOOR, min(CONCURRENCY_CAP, files - RESERVED_FILES))


def raise_open_files_limit() -> None:
    """Raise the soft open-files limit to the hard one, as Go programs (Prometheus) do at start."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as err:  # an unlimited hard limit the kernel caps lower
            log.info("cannot raise the open-files limit from %d: %s", soft, err)


def _log_default_concurrency(worst: float) -> int:
    limit = concurrency_for(worst)
    message = "at most %d probes in flight: the config's worst case (every target hung) is %d"
    if limit >= worst:
        log.info(message + "; set --max-concurrent-probes to choose", limit, math.ceil(worst))
    else:
        log.warning(
            message + ", above the cap (%d, and the open-files limit %d less %d): hung "
            "targets may starve healthy ones; raise `ulimit -n`, or shard the targets",
            limit,
            math.ceil(worst),
            CONCURRENCY_CAP,
            resource.getrlimit(resource.RLIMIT_NOFILE)[0],
            RESERVED_FILES,
        )
    return limit


def _warn_if_undersized(needed: float, limit: int) -> None:
    if needed > limit:
        log.warning(
            "if every target timed out, %d probes would be in flight, above "
            "--max-concurrent-probes %d: healthy targets would then wait behind hung ones "
            "and miss runs",
            round(needed),
            limit,
        )


def _load(path: Path, limits: ConfigLimits, previous: Inputs | None) -> Loaded | ConfigError | None:
    """The config parsed anew, or None when nothing it was parsed from has changed."""
    if previous is not None and previous.unchanged(path, limits):
        return None
    # Parsing a large config takes seconds and peaks at several times the memory the config
    # keeps: it runs in a child process, under the limits' time and memory, waited for in a
    # worker thread so that the event loop keeps starting probes meanwhile, and comes back
    # here as a value. Never parsed here: nothing could stop a parse in this thread.
    try:
        return load_with_inputs(path, limits, in_process_fallback=False)
    except ConfigError as err:
        return err
