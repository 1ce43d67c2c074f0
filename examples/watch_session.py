"""Watch a group session live and print each update (what a room display does).

    python examples/watch_session.py --url ws://127.0.0.1:8000/graphql --token "$TOKEN" --session <id>

Needs only the `websockets` package. Stops after --count messages (0 = run until Ctrl+C).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from pathlib import Path

import websockets

QUERY = (Path(__file__).parent / "room-display" / "session_updates.graphql").read_text()


def describe(update: dict) -> str:
    """One line per update: its sequence and kind, the counts, and the billing preview's issues (repeats counted)."""
    counts = update["session"]["attendance"]
    preview = update["billingPreview"]
    issues = Counter(issue["code"] for issue in preview["issues"])
    return (
        f"#{update['sequence']} {update['kind']}: {update['session']['title']} "
        f"attended={counts['attended']} late={counts['late']} absent={counts['absent']} "
        f"scheduled={counts['scheduled']} billable={preview['billableCount']} ready={preview['readyToBill']} "
        f"issues={' '.join(code if n == 1 else f'{code}x{n}' for code, n in issues.items()) or '-'}"
    )


async def watch(url: str, token: str, session_id: str, count: int) -> None:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        ack = json.loads(await socket.recv())
        if ack["type"] != "connection_ack":
            raise SystemExit(f"refused: {ack}")
        await socket.send(
            json.dumps(
                {
                    "id": "watch",
                    "type": "subscribe",
                    "payload": {"query": QUERY, "variables": {"sessionId": session_id}},
                }
            )
        )
        seen = 0
        async for raw in socket:
            message = json.loads(raw)
            if message["type"] == "ping":
                await socket.send(json.dumps({"type": "pong"}))
                continue
            if message["type"] != "next":
                raise SystemExit(f"subscription ended: {message}")
            if message["payload"].get("errors"):
                raise SystemExit(f"error: {message['payload']['errors']}")
            print(describe(message["payload"]["data"]["sessionUpdates"]), flush=True)
            seen += 1
            if count and seen >= count:
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8000/graphql")
    parser.add_argument("--token", required=True)
    parser.add_argument("--session", required=True, help="GroupSession id")
    parser.add_argument("--count", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(watch(args.url, args.token, args.session, args.count))


if __name__ == "__main__":
    main()
