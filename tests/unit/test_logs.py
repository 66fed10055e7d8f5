from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
import time
from pathlib import Path

from paycon.logs import LogBuffer, request_id_var, setup_file_logging, setup_logging


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


def test_log_buffer_hands_each_line_to_a_poller_once_and_forgets_the_oldest() -> None:
    buffer = LogBuffer(capacity=3)
    log = logging.getLogger("paycon.test.buffer")
    log.addHandler(buffer)
    log.setLevel(logging.INFO)
    try:
        log.info("first")
        log.warning("second", extra={"gateway": "gateway_a"})
        first_poll = buffer.since(0)
        log.info("third")
        log.info("fourth")
        second_poll = buffer.since(first_poll[-1].seq)
    finally:
        log.removeHandler(buffer)
    assert first_poll[0].text.endswith("INFO    paycon.test.buffer first")
    assert first_poll[1].text.endswith("paycon.test.buffer second gateway=gateway_a")
    assert first_poll[1].level == "WARNING"
    assert [line.seq for line in second_poll] == [3, 4]
    assert [line.seq for line in buffer.since(0)] == [2, 3, 4]  # capacity 3: the first is gone


def test_log_buffer_can_be_read_while_other_threads_log() -> None:
    buffer = LogBuffer(capacity=50)
    log = logging.getLogger("paycon.test.threads")
    log.addHandler(buffer)
    log.setLevel(logging.INFO)
    stop = threading.Event()

    def chatter() -> None:
        while not stop.is_set():
            log.info("busy")

    threads = [threading.Thread(target=chatter) for _ in range(2)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so a read meets an append
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(buffer.since(0)) < 50:  # the threads fill the buffer first, then keep logging
            assert time.monotonic() < deadline, "the logging threads did not start"
            time.sleep(0.001)
        for _ in range(2000):  # each read copies the lines while they are being appended
            lines = buffer.since(0)
            assert [line.seq for line in lines] == sorted(line.seq for line in lines)
            assert len(lines) == 50  # never a half-copied buffer
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        sys.setswitchinterval(interval)
        log.removeHandler(buffer)


def test_the_console_log_file_rotates_and_keeps_a_few_old_files(tmp_path: Path) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    path = tmp_path / "logs" / "paycon.log"
    try:
        handler = setup_file_logging("INFO", path, max_bytes=2_000, backups=2)
        with contextlib.closing(handler):
            for number in range(200):
                logging.getLogger("paycon.test.rotate").info("line %d of a long run", number)
    finally:
        root.handlers[:], root.level = saved
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["paycon.log", "paycon.log.1", "paycon.log.2"]
    assert all(p.stat().st_size <= 2_000 for p in path.parent.iterdir())
    assert "line 199 of a long run" in path.read_text()


def test_control_characters_in_messages_and_extras_are_written_escaped() -> None:
    buffer = LogBuffer(capacity=5)
    log = logging.getLogger("paycon.test.escaped")
    log.addHandler(buffer)
    log.setLevel(logging.INFO)
    forged = "ref\n2026-01-01 00:00:00 INFO    paycon forged line"
    try:
        log.info("payment %s accepted", forged, extra={"holder": "Jane\x1b[2J\u202eeoD"})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed for %s", "x\r\x85y")
    finally:
        log.removeHandler(buffer)
    accepted, failed = (line.text for line in buffer.since(0))
    assert "\n" not in accepted
    assert "payment ref\\x0a2026-01-01 00:00:00 INFO    paycon forged line accepted" in accepted
    assert accepted.endswith("holder=Jane\\x1b[2J\\u202eeoD")
    first_line, *traceback = failed.splitlines()
    assert first_line.endswith("failed for x\\x0d\\x85y")
    assert traceback[-1] == "ValueError: boom"  # a traceback keeps its own lines
