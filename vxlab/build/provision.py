"""How each machine is provisioned, as data: the steps a component turns into resources.

A step is one remote command with a create and a delete. File steps write one rendered file
(keeping the distribution's original aside, restored on delete) and reload what reads it, so a
change of content updates exactly that step. `after` names the steps it must follow on the
same machine; cross-machine order is the components' business.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from vxlab import features
from vxlab.build import cloud_init
from vxlab.build.render import render_template
from vxlab.features import packages_of
from vxlab.features.spec import Machine, RenderedFile, Role, Step
from vxlab.model.lab import Lab, Tenant
from vxlab.model.naming import stack_label
from vxlab.model.topology import host_dir, host_ports, host_switch_path, host_sysctl_path, ssh_forwards


@dataclass(frozen=True)
class VmPlan:
    """What the shared VM building block needs for one VM."""

    name: str
    ram_mib: int
    vcpus: int
    mac: str
    tap: str
    port_mode: str
    ssh_host: str  # where the engine reaches the VM's SSH: its address, or a loopback relay
    ssh_port: int
    user_data: str
    network_config: str
    domain_xslt: str

    @property
    def meta_data(self) -> str:
        return cloud_init.meta_data(self.name)

    def seed_files(self) -> dict[str, str]:
        """The NoCloud seed: cloud-init reads it from any disk labelled `cidata`."""
        return {"user-data": self.user_data, "meta-data": self.meta_data, "network-config": self.network_config}


# Writes each file of a JSON object on stdin into the folder named by the first argument.
_WRITE_FILES = (
    "import json, pathlib, sys; "
    "[pathlib.Path(sys.argv[1], name).write_text(text) for name, text in json.load(sys.stdin).items()]"
)


def seed_folder(lab: Lab) -> str:
    """Where the engine's machine keeps the group's cloud-init seed images until they are
    uploaded, and the VMs' pinned SSH host keys (`<vm>.known_hosts`)."""
    return str(Path.home() / ".cache" / "vxlab" / "cloud-init" / stack_label(lab.group))


def known_hosts_name(plan: VmPlan) -> str:
    """How SSH names the VM's endpoint in a known_hosts file."""
    return plan.ssh_host if plan.ssh_port == 22 else f"[{plan.ssh_host}]:{plan.ssh_port}"


# Prints the key pair made in the folder named by the first argument, as JSON.
_KEY_JSON = (
    "import json, pathlib, sys; k = pathlib.Path(sys.argv[1], 'key'); "
    "print(json.dumps({'private': k.read_text(), 'public': k.with_suffix('.pub').read_text().strip()}))"
)


def host_key_step(plan: VmPlan, folder: str) -> Step:
    """The VM's SSH host key, made once on the machine that runs Pulumi (kept in the state as a
    secret, handed to the VM by cloud-init) and pinned in `<folder>/<vm>.known_hosts` for the
    lab's own SSH (vxlab check, drill)."""
    known = f"{folder}/{plan.name}.known_hosts"
    create = (
        f"set -e; mkdir -p {_q(folder)}; t=$(mktemp -d); trap 'rm -rf \"$t\"' EXIT; "
        f'ssh-keygen -q -t ed25519 -N "" -C {_q(plan.name)} -f "$t/key"; '
        f"printf '%s %s\\n' {_q(known_hosts_name(plan))} \"$(cut -d' ' -f1,2 \"$t/key.pub\")\" > {_q(known)}; "
        f'python3 -c {_q(_KEY_JSON)} "$t"'
    )
    delete = f"rm -f {_q(known)}; {remove_if_empty(folder)}"
    return Step(name="ssh-host-key", create=create, delete=delete, secret_output=True)


def cloud_init_seed_step(plan: VmPlan, folder: str, host_key: dict[str, str]) -> tuple[Step, str]:
    """The VM's cloud-init seed image with its host key, built on the machine that runs Pulumi
    (as the libvirt provider's CloudInitDisk would), named by its content; and the image's path.
    The domain gets it as a plain volume: reading a CloudInitDisk back downloads it over a
    libvirt stream, and that download can deadlock the provider's connection (see components/vm.py)."""
    files = {
        **plan.seed_files(),
        "user-data": cloud_init.with_host_key(plan.user_data, host_key["private"], host_key["public"]),
    }
    iso = f"{folder}/{plan.name}-{digest(json.dumps(files, sort_keys=True))}.iso"
    create = (
        f"set -e; mkdir -p {_q(folder)}; t=$(mktemp -d); trap 'rm -rf \"$t\"' EXIT; "
        f'python3 -c {_q(_WRITE_FILES)} "$t"; '
        f"genisoimage -quiet -output {_q(iso + '.tmp')} -volid cidata -joliet -rock "
        '"$t/user-data" "$t/meta-data" "$t/network-config"; '
        f"mv -f {_q(iso + '.tmp')} {_q(iso)}"
    )
    delete = f"rm -f {_q(iso)}; {remove_if_empty(folder)}"
    step = Step(name="cloud-init-seed", create=create, delete=delete, stdin=json.dumps(files))
    return step, iso


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _q(text: str) -> str:
    return shlex.quote(text)


def remove_if_empty(folder: str) -> str:
    """A shell command removing `folder` once empty, true when it is already gone: the steps
    sharing a folder are deleted in parallel, and testing for the folder before `rmdir` lost that
    race (measured: one of three host-key deletes failed `pulumi destroy`)."""
    return f"rmdir --ignore-fail-on-non-empty {_q(folder)} 2>/dev/null || [ ! -d {_q(folder)} ]"


def file_step(
    f: RenderedFile,
    reload: str = "",
    after: tuple[str, ...] = (),
    owned_dir: str | None = None,
) -> Step:
    """Write `f` (keeping any original aside), then reload; delete restores the original. A file
    in `owned_dir` (a folder only vxlab writes in) has no original to keep: whatever is there was
    left by vxlab itself (an interrupted run), and delete removes the file, then the folder once
    its last file is gone.

    The content arrives on stdin and is written with `cat >` to a temporary file moved into
    place: `install /dev/stdin` would reopen the descriptor, which a confined shell may not do."""
    path, new, orig = _q(f.path), _q(f.path + ".vxlab-new"), _q(f.path + ".vxlab-orig")
    folder = _q(str(PurePosixPath(f.path).parent))
    keep = "" if owned_dir else f"[ -e {orig} ] || [ ! -e {path} ] || cp -a {path} {orig}; "
    write = f"{keep}mkdir -p {folder} && cat > {new} && chmod {f.mode:o} {new} && mv -f {new} {path}"
    if owned_dir:
        restore = f"rm -f {path}; {remove_if_empty(owned_dir)}"
    else:
        restore = f"if [ -e {orig} ]; then mv -f {orig} {path}; else rm -f {path}; fi"
    create = f"sh -c {_q(write)}"
    return Step(
        name=f"file:{f.path}",
        create=f"{create} && {reload}" if reload else create,
        delete=f"sh -c {_q(restore)}",
        stdin=f.content,
        after=after,
    )


WAIT_BOOTED = (
    "until [ -f /var/lib/cloud/instance/boot-finished ]; do sleep 2; done; systemctl is-system-running --wait || true"
)


def packages_step(role: Role) -> Step:
    pkgs = " ".join(packages_of(role))
    return Step(
        name="packages",
        create=(
            f"dpkg -s {pkgs} >/dev/null 2>&1 || "
            f"(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {pkgs})"
        ),
        delete="echo 'packages stay installed; the VM is deleted with the lab'",
        after=("booted",),
    )


def booted_step() -> Step:
    return Step(name="booted", create=WAIT_BOOTED, delete="echo 'nothing to undo: the VM is deleted with the lab'")


def vm_steps(lab: Lab, machine: Machine) -> list[Step]:
    """A VM's steps: booted, its packages, then each feature's files (written, then reloaded)
    and its own steps, in registry order; `after` orders them on the machine."""
    steps = [booted_step(), packages_step(machine.role)]
    for feature in features.REGISTRY:
        for spec in feature.files:
            if spec.role == machine.role:
                steps.append(file_step(machine.file(spec.path_for(lab)), spec.reload, after=spec.after))
        if make := feature.steps.get(machine.role):
            steps.extend(make(lab, machine))
    return in_order(steps)


def in_order(steps: list[Step]) -> list[Step]:
    """The steps with each one after those it names in `after` (the components make them in
    this order), otherwise as given: each time the first step whose predecessors are placed."""
    placed: list[Step] = []
    names: set[str] = set()
    waiting = list(steps)
    while waiting:
        ready = next((s for s in waiting if set(s.after) <= names), None)
        if ready is None:
            raise ValueError(f"steps wait for steps no feature makes: {[(s.name, s.after) for s in waiting]}")
        placed.append(ready)
        names.add(ready.name)
        waiting.remove(ready)
    return placed


LXD_CLIENT_DIR = "/etc/vxlab/lxd-client"
# The LXD provider's credentials, as JSON on stdout: the engine keeps it as a secret.
_LXD_CREDENTIALS = (
    "import json, sys; e = json.load(sys.stdin)['environment']; d = sys.argv[1]; "
    "print(json.dumps({'client_certificate': open(d + '/client.crt').read(), "
    "'client_key': open(d + '/client.key').read(), "
    "'server_certificate_fingerprint': e['certificate_fingerprint']}))"
)


def image_delete(alias: str) -> str:
    """Delete the image vxlab imported; an image the students imported themselves (another alias
    on it) keeps everything but vxlab's alias."""
    listed = "lxc image alias list --format csv"
    return (
        f"fp=$({listed} | awk -F, -v a={_q(alias)} '$1==a {{print $2}}'); "
        f"others=$({listed} | awk -F, -v a={_q(alias)} -v fp=\"$fp\" '$2==fp && $1!=a' | wc -l); "
        f'if [ -n "$fp" ] && [ "$others" -gt 0 ]; then lxc image alias delete {_q(alias)}; '
        f"else lxc image delete {_q(alias)} || true; fi"
    )


def students_containers_step(lab: Lab, tenant: Tenant) -> Step:
    """Containers the students made before vxlab builds this tenant (a stage raised, `vxlab
    catch-up`) bear the names vxlab's own will take: each is stopped and renamed `<name>-student`,
    kept for the students to look at (`lxc start`), never deleted. Made before any of vxlab's."""
    names = " ".join(_q(c) for c in tenant.containers)
    keep = (
        f'for c in {names}; do lxc info "$c" >/dev/null 2>&1 || continue; '
        'lxc stop --force "$c" 2>/dev/null || true; '
        f'lxc move "$c" "$c{STUDENT_SUFFIX}" || exit 1; '
        f'echo "kept the students\' $c as $c{STUDENT_SUFFIX}"; done'
    )
    return Step(
        name="students-containers",
        create=keep,
        delete="echo 'the students containers stay'",
        after=("file:/etc/vxlab/lxd-preseed.yaml",),
    )


STUDENT_SUFFIX = "-student"


def lxd_steps(lab: Lab, tenant: Tenant) -> list[Step]:
    """What the tenant's LXD needs before the provider can manage its containers: the image
    (an LXD image file has no provider resource: `lxc image import`), and a client certificate
    made on the tenant and trusted by its LXD, handed to the engine as the provider's credentials."""
    steps: list[Step] = []
    preseed = "file:/etc/vxlab/lxd-preseed.yaml"
    image, tarball = lab.images.container_image, lab.images.container_tarball
    if tarball:
        # A tenant students set up may hold the image under another alias: LXD refuses a second
        # import of it, and the alias goes to the image it has (a unified tarball's fingerprint
        # is its SHA-256).
        alias = f"lxc image alias create {_q(image)} $(sha256sum {_q(tarball)} | cut -d' ' -f1)"
        steps.append(
            Step(
                name="container-image",
                create=(
                    f"lxc image info {_q(image)} >/dev/null 2>&1 || "
                    f"lxc image import {_q(tarball)} --alias {_q(image)} || {alias}"
                ),
                delete=image_delete(image),
                after=(preseed,),
            )
        )
    steps.append(students_containers_step(lab, tenant))
    d = LXD_CLIENT_DIR
    fingerprint = f"openssl x509 -in {d}/client.crt -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f"
    steps.append(
        Step(
            name="lxd-client",
            create=(
                f"set -e; mkdir -p -m 700 {d}; "
                f"[ -s {d}/client.key ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 "
                f"-nodes -days 3650 -subj /CN={stack_label(lab.group)} -keyout {d}/client.key -out {d}/client.crt "
                "2>/dev/null; "
                f"fp=$({fingerprint}); "
                f"lxc query /1.0/certificates/$fp >/dev/null 2>&1 || lxc config trust add {d}/client.crt; "
                f"lxc query /1.0 | python3 -c {_q(_LXD_CREDENTIALS)} {d}"
            ),
            delete=f"[ ! -f {d}/client.crt ] || lxc config trust remove $({fingerprint}) || true; rm -rf {d}",
            after=(preseed,),
            secret_output=True,
        )
    )
    return steps


@dataclass(frozen=True)
class ContainerPlan:
    """One container as the LXD provider states it: its image, NIC, configuration (limits, start
    order), the files it is created with, and the command that applies them (run again whenever
    the container changes)."""

    name: str
    image: str
    nic: dict[str, str]
    config: dict[str, str]
    files: tuple[RenderedFile, ...]
    apply: tuple[str, ...]


# LXD's start order at boot, highest first (clients keep the default, 0).
DHCP_SERVER_START_PRIORITY = 1


def container_plans(lab: Lab, tenant: Tenant, machines: dict[str, Machine]) -> list[ContainerPlan]:
    """The tenant's containers, DHCP server first; the components make them one after another.
    Made at once they save a minute on an idle machine (measured: 424 s instead of about 500 s
    for `up`), but on a one-vCPU TCG tenant sharing the CPUs with another group's guests LXD's
    database times out (docs/lab-on-ci.md). On the btrfs pool the first one unpacks the image and
    the others are snapshots of it. A client's `ifup` asks again until a server of the pair answers."""
    plans = []
    for name in tenant.containers:
        machine = machines[name]
        booted = "timeout 300 systemctl is-system-running --wait >/dev/null 2>&1"
        up = "ifdown --force eth0 2>/dev/null; ifup eth0"
        if machine.role == "dhcp-server":
            # The image leaves the DHCP server disabled (the clients do not run it).
            apply = f"{booted}; {up} && systemctl enable -q isc-dhcp-server && systemctl restart isc-dhcp-server"
        else:
            # dhclient gives up after 60 s; the pair's servers start at the same time as the
            # clients, so a client asks again (the third failure fails the container).
            apply = f"{booted}; for try in 1 2 3; do {up} && break; done"
        plans.append(
            ContainerPlan(
                name=name,
                image=lab.images.container_image,
                nic={"nictype": "bridged", "parent": lab.segment.svi, "mtu": str(lab.segment.mtu)},
                config={
                    "limits.memory": f"{lab.lxd.memory_mib}MiB",
                    "limits.cpu": str(lab.lxd.cpus),
                    # When the tenant boots LXD starts its containers highest priority first, else
                    # by name: the clients (C0, C1) came up a minute before their DHCP server
                    # (DHCP), which left a client without an address after a power cut.
                    **(
                        {"boot.autostart.priority": str(DHCP_SERVER_START_PRIORITY)}
                        if machine.role == "dhcp-server"
                        else {}
                    ),
                },
                files=machine.files,
                apply=("sh", "-c", apply),
            )
        )
    return plans


def host_steps(lab: Lab, machine: Machine) -> list[Step]:
    script = machine.file(host_switch_path(lab))
    sysctl = machine.file(host_sysctl_path(lab))
    ns = lab.hypervisor.svi_netns
    apply = f"ip netns exec {ns} sysctl -q -p {sysctl.path}" if ns else f"sysctl -q -p {sysctl.path}"
    return [
        file_step(script, owned_dir=host_dir(lab)),
        Step(
            name="switch",
            create=f"{script.path} up",
            delete=f"{script.path} down",
            after=(f"file:{script.path}",),
            triggers=(digest(script.content),),
        ),
        file_step(sysctl, apply, after=("switch",), owned_dir=host_dir(lab) if ns else None),
    ]


def nic_pci_slot(nic: str) -> int | None:
    """The PCI slot on bus 0 that gives the NIC its predictable name (enp0s1 -> 1), if any."""
    m = re.fullmatch(r"enp0s(\d+)", nic)
    return int(m.group(1)) if m else None


def vm_plans(lab: Lab) -> list[VmPlan]:
    label = stack_label(lab.group)
    managed = f"Managed by vxlab ({label}): edit the stack config, not this file."
    relays = {f.name: f.port for f in ssh_forwards(lab)}
    plans = []
    for port in host_ports(lab):
        if port.vm == lab.router.name:
            ram, vcpus, nic, vlan = lab.router.ram_mib, lab.router.vcpus, lab.router.nic, lab.upstream.vlan
            address, gateway = lab.router.upstream_ipv4, lab.upstream.gateway4
        else:
            t = next(t for t in lab.tenants.values() if t.name == port.vm)
            ram, vcpus, nic, vlan = t.ram_mib, t.vcpus, t.nic, None
            address, gateway = t.tenant_ipv4, t.router_ipv4.ip
        common = {"managed": managed, "vm_name": port.vm, "label": label}
        bootstrap = render_template(
            "common/bootstrap-interfaces.j2", **common, nic=nic, vlan=vlan, address=address, gateway=gateway
        )
        plans.append(
            VmPlan(
                name=port.vm,
                ram_mib=ram,
                vcpus=vcpus,
                mac=port.mac,
                tap=port.tap,
                port_mode=port.mode,
                ssh_host="127.0.0.1" if port.vm in relays else str(address.ip),
                ssh_port=relays.get(port.vm, 22),
                user_data=cloud_init.user_data(lab, port.vm, label, managed, bootstrap),
                network_config=cloud_init.network_config(managed),
                domain_xslt=render_template(
                    "common/domain.xslt.j2",
                    **common,
                    tap=port.tap,
                    mac=port.mac,
                    port_mode=port.mode,
                    domain_type=lab.hypervisor.domain_type,
                    pci_slot=nic_pci_slot(nic),
                    tb_cache_mib=128,
                ),
            )
        )
    return plans
