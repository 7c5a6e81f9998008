//! The command table: names, one-line summaries, usage, and the function that runs each.

use crate::{CmdError, Report, Session};

/// One command.
pub struct Command {
    pub name: &'static str,
    pub summary: &'static str,
    pub usage: &'static str,
    /// Runs with the split arguments (after the name) and the raw argument text.
    pub run: fn(&mut Session, &[String], &str) -> Result<Report, CmdError>,
}

/// Every command kdive knows, in `help` order.
pub static COMMANDS: &[Command] = &[
    Command {
        name: "help",
        summary: "list commands, or show one command's usage",
        usage: "help [command]",
        run: help,
    },
    Command {
        name: "alias",
        summary: "list, define or delete command aliases (crash's built-ins: man, px, dmesg, lsmod, last...)",
        usage: crate::alias::USAGE,
        run: crate::alias::run,
    },
    Command {
        name: "triage",
        summary: "the crash's root cause: fault, faulting C expression, bad pointer, its origin, who wrote or freed it, lock owners",
        usage: crate::triage::USAGE,
        run: crate::triage::run,
    },
    Command {
        name: "sys",
        summary: "system data: kernel, dump, CPUs, date, uptime, panic",
        usage: "sys",
        run: crate::sys::run,
    },
    Command {
        name: "p",
        summary: "print the value of an expression (gdb notation, $N history)",
        usage: "p [-x|-d] EXPR | p/FMT EXPR | p symbol[:cpu|:a]",
        run: crate::print::run,
    },
    Command {
        name: "print",
        summary: "print the value of an expression (same as p)",
        usage: "print [-x|-d] EXPR",
        run: crate::print::run,
    },
    Command {
        name: "ptype",
        summary: "print a type or an expression's type, structs expanded",
        usage: "ptype TYPE|EXPR",
        run: crate::ptype::run_ptype,
    },
    Command {
        name: "whatis",
        summary: "a type's definition and size, a symbol's declaration",
        usage: "whatis TYPE|SYMBOL|EXPR",
        run: crate::ptype::run_whatis,
    },
    Command {
        name: "struct",
        summary: "a struct's definition, offsets (-o), or its contents at an address",
        usage: "struct NAME[.member[,member]] [ADDR|SYMBOL] [-o] [-x|-d] [COUNT]",
        run: crate::structcmd::run_struct,
    },
    Command {
        name: "union",
        summary: "a union's definition, offsets (-o), or its contents at an address",
        usage: "union NAME[.member[,member]] [ADDR|SYMBOL] [-o] [-x|-d] [COUNT]",
        run: crate::structcmd::run_union,
    },
    Command {
        name: "*",
        summary: "struct or union contents at an address (crash's pointer-to short-cut)",
        usage: "*NAME[.member] ADDR|SYMBOL [COUNT]",
        run: crate::structcmd::run_pointer,
    },
    Command {
        name: "sym",
        summary: "symbol to address and address to symbol; -l lists, -q searches",
        usage: "sym [-l] | [-q STRING] | NAME|ADDR ...",
        run: crate::sym::run,
    },
    Command {
        name: "rd",
        summary: "read memory: words, bytes, symbols, strings, physical",
        usage: "rd [-8|-16|-32|-64] [-s|-x|-d|-a] [-p] ADDR|SYMBOL [COUNT]",
        run: crate::rd::run,
    },
    Command {
        name: "ps",
        summary: "process table: every thread, idle tasks, states, memory",
        usage: crate::ps::USAGE,
        run: crate::ps::run,
    },
    Command {
        name: "bt",
        summary: "kernel stack backtrace of a task, the panic task, or every CPU",
        usage: crate::bt::USAGE,
        run: crate::bt::run,
    },
    Command {
        name: "list",
        summary: "walk a linked list: list_head (-H/-h), chains, -s/-S structs per entry",
        usage: crate::listcmd::USAGE,
        run: crate::listcmd::run,
    },
    Command {
        name: "search",
        summary: "search memory for values or strings: kernel, user, physical, task stacks",
        usage: crate::search::USAGE,
        run: crate::search::run,
    },
    Command {
        name: "tree",
        summary: "walk a red-black tree, XArray/radix tree/IDR or maple tree; -s/-S per entry",
        usage: crate::treecmd::USAGE,
        run: crate::treecmd::run,
    },
    Command {
        name: "foreach",
        summary: "run a per-task command (bt, task, files, ps...) for chosen tasks",
        usage: crate::foreach::USAGE,
        run: crate::foreach::run,
    },
    Command {
        name: "log",
        summary: "kernel log (printk ring): -T wall clock, -m levels, -c callers",
        usage: crate::log::USAGE,
        run: crate::log::run,
    },
    Command {
        name: "task",
        summary: "a task's task_struct (and thread_info), or chosen members",
        usage: crate::task::TASK_USAGE,
        run: crate::task::run_task,
    },
    Command {
        name: "set",
        summary: "show or change the current task context",
        usage: crate::task::SET_USAGE,
        run: crate::task::run_set,
    },
    Command {
        name: "mod",
        summary: "loaded modules: address, name, base, size; -t taints",
        usage: crate::modcmd::USAGE,
        run: crate::modcmd::run,
    },
    Command {
        name: "kmem",
        summary: "kernel memory: -i summary, -z zones, -f/-F free lists, -s/-S slabs, ADDRESS",
        usage: crate::kmem::USAGE,
        run: crate::kmem::run,
    },
    Command {
        name: "vm",
        summary: "a task's address space: mm, page table, RSS, every VMA with its file",
        usage: crate::vm::USAGE,
        run: crate::vm::run,
    },
    Command {
        name: "vtop",
        summary: "virtual to physical: the page-table walk, PTE flags, struct page (-c task)",
        usage: crate::vtop::VTOP_USAGE,
        run: crate::vtop::run_vtop,
    },
    Command {
        name: "ptov",
        summary: "physical to kernel virtual (the direct map)",
        usage: crate::vtop::PTOV_USAGE,
        run: crate::vtop::run_ptov,
    },
    Command {
        name: "dis",
        summary:
            "disassemble (crash): FUNC, ADDR [COUNT]; -l/-s source, -r up to ADDR, -v variables",
        usage: crate::dis::USAGE,
        run: crate::dis::run,
    },
    Command {
        name: "disassemble",
        summary:
            "disassemble a function as gdb does: /m /s source lines, /r raw bytes, /v variables",
        usage: crate::disassemble::USAGE,
        run: crate::disassemble::run,
    },
    Command {
        name: "add-symbol-file",
        summary: "load a module's .ko debug info at the given section addresses (gdb)",
        usage: crate::modload::ADD_SYMBOL_FILE_USAGE,
        run: crate::modload::run_add_symbol_file,
    },
    Command {
        name: "directory",
        summary: "add directories searched for source files (gdb)",
        usage: "directory [DIR[:DIR]...]",
        run: crate::source::run_directory,
    },
    Command {
        name: "files",
        summary: "a task's root, cwd and open files",
        usage: crate::vfscmd::FILES_USAGE,
        run: crate::vfscmd::run_files,
    },
    Command {
        name: "fuser",
        summary: "tasks using a file (path or inode) as root, cwd, descriptor or mapping",
        usage: crate::fuser::USAGE,
        run: crate::fuser::run,
    },
    Command {
        name: "mount",
        summary: "mounted filesystems of the current task's namespace",
        usage: crate::vfscmd::MOUNT_USAGE,
        run: crate::vfscmd::run_mount,
    },
    Command {
        name: "runq",
        summary: "each CPU's run queue: current, RT and CFS queued tasks",
        usage: crate::sched::RUNQ_USAGE,
        run: crate::sched::run_runq,
    },
    Command {
        name: "net",
        summary: "network devices and their IPv4 addresses; -s a task's open sockets",
        usage: crate::netcmd::USAGE,
        run: crate::netcmd::run,
    },
    Command {
        name: "irq",
        summary: "interrupts: descriptors and actions, -a affinity, -b softirqs, -s counts per CPU",
        usage: crate::irqcmd::USAGE,
        run: crate::irqcmd::run,
    },
    Command {
        name: "mach",
        summary: "machine: type, memory, CPUs, speed, HZ, kernel address bases, CPU stacks",
        usage: crate::mach::USAGE,
        run: crate::mach::run,
    },
    Command {
        name: "sig",
        summary: "a task's signal dispositions, blocked and pending signals; -l names, -s SET",
        usage: crate::sig::USAGE,
        run: crate::sig::run,
    },
    Command {
        name: "dev",
        summary: "character and block devices (cdev, gendisk, operations); -d: disk I/O in flight",
        usage: crate::dev::USAGE,
        run: crate::dev::run,
    },
    Command {
        name: "timer",
        summary:
            "pending timer-wheel timers of each CPU: expiry, time to expire, callback; -r hrtimers",
        usage: crate::timer::USAGE,
        run: crate::timer::run,
    },
    Command {
        name: "eval",
        summary: "integer calculator: hex (with KB/MB/GB), decimal, octal, binary; -b bits set",
        usage: crate::numbers::EVAL_USAGE,
        run: crate::numbers::run_eval,
    },
    Command {
        name: "btop",
        summary: "bytes to page frame number",
        usage: crate::numbers::BTOP_USAGE,
        run: crate::numbers::run_btop,
    },
    Command {
        name: "ptob",
        summary: "page frame number to bytes",
        usage: crate::numbers::PTOB_USAGE,
        run: crate::numbers::run_ptob,
    },
    Command {
        name: "echo",
        summary: "print the rest of the line (marks sections of batch output)",
        usage: "echo [TEXT]",
        run: echo,
    },
    Command {
        name: "waitq",
        summary: "the tasks sleeping on a wait queue (symbol, struct.member address, or address)",
        usage: crate::waitq::USAGE,
        run: crate::waitq::run,
    },
    Command {
        name: "ipcs",
        summary: "System V IPC: shared memory (-m, -M pages), semaphores (-s), queues (-q)",
        usage: crate::ipcs::USAGE,
        run: crate::ipcs::run,
    },
    Command {
        name: "swap",
        summary: "swap areas in use: size, used, priority, device or file",
        usage: crate::swapcmd::SWAP_USAGE,
        run: crate::swapcmd::run_swap,
    },
    Command {
        name: "pte",
        summary: "decode a page-table entry: page and flags, or swap area and offset",
        usage: crate::swapcmd::PTE_USAGE,
        run: crate::swapcmd::run_pte,
    },
    Command {
        name: "ascii",
        summary: "a hex value's bytes as ASCII text, or the ASCII chart",
        usage: crate::ascii::USAGE,
        run: crate::ascii::run,
    },
    Command {
        name: "q",
        summary: "quit",
        usage: "q",
        run: help,
    },
];

pub fn find_command(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// The known command closest to a mistyped one (edit distance ≤ 2).
pub fn closest_command(name: &str) -> Option<String> {
    COMMANDS
        .iter()
        .map(|c| (edit_distance(name, c.name), c.name))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| n.to_string())
}

/// Levenshtein distance, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Longer option descriptions for `help NAME`, where a command has them.
fn details(name: &str) -> Option<&'static str> {
    match name {
        "dis" => Some(crate::dis::DETAILS),
        "kmem" => Some(crate::kmem::DETAILS),
        "disassemble" => Some(crate::disassemble::DETAILS),
        "list" => Some(crate::listcmd::DETAILS),
        "tree" => Some(crate::treecmd::DETAILS),
        "search" => Some(crate::search::DETAILS),
        "timer" => Some(crate::timer::DETAILS),
        "ipcs" => Some(crate::ipcs::DETAILS),
        "triage" => Some(crate::triage::DETAILS),
        _ => None,
    }
}

fn echo(_s: &mut Session, _args: &[String], raw: &str) -> Result<Report, CmdError> {
    Ok(Report::new(
        format!("{}\n", raw.trim()),
        serde_json::json!(raw.trim()),
    ))
}

fn help(_s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    if let Some(name) = args.first() {
        let c = find_command(name).ok_or_else(|| CmdError::Unknown {
            name: name.clone(),
            suggestion: closest_command(name),
        })?;
        let mut text = format!(
            "NAME\n  {} - {}\n\nSYNOPSIS\n  {}\n",
            c.name, c.summary, c.usage
        );
        if let Some(d) = details(c.name) {
            text.push_str(&format!("\nOPTIONS\n{d}"));
        }
        return Ok(Report::new(
            text,
            serde_json::json!({"name": c.name, "summary": c.summary, "usage": c.usage}),
        ));
    }
    let mut text = String::new();
    for c in COMMANDS {
        text.push_str(&format!("{:<10} {}\n", c.name, c.summary));
    }
    let json = COMMANDS
        .iter()
        .map(|c| serde_json::json!({"name": c.name, "summary": c.summary}))
        .collect();
    Ok(Report::new(text, serde_json::Value::Array(json)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_details_are_indented_from_their_first_line() {
        for c in COMMANDS {
            if let Some(d) = details(c.name) {
                assert!(
                    d.starts_with("  "),
                    "{}: {:?}",
                    c.name,
                    &d[..20.min(d.len())]
                );
            }
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(edit_distance("sys", "sys"), 0);
        assert_eq!(closest_command("sus").as_deref(), Some("sys"));
        assert_eq!(closest_command("zzzzzz"), None);
    }
}
