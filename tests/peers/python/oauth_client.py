"""An MCP client authenticated by the official Python SDK's own OAuth support (mcp 2.3.0,
`ClientCredentialsOAuthProvider`): on the gateway's 401 it reads the protected-resource metadata
named in `WWW-Authenticate`, discovers the authorization server, obtains a client-credentials
token for the resource (RFC 8707) and retries with `Authorization: Bearer`.

usage: oauth_client.py URL ISSUER CLIENT_ID CLIENT_SECRET
Prints {"tools": [names, sorted], "call": {"is_error": bool, "text": [...]} | {"error": msg}}
after listing the tools and calling `add` with {"a": 20, "b": 22}.
"""

import asyncio
import json
import sys

import httpx2 as httpx
from mcp import Client
from mcp.client.auth import TokenStorage
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken


class Memory(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def main(url: str, issuer: str, client_id: str, secret: str) -> None:
    auth = ClientCredentialsOAuthProvider(
        server_url=url,
        storage=Memory(),
        client_id=client_id,
        client_secret=secret,
        scope="mcp",
        issuer=issuer,
    )
    async with httpx.AsyncClient(auth=auth, follow_redirects=True) as http:
        async with Client(streamable_http_client(url, http_client=http), mode="auto") as client:
            tools = await client.list_tools()
            out = {"tools": sorted(t.name for t in tools.tools)}
            try:
                result = await client.call_tool("add", {"a": 20, "b": 22})
                texts = [c.text for c in result.content if getattr(c, "text", None) is not None]
                out["call"] = {"is_error": bool(result.is_error), "text": texts}
            except Exception as error:  # a JSON-RPC error surfaces as an exception
                out["call"] = {"error": str(error)}
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
