"""The docs as a reader uses them.

The first-payment guide's shell blocks run as pasted, in order, in one shell
(as in a terminal), against a paycon the guide's own first block starts in a
folder of its own: a new database, a config written on first start, the
embedded mock gateways; the API guide's examples run after them. Links lead
to files and headings that exist; every ``paycon`` command, ``make`` target,
setting and ``PAYCON_*`` variable the docs name exists.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin

import httpx
import pytest
from pydantic import BaseModel

from paycon.cli.main import build_parser
from paycon.cli.tasks import TOKEN_ENV
from paycon.config import ENV_OVERRIDES, Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GUIDE = DOCS / "first-payment.md"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
# The guide's address; the test's paycon listens on a free port instead.
GUIDE_URL = "http://127.0.0.1:8080"
# Variables the guide itself sets, and the console's token variable.
GUIDE_VARIABLES = {"PAYCON_URL", "PAYCON_KEY", TOKEN_ENV}
CTRL_Q = "\\021"
BLOCK_TIMEOUT_S = 90.0


def shell_blocks(page: Path) -> list[str]:
    """The ```sh and ```bash blocks of ``page``, in order."""
    pattern = r"^```(?:sh|bash)\n(.*?)^```"
    return re.findall(pattern, page.read_text(), flags=re.DOTALL | re.MULTILINE)


def documents(printed: str) -> list[Any]:
    """The JSON documents ``printed`` holds, one after another."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(printed.rstrip()):
        while printed[at].isspace():
            at += 1
        document, at = decoder.raw_decode(printed, at)
        found.append(document)
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Terminal:
    """One bash that runs blocks one after another, so what a block sets is there for
    the next. It stops at the first command that fails (``-e``, ``pipefail``)."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    ran: int = 0

    def __post_init__(self) -> None:
        self._reader = threading.Thread(target=self._read, daemon=True, name="guide-terminal")
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def close(self) -> None:
        """End the shell (its input ends) and wait for it."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self._reader.join(timeout=30)
        self.process.stdout.close()

    def run(self, block: str, *, keys: str | None = None) -> str:
        """Run ``block`` with ``keys`` typed on its input (nothing by default); what it
        printed. Fails when a command of the block fails."""
        assert self.process.stdin is not None
        self.ran += 1
        marker = f"-- block {self.ran} done --"
        source = "/dev/null" if keys is None else f"<(printf '{keys}')"
        self.process.stdin.write(f"{{\n{block}\n}} < {source}\nprintf '\\n%s\\n' '{marker}'\n")
        self.process.stdin.flush()
        printed: list[str] = []
        deadline = time.monotonic() + BLOCK_TIMEOUT_S
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"still running after {BLOCK_TIMEOUT_S} s:\n{block}") from None
            if line is None:
                raise AssertionError(f"a command failed:\n{block}\nit printed:\n{''.join(printed)}")
            if line.rstrip("\n") == marker:
                return "".join(printed)
            printed.append(line)


@dataclass
class Guide:
    """The guide's folder, its running paycon and the second terminal."""

    folder: Path
    url: str
    client_key: str
    terminal: Terminal
    blocks: list[str]

    def run(self, block: str, *, keys: str | None = None) -> str:
        return self.terminal.run(block.replace(GUIDE_URL, self.url), keys=keys)

    def settled(self) -> None:
        """Wait, as a reader would a moment, until no payment is pending or submitted."""
        headers = {"Authorization": f"Bearer {self.client_key}"}
        deadline = time.monotonic() + 60
        while True:
            in_flight = [
                item["id"]
                for status in ("pending", "submitted")
                for item in httpx.get(
                    f"{self.url}/v1/transactions?status={status}", headers=headers, timeout=5
                ).json()["items"]
            ]
            if not in_flight:
                return
            assert time.monotonic() < deadline, f"still in flight: {in_flight}"
            time.sleep(0.05)


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(600):
        assert process.poll() is None, f"paycon exited: {log.read_text()}"
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"paycon did not start: {log.read_text()}")


@pytest.fixture
def guide(tmp_path: Path) -> Iterator[Guide]:
    """The guide's first block (it starts paycon) running in the background, as in a
    terminal of its own, in a folder that has only the installed ``.venv``."""
    blocks = shell_blocks(GUIDE)
    assert "paycon run" in blocks[0], "the guide starts with starting paycon"
    folder = tmp_path / "repository"
    folder.mkdir()
    (folder / ".venv").symlink_to(sys.prefix)
    assert (folder / ".venv" / "bin" / "paycon").exists(), "make install first"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYCON_")}
    # Free ports, so a paycon or mocks already on 8080-8082 are left alone.
    server_env = env | {
        "PAYCON_PORT": str(port),
        "PAYCON_GATEWAY_A_URL": f"http://127.0.0.1:{free_port()}",
        "PAYCON_GATEWAY_B_URL": f"http://127.0.0.1:{free_port()}",
    }
    log = tmp_path / "paycon.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        server = subprocess.Popen(
            ["bash", "-c", blocks[0]], cwd=folder, env=server_env, stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    terminal = Terminal(
        subprocess.Popen(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail"], cwd=folder, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
    )  # fmt: skip
    try:
        _wait_until_serving(url, server, log)
        [client_key] = re.findall(r"paycon: client API key: (pk_\S+)", log.read_text())
        yield Guide(folder, url, client_key, terminal, blocks[1:])
        # ctrl+c in paycon's terminal: a clean stop.
        os.killpg(server.pid, signal.SIGINT)
        assert server.wait(timeout=30) == 0, log.read_text()
    finally:
        terminal.close()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)


def _the_block(blocks: list[str], marker: str) -> str:
    [block] = [b for b in blocks if marker in b]
    return block


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_guides_work_as_pasted(guide: Guide) -> None:
    blocks = guide.blocks
    printed: dict[str, str] = {}
    for block in blocks:
        if "paycon console" in block:
            # The console takes the terminal; the reader quits it with ctrl+q.
            printed[block] = guide.run(block, keys=CTRL_Q)
            continue
        printed[block] = guide.run(block)
        if "Idempotency-Key: order-1001" in block:
            # Meanwhile other payments arrive, as the demo's do with `make run`.
            for n in range(3):
                response = httpx.post(
                    guide.url + "/v1/deposits",
                    json={"customer_id": "cus_7", "amount": "5.00", "currency": "EUR",
                          "country": "DE", "reference": f"other-{n}"},
                    headers={"Authorization": f"Bearer {guide.client_key}",
                             "Idempotency-Key": f"other-{n}"},
                    timeout=5,
                )  # fmt: skip
                assert response.status_code == 202, response.text
        if "PAYCON_KEY=" in block:
            # The key the guide takes from the file is the one paycon printed at start.
            assert guide.run('printf "%s\\n" "$PAYCON_KEY"').strip() == guide.client_key
        guide.settled()

    [deposit] = documents(printed[_the_block(blocks, "Idempotency-Key: order-1001")])
    assert (deposit["kind"], deposit["status"]) == ("deposit", "pending")
    assert (deposit["amount"], deposit["reference"]) == ("100.50", "order-1001")
    # Found by its reference among the others, and completed through the mock gateway.
    [read_back] = documents(printed[_the_block(blocks, "reference=order-1001")])
    assert (read_back["id"], read_back["status"]) == (deposit["id"], "completed")
    assert [e["type"] for e in read_back["events"]] == ["accepted", "submitted", "completed"]

    [withdrawal] = documents(printed[_the_block(blocks, "Idempotency-Key: payout-77")])
    assert (withdrawal["kind"], withdrawal["status"]) == ("withdrawal", "pending")
    assert withdrawal["destination"]["iban"] == "DE89 **** **** 3000"
    page, _ = documents(printed[_the_block(blocks, "reference=payout-77")])
    assert [(t["id"], t["status"]) for t in page["items"]] == [(withdrawal["id"], "completed")]

    balances = [documents(printed[b])[-1] for b in blocks if "cus_42/balances" in b]
    held = [(b["balances"][0]["available"], b["balances"][0]["held"]) for b in balances]
    assert held == [("100.50", "0.00"), ("80.50", "0.00")]

    operator = printed[_the_block(blocks, "paycon tasks list")]
    assert re.search(r"submit\s+done", operator), operator
    assert re.search(r"status_check\s+pending", operator), operator
    assert "ledger clean" in operator
    assert "no payment is held for review" in operator
    # The console opened on the running paycon: its title names it.
    assert f"paycon · {guide.url}" in printed[_the_block(blocks, "paycon console")]

    # The API guide's examples, in the same terminal afterwards: the same payments replay
    # their first answers, the others answer as the page says.
    examples = shell_blocks(DOCS / "api.md")
    api = {block: guide.run(block) for block in examples}
    [again] = documents(api[_the_block(examples, "Idempotency-Key: order-1001")])
    assert again == deposit
    [payout] = documents(api[_the_block(examples, "Idempotency-Key: payout-77")])
    assert payout == withdrawal
    [problem] = documents(api[_the_block(examples, "Idempotency-Key: bad-1")])
    assert problem["code"] == "invalid_request"
    assert [e["field"] for e in problem["errors"]] == ["customer_id", "amount"]
    stats, tasks, replayed = documents(api[_the_block(examples, "OPS=")])
    assert stats["counts"]["done"] >= 2
    assert {t["kind"] for t in tasks["items"]} <= {"submit", "status_check"}
    assert replayed == {"replayed": 0}
    soap = api[_the_block(examples, "SOAPAction")]
    assert "CreateDepositResponse" in soap
    assert "<status>pending</status>" in soap


def test_the_readme_example_is_the_guides() -> None:
    guide = "\n".join(shell_blocks(GUIDE))
    example = [b for b in shell_blocks(ROOT / "README.md") if "$PAYCON_" in b]
    assert example, "the README shows a first payment"
    for line in "\n".join(example).splitlines():
        assert line in guide, f"README's {line!r} is not in {GUIDE.name}, so no test runs it"


def _slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.DOTALL | re.MULTILINE)
    return {_slug(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}


def test_relative_links_lead_to_files_and_headings() -> None:
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []
    assert {p.name for p in PAGES} >= {
        "README.md", "first-payment.md", "api.md", "configuration.md", "operating.md",
        "architecture.md",
    }  # fmt: skip


def _code(page: Path) -> list[str]:
    """The lines of ``page``'s code blocks and its inline code spans."""
    text = page.read_text()
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    prose = re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
    spans = re.findall(r"`([^`\n]+)`", prose)
    return [line for block in blocks for line in block.splitlines()] + spans


def _commands_named() -> set[tuple[str, ...]]:
    """``paycon`` commands the docs tell a reader to type: at the start of a code line or
    span (after a prompt, a path or variables), with their action when they have one."""
    named = set()
    command = re.compile(
        r"^\s*(?:\$ )?(?:[A-Z_]+=\S+ )*(?:\.venv/bin/)?paycon ([a-z][a-z-]*)(?: ([a-z]+)\b)?"
    )
    for page in PAGES:
        for line in _code(page):
            found = command.match(line)
            if found:
                named.add(tuple(word for word in found.groups() if word))
    return named


def test_every_paycon_command_in_the_docs_exists() -> None:
    named = _commands_named()
    assert ("tasks", "list") in named  # the pattern finds commands
    missing = []
    for words in sorted(named):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                build_parser().parse_args([*words, "--help"])
            except SystemExit as stop:
                if stop.code != 0:
                    missing.append(f"paycon {' '.join(words)}: {out.getvalue().strip()}")
    assert missing == []


def test_every_make_target_in_the_docs_exists() -> None:
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    named = {
        found.group(1)
        for page in PAGES
        for line in _code(page)
        if (found := re.match(r"^\s*make ([a-z][a-z-]*)", line))
    }
    assert {"run", "test"} <= named
    assert named - targets == set()


def _setting_names(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Dotted names of every setting, as the reference writes them: ``gateways.<name>.url``
    for a table per name, ``routing.rules[].kinds`` for a list of tables."""
    names = set()
    for name, info in model.model_fields.items():
        kind = info.annotation
        tables = [a for a in get_args(kind) if isinstance(a, type) and issubclass(a, BaseModel)]
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            names |= _setting_names(kind, f"{prefix}{name}.")
        elif tables and get_origin(kind) is dict:
            names |= _setting_names(tables[0], f"{prefix}{name}.<name>.")
        elif tables:
            names |= _setting_names(tables[0], f"{prefix}{name}[].")
        else:
            names.add(prefix + name)
    return names


def test_the_configuration_reference_names_every_setting_and_variable() -> None:
    reference = (DOCS / "configuration.md").read_text()
    assert [s for s in sorted(_setting_names(Settings)) if f"`{s}`" not in reference] == []
    assert [v for v in ENV_OVERRIDES if f"`{v}`" not in reference] == []
    named = {v for page in PAGES for v in re.findall(r"\bPAYCON_[A-Z_]*[A-Z]", page.read_text())}
    assert named - set(ENV_OVERRIDES) - GUIDE_VARIABLES == set()
