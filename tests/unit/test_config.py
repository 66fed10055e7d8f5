from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from paycon.cli.main import main
from paycon.config import ensure_config_file, load_settings
from paycon.domain.errors import ConfigError


def test_first_run_writes_a_private_config_with_fresh_secrets(tmp_path: Path) -> None:
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    assert ensure_config_file(first) is True
    assert ensure_config_file(first) is False
    ensure_config_file(second)
    a, b = tomllib.loads(first.read_text()), tomllib.loads(second.read_text())
    assert a["auth"]["client_api_keys"] != b["auth"]["client_api_keys"]
    assert first.stat().st_mode & 0o777 == 0o600
    settings = load_settings(first, {})
    assert settings.database.sqlite_synchronous == "FULL"
    assert settings.routing_table().default == ("gateway_a", "gateway_b")


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "paycon.toml"
    ensure_config_file(path)
    settings = load_settings(
        path,
        {
            "PAYCON_PORT": "9999",
            "PAYCON_CLIENT_API_KEYS": "pk_aaaaaaaaaaaaaaaa, pk_bbbbbbbbbbbbbbbb",
            "PAYCON_DATABASE_URL": "sqlite+aiosqlite:///x.db",
            "PAYCON_GATEWAY_B_URL": "http://127.0.0.1:7000",
            "PAYCON_SQLITE_SYNCHRONOUS": "normal",
            "PAYCON_BREAKER_FAIL_MAX": "3",
            "PAYCON_OUTBOX_LEASE_S": "12",
        },
    )
    assert settings.server.port == 9999
    assert settings.auth.client_api_keys == ("pk_aaaaaaaaaaaaaaaa", "pk_bbbbbbbbbbbbbbbb")
    assert settings.database.url == "sqlite+aiosqlite:///x.db"
    assert settings.gateways["gateway_b"].url == "http://127.0.0.1:7000"
    assert settings.database.sqlite_synchronous == "NORMAL"
    assert settings.breaker.fail_max == 3
    assert settings.outbox.lease_s == 12


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"PAYCON_PORT": "eighty"}, "PAYCON_PORT"),
        ({"PAYCON_PORT": "70000"}, "PAYCON_PORT"),
        ({"PAYCON_DATABASE_URL": "mysql://x"}, "PAYCON_DATABASE_URL"),
        ({"PAYCON_WORKERS": "-1"}, "PAYCON_WORKERS"),
        ({"PAYCON_OUTBOX_LEASE_S": "0.1"}, "PAYCON_OUTBOX_LEASE_S"),
        ({"PAYCON_MOCK_GATEWAYS": "sometimes"}, "PAYCON_MOCK_GATEWAYS"),
        ({"PAYCON_CLIENT_API_KEYS": "short"}, "PAYCON_CLIENT_API_KEYS"),
        ({"PAYCON_WEBHOOK_SECRETS": "short"}, "PAYCON_WEBHOOK_SECRETS"),
        ({"PAYCON_NOTIFY_ALLOW_PRIVATE": "perhaps"}, "PAYCON_NOTIFY_ALLOW_PRIVATE"),
        ({"PAYCON_NOTIFY_CONCURRENCY": "0"}, "PAYCON_NOTIFY_CONCURRENCY"),
    ],
)
def test_invalid_setting_is_one_line_naming_it(
    tmp_path: Path, environ: dict[str, str], named: str
) -> None:
    path = tmp_path / "paycon.toml"
    ensure_config_file(path)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ)
    message = caught.value.detail
    assert named in message
    assert "\n" not in message


def test_invalid_file_setting_names_the_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "paycon.toml"
    path.write_text('[outbox]\nretry_base_s = "soon"\n')
    with pytest.raises(ConfigError, match=r"outbox\.retry_base_s in .*paycon\.toml"):
        load_settings(path, {})


def test_routing_to_an_unconfigured_gateway_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "paycon.toml"
    path.write_text('[routing]\ndefault = ["gateway_x"]\n')
    with pytest.raises(ConfigError, match="gateway_x"):
        load_settings(path, {})


def test_broken_toml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "paycon.toml"
    path.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, {})


def test_first_run_generates_a_webhook_secret_of_its_own(tmp_path: Path) -> None:
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    ensure_config_file(first)
    ensure_config_file(second)
    a, b = load_settings(first, {}), load_settings(second, {})
    (secret,) = a.notify.webhook_secrets
    assert len(secret) >= 32
    assert a.notify.webhook_secrets != b.notify.webhook_secrets
    assert secret not in a.auth.client_api_keys + a.auth.operator_api_keys
    assert a.notify.allow_private is False


def test_notification_settings_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "paycon.toml"
    ensure_config_file(path)
    settings = load_settings(
        path,
        {
            "PAYCON_WEBHOOK_SECRETS": "whsec_new_0123456789, whsec_old_0123456789",
            "PAYCON_NOTIFY_ALLOW_PRIVATE": "1",
            "PAYCON_NOTIFY_CONCURRENCY": "4",
            "PAYCON_NOTIFY_DEADLINE_S": "2.5",
            "PAYCON_NOTIFY_RESOLVE_TIMEOUT_S": "0.5",
        },
    )
    assert settings.notify.webhook_secrets == ("whsec_new_0123456789", "whsec_old_0123456789")
    assert settings.notify.allow_private is True
    assert (settings.notify.concurrency, settings.notify.deadline_s) == (4, 2.5)
    assert settings.notify.resolve_timeout_s == 0.5


def test_a_webhook_secret_may_not_be_an_api_key(tmp_path: Path) -> None:
    path = tmp_path / "paycon.toml"
    ensure_config_file(path)
    key = "pk_shared_0123456789abcdef"
    with pytest.raises(ConfigError, match="webhook_secrets must not repeat an API key"):
        load_settings(path, {"PAYCON_CLIENT_API_KEYS": key, "PAYCON_WEBHOOK_SECRETS": key})


def test_paycon_config_shows_the_notification_settings_with_secrets_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "paycon.toml"
    ensure_config_file(path)
    secret = load_settings(path, {}).notify.webhook_secrets[0]
    assert main(["config", "--config", str(path)], environ={}) == 0
    shown = capsys.readouterr().out
    notify = json.loads(shown[shown.index("{") :])["notify"]
    assert notify["webhook_secrets"] == ["…"]
    assert notify["allow_private"] is False
    assert secret not in shown


def test_a_config_from_before_the_signing_secrets_gets_them_derived(tmp_path: Path) -> None:
    path = tmp_path / "paycon.toml"
    ensure_config_file(path)
    text = path.read_text()
    old = "\n".join(
        line for line in text.splitlines()
        if not line.startswith(("fingerprint_keys", "webhook_secrets"))
    )  # fmt: skip
    path.write_text(old)
    first, again = load_settings(path, {}), load_settings(path, {})
    (fingerprint,) = first.security.fingerprint_keys
    (webhook,) = first.notify.webhook_secrets
    # The same at every start, different from each other and from the key they come from.
    assert (fingerprint, webhook) == (
        again.security.fingerprint_keys[0], again.notify.webhook_secrets[0],
    )  # fmt: skip
    assert len({fingerprint, webhook, first.security.encryption_keys[0]}) == 3
    assert len(webhook) == 64
    # An explicit value wins.
    chosen = load_settings(path, {"PAYCON_WEBHOOK_SECRETS": "whsec_chosen_0123456789"})
    assert chosen.notify.webhook_secrets == ("whsec_chosen_0123456789",)
    assert chosen.security.fingerprint_keys == (fingerprint,)
