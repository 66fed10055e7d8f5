"""Settings: one typed object built at the entry point and passed down.

Sources, later ones winning: built-in defaults, the TOML file (default
``data/paycon.toml``, written with generated secrets on first run), then
``PAYCON_*`` environment variables. No other module reads the environment.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from cryptography.fernet import Fernet
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from paycon.domain.errors import ConfigError
from paycon.domain.money import CURRENCY_EXPONENTS
from paycon.domain.routing import RouteRule, RoutingTable
from paycon.domain.status import Kind

DEFAULT_CONFIG_PATH = Path("data/paycon.toml")
GATEWAY_NAMES = ("gateway_a", "gateway_b")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    public_url: str = ""
    max_body_bytes: Annotated[int, Field(ge=1024)] = 64 * 1024


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///data/paycon.db"
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "FULL"
    sqlite_busy_timeout_ms: Annotated[int, Field(ge=0)] = 5000
    read_pool_size: Annotated[int, Field(ge=1, le=64)] = 4
    # Units per group commit. SQLite runs a batch on the event loop, so this bounds
    # how long the loop is busy with one.
    max_batch: Annotated[int, Field(ge=1, le=10_000)] = 128

    @field_validator("url")
    @classmethod
    def _known_driver(cls, url: str) -> str:
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return url


class AuthSettings(_Section):
    client_api_keys: tuple[str, ...] = ()
    operator_api_keys: tuple[str, ...] = ()

    @field_validator("client_api_keys", "operator_api_keys")
    @classmethod
    def _long_enough(cls, keys: tuple[str, ...]) -> tuple[str, ...]:
        for key in keys:
            if len(key) < 16 or not key.isprintable() or " " in key:
                raise ValueError("API keys are at least 16 printable characters without spaces")
        return keys


class OutboxSettings(_Section):
    # 0: this process runs no outbox workers (an API-only node; others do the work).
    workers: Annotated[int, Field(ge=0, le=256)] = 8
    max_attempts: Annotated[int, Field(ge=1, le=1000)] = 10
    retry_base_s: Annotated[float, Field(gt=0)] = 1.0
    retry_max_s: Annotated[float, Field(gt=0)] = 300.0
    status_check_after_s: Annotated[float, Field(gt=0)] = 60.0
    # A claimed task is taken back from a process that stopped renewing its claim this long
    # (it died or stalled); renewed every third of it while the task runs.
    lease_s: Annotated[float, Field(ge=1, le=3600)] = 30.0

    @model_validator(mode="after")
    def _retry_bounds(self) -> OutboxSettings:
        if self.retry_max_s < self.retry_base_s:
            raise ValueError("retry_max_s must be at least retry_base_s")
        return self


class GatewayHttpSettings(_Section):
    connect_timeout_s: Annotated[float, Field(gt=0)] = 2.0
    # Past this a submission is ambiguous and its status is asked before anything else.
    read_timeout_s: Annotated[float, Field(gt=0)] = 10.0


class ReviewSettings(_Section):
    # A payment still pending or submitted this long after it was accepted is held for review.
    in_flight_max_age_s: Annotated[float, Field(gt=0)] = 3600.0
    # How often the review watch looks for dead tasks and payments in flight too long.
    watch_every_s: Annotated[float, Field(gt=0)] = 5.0
    # A gateway's "not known" proves a payment never reached it only this long after
    # the last request that may have reached it ended.
    not_known_margin_s: Annotated[float, Field(ge=0)] = 60.0
    # A gateway refusing our credentials is asked again after this long (no attempt used).
    credentials_retry_s: Annotated[float, Field(gt=0)] = 30.0
    # How often the service checks the ledger's invariants on what changed.
    ledger_check_every_s: Annotated[float, Field(gt=0)] = 60.0


class BreakerSettings(_Section):
    fail_max: Annotated[int, Field(ge=1)] = 5
    reset_s: Annotated[float, Field(gt=0)] = 30.0


class GatewaySettings(_Section):
    url: str
    secret: str
    # Wire protocol: "json" (gateway A's) or "xml" (gateway B's); gateway_a and
    # gateway_b default to theirs.
    protocol: Literal["json", "xml"] | None = None
    # Currencies the gateway serves; empty means every supported currency.
    currencies: tuple[str, ...] = ()

    @field_validator("currencies")
    @classmethod
    def _supported(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in codes if c not in CURRENCY_EXPONENTS]
        if unknown:
            raise ValueError(f"unsupported currencies {unknown}")
        return codes


class RouteRuleSettings(_Section):
    gateways: tuple[str, ...]
    countries: tuple[str, ...] = ()
    currencies: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] = ()


class RoutingSettings(_Section):
    default: tuple[str, ...] = ()
    rules: tuple[RouteRuleSettings, ...] = ()


class LimitSettings(_Section):
    max_amount: Decimal = Decimal("1000000")
    max_amount_by_currency: dict[str, Decimal] = Field(default_factory=dict)

    def max_for(self, currency: str) -> Decimal:
        return self.max_amount_by_currency.get(currency, self.max_amount)


class SecuritySettings(_Section):
    # Fernet keys for account data at rest; the first encrypts, all decrypt (rotation).
    encryption_keys: tuple[str, ...] = ()
    # HMAC keys of the stored request fingerprints (idempotency); the first computes,
    # all compare (rotation).
    fingerprint_keys: tuple[str, ...] = ()


class NotifySettings(_Section):
    """Merchant notifications (outbound webhooks) to each payment's ``notify_url``."""

    # HMAC keys that sign notifications; the first signs, and every one listed signs
    # too (several ``v1`` entries) while merchants move to a new one. Never API keys.
    webhook_secrets: tuple[str, ...] = ()
    # Local development and tests only: plain http, and loopback, private and every
    # other non-public address, are accepted (and names are not resolved at acceptance).
    allow_private: bool = False
    # Notifications delivered at once, by workers of their own (never the gateways').
    concurrency: Annotated[int, Field(ge=1, le=256)] = 16
    # One delivery, from resolving the name to the last byte read, takes at most this.
    deadline_s: Annotated[float, Field(gt=0, le=300)] = 10.0
    # How long acceptance waits for the notify_url's name to resolve.
    resolve_timeout_s: Annotated[float, Field(gt=0, le=30)] = 2.0

    @field_validator("webhook_secrets")
    @classmethod
    def _long_enough(cls, secrets: tuple[str, ...]) -> tuple[str, ...]:
        for secret in secrets:
            if len(secret) < 16 or not secret.isprintable() or " " in secret:
                raise ValueError(
                    "webhook secrets are at least 16 printable characters without spaces"
                )
        return secrets


class Settings(_Section):
    """Everything paycon needs to run, validated."""

    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    auth: AuthSettings = AuthSettings()
    outbox: OutboxSettings = OutboxSettings()
    breaker: BreakerSettings = BreakerSettings()
    review: ReviewSettings = ReviewSettings()
    gateway_http: GatewayHttpSettings = GatewayHttpSettings()
    mock_gateways: Literal["embedded", "off"] = "embedded"
    gateways: dict[str, GatewaySettings] = Field(default_factory=dict)
    routing: RoutingSettings = RoutingSettings()
    limits: LimitSettings = LimitSettings()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    security: SecuritySettings = SecuritySettings()
    notify: NotifySettings = NotifySettings()

    @field_validator("notify")
    @classmethod
    def _webhook_secrets_are_not_api_keys(
        cls, notify: NotifySettings, info: ValidationInfo
    ) -> NotifySettings:
        # An API key travels as a bearer token; a signing secret never leaves paycon.
        auth = info.data.get("auth")
        keys = set(auth.client_api_keys) | set(auth.operator_api_keys) if auth else set()
        if keys & set(notify.webhook_secrets):
            raise ValueError("webhook_secrets must not repeat an API key")
        return notify

    @model_validator(mode="after")
    def _routes_name_configured_gateways(self) -> Settings:
        named = set(self.routing.default) | {g for r in self.routing.rules for g in r.gateways}
        unknown = sorted(named - set(self.gateways))
        if unknown:
            raise ValueError(f"routing names gateways that are not configured: {unknown}")
        return self

    @property
    def public_url(self) -> str:
        """Base URL gateways call back to."""
        if self.server.public_url:
            return self.server.public_url.rstrip("/")
        return f"http://{self.server.host}:{self.server.port}"

    def routing_table(self) -> RoutingTable:
        """The routing rules as the domain uses them.

        Without a default list, every configured gateway in name order.
        """
        return RoutingTable(
            rules=tuple(
                RouteRule(
                    gateways=rule.gateways,
                    countries=frozenset(rule.countries),
                    currencies=frozenset(rule.currencies),
                    kinds=frozenset(rule.kinds),
                )
                for rule in self.routing.rules
            ),
            default=self.routing.default or tuple(sorted(self.gateways)),
            gateway_currencies={
                name: frozenset(gw.currencies) for name, gw in self.gateways.items()
            },
        )


# Environment variable → (path into the settings tree, parser of its text).
def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


ENV_OVERRIDES: dict[str, tuple[tuple[str, ...], Any]] = {
    "PAYCON_DATABASE_URL": (("database", "url"), str),
    "PAYCON_SQLITE_SYNCHRONOUS": (("database", "sqlite_synchronous"), str.upper),
    "PAYCON_HOST": (("server", "host"), str),
    "PAYCON_PORT": (("server", "port"), str),
    "PAYCON_PUBLIC_URL": (("server", "public_url"), str),
    "PAYCON_CLIENT_API_KEYS": (("auth", "client_api_keys"), _csv),
    "PAYCON_OPERATOR_API_KEYS": (("auth", "operator_api_keys"), _csv),
    "PAYCON_WORKERS": (("outbox", "workers"), str),
    "PAYCON_OUTBOX_MAX_ATTEMPTS": (("outbox", "max_attempts"), str),
    "PAYCON_RETRY_BASE_S": (("outbox", "retry_base_s"), str),
    "PAYCON_RETRY_MAX_S": (("outbox", "retry_max_s"), str),
    "PAYCON_STATUS_CHECK_AFTER_S": (("outbox", "status_check_after_s"), str),
    "PAYCON_OUTBOX_LEASE_S": (("outbox", "lease_s"), str),
    "PAYCON_REVIEW_IN_FLIGHT_MAX_AGE_S": (("review", "in_flight_max_age_s"), str),
    "PAYCON_REVIEW_WATCH_EVERY_S": (("review", "watch_every_s"), str),
    "PAYCON_NOT_KNOWN_MARGIN_S": (("review", "not_known_margin_s"), str),
    "PAYCON_CREDENTIALS_RETRY_S": (("review", "credentials_retry_s"), str),
    "PAYCON_BREAKER_FAIL_MAX": (("breaker", "fail_max"), str),
    "PAYCON_BREAKER_RESET_S": (("breaker", "reset_s"), str),
    "PAYCON_MOCK_GATEWAYS": (("mock_gateways",), str),
    "PAYCON_GATEWAY_A_URL": (("gateways", "gateway_a", "url"), str),
    "PAYCON_GATEWAY_B_URL": (("gateways", "gateway_b", "url"), str),
    "PAYCON_GATEWAY_A_SECRET": (("gateways", "gateway_a", "secret"), str),
    "PAYCON_GATEWAY_B_SECRET": (("gateways", "gateway_b", "secret"), str),
    "PAYCON_LOG_LEVEL": (("log_level",), str.upper),
    "PAYCON_FINGERPRINT_KEYS": (("security", "fingerprint_keys"), _csv),
    "PAYCON_WEBHOOK_SECRETS": (("notify", "webhook_secrets"), _csv),
    "PAYCON_NOTIFY_ALLOW_PRIVATE": (("notify", "allow_private"), str),
    "PAYCON_NOTIFY_CONCURRENCY": (("notify", "concurrency"), str),
    "PAYCON_NOTIFY_DEADLINE_S": (("notify", "deadline_s"), str),
    "PAYCON_NOTIFY_RESOLVE_TIMEOUT_S": (("notify", "resolve_timeout_s"), str),
}


def default_config_text() -> str:
    """A complete config file with freshly generated keys and secrets."""
    client_key = "pk_" + secrets.token_urlsafe(24)
    operator_key = "ok_" + secrets.token_urlsafe(24)
    return f"""\
# paycon configuration, generated on first run. Keep it secret: it holds API keys.
# Every setting can be overridden by an environment variable (PAYCON_PORT, ...).

log_level = "INFO"
# "embedded" starts the mock gateways inside paycon where the gateway URLs point.
mock_gateways = "embedded"

[server]
host = "127.0.0.1"
port = 8080
# Base URL gateways call back to; empty means http://host:port.
public_url = ""

[database]
url = "sqlite+aiosqlite:///data/paycon.db"
sqlite_synchronous = "FULL"

[auth]
# Merchants' keys: create and read payments.
client_api_keys = ["{client_key}"]
# Operators' keys: everything clients may do, plus the outbox and gateway routes.
operator_api_keys = ["{operator_key}"]

[outbox]
workers = 8
max_attempts = 10
retry_base_s = 1.0
retry_max_s = 300.0
status_check_after_s = 60
# A task whose process stops renewing its claim this long is run again elsewhere.
lease_s = 30

[breaker]
fail_max = 5
reset_s = 30

[review]
# Payments still in flight this long after acceptance are held for an operator.
in_flight_max_age_s = 3600
watch_every_s = 5
# A gateway's "not known" counts as proof only this long after the last send ended.
not_known_margin_s = 60
credentials_retry_s = 30

[limits]
max_amount = "1000000"

[limits.max_amount_by_currency]
JPY = "100000000"
KRW = "1000000000"

[security]
# Fernet keys encrypting withdrawal accounts at rest. To rotate, put a new key first.
encryption_keys = ["{Fernet.generate_key().decode()}"]
# Keys of the request fingerprints stored for idempotency (HMAC-SHA256). To rotate,
# put a new key first and keep the old one until its idempotency keys are done with.
fingerprint_keys = ["{secrets.token_hex(32)}"]

[notify]
# Secrets that sign merchant notifications (X-Signature: t=...,v1=...). To rotate,
# put a new one first: while both are listed every notification carries both
# signatures; remove the old one once merchants verify with the new one.
webhook_secrets = ["{secrets.token_hex(32)}"]
# true only for local development: plain http and loopback/private addresses.
allow_private = false
# Notifications delivered at once, and the deadline of one delivery.
concurrency = 16
deadline_s = 10
resolve_timeout_s = 2

[gateways.gateway_a]
url = "http://127.0.0.1:8081"
secret = "{secrets.token_hex(32)}"
currencies = []

[gateways.gateway_b]
url = "http://127.0.0.1:8082"
secret = "{secrets.token_hex(32)}"
currencies = []

[routing]
# Without rules, every payment tries the default list in order.
default = ["gateway_a", "gateway_b"]

# [[routing.rules]]
# countries = ["DE", "AT"]
# currencies = ["EUR"]
# kinds = ["withdrawal"]
# gateways = ["gateway_b", "gateway_a"]
"""


def ensure_config_file(path: Path) -> bool:
    """Write a default config with generated secrets if ``path`` is missing.

    Returns True when the file was created.
    """
    if path.exists():
        return False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(default_config_text())
    return True


# Secrets a config written before they existed gets from its first encryption key.
_DERIVED_SECRETS = {
    ("security", "fingerprint_keys"): b"paycon request fingerprint key v1",
    ("notify", "webhook_secrets"): b"paycon webhook secret v1",
}


def _derive_missing_secrets(raw: dict[str, Any]) -> None:
    """Fill in the secrets ``raw`` lacks, each an HMAC-SHA256 of its own label under the
    first encryption key: an older config starts as before, with secrets as secret as
    that key and the same at every start. Explicit values (file or environment) win."""
    keys = raw.get("security", {}).get("encryption_keys")
    if not isinstance(keys, list) or not keys or not isinstance(keys[0], str):
        return
    for (table, name), label in _DERIVED_SECRETS.items():
        section = raw.setdefault(table, {})
        if isinstance(section, dict) and not section.get(name):
            section[name] = [hmac.new(keys[0].encode(), label, hashlib.sha256).hexdigest()]


def load_settings(path: Path, environ: Mapping[str, str]) -> Settings:
    """Build the settings from ``path`` and ``environ``.

    Raises ConfigError with one line naming the offending setting.
    """
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    _derive_missing_secrets(raw)
    origin: dict[tuple[str, ...], str] = {}
    for name, (where, parse) in ENV_OVERRIDES.items():
        if name in environ:
            node = raw
            for key in where[:-1]:
                node = node.setdefault(key, {})
            node[where[-1]] = parse(environ[name])
            origin[where] = name
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(str(part) for part in first["loc"]) or ("routing",)
        source = origin.get(loc, f"{'.'.join(loc)} in {path}")
        raise ConfigError(f"invalid setting {source}: {first['msg']}") from None
