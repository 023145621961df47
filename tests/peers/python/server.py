"""A real MCP server (official Python SDK) for the gateway's peer tests.

usage: server.py PORT MARKER_FILE
`secret_admin` writes MARKER_FILE when it runs, so a test can prove a denied call never arrived.
`countdown` reports one progress notification per step before its result.
"""

import asyncio
import pathlib
import sys

from mcp.server import MCPServer
from mcp.server.mcpserver import Context

port = int(sys.argv[1])
marker = pathlib.Path(sys.argv[2])
mcp = MCPServer("peer-python")


@mcp.tool()
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@mcp.tool()
async def countdown(steps: int, ctx: Context) -> str:
    """Counts down, reporting progress at each step."""
    for step in range(1, steps + 1):
        await asyncio.sleep(0.01)
        await ctx.report_progress(step, steps)
    return f"liftoff after {steps} steps"


@mcp.tool()
def secret_admin() -> str:
    """A destructive tool no test caller may run."""
    marker.write_text("called")
    return "you should not see this"


mcp.run(transport="streamable-http", host="127.0.0.1", port=port)
