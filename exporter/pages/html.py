"""What the HTML pages share: one small stylesheet, the frame, the strip, times and escaping.

Nothing is fetched from elsewhere: no script, font or image; the pages refresh themselves with
a meta refresh and read well without JavaScript, at a laptop's width and a phone's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape

DEFAULT_REFRESH = 15  # seconds
MIN_REFRESH, MAX_REFRESH = 2, 3600

STYLE = """
:root{--bad:#b3261e;--warn:#9a5700;--ok:#1e7d32;--maint:#1a5fb4;--muted:#5f6368;--line:#dadce0}
*{box-sizing:border-box}
body{font:15px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:1rem;
color:#1f1f1f;max-width:1400px}
h1{font-size:1.35rem;margin:0 0 .2rem}h2{font-size:1.1rem;margin:1.4rem 0 .4rem}
a{color:#0b57d0}p{margin:.3rem 0}ul{margin:.2rem 0;padding-left:1.1rem}
.muted{color:var(--muted);font-size:.9em}
.cards{display:flex;flex-wrap:wrap;gap:.7rem;margin:.8rem 0}
.card{border:1px solid var(--line);border-radius:8px;padding:.6rem .9rem;flex:1 1 16rem;min-width:0}
.card h2{margin:0 0 .3rem;font-size:1rem}.big{font-size:1.5rem;font-weight:650}
.bad{color:var(--bad)}.warn{color:var(--warn)}.ok{color:var(--ok)}.maint{color:var(--maint)}
.badge{display:inline-block;padding:0 .45em;border-radius:4px;font-size:.8em;font-weight:650;
border:1px solid currentColor;white-space:nowrap}
table{width:100%;border-collapse:collapse;table-layout:fixed}
th,td{padding:.4rem .5rem;border-bottom:1px solid var(--line);text-align:left;
vertical-align:top;overflow-wrap:anywhere}
thead th{font-size:.85em;color:var(--muted);font-weight:600}
tr.group th{background:#f1f3f4;font-size:1rem;border-top:2px solid #bdc1c6}
tr.group.failing th{background:#fce8e6}tr.group.maintenance th{background:#e8f0fe}
.strip{display:flex;height:14px;width:100%;border-radius:3px;overflow:hidden;background:#eee}
.strip span{display:block;height:100%;min-width:2px}
.s-success{background:#34a853}.s-violation{background:#d93025}.s-unverified{background:#f29900}
.s-none{background:#e8eaed}.s-disrupted{background:#d93025}
.s-m{background-image:repeating-linear-gradient(135deg,transparent 0 3px,#fff8 3px 6px);
outline:1px solid var(--maint);outline-offset:-1px}
.s-maintenance{background:#7baaf7}
@media (max-width:760px){
body{padding:.6rem}table,tbody,tr,td,th{display:block;width:auto}thead{display:none}
tr{border-bottom:1px solid var(--line);padding:.3rem 0}tr.group{border:0;padding:0}
td{border:0;padding:.12rem .3rem}
td[data-label]::before{content:attr(data-label) ": ";color:var(--muted);font-weight:600}
}
"""


def page(title: str, body: str, refresh: int) -> str:
    """A whole page: the stylesheet inline, a meta refresh unless `refresh` is 0."""
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{meta}<title>{escape(title)}</title><style>{STYLE}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )


def refresh_seconds(asked: str | None) -> int:
    """`?refresh=N`: N seconds between refreshes within bounds, 0 for none; else the default."""
    if asked is None or not asked.isdigit():
        return DEFAULT_REFRESH
    seconds = int(asked)
    return 0 if seconds == 0 else max(MIN_REFRESH, min(MAX_REFRESH, seconds))


def strip(cells: Iterable[tuple[str, int, str]], label: str) -> str:
    """A bar of (css class, weight, title) cells, oldest on the left; `label` says it in words."""
    spans = "".join(
        f'<span class="{css}" style="flex-grow:{weight}" title="{escape(title)}"></span>'
        for css, weight, title in cells
    )
    return f'<div class="strip" role="img" aria-label="{escape(label)}">{spans}</div>'


def clock(when: float | None) -> str:
    """14:02:07 UTC, today; else with the date."""
    if when is None:
        return "never"
    moment = datetime.fromtimestamp(when, UTC)
    if moment.date() == datetime.now(UTC).date():
        return moment.strftime("%H:%M:%S UTC")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def ago(then: float | None, now: float) -> str:
    if then is None:
        return "never"
    seconds = max(0, int(now - then))
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    if seconds < 172800:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"


def when(then: float | None, now: float) -> str:
    """`3m ago` with the exact time on hover."""
    if then is None:
        return "never"
    return f'<span title="{escape(clock(then))}">{escape(ago(then, now))}</span>'
