"""Routing: which gateways, in which order, may carry a payment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from paycon.domain.errors import GatewayNotAllowed, NoRoute, RoutingPaused
from paycon.domain.status import Kind


@dataclass(frozen=True)
class RouteRule:
    """Payments matching every non-empty criterion go to ``gateways`` in order."""

    gateways: tuple[str, ...]
    countries: frozenset[str] = frozenset()
    currencies: frozenset[str] = frozenset()
    kinds: frozenset[Kind] = frozenset()

    def matches(self, kind: Kind, country: str, currency: str) -> bool:
        return (
            (not self.countries or country in self.countries)
            and (not self.currencies or currency in self.currencies)
            and (not self.kinds or kind in self.kinds)
        )


@dataclass(frozen=True)
class RoutingTable:
    """Rules in priority order, a default list, and what each gateway serves.

    ``gateway_currencies`` maps every configured gateway to the currencies it
    serves (an empty set means all).
    """

    rules: tuple[RouteRule, ...]
    default: tuple[str, ...]
    gateway_currencies: Mapping[str, frozenset[str]]

    def serves(self, gateway: str, currency: str) -> bool:
        currencies = self.gateway_currencies.get(gateway)
        return currencies is not None and (not currencies or currency in currencies)

    def route(
        self,
        kind: Kind,
        country: str,
        currency: str,
        pinned: str | None = None,
        *,
        disabled: frozenset[str] = frozenset(),
    ) -> tuple[str, ...]:
        """The ordered gateways for a payment; a pinned gateway is used alone.

        Gateways in ``disabled`` (taken out of routing by an operator) are
        left out. Raises GatewayNotAllowed if the pinned gateway is unknown,
        does not serve the currency or is out of routing, NoRoute if no
        gateway serves the payment, RoutingPaused if the ones that do are all
        out of routing.
        """
        if pinned is not None:
            if pinned not in self.gateway_currencies:
                raise GatewayNotAllowed(f"unknown gateway {pinned!r}")
            if not self.serves(pinned, currency):
                raise GatewayNotAllowed(f"gateway {pinned!r} does not serve {currency}")
            if pinned in disabled:
                raise GatewayNotAllowed(
                    f"gateway {pinned!r} is out of routing (taken out by an operator); "
                    "leave out the gateway or choose another"
                )
            return (pinned,)
        candidates = next(
            (rule.gateways for rule in self.rules if rule.matches(kind, country, currency)),
            self.default,
        )
        serving = tuple(g for g in candidates if self.serves(g, currency))
        route = tuple(g for g in serving if g not in disabled)
        if not serving:
            raise NoRoute(f"no configured gateway serves {kind} in {currency} for {country}")
        if not route:
            raise RoutingPaused(
                f"every gateway that serves {kind} in {currency} for {country} "
                f"({', '.join(serving)}) is out of routing; retry later"
            )
        return route
