// A real OpenID provider for the gateway's oauth tests: panva's oidc-provider (installed, pinned,
// in target/peers/node by `bash .ci/run`), configured for the client-credentials grant with
// resource indicators (RFC 8707), so every access token is a JWT whose `aud` is the MCP resource
// the client asked for.
//
// Environment:
//   OIDC_MODULES  the node_modules directory holding oidc-provider (required)
//   OIDC_PORT     port on 127.0.0.1 (required); the issuer is http://127.0.0.1:<port>
//   OIDC_KEYS     path of the signing key set (private JWKs). Created when missing, with one new
//                 key (random kid); the first key's private key is also written as PKCS#8 PEM to
//                 <OIDC_KEYS>.pem (and its public key to <OIDC_KEYS>.pub.pem), so a test can sign
//                 tokens the provider would not issue.
//   OIDC_ALG      RS256 (default) or ES256: the signing algorithm of new keys and of tokens.
//
// Clients (client_secret_basic), allowed scopes `openid mcp` (the Python SDK's
// ClientCredentialsOAuthProvider asks for the scopes the provider's metadata advertises):
//   agent-claude / claude-secret  tokens carry tid=storage; 10 min lifetime
//   short-lived  / short-secret   1 s lifetime (expiry tests)
import { createPublicKey, generateKeyPairSync, randomUUID } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.env.OIDC_MODULES;
const port = Number(process.env.OIDC_PORT);
const keysFile = process.env.OIDC_KEYS;
const alg = process.env.OIDC_ALG || "RS256";
if (!modules || !port || !keysFile) {
  console.error("OIDC_MODULES, OIDC_PORT and OIDC_KEYS are required");
  process.exit(2);
}

const { default: Provider } = await import(
  pathToFileURL(join(modules, "oidc-provider/lib/index.js")).href
);

if (!existsSync(keysFile)) {
  const { privateKey } =
    alg === "ES256"
      ? generateKeyPairSync("ec", { namedCurve: "P-256" })
      : generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), alg, use: "sig" };
  writeFileSync(keysFile, JSON.stringify({ keys: [jwk] }));
  writeFileSync(`${keysFile}.pem`, privateKey.export({ format: "pem", type: "pkcs8" }));
  const publicKey = createPublicKey(privateKey);
  writeFileSync(`${keysFile}.pub.pem`, publicKey.export({ format: "pem", type: "spki" }));
}
const jwks = JSON.parse(readFileSync(keysFile, "utf8"));

const issuer = `http://127.0.0.1:${port}`;
const lifetimes = { "agent-claude": 600, "short-lived": 1 };

const provider = new Provider(issuer, {
  jwks,
  clients: [
    {
      client_id: "agent-claude",
      client_secret: "claude-secret",
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
      scope: "openid mcp",
      id_token_signed_response_alg: alg,
    },
    {
      client_id: "short-lived",
      client_secret: "short-secret",
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
      scope: "openid mcp",
      id_token_signed_response_alg: alg,
    },
  ],
  scopes: ["mcp"],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // A token request must name its resource (the MCP server's URL).
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resourceIndicator, client) => ({
        scope: "openid mcp",
        audience: resourceIndicator,
        accessTokenTTL: lifetimes[client.clientId] ?? 600,
        accessTokenFormat: "jwt",
        jwt: { sign: { alg } },
      }),
    },
  },
  extraTokenClaims: (ctx, token) =>
    token.clientId === "agent-claude" ? { tid: "storage" } : undefined,
});
provider.on("server_error", (ctx, error) => console.error("server_error", error));

provider.listen(port, "127.0.0.1", () => {
  console.log(`oidc-provider ${issuer} (${alg}, keys ${jwks.keys.map((k) => k.kid).join(",")})`);
});
