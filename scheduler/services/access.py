"""The caller's collaborators: a key limited to some sites works on a database view that sees those
sites only (``scheduler.db.access`` explains the mechanism and how a new table adopts it)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from scheduler.db.access import SiteAccess

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators
    from scheduler.services.api_keys import Principal

__all__ = ["SiteAccess", "for_caller"]


def for_caller(deps: Collaborators, caller: Principal | None) -> Collaborators:
    """``deps`` as ``caller`` may use them: unchanged for a key of every site (and without a key)."""
    if caller is None or caller.site_ids is None:
        return deps
    return replace(deps, db=deps.db.within(SiteAccess(caller.site_ids)))
