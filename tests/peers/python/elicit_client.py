"""A real MCP client (official Python SDK) answering a server's elicitation request.

usage: elicit_client.py URL
Connects in the legacy era with an elicitation handler that declines, calls server-everything's
`trigger-elicitation-request` tool and prints one JSON object: the elicitation messages the
handler saw and the tool's text.
"""

import asyncio
import json
import sys

import mcp_types as types
from mcp import Client

seen = []


async def decline(context, params):
    seen.append(params.message)
    return types.ElicitResult(action="decline")


async def main(url: str) -> None:
    async with Client(url, mode="legacy", elicitation_callback=decline) as client:
        tools = await client.list_tools()
        names = sorted(t.name for t in tools.tools)
        result = await client.call_tool("trigger-elicitation-request", {})
        text = [c.text for c in result.content if getattr(c, "text", None) is not None]
    print(json.dumps({"tools": names, "elicitations": seen, "text": text}))


asyncio.run(main(sys.argv[1]))
