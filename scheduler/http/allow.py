"""``OPTIONS`` answers every method of its path in ``Allow``.

Litestar builds a path's ``OPTIONS`` handler with the first handler registered on the path, and
that handler keeps reading the first route's methods when more handlers join the path: on
``/v1/sites`` (list, then create) or ``/r/{token}/cancel`` (the step, then the form) its
``Allow`` names only one of the two. This hook rewrites the header from the app's routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.datastructures import MutableScopeHeaders

if TYPE_CHECKING:
    from litestar.types import Message, Scope


async def allow_every_method(message: Message, scope: Scope) -> None:
    """``before_send`` hook: the ``Allow`` of an ``OPTIONS`` answer lists all its route's methods."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    template = scope.get("path_template")
    headers = MutableScopeHeaders.from_message(message)
    if template is None or "allow" not in headers:
        return
    routes = [route for route in scope["app"].routes if route.path_format == template]
    methods = {method for route in routes for method in route.methods}
    if methods:
        headers["allow"] = ", ".join(sorted(methods))
