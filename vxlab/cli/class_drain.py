"""`vxlab class drain HOST`: every group on one of the inventory's hypervisors moved to the others,
each at its stage, before the host is serviced. The moves are planned first (vxlab.place.placement:
a class that does not fit elsewhere is refused in one line, nothing touched); then per group, the
destination hosts at once, each at its parallel limit:

1. the students' lab kept: graded and its snapshot saved (the group's grade history says so), and
   the students' files (vxlab.live.keep) copied to `.vxlab/drain/STACK/TIME/files/`;
2. the lab destroyed, the destination's hypervisor keys written into the stack file, the lab
   brought up there at its stage;
3. the students' files written back where their machine is there again (a container the
   students launch themselves is not: its files stay in the copy), the new lab graded, and the
   steps the students must do again listed (done before, not after) in `moved.txt`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vxlab.artifacts import grade_history
from vxlab.base.errors import ConfigError
from vxlab.engine.classrun import Action, Progress, log_path, run_hosts, summary
from vxlab.engine.stack_actions import engine_action, host_ready
from vxlab.live.grading import CHAPTERS, grade_lab
from vxlab.live.keep import keep_files, restore_files, save_files
from vxlab.live.moves import DRAIN_DIR, MOVED, drain_folder, redo_lines, to_redo
from vxlab.live.remote import LabShell
from vxlab.live.snapshot import utc_now
from vxlab.model.inventory import INVENTORY_FILE, Inventory, load_inventory
from vxlab.place.current import placed_of
from vxlab.place.placement import PlacementError, drain, hosts_of, need_of
from vxlab.place.reported import ask
from vxlab.place.stack_keys import write_placement
from vxlab.validate.load import list_stacks, load_checked, load_lab, load_stack_config, stack_file


def planned_moves(project: Path, inventory: Inventory, host: str) -> dict[str, str]:
    """Each group on `host` and the hypervisor it goes to; PlacementError when they do not fit."""
    names = [h.name for h in inventory.hypervisors]
    if host not in names:
        raise ConfigError(
            "HOST", f"{host!r} is none of {INVENTORY_FILE}'s hypervisors", f"name one of {', '.join(names)}"
        )
    # Every stack of the project holds its host's room, as `class place` counts it.
    placed = placed_of(inventory, {s: load_stack_config(project, s) for s in list_stacks(project)})
    needs = {s: need_of(load_lab(project, s)) for s in placed}
    # Only the hosts that receive are asked: the one drained may already be going down.
    others = inventory.model_copy(update={"hypervisors": [h for h in inventory.hypervisors if h.name != host]})
    return drain(needs, hosts_of(inventory, ask(others) if others.hypervisors else {}), placed, host)


def _drain_action(
    project: Path, inventory: Inventory, moves: dict[str, str], key: Path, known_hosts: Path | None
) -> Action:
    destroy, up = engine_action(project, "destroy", key), engine_action(project, "up", key)

    def run_one(stack: str, p: Progress) -> str:
        lab = load_checked(project, stack)
        now = utc_now()
        folder = drain_folder(project, stack, now)
        with LabShell(lab, key, known_hosts) as shell:
            snapshot, before = grade_lab(shell, lab, stack, CHAPTERS, traffic=False)
            kept, not_kept = keep_files(shell, lab)
        snapshot.save(folder / "before.json")
        save_files(kept, folder / "files")
        record = grade_history.record_of(before, time=now, stage=lab.stage, source="drain", taken=snapshot.taken)
        grade_history.append(project, stack, {**record, "snapshot": str(folder / "before.json")})
        p.step(f"kept {len(kept)} files in {folder}")
        destroy(stack, p)
        write_placement(stack_file(project, stack), inventory.entry(moves[stack]))
        up(stack, p)
        lab = load_checked(project, stack)
        # The new VMs' host keys were pinned by this up: not the ones `known_hosts` holds.
        with LabShell(lab, key) as shell:
            restored, not_restored = restore_files(shell, kept)
            _, after = grade_lab(shell, lab, stack, CHAPTERS, traffic=False)
        redo = to_redo(before, after)
        lines = [f"{stack} moved to {moves[stack]} at stage {lab.stage}; the students' lab as it was: {folder}"]
        lines += [f"restored {f.machine}: {f.path}" for f in restored]
        lines += [f"not kept: {line}" for line in not_kept] + [f"kept only: {line}" for line in not_restored]
        lines += [f"to redo: {line}" for line in redo_lines(redo)]
        (folder / MOVED).write_text("\n".join(lines) + "\n")
        with p.log.open("a") as log:
            log.write("\n".join(lines) + "\n")
        return f"to {moves[stack]}: {len(kept)} files kept, {len(restored)} restored, {len(redo)} steps to redo"

    return run_one


def drain_class(args: argparse.Namespace, project: Path, host: str | None) -> int:
    if host is None:
        raise ConfigError("HOST", "missing", "name the hypervisor to drain: `vxlab class drain HOST`")
    inventory = load_inventory(project)
    try:
        moves = planned_moves(project, inventory, host)
    except PlacementError as exc:
        print(f"vxlab class drain: {exc}; nothing moved")
        return 1
    if not moves:
        print(f"vxlab class drain: no group on {host}")
        return 0
    lanes: dict[str, list[Progress]] = {}
    for stack, target in moves.items():
        lanes.setdefault(target, []).append(Progress(stack, "drain", log_path(project, stack, "drain"), target))
    host_ready(project, log_path(project, "class", "host"))
    action = _drain_action(project, inventory, moves, args.key.expanduser(), args.known_hosts)
    ok = run_hosts(
        [(members, inventory.entry(target).capacity.parallel) for target, members in lanes.items()],
        action,
        lambda line: print(f"vxlab class: {line}", flush=True),
    )
    print(summary([p for members in lanes.values() for p in members]), end="")
    for stack in moves:
        done = sorted((project / DRAIN_DIR / stack).glob(f"*/{MOVED}"))
        if done:
            print(done[-1].read_text(), end="")
    return 0 if ok else 1
