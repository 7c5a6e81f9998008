# drgn script: every task's stack trace (non-inline and inline frames) as JSON on stdout.
# Usage: drgn -c DUMP -s VMLINUX [-s MODULE.ko] drgn_stacks.py
import json, sys, time
from drgn.helpers.linux.pid import for_each_task

t0 = time.time()
out = []
for task in for_each_task(prog):
    entry = {"pid": int(task.pid), "task": hex(task.value_()), "comm": task.comm.string_().decode(errors="replace")}
    try:
        frames = []
        for f in prog.stack_trace(task):
            name = f.name
            if name is None:
                sym = None
                try:
                    sym = f.symbol().name
                except LookupError:
                    pass
                name = sym or hex(f.pc)
            frames.append({"function": name, "pc": hex(f.pc), "inline": f.is_inline, "interrupted": f.interrupted})
        entry["frames"] = frames
    except Exception as e:  # noqa
        entry["error"] = str(e)
    out.append(entry)
json.dump({"tasks": out, "seconds": time.time() - t0}, sys.stdout)
