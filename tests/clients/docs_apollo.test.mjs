// docs/integrators.md's Apollo Client 4 snippet, run as written: the codes reach describeError,
// and persisted queries fall back once, then go by hash over GET.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

import { gql } from "@apollo/client";

import { SET_ATTENDANCE, mintToken, scenario } from "./support.mjs";

const { createClient, describeError } = await import(pathToFileURL(scenario.snippetModule));

async function failure(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected the operation to fail");
}

test("a refused attendance edit is described by its code", async () => {
  const client = createClient({ uri: scenario.url, getToken: async () => mintToken() });
  const mark = (participantId, status, expectedStatus) =>
    client.mutate({ mutation: gql(SET_ATTENDANCE), variables: { participantId, status, expectedStatus } });
  const locked = await failure(mark(scenario.lockedParticipantId, "ABSENT"));
  assert.equal(locked.errors[0].extensions.code, "LOCKED");
  assert.match(describeError(locked), /has been billed/);
  await mark(scenario.participantId, "ATTENDED");
  assert.match(describeError(await failure(mark(scenario.participantId, "ATTENDED"))), /cannot change from ATTENDED to ATTENDED/);
  assert.match(describeError(await failure(mark(scenario.participantId, "LATE", "SCHEDULED"))), /Someone else changed this first/);
});

test("an expired token is described as a sign-in to renew", async () => {
  const client = createClient({ uri: scenario.url, getToken: async () => mintToken({ ttl: -10 }) });
  const error = await failure(client.query({ query: gql`query Viewer { viewer { subject } }` }));
  assert.equal(describeError(error), "Your sign-in has expired. Sign in again.");
});

test("queries go by hash once the server has the document", async () => {
  const sent = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (uri, options) => {
    sent.push({ method: options.method, hasQuery: options.method === "GET" ? new URL(uri).searchParams.has("query") : "query" in JSON.parse(options.body) });
    return realFetch(uri, options);
  };
  try {
    const query = gql(`query DocsViewer${Date.now()} { viewer { subject } }`);
    for (let run = 0; run < 2; run += 1) {
      const client = createClient({ uri: scenario.url, getToken: async () => mintToken() });
      assert.equal((await client.query({ query })).data.viewer.subject, "node-client");
    }
    assert.deepEqual(sent, [
      { method: "GET", hasQuery: false },
      { method: "POST", hasQuery: true },
      { method: "GET", hasQuery: false },
    ]);
  } finally {
    globalThis.fetch = realFetch;
  }
});
