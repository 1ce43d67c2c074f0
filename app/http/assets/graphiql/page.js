// GraphiQL for the Group Sessions API, with subscriptions over the same HTTP endpoint (graphql-sse).
//
// The Headers pane is where a bearer token goes, and a token is access to patient data: it is kept
// only for this page unless the user turns on "Persist headers" in GraphiQL's settings (GraphiQL
// remembers that choice; with `shouldPersistHeaders` left unset, the default is off).
(function () {
  "use strict";

  const endpoint = new URL(window.location.pathname, window.location.origin).toString();

  const DEFAULT_QUERY = [
    "# Group Sessions API",
    "#",
    "# Every request needs a bearer token: put it in the",
    "# Headers pane below as",
    '#   {"Authorization": "Bearer <token>"}',
    "# (`make run` prints a dev admin token), then press Run.",
    "# Headers are kept only for this page unless you turn on",
    "# \"Persist headers\" in the settings (the gear below).",
    "",
    "query Viewer {",
    "  viewer { subject scopes facilities { id name timezone } }",
    "}",
    "",
  ].join("\n");

  const httpFetcher = GraphiQL.createFetcher({ url: endpoint });

  function operationType(params, options) {
    const document = options && options.documentAST;
    if (!document) return null;
    const operations = document.definitions.filter((d) => d.kind === "OperationDefinition");
    const chosen = params.operationName
      ? operations.find((d) => d.name && d.name.value === params.operationName)
      : operations.length === 1 ? operations[0] : null;
    return chosen ? chosen.operation : null;
  }

  // graphql-sse, distinct connections mode: POST with Accept: text/event-stream; each `next` event
  // carries one result, `complete` ends the stream.
  async function* overEventStream(params, headers) {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(params),
    });
    if (!response.ok || !response.body) {
      yield await response.json();
      return;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffered += value.replace(/\r\n/g, "\n");
        let end;
        while ((end = buffered.indexOf("\n\n")) >= 0) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const type = (event.match(/^event: ?(.*)$/m) || [])[1];
          const data = event.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
          if (type === "complete") return;
          if (type === "next" && data) yield JSON.parse(data);
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  function fetcher(params, options) {
    if (operationType(params, options) === "subscription") {
      return overEventStream(params, (options && options.headers) || {});
    }
    return httpFetcher(params, options);
  }

  // GraphiQL's history keeps the headers of every operation run, even when headers are not
  // persisted: they are dropped from it too unless the user opted in.
  const PERSIST_HEADERS = "graphiql:shouldPersistHeaders";
  const HISTORY = /^graphiql:(queries|favorites)$/;

  function withoutHeaders(key, value) {
    if (!HISTORY.test(key) || localStorage.getItem(PERSIST_HEADERS) === "true") return value;
    try {
      const history = JSON.parse(value);
      for (const entry of history.queries || []) delete entry.headers;
      return JSON.stringify(history);
    } catch (error) {
      return value;
    }
  }

  const storage = {
    getItem: (key) => localStorage.getItem(key),
    setItem: (key, value) => localStorage.setItem(key, withoutHeaders(key, value)),
    removeItem: (key) => localStorage.removeItem(key),
    clear: () => localStorage.clear(),
    get length() {
      return localStorage.length;
    },
  };

  // GraphiQL asks for the schema once, with the headers it has then: before a token is in the
  // Headers pane that fails ("Error fetching schema" in the Docs pane). It asks again whenever its
  // fetcher changes, so a new fetcher is handed to it once the headers have changed and settled.
  const HEADERS_SETTLE_MS = 500;

  function Page() {
    const [version, setVersion] = React.useState(0);
    const pageFetcher = React.useMemo(() => (params, options) => fetcher(params, options), [version]);
    const last = React.useRef(null);
    const timer = React.useRef(null);
    const onEditHeaders = React.useCallback((headers) => {
      clearTimeout(timer.current);
      timer.current = setTimeout(() => {
        let parsed;
        try {
          parsed = JSON.stringify(JSON.parse(headers || "{}"));
        } catch (error) {
          return; // still being typed
        }
        if (parsed === last.current) return;
        last.current = parsed;
        setVersion((v) => v + 1);
      }, HEADERS_SETTLE_MS);
    }, []);
    return React.createElement(GraphiQL, {
      fetcher: pageFetcher,
      storage: storage,
      defaultQuery: DEFAULT_QUERY,
      defaultHeaders: '{"Authorization": "Bearer <token>"}',
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: "headers",
      onEditHeaders: onEditHeaders,
    });
  }

  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(Page));
})();
