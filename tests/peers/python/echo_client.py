"""A real MCP client (official Python SDK) for the bridge's peer tests.

usage: echo_client.py URL MODE MESSAGE
Prints one JSON object: the negotiated protocol version, the listed tool names and the text
returned by the `echo` tool for MESSAGE.
"""

import asyncio
import json
import sys

from mcp import Client


async def main(url: str, mode: str, message: str) -> None:
    out = {}
    async with Client(url, mode=mode) as client:
        out["protocol_version"] = client.protocol_version
        tools = await client.list_tools()
        out["tools"] = sorted(t.name for t in tools.tools)
        result = await client.call_tool("echo", {"message": message})
        out["echo"] = [c.text for c in result.content if getattr(c, "text", None) is not None]
        out["is_error"] = bool(result.is_error)
    print(json.dumps(out))


asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
