"""The load phases: read a stack file, merge it over the derived defaults, validate, check it
against the project's other stacks.

read_stack_file -> load_stack_config -> derive(group, stated) -> schema (pydantic) -> lab rules
-> collisions. Each phase stops at the first bad input with a ConfigError naming the file and the
config key. `vxlab` verbs and `pulumi up` (components/config.py) all go through `load_checked`.
"""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from vxlab.base import yaml12
from vxlab.base.errors import NAMESPACE, ConfigError, config_key
from vxlab.model.defaults import derive
from vxlab.model.lab import PATTERN_WORDS, Lab
from vxlab.model.naming import MAX_GROUP
from vxlab.validate.collisions import check_collisions
from vxlab.validate.rules import check_lab

# Config keys of the project that are not lab data: the SSH private key is a Pulumi secret.
NOT_IN_MODEL = frozenset({"ssh_private_key"})


# What Pulumi itself reads at the top of a stack file; anything else is a misplaced key.
PULUMI_STACK_KEYS = frozenset({"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"})
# `Pulumi.group05.yaml` is class group 5's stack: its group must say so.
GROUP_STACK_RE = re.compile(r"group0*(\d+)")


def stack_file(project_dir: Path, stack: str) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def list_stacks(project_dir: Path) -> list[str]:
    """Every stack that has a Pulumi.<stack>.yaml in the project."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


class _StackFileLoader(yaml12.Loader):
    """YAML as the Pulumi engine reads it (vxlab.base.yaml12), refusing a key stated twice (PyYAML
    would keep the last one silently) and a sequence or mapping used as a key."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor`: merged keys may be stated again, the stated one wins
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise ConfigError(
                    "",
                    f"a {'sequence' if isinstance(key, list) else 'mapping'} used as a key "
                    f"(line {key_node.start_mark.line + 1})",
                    "use a plain word as the key",
                ) from None
            if key in seen:
                raise ConfigError(
                    str(key),
                    f"stated twice (line {key_node.start_mark.line + 1})",
                    "keep one of them: YAML would silently use the last",
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` mapping of a stack file, refused unless it is a well-formed Pulumi stack file."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("", f"cannot be read ({exc.__class__.__name__})", "make it a readable UTF-8 file") from None
    try:
        loader = _StackFileLoader(text)
    except yaml.YAMLError as exc:  # the reader refuses control characters before any parsing
        raise ConfigError("", f"not valid YAML ({str(exc).splitlines()[0]})", "fix the YAML syntax") from None
    try:
        doc = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ConfigError("", f"not valid YAML ({str(exc).splitlines()[0]})", "fix the YAML syntax") from None
    except RecursionError:
        raise ConfigError("", "nested too deeply to be a stack file", "state the keys of docs/config-keys.md") from None
    finally:
        loader.dispose()
    if doc is None:
        raise ConfigError("", "empty", f"state at least `config:` with `{NAMESPACE}:group` (0 is the seed's lab)")
    if not isinstance(doc, dict):
        raise ConfigError(
            "", f"the top level is a {type(doc).__name__}, not a mapping", "start the file with `config:`"
        )
    for key in doc:
        if key not in PULUMI_STACK_KEYS:
            fix = "move it under `config:`" if str(key).startswith(f"{NAMESPACE}:") else "remove it"
            raise ConfigError(str(key), "not a stack file key (Pulumi would ignore it)", fix)
    config = doc.get("config")
    if not isinstance(config, dict):
        raise ConfigError("config", "missing or not a mapping", f"state `config:` with `{NAMESPACE}:group`")
    return config


def load_stack_config(project_dir: Path, stack: str) -> dict[str, Any]:
    """The `vxlab:` keys of a stack file, without the namespace: the one way every verb and
    `pulumi up` read a stack."""
    path = stack_file(project_dir, stack)
    if not path.is_file():
        known = ", ".join(list_stacks(project_dir)) or "none"
        raise ConfigError(
            "--stack",
            f"no file {path.name} in {project_dir}",
            f"use one of the project's stacks ({known}) or create {path.name}",
        )
    config = config_from_pulumi(read_stack_file(path), source=path.name)
    if "group" not in config:
        raise ConfigError(config_key(("group",)), "not stated", "state the class group (0 is the seed's lab)")
    named = GROUP_STACK_RE.fullmatch(stack)
    if named and config["group"] != int(named.group(1)):
        raise ConfigError(
            config_key(("group",)),
            f"{config['group']!r} in {path.name}, a file named for group {int(named.group(1))}",
            f"set it to {int(named.group(1))} or rename the file",
        )
    return config


def config_from_pulumi(raw: Mapping[str, Any], source: str = "config") -> dict[str, Any]:
    """Strip the project namespace from Pulumi config keys; other providers' keys pass."""
    known = set(Lab.model_fields) | NOT_IN_MODEL
    out: dict[str, Any] = {}
    for key, value in raw.items():
        ns, sep, name = str(key).partition(":")
        if not sep:
            raise ConfigError(str(key), f"config key without a namespace in {source}", f"write it as {NAMESPACE}:{key}")
        if ns != NAMESPACE and looks_like_namespace(ns):
            raise ConfigError(
                str(key), f"namespace {ns!r} is almost {NAMESPACE!r}", f"write it as {NAMESPACE}:{name.strip()}"
            )
        if ns != NAMESPACE:
            continue
        if name not in known:
            raise ConfigError(
                str(key), f"unknown key in {source}", "remove it or correct its spelling (see docs/config-keys.md)"
            )
        if name not in NOT_IN_MODEL:
            if isinstance(value, dict) and set(value) == {"secure"}:
                raise ConfigError(
                    str(key), f"stored as a secret in {source}", "set it without --secret: it is lab data"
                )
            out[name] = _as_pulumi_reads(value)
    return out


# Letters that look like the namespace's own in other scripts, or in a careless hand.
_CONFUSABLE = str.maketrans(
    {
        chr(code): latin
        for code, latin in (
            (0x0430, "a"),  # Cyrillic a
            (0x0435, "e"),  # Cyrillic ie
            (0x043E, "o"),  # Cyrillic o
            (0x0445, "x"),  # Cyrillic ha
            (0x0455, "s"),  # Cyrillic dze
            (0x0456, "l"),  # Cyrillic i
            (0x04CF, "l"),  # Cyrillic palochka
            (0x0131, "l"),  # dotless i
            (0x03B2, "b"),  # Greek beta
            (0x0432, "b"),  # Cyrillic ve
            (0x044C, "b"),  # Cyrillic soft sign
            (0x03BD, "v"),  # Greek nu
        )
    }
    | {"i": "l", "1": "l", "|": "l", "0": "o"}
)


def looks_like_namespace(ns: str) -> bool:
    """Whether a config namespace is a slip for vxlab's (case, spaces, look-alike letters, one
    letter off or two swapped) rather than another provider's (`libvirt:`, `lxd:`)."""
    word = unicodedata.normalize("NFKC", ns).strip().casefold().translate(_CONFUSABLE)
    target = NAMESPACE.translate(_CONFUSABLE)
    return (word != ns and word == target) or 0 < _distance(word, target) <= 1


def _distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from a to b."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, rows[-2][j - 2] + 1)
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


def _as_pulumi_reads(value: Any) -> Any:
    """A top-level value as Pulumi writes it back: scalars quoted (`vxlab:group: "39"`)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
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


# Pydantic's error types, said in words (its own messages are for programmers).
_PROBLEMS = {
    "int_type": "not a whole number",
    "int_parsing": "not a whole number",
    "int_from_float": "not a whole number",
    "string_type": "not a text value",
    "bool_type": "not true or false",
    "dict_type": "not a mapping of keys",
    "model_type": "not a mapping of keys",
    "tuple_type": "not a list",
    "list_type": "not a list",
    "literal_error": "not one of the allowed values",
    "string_pattern_mismatch": "not of the allowed form",
    "string_too_short": "too short",
    "string_too_long": "too long",
    "too_short": "too few items",
    "greater_than_equal": "too small",
    "less_than_equal": "too large",
    "ip_v4_address": "not an IPv4 address",
    "ip_v6_address": "not an IPv6 address",
    "ip_v4_interface": "not an IPv4 address with a prefix length (a.b.c.d/len)",
    "ip_v6_interface": "not an IPv6 address with a prefix length (addr/len)",
    "ip_v4_network": "not an IPv4 subnet (a.b.c.0/len, host bits zero)",
    "ip_v6_network": "not an IPv6 prefix (addr::/len, host bits zero)",
    "centiseconds": "not a whole number of hundredths of a second",
    "float_type": "not a number",
    "float_parsing": "not a number",
    "ip_no_prefix": "an address without its prefix length (write it as address/len)",
    "ip_not_text": "a number or a boolean where an address belongs (write the address, e.g. 192.0.2.1)",
    "ip_zone_index": "an address with a zone index (%interface), which no lab file can carry (remove it)",
}


def _schema_error(exc: ValidationError) -> ConfigError:
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    got = err.get("input")
    if loc and loc[-1] == "[key]":  # a dict key that is not allowed, e.g. a third tenant
        key = config_key(loc[:-1])
        return ConfigError(key, f"unknown key {got!r}", "use 'blue' and 'green' only")
    key = config_key(loc)
    if err["type"] == "extra_forbidden":
        return ConfigError(key, "unknown key", "remove it or correct its spelling (see docs/config-keys.md)")
    if err["type"] == "missing":
        return ConfigError(key, "missing", f"set it: {_describe(loc) or 'see docs/config-keys.md'}")
    problem = _PROBLEMS.get(err["type"], "not accepted")
    expected = _describe(loc) or "see docs/config-keys.md"
    pattern = (err.get("ctx") or {}).get("pattern")
    if pattern in PATTERN_WORDS and PATTERN_WORDS[pattern] != expected:
        expected = f"{expected}: {PATTERN_WORDS[pattern]}"
    shown = got if not isinstance(got, (dict, list)) else type(got).__name__
    return ConfigError(key, f"got {shown!r}, {problem}", f"set {expected}")


def build_lab(config: Mapping[str, Any]) -> Lab:
    """Schema then lab rules: the validated model of one stack's config."""
    group = _group_of(config)
    merged = _merge(derive(group, dict(config)), dict(config))
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


# Leave other stacks whose files are broken out of the collision check (documented in README).
SKIP_BROKEN_ENV = "VXLAB_SKIP_BROKEN_STACKS"


def _warn(message: str) -> None:
    print(f"vxlab: warning: {message}", file=sys.stderr)


def load_checked(
    project: Path, stack: str, skip_broken: bool | None = None, warn: Callable[[str], None] = _warn
) -> Lab:
    """Load one stack, then check it against every other stack of the project. Another stack's
    broken file stops the check (collisions against it cannot be ruled out) unless the user
    chose to skip it. The one loading path of every verb and of `pulumi up`."""
    if skip_broken is None:
        skip_broken = os.environ.get(SKIP_BROKEN_ENV, "") not in ("", "0")
    lab = load_lab(project, stack)
    others: dict[str, Lab] = {}
    for other in list_stacks(project):
        if other == stack:
            continue
        try:
            others[other] = load_lab(project, other)
        except ConfigError as err:
            if not skip_broken:
                raise ConfigError(
                    "",
                    f"another stack file is broken, so collisions against it cannot be checked ({err.line()})",
                    f"fix or remove Pulumi.{other}.yaml, or skip it: --skip-broken-stacks or {SKIP_BROKEN_ENV}=1",
                    stack,
                ) from None
            warn(f"collisions against stack {other} not checked: {err.line()}")
    check_collisions({stack: lab, **others})
    return lab
