#!/bin/bash
# Managed by vxlab (vxlab-seed): edit the stack config, not this file.
# Class group vxlab-seed on the host switch dsw-host: `up` is idempotent, `down` removes
# exactly this group's ports and leaves the bridge while any other port remains on it.
set -euo pipefail

BRIDGE=dsw-host
LABEL=vxlab-seed
SVI=vlan28
in_ns() { "$@"; }

up() {
    ovs-vsctl --may-exist add-br "$BRIDGE" -- set Bridge "$BRIDGE" datapath_type=system
    ovs-vsctl --may-exist add-port "$BRIDGE" eno1 -- set Port eno1 vlan_mode=trunk
    ip link set dev eno1 up
    # redRouter: trunk, MTU 1500 (its NIC's)
    ip link show dev tap20 >/dev/null 2>&1 || ip tuntap add mode tap dev tap20 group kvm
    ip link set dev tap20 up
    ovs-vsctl --may-exist add-port "$BRIDGE" tap20 -- set Port tap20 vlan_mode=trunk trunks=28,220,221 external_ids:vxlab=vxlab-seed -- set Interface tap20 mtu_request=1500
    # blueTenant: access, MTU 1500 (its NIC's)
    ip link show dev tap220 >/dev/null 2>&1 || ip tuntap add mode tap dev tap220 group kvm
    ip link set dev tap220 up
    ovs-vsctl --may-exist add-port "$BRIDGE" tap220 -- set Port tap220 tag=220 vlan_mode=access external_ids:vxlab=vxlab-seed -- set Interface tap220 mtu_request=1500
    # greenTenant: access, MTU 1500 (its NIC's)
    ip link show dev tap221 >/dev/null 2>&1 || ip tuntap add mode tap dev tap221 group kvm
    ip link set dev tap221 up
    ovs-vsctl --may-exist add-port "$BRIDGE" tap221 -- set Port tap221 tag=221 vlan_mode=access external_ids:vxlab=vxlab-seed -- set Interface tap221 mtu_request=1500
    # The SVI, an internal port in access mode on VLAN 28
    ovs-vsctl --may-exist add-port "$BRIDGE" "$SVI" -- set Port "$SVI" tag=28 vlan_mode=access external_ids:vxlab=vxlab-seed -- set Interface "$SVI" type=internal
    in_ns ip link set dev "$SVI" up
    in_ns ip addr replace 198.18.28.20/24 dev "$SVI"
    in_ns ip -6 addr replace 2001:678:3fc:1c::14/64 dev "$SVI" nodad
    in_ns ip route replace 172.16.220.0/24 via 198.18.28.200 dev "$SVI"
    in_ns ip route replace 172.16.221.0/24 via 198.18.28.200 dev "$SVI"
    in_ns ip -6 route replace 2001:db8:dc::/64 via 2001:678:3fc:1c::c8 dev "$SVI"
    in_ns ip -6 route replace 2001:db8:dd::/64 via 2001:678:3fc:1c::c8 dev "$SVI"
}

down() {
    for port in $(ovs-vsctl --bare --columns=name find Port external_ids:vxlab="$LABEL"); do
        ovs-vsctl --if-exists del-port "$BRIDGE" "$port"
    done
    if ip link show dev tap20 >/dev/null 2>&1; then ip tuntap del mode tap dev tap20; fi
    if ip link show dev tap220 >/dev/null 2>&1; then ip tuntap del mode tap dev tap220; fi
    if ip link show dev tap221 >/dev/null 2>&1; then ip tuntap del mode tap dev tap221; fi
    if ovs-vsctl br-exists "$BRIDGE" && [ -z "$(ovs-vsctl list-ports "$BRIDGE" | grep -vx eno1)" ]; then
        ovs-vsctl --if-exists del-br "$BRIDGE"
    fi
    return 0
}

status() {
    ovs-vsctl --bare --columns=name,tag,trunks,vlan_mode find Port external_ids:vxlab="$LABEL"
}

case "${1:-up}" in
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
