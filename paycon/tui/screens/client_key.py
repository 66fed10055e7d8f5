"""The client API key: where it is kept, shown masked, copied to the clipboard on request."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from paycon.domain.masking import mask_key
from paycon.tui.context import ClientKey
from paycon.tui.screens.modals import MODAL_CSS


class ClientKeyScreen(ModalScreen[None]):
    """Where the client key is and what it looks like (masked); ``c`` copies it whole."""

    DEFAULT_CSS = MODAL_CSS.format(name="ClientKeyScreen")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy", "Copy the key"),
        Binding("escape", "close", "Close"),
    ]

    def __init__(self, client_key: ClientKey) -> None:
        super().__init__()
        self._client_key = client_key

    def compose(self) -> ComposeResult:
        key = self._client_key
        with Vertical():
            yield Label("Client API key", classes="title")
            yield Static(Text(mask_key(key.key), style="bold"), id="masked")
            yield Static(
                Text(
                    f"Merchants' requests send it as Authorization: Bearer <key>. It is kept "
                    f"in {key.where} (auth.client_api_keys). c copies it to the clipboard."
                ),
                id="where",
            )
            with Horizontal():
                yield Button("Copy", variant="primary", id="copy")
                yield Button("Close", id="close")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "copy":
            self.action_copy()
        else:
            self.dismiss(None)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self._client_key.key)
        self.notify(
            "The client API key is on the clipboard.", title="Copied", markup=False, timeout=4
        )
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
