// A room display: watch one group session over graphql-ws and redraw on every update.
// npm install graphql-ws ws   (in a browser, WebSocket is built in: drop `ws` and `webSocketImpl`)
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const SESSION_UPDATES = `
  subscription SessionUpdates($sessionId: ID!) {
    sessionUpdates(sessionId: $sessionId) {
      kind
      sequence
      session { title attendance { scheduled attended late absent total } }
      billingPreview { billableCount readyToBill issues { code severity } }
    }
  }`;

/**
 * Calls onUpdate with the SNAPSHOT, then with every change, until the returned function is called.
 * getToken() returns a fresh bearer token (from the clinic's sign-in); it is asked again for every
 * new connection, because the server closes a socket with 4401 when the token that opened it expires.
 */
export function watchSession({ url, sessionId, getToken, onUpdate, onError = console.error }) {
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: async () => ({ Authorization: `Bearer ${await getToken()}` }),
    retryAttempts: Infinity, // a dropped network: reconnect with backoff, resubscribe, new SNAPSHOT
  });
  let stopped = false;
  let unsubscribe = () => {};
  const subscribe = () => {
    let updates = 0;
    unsubscribe = client.subscribe(
      { query: SESSION_UPDATES, variables: { sessionId } },
      {
        next: ({ data, errors }) => {
          updates += 1;
          if (errors) onError(errors);
          else onUpdate(data.sessionUpdates);
        },
        error: (error) => {
          // graphql-ws does not retry 4401 by itself. A token that expired after it worked:
          // subscribe again, on a new connection with a fresh token. Refused at once: give up.
          if (error?.code === 4401 && updates > 0 && !stopped) subscribe();
          else onError(error);
        },
        complete: () => {},
      },
    );
  };
  subscribe();
  return () => {
    stopped = true;
    unsubscribe();
    client.dispose();
  };
}
