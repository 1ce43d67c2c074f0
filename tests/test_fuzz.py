"""Schemathesis against the live endpoint, bounded (the long run with a random seed is `make fuzz`):
no 5xx, no INTERNAL, every error coded by the contract, no response that breaks the published
schema, over fuzzed documents and a stateful phase that chains created ids into later operations."""

from __future__ import annotations

from tests.fuzz.run import fuzz_server, pinned_clock

FUZZ_SECONDS = 35
SEED = 20261110  # fixed here so CI is repeatable; `make fuzz` draws a new one each run


async def test_schemathesis_finds_no_server_fault_or_schema_break(services, database_url, test_clock, tmp_path):
    test_clock.advance(pinned_clock().now() - test_clock.now())  # the demo's sessions stay inside today
    code, output = await fuzz_server(database_url, services, max_time=FUZZ_SECONDS, seed=SEED, workdir=tmp_path)
    found, _, server = output.partition("\n--- server output ---\n")
    assert code == 0, found[-16000:] + "\n--- the server's internal errors, then its last lines ---\n" + server[:6000]
    assert "Stateful" in output and "passed" in output
