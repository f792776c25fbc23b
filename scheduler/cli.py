"""The ``creneau`` command: ``serve`` (optionally with demo data), ``migrate`` and ``import``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.config
import os
import secrets
import sys
from functools import partial

import uvicorn

from scheduler.db.engine import Database
from scheduler.db.migrate import upgrade
from scheduler.demo import book_demo_pathway, create_demo_key, fill_if_empty
from scheduler.french_calendar import FrenchHolidayCalendar
from scheduler.http.connection import ConnectionLimits, GuardedHttpToolsProtocol
from scheduler.import_command import import_file
from scheduler.observability.logs import logging_config
from scheduler.ports import SystemClock
from scheduler.settings import Settings, SettingsError

log = logging.getLogger("creneau")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``creneau`` command."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"creneau: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings)
    if args.command == "migrate":
        upgrade(settings.database_url)
        log.info("database migrated")
        return 0
    if args.command == "import":
        return import_file(settings, args.file)
    return _serve(settings, demo=args.demo, migrate=not args.no_migrate)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="creneau", description="Appointment scheduling and SMS reminders.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP service (settings from the environment)")
    serve.add_argument("--demo", action="store_true", help="fill an empty database with the demo programmes")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
    commands.add_parser("migrate", help="apply the database migrations")
    imports = commands.add_parser("import", help="import past appointments from a CSV file (all or none)")
    imports.add_argument("file", help="the CSV file: header line, then one appointment per line")
    return parser


WORKER_HEALTHCHECK_SECONDS = 60


def _serve(settings: Settings, *, demo: bool, migrate: bool) -> int:
    if settings.secret_key is None:
        # Demo/console only (a real SMS backend refuses to start without one): every worker
        # process inherits this one, so links agree across workers until the next restart.
        os.environ["CRENEAU_SECRET_KEY"] = secrets.token_urlsafe(32)
        log.warning("CRENEAU_SECRET_KEY is not set: family page links stop working at the next restart")
    if migrate:
        upgrade(settings.database_url)
    if demo:
        asyncio.run(_prepare_demo(settings))
        os.environ["CRENEAU_DEMO"] = "true"  # read again by every worker process
    uvicorn.run(
        "scheduler.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level.lower(),
        # Applied again in every worker process, so each logs as this one does.
        log_config=logging_config(settings.log_level, settings.log_format),
        access_log=False,
        # uvicorn's supervisor kills a worker that has not answered its ping within this time. Its
        # default (5 s) killed new workers still importing on a busy machine, in an endless loop
        # of restarts; a worker that is really stuck is still replaced, after a minute.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        # Slow or oversized request heads and slow bodies are cut off where the bytes arrive.
        http=partial(GuardedHttpToolsProtocol, limits=ConnectionLimits(  # type: ignore[arg-type]
            settings.header_timeout_seconds, settings.body_timeout_seconds, settings.max_header_bytes)),
        # Behind a reverse proxy, the family page's and API's per-address limits need the
        # client's address, which only a trusted proxy may state.
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
    )
    return 0


async def _prepare_demo(settings: Settings) -> None:
    db = Database.from_url(settings.database_url)
    now = SystemClock().now()
    try:
        if await fill_if_empty(db, now):
            await book_demo_pathway(db, FrenchHolidayCalendar(), now)
            log.info("demo programmes loaded")
        key = await create_demo_key(db, now)
    finally:
        await db.dispose()
    # Demo mode only: the operator needs a key to try the API; it is printed, never logged.
    print(f"\n  Demo admin API key: {key}\n  export KEY={key}\n", flush=True)


def _configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(logging_config(settings.log_level, settings.log_format))


if __name__ == "__main__":
    sys.exit(main())
