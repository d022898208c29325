"""Targets marked `per_tenant: true` become one target per tenant before validation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from exporter import yamlsource
from exporter.yamlsource import Problem

PLACEHOLDER = "{tenant}"
TIER_PLACEHOLDER = "{tier}"
# Not `${tenant}`: that is a steps variable or capture of that name (config/steps.py).
_PLACEHOLDERS = re.compile(r"(?<!\$)(\{tenant\}|\{tier\})")


@dataclass(slots=True)
class Expansion:
    """Expanded config data, and for each expanded target the index of its template."""

    data: Any
    origin: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def source_path(self, path: tuple[str | int, ...]) -> tuple[str | int, ...]:
        """Map a path into the expanded targets back to the template it came from."""
        index = path[1] if len(path) >= 2 and path[0] == "targets" else None
        if isinstance(index, int) and index < len(self.origin):
            return ("targets", self.origin[index], *path[2:])
        return path


def expand(data: Any, doc: yamlsource.Document) -> Expansion:
    """Copy every per_tenant target once per tenant, `{tenant}` and `{tier}` filled in."""
    targets = data.get("targets") if isinstance(data, dict) else None
    if not isinstance(targets, list):
        return Expansion(data)
    tenants = data.get("tenants")
    tenants = tenants if isinstance(tenants, dict) else {}
    out = Expansion({**data})
    expanded: list[Any] = []
    for i, target in enumerate(targets):
        copies = [target]
        if isinstance(target, dict) and target.get("per_tenant") is True:
            problem = _template_problem(target, i, tenants, doc)
            if problem is None:
                copies = [_for_tenant(target, name, spec) for name, spec in tenants.items()]
            else:  # left out: its other errors would only repeat this one
                copies = []
                out.problems.append(problem)
        expanded += copies
        out.origin += [i] * len(copies)
    out.data["targets"] = expanded
    return out


def _template_problem(
    target: dict[str, Any], i: int, tenants: dict[str, Any], doc: yamlsource.Document
) -> Problem | None:
    def problem(key: str, message: str) -> Problem:
        path = ("targets", i, key)
        return Problem(yamlsource.format_path(path), message, doc.line_of(path))

    if not tenants:
        return problem("per_tenant", "needs tenants: to expand over")
    if "tenant" in target:
        return problem("tenant", "a per_tenant target takes its tenant from tenants:")
    if PLACEHOLDER not in str(target.get("name", "")):
        return problem("name", f"a per_tenant target's name must hold {PLACEHOLDER}")
    return None


def _for_tenant(template: dict[str, Any], name: str, tenant: Any) -> dict[str, Any]:
    tier = tenant.get("tier") if isinstance(tenant, dict) else None
    values = {PLACEHOLDER: name, TIER_PLACEHOLDER: tier if isinstance(tier, str) else ""}
    copy: dict[str, Any] = _fill(template, values)
    copy["tenant"] = name
    return copy


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDERS.sub(lambda match: values[match.group(0)], value)
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value
