"""The load phases: read a stack's config, merge it over the derived defaults, validate.

load_stack_config -> merge over lab_defaults(group) -> schema (pydantic) -> lab rules.
Each phase stops at the first bad input with a ConfigError naming the config key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from vxlab.defaults import lab_defaults
from vxlab.errors import NAMESPACE, ConfigError, config_key
from vxlab.model import Lab
from vxlab.naming import MAX_GROUP
from vxlab.rules import check_lab

# Config keys of the project that are not lab data: the SSH private key is a Pulumi secret.
NOT_IN_MODEL = frozenset({"ssh_private_key"})


def stack_file(project_dir: Path, stack: str) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def list_stacks(project_dir: Path) -> list[str]:
    """Every stack that has a Pulumi.<stack>.yaml in the project."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def load_stack_config(project_dir: Path, stack: str) -> dict[str, Any]:
    """The `vxlab:` keys of a stack file, without the namespace."""
    path = stack_file(project_dir, stack)
    if not path.is_file():
        known = ", ".join(list_stacks(project_dir)) or "none"
        raise ConfigError(
            "--stack",
            f"no file {path.name} in {project_dir}",
            f"use one of the project's stacks ({known}) or create {path.name}",
        )
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(path.name, f"not valid YAML ({str(exc).splitlines()[0]})", "fix the YAML syntax") from None
    return config_from_pulumi(doc.get("config") or {}, source=path.name)


def config_from_pulumi(raw: Mapping[str, Any], source: str = "config") -> dict[str, Any]:
    """Strip the project namespace from Pulumi config keys; reject other namespaces' keys
    only when they look like typos of ours."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        ns, sep, name = str(key).partition(":")
        if not sep:
            raise ConfigError(str(key), f"config key without a namespace in {source}", f"write it as {NAMESPACE}:{key}")
        if ns == NAMESPACE and name not in NOT_IN_MODEL:
            out[name] = _as_pulumi_reads(value)
    return out


def _as_pulumi_reads(value: Any) -> Any:
    """A top-level value as `pulumi.Config.get_object` gives it to the program: Pulumi rewrites
    stack files with scalar values quoted (`vxlab:group: "39"`) and decodes them as JSON."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    return override


def _group_of(config: Mapping[str, Any]) -> int:
    group = config.get("group", 0)
    if isinstance(group, bool) or not isinstance(group, int) or not 0 <= group <= MAX_GROUP:
        raise ConfigError(
            config_key(("group",)), f"got {group!r}", f"set a whole number 0..{MAX_GROUP} (0 is the seed's lab)"
        )
    return group


def _describe(path: tuple[str | int, ...]) -> str | None:
    """The description of the model field at `path`, to say what a good value looks like."""
    model: Any = Lab
    info: FieldInfo | None = None
    skip_key = False
    for part in path:
        if skip_key:  # the key of a dict field (a tenant colour): same model
            skip_key = False
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        info = model.model_fields.get(str(part))
        if info is None:
            return None
        model = info.annotation
        skip_key = get_origin(model) is dict
        for arg in get_args(model):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                model = arg
    if info is None:
        return None
    if info.description:
        return info.description
    for meta in info.metadata:
        description = getattr(meta, "description", None)
        if description:
            return str(description)
    return None


def _schema_error(exc: ValidationError) -> ConfigError:
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    got = err.get("input")
    if loc and loc[-1] == "[key]":  # a dict key that is not allowed, e.g. a third tenant
        key = config_key(loc[:-1])
        return ConfigError(
            key, f"unknown key {got!r}", f"use one of the allowed keys ({err['msg'].removeprefix('Input should be ')})"
        )
    key = config_key(loc)
    if err["type"] == "extra_forbidden":
        return ConfigError(key, "unknown key", "remove it or correct its spelling (see README: config keys)")
    if err["type"] == "missing":
        return ConfigError(key, "missing", f"set it: {_describe(loc) or 'see README'}")
    expected = _describe(loc) or err["msg"]
    return ConfigError(key, f"got {got!r} ({err['msg'].lower()})", f"set {expected}")


def build_lab(config: Mapping[str, Any]) -> Lab:
    """Schema then lab rules: the validated model of one stack's config."""
    group = _group_of(config)
    merged = _merge(lab_defaults(group), dict(config))
    try:
        lab = Lab.model_validate(merged)
    except ValidationError as exc:
        raise _schema_error(exc) from None
    check_lab(lab, explicit=config)
    return lab


def load_lab(project_dir: Path, stack: str) -> Lab:
    try:
        return build_lab(load_stack_config(project_dir, stack))
    except ConfigError as err:
        raise err.in_stack(stack) from None
