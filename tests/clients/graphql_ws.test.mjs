// graphql-ws in Node, as a room display runs it: the server closes the socket with 4401 when the
// token that opened it expires, and the display of docs/integrators.md (examples/room-display/display.mjs)
// reconnects with a fresh token.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

import { createClient } from "graphql-ws";
import WebSocket from "ws";

import { SESSION_UPDATES, SET_ATTENDANCE, mintToken, post, scenario, waitFor } from "./support.mjs";

const wsUrl = scenario.url.replace(/^http/, "ws");

async function until(description, condition, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("the server closes the socket with 4401 once the token's exp has passed", async () => {
  const token = mintToken({ ttl: 5 });
  const exp = JSON.parse(Buffer.from(token.split(".")[1], "base64url")).exp;
  const snapshot = waitFor("the SNAPSHOT");
  const closed = waitFor("the close");
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const updates = [];
  client.subscribe({ query: SESSION_UPDATES, variables: { sessionId: scenario.sessionId } }, {
    next: ({ data }) => {
      updates.push(data.sessionUpdates);
      snapshot.settle();
    },
    error: (error) => closed.settle({ error, at: Date.now() / 1000 }),
    complete: () => closed.settle({ error: null, at: Date.now() / 1000 }),
  });
  try {
    await snapshot.waiting;
    const { error, at } = await closed.waiting;
    assert.equal(error?.code, 4401, String(error?.reason ?? error));
    assert.equal(error.reason, "Token expired");
    assert.ok(at >= exp - 1, `closed at ${at}, before the token's exp ${exp}`);
    assert.deepEqual(updates.map((u) => u.kind), ["SNAPSHOT"]);
  } finally {
    client.dispose();
  }
});

test("the room display example keeps watching across token expiry with a fresh token", async () => {
  const { watchSession } = await import(pathToFileURL(scenario.displayModule));
  const tokens = [];
  const updates = [];
  const errors = [];
  const stop = watchSession({
    url: wsUrl,
    sessionId: scenario.sessionId,
    getToken: async () => {
      tokens.push(mintToken({ ttl: 5 }));
      return tokens.at(-1);
    },
    onUpdate: (update) => updates.push(update),
    onError: (error) => errors.push(error),
  });
  try {
    await until("a second SNAPSHOT, on a new connection", () => updates.filter((u) => u.kind === "SNAPSHOT").length >= 2);
    assert.ok(tokens.length >= 2, `tokens asked for: ${tokens.length}`);
    assert.notEqual(tokens[0], tokens[1]);
    await post(SET_ATTENDANCE, { participantId: scenario.watchedParticipantId, status: "LATE" });
    await until("the change", () => updates.some((u) => u.kind === "ATTENDANCE_CHANGED"));
    assert.deepEqual(errors, []);
    assert.equal(updates[0].session.title, scenario.sessionTitle);
  } finally {
    stop();
  }
});

test("a token refused at connection_init closes with 4401 and the display reports it", async () => {
  const { watchSession } = await import(pathToFileURL(scenario.displayModule));
  const reported = waitFor("the reported error");
  const stop = watchSession({
    url: wsUrl,
    sessionId: scenario.sessionId,
    getToken: async () => mintToken({ ttl: -10 }),
    onUpdate: () => assert.fail("an expired token must get nothing"),
    onError: (error) => reported.settle(error),
  });
  try {
    assert.equal((await reported.waiting).code, 4401);
  } finally {
    stop();
  }
});
