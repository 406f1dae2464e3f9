"""Offline stand-ins for provider plugins the Go module proxy here refuses to serve.

They implement, over the engine's real gRPC provider protocol (the Python SDK's
`pulumi.provider.experimental` server), the resources vxlab uses from pulumi-command and
pulumi-libvirt, with those providers' input names, so the program is the same online and off.
"""
