"""One machine's observations as one POSIX shell script, and its output read back: every command
runs alongside the others (or after the one before it in its lane), each under its own time
limit, its stdout, stderr and exit status kept apart and printed between boundaries drawn at
random for this script, so nothing a command prints can be mistaken for another's result.

On a TCG guest every process the framing starts costs tens of milliseconds, so it starts as few
as it can: per command a subshell and `timeout`, and `sh` only for a command that needs a shell
(measured on an idle tenant: `ip` alone 74 ms, `sh -c` adds 28, `timeout` 47); for the whole
script one `mktemp`, one `cat` of every result and one `rm`. The script needs `sh`, `mktemp`,
`timeout`, `cat` and `/proc/sys/kernel/random/uuid`: every VM and container has them. A container's script runs
inside its tenant's, as one more command, and its output is read back the same way
(vxlab.live.observe)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

HEADER = "@@vxlab-result"
# A stopped command's exit status is timeout's (124); a command whose result is missing: 255.
NOT_RUN = 255
TIMED_OUT = 124
_HEADER = re.compile(re.escape(HEADER.encode()) + rb" ([0-9a-f-]+) (\d+) (\d+)\n")
# A command of plain words (no quoting, redirection, expansion or list) whose first is a program
# (not an assignment, not a builtin the shell alone knows) runs without `sh -c`.
_SHELL_ONLY = r"(?:exit|cd|set|export|read|eval|exec|command|type|ulimit|umask|wait|trap|shift|unset|local|return|\.)"
_PLAIN = re.compile(rf"(?!{_SHELL_ONLY}(?: |$))[\w@%+:,./-]+(?: [\w@%+=:,./-]+)*")


@dataclass(frozen=True)
class Command:
    command: str
    lane: str = ""
    timeout: float = 20.0


def script(commands: Sequence[Command]) -> str:
    """Runs `commands` (a lane's one after another, lanes and lane-less commands all at once),
    then prints each one's result: `HEADER boundary index status`, its stdout, the boundary on
    a line of its own, its stderr, the boundary again."""
    lanes: dict[str, list[int]] = {}
    for i, c in enumerate(commands):
        lanes.setdefault(c.lane or f"#{i}", []).append(i)
    lines = [
        "d=$(mktemp -d /tmp/vxlab-observe.XXXXXX) || exit 1",
        "read b < /proc/sys/kernel/random/uuid",
        'printf \'\\n%s\\n\' "$b" > "$d/b"',
        # -k: a command that ignores TERM is killed 2 s later; what it printed is kept.
        'r() { timeout -k 2 "$2" sh -c "$3" > "$d/$1.o" 2> "$d/$1.e" < /dev/null; '
        f'printf \'{HEADER} %s %s %s\\n\' "$b" "$1" "$?" > "$d/$1.s"; }}',
        # The same for plain words, run by `timeout` itself: x INDEX SECONDS WORD...
        'x() { i=$1 t=$2; shift 2; timeout -k 2 "$t" "$@" > "$d/$i.o" 2> "$d/$i.e" < /dev/null; '
        f'printf \'{HEADER} %s %s %s\\n\' "$b" "$i" "$?" > "$d/$i.s"; }}',
    ]
    for members in lanes.values():
        runs = "; ".join(_run(i, commands[i]) for i in members)
        lines.append(f"( {runs} ) &")
    files = " ".join(f'"$d/{i}.s" "$d/{i}.o" "$d/b" "$d/{i}.e" "$d/b"' for i in range(len(commands)))
    lines += ["wait", f"cat {files} 2>/dev/null", 'rm -rf "$d"']
    return "\n".join(lines) + "\n"


def _run(index: int, c: Command) -> str:
    seconds = max(1, int(c.timeout))
    if _PLAIN.fullmatch(c.command):
        return f"x {index} {seconds} {c.command}"
    return f"r {index} {seconds} {shlex.quote(c.command)}"


@dataclass(frozen=True)
class Framed:
    code: int
    out: bytes  # bytes: a container's own framed output travels inside its tenant's
    err: bytes


def parse(data: bytes) -> dict[int, Framed]:
    """The results `script` printed, by index. What precedes the first header (a login banner)
    is ignored; a result cut short keeps what arrived."""
    results: dict[int, Framed] = {}
    pos, script_boundary = 0, None
    while (m := _HEADER.search(data, pos)) is not None:
        boundary, index, code = m.group(1), int(m.group(2)), int(m.group(3))
        if script_boundary is None:
            script_boundary = boundary
        elif boundary != script_boundary:  # not a header of this script: printed by a command
            pos = m.end()
            continue
        separator = b"\n" + boundary + b"\n"
        out_end = data.find(separator, m.end())
        out_end = len(data) if out_end < 0 else out_end
        err_start = min(out_end + len(separator), len(data))
        err_end = data.find(separator, err_start)
        err_end = len(data) if err_end < 0 else err_end
        results[index] = Framed(code, data[m.end() : out_end], data[err_start:err_end])
        pos = min(err_end + len(separator), len(data))
    return results
