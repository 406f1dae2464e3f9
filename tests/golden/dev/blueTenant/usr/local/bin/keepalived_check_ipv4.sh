#!/bin/bash
# Managed by vxlab (vxlab-seed): edit the stack config, not this file.
# keepalived track script: succeeds while 9.9.9.9 answers a ping.
/usr/bin/ping -c 1 -W 1 9.9.9.9 > /dev/null 2>&1
