"""``python -m bench.console_child [--console]``: paycon's API, with the console or without.

The console runs headless (Textual renders to a virtual screen, doing all
its work but drawing nowhere) in the same process and event loop as the
API, attached through the in-process facade, refreshing every second. The
settings come from ``PAYCON_*`` variables, as for ``paycon run``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

from paycon.config import DEFAULT_CONFIG_PATH, ensure_config_file, load_settings
from paycon.facade.local import LocalFacade
from paycon.runtime import heap
from paycon.runtime.service import Service


async def serve(with_console: bool) -> None:
    ensure_config_file(DEFAULT_CONFIG_PATH)
    service = Service(load_settings(DEFAULT_CONFIG_PATH, os.environ))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await service.start()
    heap.settle()  # as ``paycon run`` does once started
    console: asyncio.Task[None] | None = None
    try:
        if with_console:
            from paycon.tui.app import PayconConsole

            app = PayconConsole(LocalFacade.for_service(service, actor="console:bench"))
            console = asyncio.create_task(app.run_async(headless=True), name="console")
        await stop.wait()
        if console is not None:
            app.exit()
            await console
    finally:
        await service.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.console_child", description=__doc__)
    parser.add_argument("--console", action="store_true", help="run the console beside the API")
    asyncio.run(serve(parser.parse_args().console))


if __name__ == "__main__":
    main()
