"""The ceiling: a bare aiohttp endpoint answering a constant JSON body.

Run as ``python -m bench.ceiling PORT``. Whatever paycon does per request
comes on top of this, so paycon's figures are printed as ratios against it.
"""

from __future__ import annotations

import sys

from aiohttp import web

BODY = b'{"id":"tx_00000000000000000000000000","status":"pending"}'


async def constant(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=BODY, status=202, content_type="application/json")


def main() -> None:
    app = web.Application()
    app.router.add_post("/v1/deposits", constant)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
