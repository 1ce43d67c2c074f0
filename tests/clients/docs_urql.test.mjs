// docs/integrators.md's urql snippet, run as written: queries and mutations answer once with their
// codes, and subscriptions get the SNAPSHOT and a change over fetch (event stream) and over the websocket.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

import WebSocket from "ws";

import { SESSION_UPDATES, SET_ATTENDANCE, mintToken, post, scenario, waitFor } from "./support.mjs";

const { createClient, createWebSocketClient, errorCode } = await import(pathToFileURL(scenario.snippetModule));
const getToken = async () => mintToken();

async function snapshotThenChange(client, participantId, status) {
  const updates = [];
  const changed = waitFor("ATTENDANCE_CHANGED");
  const { unsubscribe } = client.subscription(SESSION_UPDATES, { sessionId: scenario.sessionId }).subscribe((result) => {
    if (result.error) return changed.settle(result.error);
    updates.push(result.data.sessionUpdates.kind);
    if (updates.length === 1) post(SET_ATTENDANCE, { participantId, status }).catch(changed.settle);
    if (result.data.sessionUpdates.kind === "ATTENDANCE_CHANGED") changed.settle();
  });
  try {
    assert.equal(await changed.waiting, undefined);
  } finally {
    unsubscribe();
  }
  assert.deepEqual(updates, ["SNAPSHOT", "ATTENDANCE_CHANGED"]);
}

test("a query, a mutation and a refused mutation, each answered once with its code", async () => {
  const client = createClient({ url: scenario.url, getToken });
  const viewer = await client.query("query DocsUrqlViewer { viewer { subject } }", {}).toPromise();
  assert.equal(viewer.data.viewer.subject, "node-client");
  const marked = await client.mutation(SET_ATTENDANCE, { participantId: scenario.participantId, status: "ATTENDED" }).toPromise();
  assert.equal(errorCode(marked), null);
  assert.equal(marked.data.setAttendance.status, "ATTENDED");
  const again = await client.mutation(SET_ATTENDANCE, { participantId: scenario.participantId, status: "ATTENDED" }).toPromise();
  assert.equal(errorCode(again), "ILLEGAL_TRANSITION");
  const locked = await client.mutation(SET_ATTENDANCE, { participantId: scenario.lockedParticipantId, status: "ABSENT" }).toPromise();
  assert.equal(errorCode(locked), "LOCKED");
});

test("an expired token is UNAUTHENTICATED", async () => {
  const client = createClient({ url: scenario.url, getToken: async () => mintToken({ ttl: -10 }) });
  assert.equal(errorCode(await client.query("query DocsUrqlExpired { viewer { subject } }", {}).toPromise()), "UNAUTHENTICATED");
});

test("a subscription over fetch gets the SNAPSHOT, then a change", async () => {
  await snapshotThenChange(createClient({ url: scenario.url, getToken }), scenario.watchedParticipantId, "ABSENT");
});

test("a subscription over the websocket gets the SNAPSHOT, then a change", async () => {
  const client = createWebSocketClient({ url: scenario.url, getToken, webSocketImpl: WebSocket });
  await snapshotThenChange(client, scenario.watchedParticipantId, "LATE");
});
