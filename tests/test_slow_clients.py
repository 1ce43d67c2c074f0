"""Slow clients against a real server process: connections that send their headers or their body at
a byte a second are closed once the header or body deadline passes, and other clients are served
meanwhile. (uvicorn alone kept all of them open indefinitely.)"""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from tests.conftest import make_token
from tests.support.server import start_server

HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 3.0
SLACK = 6.0  # a loaded 2-core machine: the deadline plus this, never a benchmark
CONNECTIONS = 150  # of each kind


async def trickle(port: int, head: bytes, then: bytes) -> float:
    """Send `head` at once, then `then` a byte a second; the seconds until the server hung up."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        await writer.drain()
        for byte in then:
            writer.write(bytes([byte]))
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(65536), 1.0) == b"":
                    break  # end of stream: closed by the server
                while await reader.read(65536):  # a 408, then the close
                    pass
                break
            except asyncio.TimeoutError:
                continue
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        writer.close()
    return time.monotonic() - started


async def test_slow_headers_and_slow_bodies_are_cut_off_while_others_are_served(database_url):
    env = {"GS_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT), "GS_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT)}
    async with start_server(database_url, env) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        body = json.dumps({"query": "{ viewer { subject } }"}).encode() + b" " * 4000
        headers = (
            f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {make_token()}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        deadline = BODY_TIMEOUT + SLACK + 5  # each has far more bytes left to trickle than that
        slow_headers = [trickle(port, b"", headers * 20) for _ in range(CONNECTIONS)]
        slow_bodies = [trickle(port, headers, body) for _ in range(CONNECTIONS)]
        attack = asyncio.ensure_future(asyncio.wait_for(asyncio.gather(*slow_headers, *slow_bodies), deadline))
        await asyncio.sleep(1.0)
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            started = time.monotonic()
            answer = await http.post(
                "/graphql",
                json={"query": "{ viewer { subject } }"},
                headers={"Authorization": f"Bearer {make_token()}"},
            )
            assert answer.json()["data"]["viewer"]["subject"] == "tester"
            assert time.monotonic() - started < 2.0
        held = await attack
    header_times, body_times = held[:CONNECTIONS], held[CONNECTIONS:]
    assert max(header_times) < HEADER_TIMEOUT + SLACK, max(header_times)
    assert max(body_times) < BODY_TIMEOUT + SLACK, max(body_times)
    assert min(header_times) >= HEADER_TIMEOUT - 0.1 and min(body_times) >= BODY_TIMEOUT - 0.1
