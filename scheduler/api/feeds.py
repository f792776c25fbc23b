"""Calendar feeds: created and revoked by admins, read by calendar applications with the token alone."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Annotated, Any, ClassVar, Literal

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import Parameter
from pydantic import BaseModel, ConfigDict, Field

from scheduler.api.audit import note
from scheduler.api.auth import Principal, requires
from scheduler.api.common import IdempotencyKey, Services, created, idempotent
from scheduler.services import feed_subscriptions
from scheduler.services.audit import Access
from scheduler.services.feeds import CreatedFeed, FeedBodies, FeedNotFound, LiveFeeds, OwnerKind
from scheduler.services.staff_links import StaffLinks

# Litestar appends "; charset=utf-8" to every text/* media type.
CALENDAR_MEDIA_TYPE = "text/calendar"
# Calendar clients poll on their own schedule (Google: hours); five minutes of reuse by a
# client or a private cache costs little staleness and spares rebuilds. "private": the URL is
# a personal secret, so no shared cache may keep the body.
CACHE_CONTROL = "private, max-age=300"
FEED_SUFFIX = ".ics"
Token = Annotated[str, Parameter(max_length=100, description="The feed's token (or its id, to revoke it).")]


class FeedCreate(BaseModel):
    """A new calendar feed: how much it shows (the confidentiality charter)."""

    model_config = ConfigDict(extra="forbid")

    privacy: Literal["full", "standard", "busy"] = Field(
        "standard",
        description="full: service, family reference, interpreter language and staff note; "
        "standard: service and family reference; busy: only 'Occupé'. Never a phone number.",
    )
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="A label for the administrator (echoed back, not stored)."
    )


class FeedCreated(BaseModel):
    """A created feed; the token and URL are shown only once."""

    secret_fields: ClassVar[frozenset[str]] = frozenset({"token", "url"})

    token: str
    url: str = Field(description="The address to subscribe to: <public URL>/feeds/<token>.ics")
    privacy: Literal["full", "standard", "busy"]
    name: str | None = None


class FeedOut(BaseModel):
    """A live feed of an owner, to find one that should be revoked: never its token."""

    id: str
    privacy: Literal["full", "standard", "busy"]
    created_at: datetime
    last_fetched_at: datetime | None = Field(
        None, description="When a calendar last fetched it (to the minute or so); null: never.")


class FeedList(BaseModel):
    """The live feeds of a staff member or a site, oldest first."""

    items: list[FeedOut]


def feed_list(found: list[Any]) -> FeedList:
    """The listed feeds as the API shows them."""
    return FeedList(items=[FeedOut(id=item.id, privacy=item.privacy, created_at=item.created_at,
                                   last_fetched_at=item.last_fetched_at) for item in found])


def feed_bodies(state: State) -> FeedBodies:
    """Dependency: this application's cache of built feed bodies (created on first use)."""
    bodies = state.get("feed_bodies")
    if not isinstance(bodies, FeedBodies):
        bodies = state["feed_bodies"] = FeedBodies()
    return bodies


def live_feeds(state: State) -> LiveFeeds:
    """Dependency: this application's cache of token look-ups (created on first use)."""
    feeds_by_token = state.get("live_feeds")
    if not isinstance(feeds_by_token, LiveFeeds):
        feeds_by_token = state["live_feeds"] = LiveFeeds(state.services.db)
    return feeds_by_token


def staff_links(state: State) -> StaffLinks | None:
    """Dependency: the maker of staff feeds' outcome links (``app.state.staff_page``), if wired."""
    page = state.get("staff_page")
    found: StaffLinks | None = getattr(page, "links", None)
    return found


class FeedAdminController(Controller):
    """Creating and revoking feed URLs (scope ``admin``)."""

    path = "/v1"
    tags = ("calendar feeds",)
    guards = (requires("admin"),)

    @post("/staff/{owner_id:str}/feeds", operation_id="create_staff_feed",
          summary="Create a staff member's calendar feed", status_code=201)
    async def create_staff_feed(
        self, request: Request[Principal, Any, Any], svc: Services, data: FeedCreate | None = None,
        owner_id: str = Parameter(max_length=64), idempotency_key: IdempotencyKey = None,
    ) -> FeedCreated:
        return await _create(request, svc, "staff", owner_id, data or FeedCreate(), idempotency_key)

    @post("/sites/{owner_id:str}/feeds", operation_id="create_site_feed",
          summary="Create a site's calendar feed", status_code=201)
    async def create_site_feed(
        self, request: Request[Principal, Any, Any], svc: Services, data: FeedCreate | None = None,
        owner_id: str = Parameter(max_length=64), idempotency_key: IdempotencyKey = None,
    ) -> FeedCreated:
        return await _create(request, svc, "site", owner_id, data or FeedCreate(), idempotency_key)

    @post("/interpreters/{owner_id:str}/feeds", operation_id="create_interpreter_feed",
          summary="Create an interpreter's calendar feed (privacy standard or busy)", status_code=201)
    async def create_interpreter_feed(
        self, request: Request[Principal, Any, Any], svc: Services, data: FeedCreate | None = None,
        owner_id: str = Parameter(max_length=64), idempotency_key: IdempotencyKey = None,
    ) -> FeedCreated:
        return await _create(request, svc, "interpreter", owner_id, data or FeedCreate(), idempotency_key)

    @get("/staff/{owner_id:str}/feeds", operation_id="list_staff_feeds",
         summary="List a staff member's live calendar feeds (never their tokens)")
    async def list_staff_feeds(
        self, svc: Services, owner_id: str = Parameter(max_length=64)
    ) -> FeedList:
        return feed_list(await feed_subscriptions.owned(svc, "staff", owner_id))

    @get("/sites/{owner_id:str}/feeds", operation_id="list_site_feeds",
         summary="List a site's live calendar feeds (never their tokens)")
    async def list_site_feeds(self, svc: Services, owner_id: str = Parameter(max_length=64)) -> FeedList:
        return feed_list(await feed_subscriptions.owned(svc, "site", owner_id))

    @delete(
        "/feeds/{token:str}", operation_id="revoke_feed", status_code=204,
        summary="Revoke a calendar feed, named by its token or its id",
    )
    async def revoke(self, svc: Services, token: Token) -> None:
        await feed_subscriptions.revoke(svc, token)


async def _create(
    request: Request[Principal, Any, Any], svc: Services, owner_kind: OwnerKind, owner_id: str,
    data: FeedCreate, idempotency_key: str | None,
) -> FeedCreated:
    def render(feed: CreatedFeed) -> FeedCreated:
        url = f"{svc.settings.public_url}/feeds/{feed.token}{FEED_SUFFIX}"
        return FeedCreated(token=feed.token, url=url, privacy=feed.privacy, name=data.name)

    request_key = idempotent(request, data, idempotency_key)
    answer = await feed_subscriptions.create(svc, owner_kind, owner_id, data.privacy, request_key, render)
    return created(answer)  # type: ignore[return-value]


class FeedController(Controller):
    """The feed itself: no API key, the unguessable token in the path is the credential."""

    path = "/feeds"
    tags = ("calendar feeds",)
    # A dict, as Litestar documents it: the framework copies it into the controller's router.
    dependencies = {"bodies": Provide(feed_bodies, sync_to_thread=False),  # noqa: RUF012
                    "live": Provide(live_feeds, sync_to_thread=False),
                    "links": Provide(staff_links, sync_to_thread=False)}

    @get("/{filename:str}", operation_id="get_feed", summary="A calendar feed (iCalendar)",
         security=[], media_type=CALENDAR_MEDIA_TYPE, cache=False)
    async def read(
        self, request: Request[Any, Any, Any], svc: Services, bodies: FeedBodies, live: LiveFeeds,
        links: StaffLinks | None, filename: str = Parameter(max_length=100, description="<token>.ics"),
    ) -> Response[bytes]:
        """The feed's iCalendar body; 304 when ``If-None-Match`` names the current ETag."""
        if not filename.endswith(FEED_SUFFIX):
            raise FeedNotFound()  # the same 404 as an unknown token
        served = await feed_subscriptions.serve(svc, live, bodies, filename.removesuffix(FEED_SUFFIX),
                                                request.headers.get("if-none-match"), links)
        headers = {
            "ETag": served.version.etag,
            "Last-Modified": format_datetime(served.version.last_modified, usegmt=True),
            "Cache-Control": CACHE_CONTROL,
        }
        feed = served.feed
        if served.body is not None and feed is not None and feed.privacy == "full":
            # A full feed shows families' references and notes: who fetched it is on the trail.
            note(request, Access("feed", feed.id, feed.owner_name, "feed.read", feed.owner_kind,
                                 feed.owner_id, None))
        if served.body is None:
            return Response(b"", status_code=304, headers=headers, media_type=CALENDAR_MEDIA_TYPE)
        return Response(served.body, headers=headers, media_type=CALENDAR_MEDIA_TYPE)
