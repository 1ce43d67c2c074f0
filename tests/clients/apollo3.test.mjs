// Apollo Client 3 (HttpLink) sends Accept: */*, so it gets application/json: 200 for every
// well-formed request, and the codes in graphQLErrors (no networkError). A missing or bad token is
// still HTTP 401: a networkError whose result carries the code.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ApolloClient, ApolloError, HttpLink, InMemoryCache, gql } from "@apollo/client-v3/core/index.js";

import { SET_ATTENDANCE, mintToken, scenario } from "./support.mjs";

function client(token = mintToken()) {
  return new ApolloClient({
    link: new HttpLink({ uri: scenario.url, headers: { Authorization: `Bearer ${token}` } }),
    cache: new InMemoryCache(),
  });
}

async function failure(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected the operation to fail");
}

test("an attendance edit on a locked session is a graphQLError with code LOCKED", async () => {
  const error = await failure(client().mutate({
    mutation: gql(SET_ATTENDANCE),
    variables: { participantId: scenario.lockedParticipantId, status: "ABSENT" },
  }));
  assert.ok(error instanceof ApolloError, String(error));
  assert.equal(error.networkError, null, String(error.networkError));
  assert.equal(error.graphQLErrors.length, 1);
  assert.equal(error.graphQLErrors[0].extensions.code, "LOCKED");
});

test("ILLEGAL_TRANSITION and CONFLICT arrive the same way", async () => {
  const apollo = client();
  const mark = (status, expectedStatus) => apollo.mutate({
    mutation: gql(SET_ATTENDANCE),
    variables: { participantId: scenario.participantId, status, expectedStatus },
  });
  await mark("ATTENDED");
  const again = await failure(mark("ATTENDED"));
  assert.equal(again.networkError, null);
  assert.equal(again.graphQLErrors[0].extensions.code, "ILLEGAL_TRANSITION");
  const stale = await failure(mark("LATE", "SCHEDULED"));
  assert.equal(stale.networkError, null);
  assert.equal(stale.graphQLErrors[0].extensions.code, "CONFLICT");
});

test("errorPolicy 'all' keeps the codes next to the data", async () => {
  const result = await client().mutate({
    mutation: gql(SET_ATTENDANCE),
    variables: { participantId: scenario.lockedParticipantId, status: "ABSENT" },
    errorPolicy: "all",
  });
  assert.equal(result.errors[0].extensions.code, "LOCKED");
});

test("a document that does not validate is a graphQLError with BAD_USER_INPUT", async () => {
  const error = await failure(client().query({ query: gql`query Nope { nope }` }));
  assert.equal(error.networkError, null, String(error.networkError));
  assert.equal(error.graphQLErrors[0].extensions.code, "BAD_USER_INPUT");
});

test("a bad token is HTTP 401: a networkError whose result has UNAUTHENTICATED", async () => {
  const error = await failure(client("not-a-token").query({ query: gql`query Viewer { viewer { subject } }` }));
  assert.equal(error.networkError?.statusCode, 401, String(error));
  assert.equal(error.networkError.result.errors[0].extensions.code, "UNAUTHENTICATED");
});
