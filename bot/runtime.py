"""`classpulse run`: start the components, run the outbox sender, serve the webhooks, stop.

`serve(app_ctx, factories)` (the caller has migrated the database) builds every configured
component, starts them, runs the outbox sender, serves webhooks with uvicorn when a component
has routes, and stops everything in reverse order on SIGINT/SIGTERM. Which components exist is
decided by the composition root (bot/app.py, `COMPONENTS`); this module knows none of them.

A component is anything with `name`, `transports`, `routes`, `start()` and `stop()`
(`Component` below); it may also have `async on_listening()`, called once the web app accepts
requests (Viber's set_webhook needs its route served). `transports` and `routes` are read after
`start()`. A factory gets the `Runtime` and returns None when its component is not configured.
`Runtime` gives: app (the AppContext), settings, db, clock, service (a ChatService), wake()
(start an outbox round now), after_sent (hooks run when an outbox row is sent) and, once
running, sender (the OutboxSender).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.context import AppContext
from bot.conversation.service import ChatService
from bot.delivery.budget import SharedBudget
from bot.delivery.contract import Transport
from bot.delivery.outbox import AfterSent, OutboxSender
from bot.logging_setup import register_secret
from bot.settings import Settings, reveal
from storage.db import Database

if TYPE_CHECKING:  # uvicorn and starlette load only when a component has webhook routes
    import uvicorn
    from starlette.routing import BaseRoute

logger = logging.getLogger(__name__)


class Component(Protocol):
    name: str
    transports: dict[str, Transport]  # outbox channels it delivers (may be empty)
    routes: list[BaseRoute]  # webhook routes for the shared web app (may be empty)

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Runtime:
    app: AppContext
    settings: Settings
    db: Database
    clock: Callable[[], datetime]
    service: ChatService
    sender: OutboxSender | None = None
    # Hooks run when an outbox row is sent (criteria notices record delivered_at).
    after_sent: list[AfterSent] = field(default_factory=list)

    def wake(self) -> None:
        if self.sender is not None:
            self.sender.wake()


ComponentFactory = Callable[[Runtime], "Component | None"]


def wake_from_threads(wake: Callable[[], None]) -> Callable[[], None]:
    """`wake` for worker threads: run on the running event loop; nothing once it is closed."""
    loop = asyncio.get_running_loop()

    def from_thread() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: the bot is stopping
            loop.call_soon_threadsafe(wake)

    return from_thread


async def serve(
    app_ctx: AppContext,
    factories: Sequence[ComponentFactory],
    stop: asyncio.Event | None = None,
    after_sent: Sequence[AfterSent] = (),
    service: ChatService | None = None,
) -> None:
    """Run until SIGINT/SIGTERM (or `stop` is set)."""
    settings = app_ctx.settings
    for secret in (
        settings.telegram_bot_token,
        settings.telegram_webhook_secret,
        settings.viber_auth_token,
    ):
        register_secret(reveal(secret))
    stop = stop or asyncio.Event()
    rt = Runtime(
        app_ctx,
        settings,
        app_ctx.db,
        app_ctx.clock,
        service or ChatService(app_ctx.db, settings, clock=app_ctx.clock),
        after_sent=list(after_sent),
    )
    components = [c for f in factories if (c := f(rt))]
    if not components:
        logger.warning("no messenger configured: nothing to serve")
        return
    _install_signals(stop)
    started: list[Component] = []
    tasks: list[asyncio.Task[None]] = []
    server: uvicorn.Server | None = None
    try:
        for component in components:
            if not await _start_unless_stopped(component, stop):
                return  # SIGTERM while it waited (e.g. for an unreachable Bot API)
            started.append(component)
        transports: dict[str, Transport] = {}
        for component in components:
            transports.update(component.transports)
        rt.sender = OutboxSender(
            app_ctx.db,
            transports,
            settings,
            clock=app_ctx.clock,
            after_sent=rt.after_sent,
            budget=SharedBudget(),  # every process on the database paces together
        )
        tasks.append(asyncio.create_task(rt.sender.run_forever(stop), name="outbox"))
        rt.service.after_background = wake_from_threads(rt.wake)
        routes = [r for c in components for r in c.routes]
        if routes:
            server = _uvicorn(settings, routes)
            tasks.append(asyncio.create_task(server.serve(), name="webapp"))
            await _listening(server, tasks[-1])
            for component in components:
                hook = getattr(component, "on_listening", None)
                if hook is not None:
                    await hook()
        logger.info("running: %s", ", ".join(c.name for c in components))
        await _until(stop, tasks)
    finally:
        stop.set()
        if server is not None:
            server.should_exit = True
        for component in reversed(started):
            try:
                await component.stop()
            except Exception:
                logger.exception("stopping %s failed", component.name)
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(task, timeout=10)
        logger.info("stopped")


async def _start_unless_stopped(component: Component, stop: asyncio.Event) -> bool:
    """Start a component; False (and the start cancelled) if the stop signal comes first."""
    starting = asyncio.create_task(component.start())
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait([starting, waiter], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if starting.done():
        starting.result()  # raises what start() raised
        return True
    starting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await starting
    logger.info("stopped while %s was starting", component.name)
    return False


async def _listening(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    """Wait until uvicorn accepts connections (or fails to bind)."""
    while not server.started and not task.done():
        await asyncio.sleep(0.05)
    if task.done() and task.exception() is not None:
        raise RuntimeError("the web app could not start") from task.exception()


async def _until(stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    """Wait for the stop signal; a task that dies early (e.g. the port is taken) stops all."""
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    for task in done:
        if task is not waiter and task.exception() is not None:
            raise RuntimeError(f"{task.get_name()} stopped") from task.exception()


# The web server's limits (bodies are bounded in bot/channels/webapp.py).
# The deadline for a request's headers is the setting WEBHOOK_HEADER_SECONDS.
MAX_CONNECTIONS = 500  # open connections; beyond, the oldest still sending headers is closed
KEEP_ALIVE_SECONDS = 5
MAX_HEADER_BYTES = 16 * 1024


def _uvicorn(settings: Settings, routes: list[BaseRoute]) -> uvicorn.Server:
    import uvicorn

    from bot.channels.webapp import build_app, guarded_protocol

    _raise_open_files_limit(MAX_CONNECTIONS + 512)
    config = uvicorn.Config(
        build_app(routes),
        host=settings.webhook_host,
        port=settings.webhook_port,
        http=guarded_protocol(MAX_CONNECTIONS, settings.webhook_header_seconds),
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        log_config=None,  # our logging (with redaction) stays in charge
        access_log=False,  # access lines carry nothing useful, and paths may carry ids
        lifespan="off",
    )
    return _server(config)


def _raise_open_files_limit(wanted: int) -> None:
    """Connections, the database pool and the Bot API's pool all need file descriptors; the
    usual soft limit (1024) is below what the caps above allow."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ImportError, ValueError, OSError):
        logger.warning("could not raise the open files limit")


def _server(config: uvicorn.Config) -> uvicorn.Server:
    """uvicorn without its own signal handling: `serve` owns SIGINT/SIGTERM for everyone."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return Server(config)


def _install_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
