"""A real stdio MCP server (official Python SDK, dual era) for the bridge's peer tests.

usage: stdio_server.py
Serves one tool, `echo(message)`, on stdin/stdout.
"""

from mcp.server import MCPServer

mcp = MCPServer("python-stdio")


@mcp.tool()
def echo(message: str) -> str:
    """Returns the message."""
    return f"Echo: {message}"


mcp.run(transport="stdio")
