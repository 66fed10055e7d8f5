from __future__ import annotations

import io
import logging

from paycon.logs import request_id_var, setup_logging


def test_log_lines_carry_the_request_id_and_extras() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("INFO", stream)
        token = request_id_var.set("req-42")
        try:
            logging.getLogger("paycon.test").info("payment refused", extra={"status": 422})
        finally:
            request_id_var.reset(token)
        logging.getLogger("paycon.test").info("outside a request")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    first, second = stream.getvalue().splitlines()
    assert "[req-42] payment refused status=422" in first
    assert "[-] outside a request" in second
