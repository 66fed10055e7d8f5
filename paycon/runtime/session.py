"""One run of paycon: the service, the optional demo, and in front of them signals or the console.

``serve_headless`` runs until SIGINT or SIGTERM. ``serve_console`` runs the
Textual console in the service's own event loop until the operator quits it
(or SIGINT/SIGTERM arrive), and ``attach_console`` runs it against a paycon
elsewhere through the operator API. Each stops the demo, then the service,
cleanly on the way out.

Textual is imported only when a console opens, so the command line starts
quickly and this module stays importable without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

from paycon.logs import LogBuffer
from paycon.runtime import heap
from paycon.runtime.demo import Demo
from paycon.runtime.service import Service

if TYPE_CHECKING:
    from paycon.facade.protocol import OperatorFacade
    from paycon.tui.app import PayconConsole

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

DemoFactory = Callable[[Service], Demo]
# Runs the console until it quits: in the terminal by default, ``app.run_test()`` in tests.
ConsoleDriver = Callable[["PayconConsole"], Awaitable[object]]


async def run_in_terminal(app: PayconConsole) -> None:
    """The console in this terminal until the operator quits it."""
    await app.run_async()


async def serve_headless(
    service: Service,
    *,
    demo: DemoFactory | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run ``service`` (and the demo) until SIGINT or SIGTERM, then stop both cleanly.

    Raises what ``Service.start`` raises (DatabaseUnavailable, ConfigError, OSError).
    """
    stop = asyncio.Event()
    with _on_stop_signals(stop.set):
        async with _running(service, demo, on_ready):
            await stop.wait()
            log.info("shutting down")


async def serve_console(
    service: Service,
    *,
    actor: str,
    read_only: bool = False,
    logs: LogBuffer | None = None,
    demo: DemoFactory | None = None,
    on_ready: Callable[[], None] | None = None,
    drive: ConsoleDriver = run_in_terminal,
    key_kept_in: str | None = None,
) -> int:
    """Start ``service`` (and the demo), run the console in front of it, stop both when it quits.

    SIGINT and SIGTERM close the console, which then stops everything. Returns
    the console's return code (0 unless it failed). Raises what ``Service.start``
    raises, before the console opens. With ``key_kept_in`` (where the config
    keeps it), the console shows the service's first client key, masked, and
    copies it on request.
    """
    from paycon.facade.local import LocalFacade
    from paycon.tui.app import PayconConsole
    from paycon.tui.context import ClientKey

    keys = service.settings.auth.client_api_keys
    client_key = ClientKey(keys[0], key_kept_in) if keys and key_kept_in else None
    async with _running(service, demo, on_ready):
        facade = LocalFacade.for_service(service, actor=actor)
        try:
            app = PayconConsole(
                facade,
                read_only=read_only,
                mock_gateways=service.mocks is not None,
                logs=logs,
                client_key=client_key,
            )
            with _on_stop_signals(app.exit):
                await drive(app)
        finally:
            await facade.aclose()
        log.info("console closed; shutting down")
    return app.return_code or 0


async def check_attachable(facade: OperatorFacade) -> None:
    """Read the overview once, so a console never opens on a paycon it cannot read.

    Raises what the facade raises: FacadeUnavailable (unreachable), Unauthorized
    or Forbidden (the token is refused), ...
    """
    await facade.overview()


async def attach_console(
    facade: OperatorFacade,
    *,
    read_only: bool = False,
    logs: LogBuffer | None = None,
    drive: ConsoleDriver = run_in_terminal,
) -> int:
    """Check ``facade`` (see ``check_attachable``), then run the console on it until it quits.

    The facade is closed afterwards, also when the check fails.
    """
    try:
        await check_attachable(facade)
        from paycon.tui.app import PayconConsole

        app = PayconConsole(facade, read_only=read_only, logs=logs)
        with _on_stop_signals(app.exit):
            await drive(app)
    finally:
        await facade.aclose()
    return app.return_code or 0


async def attach_remote(
    url: str,
    token: str,
    *,
    read_only: bool = False,
    logs: LogBuffer | None = None,
    drive: ConsoleDriver = run_in_terminal,
) -> int:
    """``attach_console`` through the operator API at ``url`` with ``token``."""
    from paycon.facade.remote import RemoteFacade, local_operator_name

    facade = RemoteFacade(url, token, operator=local_operator_name())
    return await attach_console(facade, read_only=read_only, logs=logs, drive=drive)


@contextlib.asynccontextmanager
async def _running(
    service: Service, demo: DemoFactory | None, on_ready: Callable[[], None] | None
) -> AsyncIterator[None]:
    """Start the service then the demo; on the way out stop the demo first, then the service.

    The heap is settled (see ``paycon.runtime.heap``) once the service has started.
    """
    running_demo: Demo | None = None
    try:
        await service.start()
        heap.settle()
        if demo is not None:
            running_demo = demo(service)
        if on_ready is not None:
            on_ready()
        if running_demo is not None:
            await running_demo.start()
        yield
    finally:
        if running_demo is not None:
            await running_demo.stop()
        await service.stop()


@contextlib.contextmanager
def _on_stop_signals(handler: Callable[[], object]) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, handler)
    try:
        yield
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
