#!/bin/bash
# Managed by vxlab (vxlab-seed): edit the stack config, not this file.
# keepalived track script: succeeds while 2620:fe::fe answers a ping.
/usr/bin/ping -c 1 -W 1 2620:fe::fe > /dev/null 2>&1
