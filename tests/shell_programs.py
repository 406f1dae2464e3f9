"""The external programs a bash script runs: the first word of each simple command, found well
enough to check that every one of them has a package that installs it."""

from __future__ import annotations

import re

# Words that start a command but are the shell's own, not programs.
SHELL_WORDS = frozenset(
    [
        "if",
        "then",
        "else",
        "elif",
        "fi",
        "for",
        "while",
        "until",
        "do",
        "done",
        "case",
        "esac",
        "in",
        "function",
        "select",
        "time",
        "return",
        "local",
        "export",
        "set",
        "shift",
        "exit",
        "break",
        "continue",
        "source",
        "eval",
        "exec",
        "trap",
        "wait",
        "read",
        "echo",
        "printf",
        "cd",
        "test",
        "true",
        "false",
        "declare",
        "readonly",
        "unset",
        "mapfile",
        "readarray",
        "pwd",
        "type",
        "command",
        "builtin",
        "let",
        "kill",
        "getopts",
        "hash",
        "umask",
        "ulimit",
        "jobs",
        "disown",
        "pushd",
        "popd",
        "shopt",
        "alias",
    ]
)
_START = re.compile(
    r"(?:^|\|\|?|&&|;|`|\{\s|\$\()\s*"
    r"(?:(?:then|do|else|elif|if|while|until|!|exec|time|setsid|nice(?:\s+-n\s*\d+)?|timeout\s+\S+)\s+)*"
    r"([A-Za-z_][\w.+-]*)"
)
_HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)")


def programs(script: str) -> dict[str, int]:
    """Each program the script runs, with the first line that runs it."""
    functions = set(re.findall(r"^\s*([\w-]+)\s*\(\)", script, re.MULTILINE))
    found: dict[str, int] = {}
    heredoc_end: str | None = None
    continued = False
    for number, line in enumerate(script.splitlines(), 1):
        if heredoc_end is not None:
            heredoc_end = None if line.strip() == heredoc_end else heredoc_end
            continue
        heredoc = _HEREDOC.search(line)
        was_continued, continued = continued, line.rstrip().endswith("\\")
        text = re.sub(r"'[^']*'", "''", line.strip())
        text = re.sub(r'"(?:[^"\\$]|\\.|\$(?!\())*"', '""', text)
        text = re.sub(r"(^|\s)#.*$", "", text)
        if heredoc:
            heredoc_end = heredoc.group(1)
        if re.match(r"^[^\s()]+\)\s", text):  # a case arm: its pattern is no command
            text = ";" + text.split(")", 1)[1]
        if was_continued:  # arguments of the previous line's command, up to the next command
            text = ";" + text.split(";", 1)[1] if ";" in text else ""
        for match in _START.finditer(text):
            word = match.group(1)
            if word in SHELL_WORDS or word in functions or text[match.end() : match.end() + 1] in ("=", "/", "*", ")"):
                continue
            found.setdefault(word, number)
    return found
