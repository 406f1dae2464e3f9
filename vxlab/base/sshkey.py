"""An SSH public key judged by OpenSSH itself: `ssh-keygen -l` parses the key as `sshd` reads an
authorized_keys line (it refuses a truncated key and an RSA key under 1024 bits)."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache


@cache
def openssh_refuses(key: str) -> str | None:
    """OpenSSH's reason to refuse one public key line, or None; None too where no `ssh-keygen`
    is installed (the structural checks in vxlab.validate.rules still ran)."""
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        return None
    try:
        result = subprocess.run(
            [keygen, "-l", "-f", "/dev/stdin"],
            input=key + "\n",
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode == 0:
        return None
    return "OpenSSH cannot read it (truncated, damaged, or an RSA key under 1024 bits: ssh-keygen -l refuses it)"
