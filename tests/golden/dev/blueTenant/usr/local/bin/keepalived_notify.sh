#!/bin/bash
# Managed by vxlab (vxlab-seed): edit the stack config, not this file.
# keepalived notify script: $1 GROUP|INSTANCE, $2 its name, $3 the new state, $4 the priority.
echo "$1 $2 has transitioned to the $3 state with a priority of $4" > /run/keepalived_status
