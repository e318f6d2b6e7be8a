"""Serving: the CLI, the FastAPI app (Continue, OpenAI-compatible, status) and the MCP server."""
