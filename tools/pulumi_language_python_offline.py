"""A Python language host for the Pulumi engine, for machines that cannot get the official one.

The engine starts `pulumi-language-python <engine address>` and talks gRPC to the port it
prints. The official host is a Go binary whose module the reachable Go proxy does not serve;
this one reuses the Python SDK's own `LanguageServer` (the server the Automation API runs for
inline programs) and runs the project's entry point with runpy, as the official exec script
does. Installed by scripts/install-pulumi only when the official host cannot be built.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
from concurrent import futures
from typing import Any

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2_grpc, plugin_pb2

VERSION = "0.0.0-vxlab-offline"


class ProgramHost(LanguageServer):
    def __init__(self, engine_address: str) -> None:
        super().__init__(program=self._run_program)
        self.engine_address = engine_address
        self.entry: tuple[str, str] = ("", "")

    def _run_program(self) -> None:
        directory, entry = self.entry
        os.chdir(directory)
        if directory not in sys.path:
            sys.path.insert(0, directory)
        target = os.path.join(directory, entry)
        runpy.run_path(os.path.join(target, "__main__.py") if os.path.isdir(target) else target, run_name="__main__")

    def Run(self, request: Any, context: Any) -> Any:
        info = request.info
        directory = info.program_directory or request.pwd
        entry = info.entry_point or request.program or "."
        self.entry = (directory, entry)
        if not request.args:  # LanguageServer reads the engine address from args[0]
            request.args.append(self.engine_address)
        return super().Run(request, context)  # type: ignore[no-untyped-call]

    def GetPluginInfo(self, request: Any, context: Any) -> Any:
        return plugin_pb2.PluginInfo(version=VERSION)


def main() -> None:
    engine_address = next((a for a in reversed(sys.argv[1:]) if not a.startswith("-")), "")
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8), options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)]
    )
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(ProgramHost(engine_address), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    # The engine ends a plugin with a signal once the operation is over: stop quietly.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: server.stop(grace=1))
    server.wait_for_termination()


if __name__ == "__main__":
    main()
