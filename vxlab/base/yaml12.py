"""Stack files read as the Pulumi engine reads them: go-yaml v3, which follows YAML 1.2's core
schema where PyYAML follows YAML 1.1. So `on`, `yes` and `no` stay words, `1:30` is not the
base-60 number 90, a date is a string, `0o17` is 15; like go-yaml, `0x`, `0b` and the old `017`
octal are integers, `_` may separate digits, and merge keys (`<<: *anchor`) are honoured.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
# Go's strconv.ParseInt(s, 0, 64), which go-yaml v3 tries first: a sign, then decimal, 0x, 0o, 0b
# or a leading-zero octal, digits optionally separated by single underscores.
_INT = re.compile(
    r"^[-+]?(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|0(?:_?[0-7])+|[1-9](?:_?[0-9])*|0)$"
)
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class Resolver(yaml.resolver.Resolver):
    """Plain scalars resolved as go-yaml v3 does; everything else as strings."""


Resolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:merge"]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
for _tag, _regexp, _first in (
    ("tag:yaml.org,2002:bool", _BOOL, list("tTfF")),
    ("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", _INT, list("-+0123456789")),
    ("tag:yaml.org,2002:float", _FLOAT, list("-+.0123456789")),
):
    Resolver.add_implicit_resolver(_tag, _regexp, _first)


def go_int(text: str) -> int:
    """An integer literal as strconv.ParseInt(text, 0, 64) reads it."""
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-").replace("_", "")
    lowered = digits.lower()
    if lowered.startswith(("0x", "0o", "0b")):
        return sign * int(digits[2:], {"x": 16, "o": 8, "b": 2}[lowered[1]])
    if len(digits) > 1 and digits.startswith("0"):
        return sign * int(digits[1:], 8)
    return sign * int(digits)


def go_float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith("inf"):
        return float("-inf") if lowered.startswith("-") else float("inf")
    if lowered.endswith("nan"):
        return float("nan")
    return float(text)


class Constructor(yaml.constructor.SafeConstructor):
    def construct_go_int(self, node: yaml.ScalarNode) -> int:
        return go_int(str(self.construct_scalar(node)))

    def construct_go_float(self, node: yaml.ScalarNode) -> float:
        return go_float(str(self.construct_scalar(node)))

    def construct_go_bool(self, node: yaml.ScalarNode) -> bool:
        return str(self.construct_scalar(node)).lower() == "true"


# types-PyYAML types add_constructor's function for the base class only.
Constructor.add_constructor("tag:yaml.org,2002:int", Constructor.construct_go_int)  # type: ignore[type-var]
Constructor.add_constructor("tag:yaml.org,2002:float", Constructor.construct_go_float)  # type: ignore[type-var]
Constructor.add_constructor("tag:yaml.org,2002:bool", Constructor.construct_go_bool)  # type: ignore[type-var]


class Loader(
    yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer, Constructor, Resolver
):
    def __init__(self, stream: Any) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        Constructor.__init__(self)
        Resolver.__init__(self)
