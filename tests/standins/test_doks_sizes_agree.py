"""The collection's capacity plan (module_utils/_k8s/workloads.py) and the rehearsal's DOKS nodes
(testenv/do_nodes/doks.py) hold their own copies of DigitalOcean's node sizes and of what DOKS leaves
allocatable. They must agree: a plan that says "fits" where the rehearsal's scheduler would leave a pod
Pending is a plan nobody can trust. The plan may be stricter on CPU (it keeps DOKS's CPU reservation)."""

import importlib.util
import pathlib

from ansible_collections.echo.platform.plugins.module_utils._k8s import workloads as wl

REPO = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("rehearsal_doks", REPO / "testenv" / "do_nodes" / "doks.py")
doks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(doks)

MIB = 1024 ** 2


def test_every_size_the_plan_knows_matches_the_rehearsal_nodes():
    compared = 0
    for slug, (vcpus, mem_mib, _disk) in doks.SIZES.items():
        planned = wl.doks_node_size(slug)
        if planned is None:
            continue
        compared += 1
        p_vcpus, _gb, p_cpu_m, p_mem = planned
        _cap, alloc = doks.capacity(slug)
        assert p_vcpus == vcpus, slug
        assert p_mem == wl.parse_memory(alloc["memory"]), slug
        assert p_cpu_m <= wl.parse_cpu(alloc["cpu"]), slug
    assert compared >= 4  # s-1vcpu-2gb, s-2vcpu-4gb, s-4vcpu-8gb, s-8vcpu-16gb at least


def test_the_inventories_use_sizes_both_know():
    import yaml
    for inv in sorted((REPO / "inventories").glob("*/group_vars/*/main.yml")):
        for pool in (yaml.safe_load(inv.read_text()) or {}).get("echo_node_pools", []):
            assert pool["size"] in doks.SIZES, (inv, pool["size"])
            assert wl.doks_node_size(pool["size"]) is not None, (inv, pool["size"])
