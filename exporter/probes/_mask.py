"""One mask for every probe kind: no configured secret shows, in any form a server may echo it.

Every kind's probe runs as a `PreparedProbe`, which masks each trace line as it is added and
the result's detail, with the secrets of the spec being run: every `{env|file}` value, with and
without its `prefix` (`Bearer ...`), and the base64 `user:password` of a `basic_auth`. Each
secret is matched raw, percent-encoded (any characters, either case of hex, `+` for a space) and
JSON-escaped, so a header, a `Location`, a URL or a body excerpt that quotes it shows
`<secret>` instead. A flow adds the values it captures as secrets (`Mask.add`) while it runs.

Where secrets overlap (one starts another, or runs into it), the union of their places is
masked, so no part of either shows.
"""

from __future__ import annotations

import base64
import contextvars
import functools
import json
import logging
import re
import traceback
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel

from exporter.config.http import BasicAuth
from exporter.config.types import ProbeSpec, SecretSource
from exporter.conventions import REASON_ERROR
from exporter.probes.result import ProbeResult, StepResult, Trace

log = logging.getLogger(__name__)

PLACEHOLDER = "<secret>"


class Mask:
    """Replaces every form of its secrets in a text with `<secret>`."""

    __slots__ = ("_pattern", "_secrets")

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self._secrets: tuple[str, ...] = ()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Mask these too, from now on."""
        known = set(self._secrets)
        new = [s for s in dict.fromkeys(secrets) if s and s not in known]
        if new:
            # Longest first: where two start at one place, the longer one is the match.
            self._secrets = tuple(sorted((*self._secrets, *new), key=len, reverse=True))
            forms = "|".join(_forms(s) for s in self._secrets)
            self._pattern = re.compile(f"(?=({forms}))")

    def copy(self) -> Mask:
        """A mask to add to without changing this one."""
        other = Mask.__new__(Mask)  # not __init__: a copy is made every run, and it adds nothing
        other._secrets, other._pattern = self._secrets, self._pattern
        return other

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        # Placeholders already in the text stay as they are: masking twice changes nothing.
        return PLACEHOLDER.join(self._mask(part) for part in text.split(PLACEHOLDER))

    def _mask(self, text: str) -> str:
        assert self._pattern is not None
        spans = _merged(m.span(1) for m in self._pattern.finditer(text))
        if not spans:
            return text
        out, at = [], 0
        for start, end in spans:
            out += [text[at:start], PLACEHOLDER]
            at = end
        out.append(text[at:])
        return "".join(out)


def _merged(spans: Iterator[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping and touching spans (in order of their starts) as one."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _forms(secret: str) -> str:
    """A regex for `secret` raw or percent-encoded, and for its JSON-escaped text."""
    forms = [secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]]
    return "|".join("".join(_character(c) for c in form) for form in dict.fromkeys(forms) if form)


@functools.lru_cache(maxsize=1024)
def _character(c: str) -> str:
    """One character as it may appear in a URL or a form: itself or %XX per UTF-8 byte."""
    encoded = "".join("%" + "".join(_either_case(h) for h in f"{b:02X}") for b in c.encode())
    options = [re.escape(c), encoded] + ([r"\+"] if c == " " else [])
    return f"(?:{'|'.join(options)})"


def _either_case(hex_digit: str) -> str:
    return f"[{hex_digit}{hex_digit.lower()}]" if hex_digit.isalpha() else hex_digit


# What a spec holds.


def secrets_of(spec: Any) -> tuple[str, ...]:
    """Every secret value in a spec: the ones read from env or a file, and what they make."""
    return tuple(dict.fromkeys(_secrets(spec)))


def _secrets(value: Any) -> Iterator[str]:
    if isinstance(value, SecretSource):
        revealed = value.reveal()
        yield revealed
        yield revealed[len(value.prefix) :]  # the value alone, without `Bearer `
    elif isinstance(value, BasicAuth):
        pair = base64.b64encode(f"{value.username}:{value.password.reveal()}".encode()).decode()
        yield f"Basic {pair}"  # the header value as sent, like a `prefix`ed secret
        yield pair
        yield from _secrets(value.password)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _secrets(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secrets(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secrets(item)


_current: contextvars.ContextVar[Mask | None] = contextvars.ContextVar("probe_mask", default=None)


def current_mask() -> Mask:
    """The mask of the run in progress (a new, empty one outside a run)."""
    return _current.get() or Mask()


def excerpt(text: str, limit: int = 80) -> str:
    """`text` masked, on one line and cut to `limit` characters: a cut never halves a secret."""
    text = " ".join(current_mask()(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Wrapping a probe.


class MaskedTrace(Trace):
    """A trace that masks each line on its way into the caller's trace."""

    def __init__(self, inner: Trace, mask: Mask) -> None:
        super().__init__()
        self.lines = inner.lines
        self._inner, self._mask = inner, mask

    def add(self, line: str) -> None:
        self._inner.add(self._mask(line))


S = TypeVar("S", bound=ProbeSpec)
R = TypeVar("R")
P = TypeVar("P")


@dataclass(frozen=True, slots=True, eq=False)
class PreparedProbe(Generic[S, R, P]):
    """A spec's probe with what every run reuses worked out once: its plan and its mask.

    `plan` is what `make(spec)` gave (request bytes, TLS context, compiled checks), or None if
    it raised: then `remake` keeps the spec and each run makes the plan anew, inside the run,
    so that its failure is the run's. `runs` is what `body` reads besides the plan: the spec
    itself, or (HTTP) the few of its fields a run reads, so that the spec is not kept.
    """

    runs: R
    remake: Callable[[], P] | None
    body: Callable[[R, P, Trace | None], Awaitable[ProbeResult]]
    mask: Mask
    plan: P | None
    step_names: tuple[str, ...]

    async def __call__(self, trace: Trace | None = None) -> ProbeResult:
        """One run: the spec's secrets masked in its trace, its detail and its failures."""
        mask = self.mask.copy()
        shown = MaskedTrace(trace, mask) if trace else None
        entered = _current.set(mask)
        try:
            # Made in advance unless remake is set (None: a kind with nothing to prepare).
            plan = cast(P, self.plan) if self.remake is None else self.remake()
            result = await self.body(self.runs, plan, shown)
        except Exception as err:  # a broken probe is a failed run; CancelledError passes
            result = _crashed(self.step_names, err, mask, shown)
        finally:
            _current.reset(entered)
        result.detail = mask(result.detail)
        return result


def prepare(
    spec: S,
    make: Callable[[S], P],
    body: Callable[[R, P, Trace | None], Awaitable[ProbeResult]],
    runs: Callable[[S], R],
) -> PreparedProbe[S, R, P]:
    """`body` bound to `runs(spec)`, with `make(spec)` and the spec's mask worked out now."""
    remake: Callable[[], P] | None = None
    try:
        plan: P | None = make(spec)
    except Exception:  # the run makes it again and fails as a run does
        plan, remake = None, functools.partial(make, spec)
    found = secrets_of(spec)
    mask = Mask(found) if found else _NO_SECRETS  # each run adds to a copy of its own
    return PreparedProbe(runs(spec), remake, body, mask, plan, tuple(spec.step_names()))


_NO_SECRETS = Mask()


def the_spec(spec: S) -> S:
    """What the runs of a kind that reads its whole spec keep: the spec."""
    return spec


def no_plan(spec: object) -> None:
    """The plan of a kind that has nothing to prepare."""
    return


def _crashed(
    step_names: tuple[str, ...], err: Exception, mask: Mask, trace: Trace | None
) -> ProbeResult:
    # Here rather than in the scheduler: the exception's text may quote a secret.
    log.error("a probe raised:\n%s", mask("".join(traceback.format_exception(err))).rstrip())
    detail = f"the probe raised {type(err).__name__}: {err}"
    if trace:
        trace.add(f"crashed: {detail}")
    steps = [StepResult(name, False, 0.0) for name in step_names]
    return ProbeResult.failed(REASON_ERROR, detail, steps=steps)
