// Preload (`node --require loopback.cjs ...`) that keeps a Node MCP server on loopback.
//
// server-everything listens on every interface (`app.listen(PORT)`). The tests and benchmarks
// must only ever bind 127.0.0.1, so every TCP listen() in the process is rewritten to that host.
// Pipes (a string path) are left alone.
"use strict";
const net = require("node:net");

const LOOPBACK = "127.0.0.1";
const listen = net.Server.prototype.listen;

net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (args.length === 0 || typeof first === "function") {
    args.unshift(0, LOOPBACK);
  } else if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, callback])
    if (typeof args[1] === "string") {
      args[1] = LOOPBACK;
    } else {
      args.splice(1, 0, LOOPBACK);
    }
  } else if (first !== null && typeof first === "object" && first.path === undefined) {
    args[0] = { ...first, host: LOOPBACK };
  }
  return listen.apply(this, args);
};
