"""vxlab: the VXLAN/OVS/LXD lab as code."""
