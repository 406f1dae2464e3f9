"""What both stand-ins share: plain values out of PropertyValues, diffs, dispatch by type."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.provider.experimental.provider import (
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    DiffRequest,
    DiffResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
)

UNKNOWN = object()


def plain(value: PropertyValue) -> Any:
    """The Python value inside a PropertyValue (secrets unwrapped, unknowns as UNKNOWN)."""
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {k: plain(v) for k, v in inner.items()}
    if isinstance(inner, list | tuple):
        return [plain(v) for v in inner]
    return inner


def plain_map(props: Mapping[str, PropertyValue]) -> dict[str, Any]:
    return {k: plain(v) for k, v in props.items()}


def new_id() -> str:
    return secrets.token_hex(8)


def diff_inputs(
    olds: Mapping[str, PropertyValue], news: Mapping[str, PropertyValue], inputs: set[str], replace_on: set[str] | None
) -> DiffResponse:
    """Compare the inputs a resource declares; `replace_on` None means every change replaces.
    Values are compared as plain data (an unknown counts as a change): the SDK's own equality
    cannot compare unknowns."""

    def value(props: Mapping[str, PropertyValue], key: str) -> Any:
        return plain(props[key]) if key in props else None

    changed = sorted(k for k in inputs if value(olds, k) != value(news, k) or value(news, k) is UNKNOWN)
    replaces = [k for k in changed if replace_on is None or k in replace_on]
    detailed = {
        k: PropertyDiff(PropertyDiffKind.UPDATE_REPLACE if k in replaces else PropertyDiffKind.UPDATE, True)
        for k in changed
    }
    return DiffResponse(changes=bool(changed), replaces=replaces, detailed_diff=detailed)


class StandIn(Provider):
    """Accepts secrets, supports preview, echoes inputs on check and read."""

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        return CheckResponse(inputs=request.new_inputs)

    async def diff_config(self, request: DiffRequest) -> DiffResponse:
        return DiffResponse(changes=False)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        self.config = plain_map(request.args)
        self.variables = dict(request.variables)
        return ConfigureResponse(accept_secrets=True, supports_preview=True, accept_resources=True)

    async def check(self, request: CheckRequest) -> CheckResponse:
        return CheckResponse(inputs=request.new_inputs)

    async def read(self, request: ReadRequest) -> ReadResponse:
        return ReadResponse(request.resource_id, request.properties, request.inputs)
