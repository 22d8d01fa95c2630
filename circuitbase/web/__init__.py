"""A read-only local web explorer over a store (`circuitbase serve`).

from circuitbase.web import create_app, new_token
app = create_app(store, token=new_token())   # a Flask app; pages under /<token>/
"""

from __future__ import annotations

from .app import create_app, new_token
from .server import serve

__all__ = ["create_app", "new_token", "serve"]
