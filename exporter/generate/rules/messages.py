"""Alert texts: `{placeholder}` messages into Prometheus templates, and the text they become.

Every annotation is written once, with placeholders. Filled with Go template fragments it is
the rule's annotation; filled with the values of a test's input series it is the text
`promtool test rules` must see. One source for both keeps the generated tests honest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from exporter import conventions as c

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_HUMANIZE_UP = ("k", "M", "G", "T", "P", "E", "Z", "Y")
_HUMANIZE_DOWN = ("m", "u", "n", "p", "f", "a", "z", "y")
NOT_CONFIGURED = "not configured"
UNKNOWN_REASON = "unknown"


def substitute(text: str, fill: Mapping[str, str]) -> str:
    """Replace each `{name}` in `text` by `fill[name]`; config validation vouches for the names."""
    return _PLACEHOLDER.sub(lambda m: fill[m.group(1)], text)


def placeholders(text: str) -> list[str]:
    """The `{name}` placeholders of a text, in order."""
    return [match.group(0) for match in _PLACEHOLDER.finditer(text)]


def label(name: str) -> str:
    """The template fragment printing one label of the alert's series ("" when it has none)."""
    return f"{{{{ $labels.{name} }}}}"


def matcher(name: str, value: str, op: str = "=") -> str:
    """`name="value"`, the value escaped as PromQL strings are."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}{op}"{escaped}"'


def selector(metric: str, *matchers: str) -> str:
    """`metric{a="x",b=~"y"}` from matcher() strings."""
    return f"{metric}{{{','.join(matchers)}}}"


def job_selector(metric: str, *matchers: str) -> str:
    """A selector of the exporter's scrape job: other jobs may carry the same series."""
    return selector(metric, matcher("job", c.EXPORTER_JOB), *matchers)


def reason_template(
    window: str,
    matchers: Sequence[str] = (),
    args: Sequence[str] = (c.LABEL_PROBE,),
    results: Sequence[str] = (),
) -> str:
    """The failure reason seen most over `window` on the alert's probe, from the runs counter.

    A reason counts when its counter increased in the window, or when its series appeared in
    it: the exporter creates a reason's series at its first occurrence, and increase() needs
    two samples, so a new reason alone would read "unknown" at the first evaluation. Reasons
    of earlier incidents neither increased nor appeared, and are left out.

    `matchers` and `args` select other series than the probe's: each `%s` in the matchers is
    filled with the alert's label of that name, and the reasons of all the series are summed.
    `results` keeps only these reasons (a violation alert names the violation it found).
    """
    if not matchers:
        matchers = (matcher(c.LABEL_PROBE, "%s"),)
    if results:
        which = matcher(c.LABEL_RESULT, "|".join(results), "=~")
    else:
        which = matcher(c.LABEL_RESULT, c.RESULT_SUCCESS, "!=")
    runs = job_selector(c.PROBE_RUNS + "_total", *matchers, which)
    seen = f"increase({runs}[{window}]) > 0 or ({runs} unless {runs} offset {window})"
    if args != (c.LABEL_PROBE,):
        seen = f"sum by ({c.LABEL_RESULT}) ({seen})"
    query = f"topk(1, {seen})"
    arguments = " ".join(f"$labels.{a}" for _ in range(3) for a in args)
    return (
        f"{{{{ with printf `{query}` {arguments} | query }}}}"
        f"{{{{ range . }}}}{{{{ .Labels.{c.LABEL_RESULT} }}}}{{{{ end }}}}"
        f"{{{{ else }}}}{UNKNOWN_REASON}{{{{ end }}}}"
    )


def money_template(query: str, *args: str) -> str:
    """Amounts per currency from a query with a `currency` label: `925k GBP, 10k EUR`."""
    arguments = " ".join(f"$labels.{a}" for a in args)
    return (
        f"{{{{ with printf `sort_desc({query})` {arguments} | query }}}}"
        f"{{{{ range $i, $s := . }}}}{{{{ if $i }}}}, {{{{ end }}}}"
        f"{{{{ $s.Value | humanize }}}} {{{{ $s.Labels.{c.LABEL_CURRENCY} }}}}{{{{ end }}}}"
        f"{{{{ else }}}}{NOT_CONFIGURED}{{{{ end }}}}"
    )


def money_text(amounts: Mapping[str, float]) -> str:
    """What money_template prints for these totals per currency."""
    if not amounts:
        return NOT_CONFIGURED
    ordered = sorted(amounts.items(), key=lambda item: -item[1])
    return ", ".join(f"{humanize(amount)} {currency}" for currency, amount in ordered)


def humanize(value: float) -> str:
    """Prometheus' `humanize` template function: 925000 -> 925k."""
    if value == 0 or math.isnan(value) or math.isinf(value):
        return _go_g(value)
    prefix = ""
    if abs(value) >= 1:
        for p in _HUMANIZE_UP:
            if abs(value) < 1000:
                break
            prefix, value = p, value / 1000
    else:
        for p in _HUMANIZE_DOWN:
            if abs(value) >= 1:
                break
            prefix, value = p, value * 1000
    return _go_g(value) + prefix


def _go_g(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.4g}"


def spoken_duration(seconds: float) -> str:
    """A duration for people: 15 minutes, 1 hour, 90 seconds."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:g} seconds"
