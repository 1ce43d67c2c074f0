// urql (@urql/core), as a web front end sets it up: the default client's Accept names JSON and both
// stream types, and queries and mutations come back as one JSON answer each; a mutation is sent and
// committed once. Subscriptions work three ways: over fetch (fetchSubscriptions: true, an event
// stream), through the graphql-ws exchange and through the graphql-sse exchange.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Client, cacheExchange, fetchExchange, gql, subscriptionExchange } from "@urql/core";
import { createClient as createSSEClient } from "graphql-sse";
import { createClient as createWSClient } from "graphql-ws";
import WebSocket from "ws";

import { SESSION_UPDATES, SET_ATTENDANCE, mintToken, post, scenario, waitFor } from "./support.mjs";

const VIEWER = gql`query UrqlViewer { viewer { subject } }`;
const AUDIT = `
  query Audit($sessionId: ID!) { groupSession(id: $sessionId) { auditLog { action entityId } } }`;

/** The client as urql's docs set it up, with a bearer token; `sent` records each request's Accept. */
function urql({ token = mintToken(), exchanges = [cacheExchange, fetchExchange], sent = [], ...options } = {}) {
  return new Client({
    url: scenario.url,
    exchanges,
    fetchOptions: () => ({ headers: { Authorization: `Bearer ${token}` } }),
    fetch: (input, init) => {
      sent.push({ method: init.method, accept: new Headers(init.headers).get("accept") });
      return fetch(input, init);
    },
    ...options,
  });
}

/** The first `count` results of an urql subscription, then it is stopped. */
async function firstResults(client, count, onFirst) {
  const results = [];
  const done = waitFor(`${count} subscription results`);
  const { unsubscribe } = client
    .subscription(SESSION_UPDATES, { sessionId: scenario.sessionId })
    .subscribe((result) => {
      results.push(result);
      if (result.error) done.settle();
      if (results.length === 1 && !result.error) onFirst();
      if (results.length === count) done.settle();
    });
  try {
    await done.waiting;
  } finally {
    unsubscribe();
  }
  for (const result of results) assert.equal(result.error, undefined, String(result.error));
  return results.map((result) => result.data.sessionUpdates);
}

async function snapshotThenChange(client, status) {
  const participantId = scenario.watchedParticipantId;
  const [first, second] = await firstResults(client, 2, () => post(SET_ATTENDANCE, { participantId, status }));
  assert.equal(first.kind, "SNAPSHOT");
  assert.equal(first.session.title, scenario.sessionTitle);
  assert.equal(second.kind, "ATTENDANCE_CHANGED");
  assert.deepEqual(second.changedParticipantIds, [participantId]);
  assert.ok(second.sequence > first.sequence);
}

test("the default client reads a query as one JSON answer", async () => {
  const sent = [];
  const result = await urql({ sent }).query(VIEWER, {}).toPromise();
  assert.equal(result.error, undefined, String(result.error));
  assert.equal(result.data.viewer.subject, "node-client");
  assert.equal(sent.length, 1);
  assert.match(sent[0].accept, /text\/event-stream/); // the default Accept names the streams too
});

test("the default client's mutation answers once and is committed once", async () => {
  const sent = [];
  const client = urql({ sent });
  const participantId = scenario.participantId;
  const result = await client.mutation(SET_ATTENDANCE, { participantId, status: "ATTENDED" }).toPromise();
  assert.equal(result.error, undefined, String(result.error));
  assert.deepEqual(result.data.setAttendance, { __typename: "RosterEntry", id: participantId, status: "ATTENDED" });
  assert.equal(sent.length, 1);
  const audit = (await post(AUDIT, { sessionId: scenario.sessionId })).groupSession.auditLog;
  const marks = audit.filter((entry) => entry.action === "attendance.set" && entry.entityId === participantId);
  assert.equal(marks.length, 1, JSON.stringify(audit));
});

test("a refused mutation is a CombinedError with the code", async () => {
  const client = urql();
  const result = await client
    .mutation(SET_ATTENDANCE, { participantId: scenario.lockedParticipantId, status: "ABSENT" })
    .toPromise();
  assert.equal(result.error?.graphQLErrors?.[0]?.extensions?.code, "LOCKED", String(result.error));
});

test("fetchSubscriptions: true gets the SNAPSHOT, then a change, over an event stream", async () => {
  const sent = [];
  await snapshotThenChange(urql({ sent, fetchSubscriptions: true }), "ABSENT");
  assert.deepEqual(sent.map((request) => request.method), ["POST"]);
});

test("the graphql-ws exchange gets the SNAPSHOT, then a change", async () => {
  const ws = createWSClient({
    url: scenario.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${mintToken()}` },
    retryAttempts: 0,
  });
  const forwardSubscription = (request) => ({
    subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query || "" }, sink) }),
  });
  try {
    await snapshotThenChange(urql({ exchanges: [cacheExchange, fetchExchange, subscriptionExchange({ forwardSubscription })] }), "LATE");
  } finally {
    await ws.dispose();
  }
});

test("the graphql-sse exchange gets the SNAPSHOT, then a change", async () => {
  const sse = createSSEClient({ url: scenario.url, headers: { Authorization: `Bearer ${mintToken()}` }, retryAttempts: 0 });
  const forwardSubscription = (request) => ({
    subscribe: (sink) => ({ unsubscribe: sse.subscribe({ ...request, query: request.query || "" }, sink) }),
  });
  try {
    await snapshotThenChange(urql({ exchanges: [cacheExchange, fetchExchange, subscriptionExchange({ forwardSubscription })] }), "ATTENDED");
  } finally {
    sse.dispose();
  }
});
