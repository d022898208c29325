"""Live revenue at risk, computed in PromQL from what each target puts at stake and its state.

An opportunity is a tenant's context (the Zebra Associates deal, a tenant's revenue-critical
paths): it is at risk once however many of its targets fail, so targets of one tenant and
context count the largest of their amounts (the max, not the sum), and opportunities add up
by context, by tenant and in total. Amounts in different currencies are never added.
"""

from __future__ import annotations

from exporter import conventions as c
from exporter.generate.model import RecordingRule, RuleGroup

_OPPORTUNITY = (c.LABEL_TENANT, c.LABEL_CONTEXT, c.LABEL_CURRENCY)


def revenue_group() -> RuleGroup:
    """Revenue at risk per target, opportunity, context, tenant and currency."""
    return RuleGroup(
        c.GROUP_REVENUE_AT_RISK,
        (
            RecordingRule(
                c.REVENUE_AT_RISK_PROBE,
                # The revenue series has the extra currency label: match on everything else,
                # keep it from the left. 0 while the target is not failing.
                f"{c.PROBE_REVENUE_AT_RISK} * ignoring({c.LABEL_CURRENCY}) group_left "
                f"{c.PROBE_FAILING}",
            ),
            RecordingRule(
                c.REVENUE_AT_RISK_OPPORTUNITY,
                f"max by ({_by(_OPPORTUNITY)}) ({c.REVENUE_AT_RISK_PROBE})",
            ),
            _sum(c.REVENUE_AT_RISK_CONTEXT, (c.LABEL_CONTEXT, c.LABEL_CURRENCY)),
            _sum(
                c.REVENUE_AT_RISK_TENANT,
                (c.LABEL_TENANT, c.LABEL_CURRENCY),
                f'{{{c.LABEL_TENANT}!=""}}',
            ),
            _sum(c.REVENUE_AT_RISK_TOTAL, (c.LABEL_CURRENCY,)),
        ),
    )


def _sum(record: str, by: tuple[str, ...], selector: str = "") -> RecordingRule:
    return RecordingRule(record, f"sum by ({_by(by)}) ({c.REVENUE_AT_RISK_OPPORTUNITY}{selector})")


def _by(labels: tuple[str, ...]) -> str:
    return ", ".join(labels)
