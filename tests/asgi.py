"""FastAPI's TestClient, imported without its notice that httpx2 is preferred over httpx."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # starlette asks for httpx2; httpx (a dependency already) drives it just the same.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

__all__ = ["TestClient"]
