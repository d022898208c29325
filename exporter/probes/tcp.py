"""The tcp probe: does a dependency accept connections (and complete a TLS handshake)?

For what has no richer check: a message broker, an SMTP relay, a licence server.

result = await probe(TCPSpec.model_validate({"host": "db.internal", "port": 5432}))
"""

from __future__ import annotations

import contextlib
import time

from exporter.config.tcp import TCPSpec
from exporter.probes._fetch import Failure, TLSContext, classify, connect, handshake, ms
from exporter.probes._http_client import Connection
from exporter.probes._mask import PreparedProbe, the_spec
from exporter.probes._mask import prepare as prepare_with
from exporter.probes.result import ProbeResult, Trace


def prepare(spec: TCPSpec) -> PreparedProbe[TCPSpec, TCPSpec, TLSContext | None]:
    """The probe of `spec`, its TLS context loaded for every run."""
    return prepare_with(spec, _make_tls, _run, the_spec)


async def probe(spec: TCPSpec, trace: Trace | None = None) -> ProbeResult:
    """Connect, maybe shake hands, and hang up, prepared for this run alone."""
    return await prepare(spec)(trace)


async def _run(spec: TCPSpec, tls: TLSContext | None, trace: Trace | None) -> ProbeResult:
    """Trouble comes back as a failed result."""
    started = time.perf_counter()
    connection: Connection | None = None
    try:
        connection = await connect(spec.host, spec.port, trace)
        if tls is not None:
            server_name = tls.server_name or spec.host
            await handshake(connection, tls.context(), server_name, trace)
        result = ProbeResult.ok()
    except Failure as failure:
        result = ProbeResult.failed(failure.reason, str(failure))
    except Exception as err:  # the target's trouble becomes a reason; CancelledError passes
        problem = classify(err, spec.host, spec.port)
        result = ProbeResult.failed(problem.reason, str(problem))
    finally:
        if connection is not None:
            connection.close()
    if trace:
        outcome = "success" if result.success else f"failure ({result.reason}): {result.detail}"
        trace.add(f"verdict: {outcome}, {ms(started)} in all")
    return result


def _make_tls(spec: TCPSpec) -> TLSContext | None:
    if spec.tls is None:
        return None
    tls = TLSContext(spec.tls)
    with contextlib.suppress(Failure):  # loaded now, outside a run; a failure recurs in the run
        tls.context()
    return tls
