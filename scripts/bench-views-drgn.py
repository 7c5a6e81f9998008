# drgn doing what `kdive ... ps; log` does: every task (pid, ppid, cpu, task, state, comm) and
# the whole printk log, printed. Run by scripts/bench-views.sh.
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.printk import get_printk_records
from drgn.helpers.linux.sched import task_cpu, task_state_to_char

out = []
for t in for_each_task(prog):
    out.append(
        "%8d %7d %3d %016x %s %s"
        % (
            t.pid.value_(),
            t.parent.pid.value_(),
            task_cpu(t),
            t.value_(),
            task_state_to_char(t),
            t.comm.string_().decode(errors="replace"),
        )
    )
for r in get_printk_records(prog):
    out.append(
        "[%5d.%06d] %s"
        % (r.timestamp // 10**9, r.timestamp % 10**9 // 1000, r.text.decode(errors="replace"))
    )
print("\n".join(out))
