// Apollo Client 4 (HttpLink), as a web front end uses it: domain errors arrive as
// CombinedGraphQLErrors with their code, subscriptions work over HTTP (multipart), and
// PersistedQueryLink falls back to the document once, then sends hashes.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import { ApolloClient, ApolloLink, CombinedGraphQLErrors, CombinedProtocolErrors, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

import { SESSION_UPDATES, SET_ATTENDANCE, mintToken, post, scenario, waitFor } from "./support.mjs";

function client({ token = mintToken(), fetch = globalThis.fetch, link } = {}) {
  const http = new HttpLink({ uri: scenario.url, headers: { Authorization: `Bearer ${token}` }, fetch });
  return new ApolloClient({ link: link ? ApolloLink.from([link, http]) : http, cache: new InMemoryCache() });
}

async function failure(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected the operation to fail");
}

test("an attendance edit on a locked session is CombinedGraphQLErrors with code LOCKED", async () => {
  const error = await failure(client().mutate({
    mutation: gql(SET_ATTENDANCE),
    variables: { participantId: scenario.lockedParticipantId, status: "ABSENT" },
  }));
  assert.ok(CombinedGraphQLErrors.is(error), `${error.name}: ${error.message}`);
  assert.equal(error.errors[0].extensions.code, "LOCKED");
  assert.deepEqual(error.errors[0].path, ["setAttendance"]);
});

test("the same status twice is ILLEGAL_TRANSITION, a stale expectedStatus is CONFLICT", async () => {
  const apollo = client();
  const mark = (status, expectedStatus) => apollo.mutate({
    mutation: gql(SET_ATTENDANCE),
    variables: { participantId: scenario.participantId, status, expectedStatus },
  });
  await mark("ATTENDED");
  const again = await failure(mark("ATTENDED"));
  assert.ok(CombinedGraphQLErrors.is(again), `${again.name}: ${again.message}`);
  assert.equal(again.errors[0].extensions.code, "ILLEGAL_TRANSITION");
  const stale = await failure(mark("LATE", "SCHEDULED"));
  assert.ok(CombinedGraphQLErrors.is(stale), `${stale.name}: ${stale.message}`);
  assert.equal(stale.errors[0].extensions.code, "CONFLICT");
});

test("a document that does not validate is CombinedGraphQLErrors with BAD_USER_INPUT", async () => {
  const error = await failure(client().query({ query: gql`query Nope { nope }` }));
  assert.ok(CombinedGraphQLErrors.is(error), `${error.name}: ${error.message}`);
  assert.equal(error.errors[0].extensions.code, "BAD_USER_INPUT");
  assert.equal(error.data, undefined);
});

test("a bad token is CombinedGraphQLErrors with UNAUTHENTICATED", async () => {
  const error = await failure(client({ token: "not-a-token" }).query({ query: gql`query Viewer { viewer { subject } }` }));
  assert.ok(CombinedGraphQLErrors.is(error), `${error.name}: ${error.message}`);
  assert.equal(error.errors[0].extensions.code, "UNAUTHENTICATED");
});

test("a subscription over HttpLink (multipart) gets the SNAPSHOT, then each change", async () => {
  const updates = [];
  const snapshot = waitFor("the SNAPSHOT");
  const change = waitFor("ATTENDANCE_CHANGED");
  const subscription = client().subscribe({
    query: gql(SESSION_UPDATES),
    variables: { sessionId: scenario.sessionId },
  }).subscribe({
    next: ({ data, error }) => {
      if (error) return change.settle(error);
      updates.push(data.sessionUpdates);
      if (data.sessionUpdates.kind === "SNAPSHOT") snapshot.settle(data.sessionUpdates);
      if (data.sessionUpdates.kind === "ATTENDANCE_CHANGED") change.settle(data.sessionUpdates);
    },
    error: (error) => change.settle(error),
  });
  try {
    const first = await snapshot.waiting;
    assert.equal(first.session.title, scenario.sessionTitle);
    await post(SET_ATTENDANCE, { participantId: scenario.watchedParticipantId, status: "ABSENT" });
    const changed = await change.waiting;
    assert.equal(changed.kind, "ATTENDANCE_CHANGED", JSON.stringify(changed));
    assert.ok(changed.sequence > first.sequence);
    assert.deepEqual(changed.changedParticipantIds, [scenario.watchedParticipantId]);
    assert.equal(updates[0].kind, "SNAPSHOT");
  } finally {
    subscription.unsubscribe();
  }
});

test("a multipart subscription ends with UNAUTHENTICATED when its token expires", async () => {
  const ended = waitFor("the protocol error at expiry");
  const snapshot = waitFor("the SNAPSHOT");
  const subscription = client({ token: mintToken({ ttl: 5 }) }).subscribe({
    query: gql(SESSION_UPDATES),
    variables: { sessionId: scenario.sessionId },
  }).subscribe({
    next: ({ data, error }) => (error ? ended.settle(error) : snapshot.settle(data)),
    error: (error) => ended.settle(error),
  });
  try {
    await snapshot.waiting;
    const error = await ended.waiting;
    assert.ok(CombinedProtocolErrors.is(error), `${error.name}: ${error.message}`);
    assert.equal(error.errors[0].extensions.code, "UNAUTHENTICATED");
  } finally {
    subscription.unsubscribe();
  }
});

for (const useGETForHashedQueries of [false, true]) {
  test(`PersistedQueryLink falls back to the document once, then sends only its hash (GET: ${useGETForHashedQueries})`, async () => {
    const sent = [];
    const recording = (uri, options) => {
      const url = new URL(uri);
      const body = options.body ? JSON.parse(options.body) : Object.fromEntries(url.searchParams);
      sent.push({ method: options.method, hasQuery: Boolean(body.query) });
      return fetch(uri, options);
    };
    const persisted = new PersistedQueryLink({
      sha256: (document) => createHash("sha256").update(document).digest("hex"),
      useGETForHashedQueries,
    });
    // A new document each run, so the server has not kept it yet.
    const query = gql(`query Viewer${useGETForHashedQueries ? "Get" : "Post"}${Date.now()} { viewer { subject } }`);
    const first = await client({ fetch: recording, link: persisted }).query({ query, fetchPolicy: "network-only" });
    assert.equal(first.data.viewer.subject, "node-client");
    assert.deepEqual(sent.map((s) => s.hasQuery), [false, true], JSON.stringify(sent));
    sent.length = 0;
    const second = await client({ fetch: recording, link: persisted }).query({ query, fetchPolicy: "network-only" });
    assert.equal(second.data.viewer.subject, "node-client");
    assert.deepEqual(sent, [{ method: useGETForHashedQueries ? "GET" : "POST", hasQuery: false }]);
  });
}
