"""The one error type bad input produces: a config key, what is wrong, and how to fix it."""

from __future__ import annotations

NAMESPACE = "vxlab"


def config_key(path: tuple[str | int, ...]) -> str:
    """`("tenants", "green", "vrrp_priority")` -> `vxlab:tenants.green.vrrp_priority`."""
    head, *rest = [str(p) for p in path] or ["<root>"]
    return f"{NAMESPACE}:{'.'.join([head, *rest])}"


class ConfigError(Exception):
    """Bad input, reported as one line before any resource is touched: the stack file, the key
    (empty when the whole file is wrong), what is wrong, and how to fix it."""

    def __init__(self, key: str, problem: str, fix: str, stack: str | None = None) -> None:
        self.key = key
        self.problem = problem
        self.fix = fix
        self.stack = stack
        super().__init__(self.line())

    def line(self) -> str:
        where = [f"Pulumi.{self.stack}.yaml"] if self.stack else []
        text = ": ".join([*where, *([self.key] if self.key else []), f"{self.problem}; fix: {self.fix}"])
        return one_line(text)

    def in_stack(self, stack: str) -> ConfigError:
        return ConfigError(self.key, self.problem, self.fix, stack)


def one_line(text: str) -> str:
    """`text` with its control characters (a line break in a key, a tab in a value) written as
    escapes: the error stays one line whatever the input held."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
