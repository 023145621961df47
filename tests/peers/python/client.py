"""A real MCP client (official Python SDK) for the gateway's peer tests.

usage: client.py URL MODE AGENT_ID
Prints one JSON object: the listed tools, the result of add(1, 2), and what secret_admin returned.
"""

import asyncio
import json
import sys

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def main(url: str, mode: str, agent: str) -> None:
    http = create_mcp_http_client(headers={"X-MCP-Agent-ID": agent, "Authorization": "Bearer must-not-leak"})
    out = {}
    async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        tools = await client.list_tools()
        out["tools"] = sorted(t.name for t in tools.tools)
        result = await client.call_tool("add", {"a": 1, "b": 2})
        out["add"] = [c.text for c in result.content if getattr(c, "text", None) is not None]
        try:
            denied = await client.call_tool("secret_admin", {})
            out["secret"] = {"is_error": denied.is_error, "content": [getattr(c, "text", "") for c in denied.content]}
        except Exception as error:  # the gateway's JSON-RPC error surfaces as an exception
            out["secret"] = {"error": str(error)}
    print(json.dumps(out))


asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
