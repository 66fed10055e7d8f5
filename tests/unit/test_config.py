from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

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
        },
    )
    assert settings.server.port == 9999
    assert settings.auth.client_api_keys == ("pk_aaaaaaaaaaaaaaaa", "pk_bbbbbbbbbbbbbbbb")
    assert settings.database.url == "sqlite+aiosqlite:///x.db"
    assert settings.gateways["gateway_b"].url == "http://127.0.0.1:7000"
    assert settings.database.sqlite_synchronous == "NORMAL"
    assert settings.breaker.fail_max == 3


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"PAYCON_PORT": "eighty"}, "PAYCON_PORT"),
        ({"PAYCON_PORT": "70000"}, "PAYCON_PORT"),
        ({"PAYCON_DATABASE_URL": "mysql://x"}, "PAYCON_DATABASE_URL"),
        ({"PAYCON_WORKERS": "-1"}, "PAYCON_WORKERS"),
        ({"PAYCON_MOCK_GATEWAYS": "sometimes"}, "PAYCON_MOCK_GATEWAYS"),
        ({"PAYCON_CLIENT_API_KEYS": "short"}, "PAYCON_CLIENT_API_KEYS"),
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
