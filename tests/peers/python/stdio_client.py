"""A real MCP client (official Python SDK) that launches a stdio MCP server, for the adapter's
peer tests (`mcp-runtime adapter stdio` is the server it launches).

usage: stdio_client.py MODE DENIED_TOOL COMMAND [ARGS...]
MODE is the SDK's `auto` or `legacy`. In one session: lists the tools, calls add(1, 2), then
DENIED_TOOL. Prints one JSON object: the protocol version, the sorted tool names, and for add and
DENIED_TOOL the texts of the result, or {"error": message} when the call was refused with a
JSON-RPC error.
"""

import asyncio
import json
import sys

from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client


def texts(result):
    return [c.text for c in result.content if getattr(c, "text", None) is not None]


async def call(client, tool, arguments):
    """The texts of the result, or {"error": message} when the call was refused."""
    try:
        return texts(await client.call_tool(tool, arguments))
    except Exception as error:  # a JSON-RPC error surfaces as an exception
        return {"error": str(error)}


async def main(mode: str, denied: str, command: str, args: list[str]) -> None:
    out = {}
    server = StdioServerParameters(command=command, args=args)
    async with Client(stdio_client(server), mode=mode) as client:
        out["protocol_version"] = client.protocol_version
        tools = await client.list_tools()
        out["tools"] = sorted(t.name for t in tools.tools)
        out["add"] = await call(client, "add", {"a": 1, "b": 2})
        out["denied"] = await call(client, denied, {"message": "hi"})
    print(json.dumps(out))


asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
