"""Call an MCP server with the official Python SDK (`pip install mcp==2.3.0`): one action per run.

The quickstart uses it, and so do the end-to-end tests.

usage: mcp_call.py URL MODE [-H 'Name: value']... list
       mcp_call.py URL MODE [-H 'Name: value']... call TOOL [JSON_ARGUMENTS]
MODE is the SDK's `auto` or `legacy`. Prints one JSON object:
  list -> {"tools": [names, sorted]}
  call -> {"is_error": bool, "text": [text contents]}   or   {"error": "message"} when the call
          was refused with a JSON-RPC error (a gateway denial).
"""

import argparse
import asyncio
import json

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def main(args: argparse.Namespace) -> None:
    headers = {}
    for header in args.header:
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()
    http = create_mcp_http_client(headers=headers)
    async with Client(streamable_http_client(args.url, http_client=http), mode=args.mode) as client:
        if args.action == "list":
            tools = await client.list_tools()
            print(json.dumps({"tools": sorted(t.name for t in tools.tools)}))
            return
        arguments = json.loads(args.arguments) if args.arguments else {}
        try:
            result = await client.call_tool(args.tool, arguments)
        except Exception as error:  # a JSON-RPC error surfaces as an exception
            print(json.dumps({"error": str(error)}))
            return
        texts = [c.text for c in result.content if getattr(c, "text", None) is not None]
        print(json.dumps({"is_error": bool(result.is_error), "text": texts}))


parser = argparse.ArgumentParser()
parser.add_argument("url")
parser.add_argument("mode", choices=["auto", "legacy"])
parser.add_argument("-H", "--header", action="append", default=[])
parser.add_argument("action", choices=["list", "call"])
parser.add_argument("tool", nargs="?")
parser.add_argument("arguments", nargs="?")
asyncio.run(main(parser.parse_args()))
