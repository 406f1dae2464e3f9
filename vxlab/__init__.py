"""vxlab: the VXLAN/OVS/LXD lab as a Pulumi program. Its packages are layers, lowest first; a
module imports only from its own layer and those below it (tests/test_layers.py enforces it,
docs/architecture.md draws it)."""

LAYERS = (
    "base",  # generic helpers that know no lab: errors, host names, YAML 1.2, SSH keys
    "model",  # the lab model and everything derived from it: names, defaults, MTUs, topology
    "features",  # the registry: one module per seed section (files, packages, checkers, services)
    "validate",  # stack files loaded, lab rules, collisions between stacks, the host preflight
    "place",  # groups on the inventory's hypervisors: each group's need, placement, drains
    "build",  # every file rendered, every machine's steps and plans, the stack outputs
    "verify",  # every rendered file checked by its real program in check mode
    "live",  # a running lab: remote shells, checks, traffic, drills, drift
    "artifacts",  # what instructors and students read: diagram, handout, class view, config docs
    "engine",  # the Pulumi engine driven: Automation API, class runs, timelines
    "cli",  # one module per `vxlab` verb
)
