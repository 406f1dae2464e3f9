"""Pulumi components of the lab: they only wire vxlab's rendered files and plans into resources."""

from components.host_switch import HostSwitch, HostSwitchArgs
from components.router_vm import RouterVM, RouterVMArgs
from components.tenant_vm import TenantVM, TenantVMArgs
from components.vm import LabVM, LabVMArgs

__all__ = [
    "HostSwitch",
    "HostSwitchArgs",
    "LabVM",
    "LabVMArgs",
    "RouterVM",
    "RouterVMArgs",
    "TenantVM",
    "TenantVMArgs",
]
