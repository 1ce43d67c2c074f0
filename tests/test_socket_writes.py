"""The frames one loop turn writes on a socket go out in one write, in order (app/http/socket_writes.py).
Real sockets go through it in tests/test_live_multiprocess.py, tests/test_real_clients.py and
tests/test_slow_clients.py, where every `next` still arrives whole and in order."""

from __future__ import annotations

import asyncio

from app.http.socket_writes import CoalescingTransport, coalesce_writes


class FakeTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


class FakeProtocol:
    def __init__(self) -> None:
        self.transport = FakeTransport()

    async def send(self, message: dict) -> None:
        self.transport.write(message["text"].encode())


async def test_writes_of_one_turn_go_out_as_one_write_in_order():
    transport = FakeTransport()
    buffered = CoalescingTransport(transport, asyncio.get_running_loop())
    for k in range(100):
        buffered.write(f"frame{k};".encode())
    assert transport.written == []  # nothing sent before the turn ends
    await asyncio.sleep(0)
    assert transport.written == [b"".join(f"frame{k};".encode() for k in range(100))]
    buffered.write(b"later")
    await asyncio.sleep(0)
    assert transport.written[1:] == [b"later"] and buffered.writes == 2
    assert buffered.get_extra_info("peername") == "info:peername"  # the rest is the transport's


async def test_close_sends_what_is_pending_first_and_nothing_after():
    transport = FakeTransport()
    buffered = CoalescingTransport(transport, asyncio.get_running_loop())
    buffered.write(b"last frame")
    buffered.close()
    assert transport.written == [b"last frame"] and transport.closed
    buffered.write(b"too late")
    await asyncio.sleep(0)
    assert transport.written == [b"last frame"]


async def test_found_behind_the_closures_that_wrap_the_asgi_send():
    protocol = FakeProtocol()
    underneath = protocol.transport

    def middleware(send):
        async def sender(message):
            await send(message)

        return sender

    send = middleware(middleware(protocol.send))
    buffered = coalesce_writes(send)
    assert isinstance(buffered, CoalescingTransport) and protocol.transport is buffered
    assert coalesce_writes(send) is buffered  # once
    await send({"text": "a"})
    await send({"text": "b"})
    await asyncio.sleep(0)
    assert underneath.written == [b"ab"]


async def test_does_nothing_where_no_transport_is_found():
    async def send(message):
        pass

    assert coalesce_writes(send) is None
