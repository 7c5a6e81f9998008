"""drgn reference facts for a kdive lab dump, printed as one JSON object.

    drgn -c DUMP -s VMLINUX [-s kdive_race.ko] lab/peers/drgn_facts.py

Every task (pid, comm, state char, task address, cpu), the crashed thread's stack frames
(function, pc, sp, inline, source), the stacks of tasks in D state, modules (name, base),
utsname fields, jiffies, and the panic cpu/task.
"""
import json
import sys

from drgn import FaultError
from drgn.helpers.linux.module import for_each_module
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import task_cpu, task_state_to_char

prog = globals()["prog"]


def cstr(obj):
    return obj.string_().decode(errors="replace")


def frames(trace):
    out = []
    for i, f in enumerate(trace):
        fr = {"index": i, "function": f.name, "pc": hex(f.pc), "inline": f.is_inline,
              "interrupted": f.interrupted}
        try:
            fr["sp"] = hex(f.sp)
        except (LookupError, AttributeError):
            fr["sp"] = None
        try:
            path, line, _col = f.source()
            fr["source"] = f"{path}:{line}"
        except LookupError:
            fr["source"] = None
        out.append(fr)
    return out


def module_base(mod):
    try:  # 6.4+: mem[MOD_TEXT]
        return hex(mod.mem[0].base.value_())
    except (AttributeError, LookupError):
        return hex(mod.core_layout.base.value_())


def main():
    facts = {}
    uts = prog["init_uts_ns"].name
    facts["uts"] = {f: cstr(getattr(uts, f))
                    for f in ("sysname", "nodename", "release", "version", "machine", "domainname")}
    facts["jiffies"] = int(prog["jiffies"].value_())
    try:
        facts["panic_cpu"] = int(prog["panic_cpu"].counter.value_())
    except (LookupError, FaultError):
        facts["panic_cpu"] = None

    tasks, errors = [], []
    try:
        for t in for_each_task(prog):
            try:
                tasks.append({"pid": int(t.pid.value_()), "comm": cstr(t.comm),
                              "state": task_state_to_char(t), "task": hex(t.value_()),
                              "cpu": int(task_cpu(t))})
            except FaultError as e:
                errors.append(f"task {hex(t.value_())}: {e}")
    except FaultError as e:
        errors.append(f"task list walk stopped: {e}")
    facts["tasks"] = tasks
    facts["task_count"] = len(tasks)

    crashed = prog.crashed_thread()
    ct = crashed.object
    facts["panic_task"] = {"pid": crashed.tid, "comm": cstr(ct.comm), "task": hex(ct.value_()),
                           "cpu": int(task_cpu(ct))}
    try:
        facts["panic_stack"] = frames(crashed.stack_trace())
    except Exception as e:  # noqa: BLE001 - record what drgn says
        facts["panic_stack"] = []
        errors.append(f"panic stack: {e}")

    blocked = []
    for t in tasks:
        if t["state"] != "D":
            continue
        try:
            tr = prog.stack_trace(t["pid"])
            blocked.append({"pid": t["pid"], "comm": t["comm"], "frames": frames(tr)})
        except Exception as e:  # noqa: BLE001
            blocked.append({"pid": t["pid"], "comm": t["comm"], "error": str(e)})
    facts["blocked_stacks"] = blocked

    mods = []
    try:
        for m in for_each_module(prog):
            mods.append({"name": cstr(m.name), "base": module_base(m)})
    except FaultError as e:
        errors.append(f"module list: {e}")
    facts["modules"] = mods
    facts["errors"] = errors
    json.dump(facts, sys.stdout, indent=1)
    sys.stdout.write("\n")


main()
