// Preload (`NODE_OPTIONS=--require identity-headers.cjs`) for MCP clients that cannot set HTTP
// headers, such as the MCP Inspector CLI 0.15: every fetch() gets the headers in the JSON object
// MCP_PEER_HEADERS, the way a trusted adapter or ingress sets the gateway's identity headers.
"use strict";
const extra = JSON.parse(process.env.MCP_PEER_HEADERS || "{}");
const originalFetch = globalThis.fetch;

globalThis.fetch = function (input, init = {}) {
  const headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
  for (const [name, value] of Object.entries(extra)) {
    headers.set(name, value);
  }
  return originalFetch.call(this, input, { ...init, headers });
};
