// graphql-sse (distinct connections mode), for networks whose proxies block websockets: the same
// SNAPSHOT-then-changes over an HTTP event stream, ended with UNAUTHENTICATED when the token expires.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createClient } from "graphql-sse";

import { SESSION_UPDATES, SET_ATTENDANCE, mintToken, post, scenario } from "./support.mjs";

function client(token = mintToken()) {
  return createClient({ url: scenario.url, headers: { Authorization: `Bearer ${token}` }, retryAttempts: 0 });
}

test("a subscription over graphql-sse gets the SNAPSHOT, then each change", async () => {
  const sse = client();
  const updates = sse.iterate({ query: SESSION_UPDATES, variables: { sessionId: scenario.sessionId } });
  try {
    const first = (await updates.next()).value;
    assert.equal(first.data.sessionUpdates.kind, "SNAPSHOT", JSON.stringify(first));
    assert.equal(first.data.sessionUpdates.session.title, scenario.sessionTitle);
    await post(SET_ATTENDANCE, { participantId: scenario.watchedParticipantId, status: "ABSENT" });
    const second = (await updates.next()).value;
    assert.equal(second.data.sessionUpdates.kind, "ATTENDANCE_CHANGED", JSON.stringify(second));
    assert.ok(second.data.sessionUpdates.sequence > first.data.sessionUpdates.sequence);
  } finally {
    await updates.return();
    sse.dispose();
  }
});

test("a token for another facility gets NOT_FOUND, one without the scope FORBIDDEN", async () => {
  for (const [token, code] of [
    [mintToken({ facilities: ["00000000-0000-0000-0000-000000000000"] }), "NOT_FOUND"],
    [mintToken({ scopes: ["pm.group_definitions.view"] }), "FORBIDDEN"],
  ]) {
    const sse = client(token);
    const updates = sse.iterate({ query: SESSION_UPDATES, variables: { sessionId: scenario.sessionId } });
    try {
      const first = (await updates.next()).value;
      assert.equal(first.errors?.[0]?.extensions?.code, code, JSON.stringify(first));
      assert.equal(first.data?.sessionUpdates ?? null, null);
    } finally {
      await updates.return();
      sse.dispose();
    }
  }
});

test("the stream ends with UNAUTHENTICATED when its token expires", async () => {
  const sse = client(mintToken({ ttl: 5 }));
  const updates = sse.iterate({ query: SESSION_UPDATES, variables: { sessionId: scenario.sessionId } });
  try {
    assert.equal((await updates.next()).value.data.sessionUpdates.kind, "SNAPSHOT");
    const last = await updates.next();
    assert.equal(last.value?.errors?.[0]?.extensions?.code, "UNAUTHENTICATED", JSON.stringify(last));
    assert.equal((await updates.next()).done, true);
  } finally {
    await updates.return();
    sse.dispose();
  }
});
