"""Drives one MCP server (through the gateway) with the official Python SDK client.

usage: drive.py URL MODE AGENT_ID SPEC_JSON
SPEC_JSON: {"allowed": [tool, args], "denied": [tool, args], "progress": [tool, args] | null}
Prints one JSON object: the listed tool names, the allowed call's text content, what the denied
call returned (a JSON-RPC error surfaces as an exception), and the progress notifications and
result of the progress call.
"""

import asyncio
import json
import sys

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def texts(result):
    return [c.text for c in result.content if getattr(c, "text", None) is not None]


async def main(url: str, mode: str, agent: str, spec: dict) -> None:
    http = create_mcp_http_client(headers={"X-MCP-Agent-ID": agent})
    out = {}
    async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        tools = await client.list_tools()
        out["tools"] = sorted(t.name for t in tools.tools)
        tool, args = spec["allowed"]
        out["allowed"] = texts(await client.call_tool(tool, args))
        tool, args = spec["denied"]
        try:
            denied = await client.call_tool(tool, args)
            out["denied"] = {"is_error": denied.is_error, "content": texts(denied)}
        except Exception as error:
            out["denied"] = {"error": str(error)}
        if spec.get("progress"):
            tool, args = spec["progress"]
            progress = []

            async def on_progress(value, total, message):
                progress.append(value)

            result = await client.call_tool(tool, args, progress_callback=on_progress)
            out["progress"] = progress
            out["progress_result"] = texts(result)
    print(json.dumps(out))


asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])))
