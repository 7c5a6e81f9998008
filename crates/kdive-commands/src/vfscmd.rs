//! `files [PID|TASK|COMMAND ...]` (root, cwd and open files of the current or named tasks)
//! and `mount` (the mounts of the current task's namespace), in crash's layout.

use crate::{CmdError, Report, Session};
use serde_json::json;

pub const FILES_USAGE: &str = "files [PID | TASK | COMMAND] ...";
pub const MOUNT_USAGE: &str = "mount";

pub fn run_files(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    if let Some(o) = args.iter().find(|a| a.starts_with('-')) {
        return Err(CmdError::Usage(format!(
            "files: unsupported option {o} (usage: {FILES_USAGE})"
        )));
    }
    let targets = crate::pertask::targets(s, "files", args)?;
    let table = s.tasks.table(&s.kernel)?;
    let k = &s.kernel;
    let (mut text, json) =
        crate::pertask::per_task(&table, &targets.tasks, "files", "files", |t| {
            let f = k.task_files(t.addr)?;
            let mut text = format!("ROOT: {}    CWD: {}\n", f.root, f.cwd);
            if f.files.is_empty() {
                text.push_str("No open files\n");
            } else {
                text.push_str(" FD       FILE            DENTRY           INODE       TYPE PATH\n");
                for o in &f.files {
                    text.push_str(&format!(
                        "{:>3} {:x} {:x} {:x} {:<4} {}\n",
                        o.fd, o.file, o.dentry, o.inode, o.kind, o.path
                    ));
                }
            }
            Ok::<_, kdive_kernel::Error>((text, json!(f)))
        });
    // crash ends each task's table with a blank line.
    text.push('\n');
    Ok(Report::new(text, json).with_errors(targets.errors))
}

pub fn run_mount(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    if !args.is_empty() {
        return Err(CmdError::Usage(format!("mount: usage: {MOUNT_USAGE}")));
    }
    let task = s.tasks.current_task(&s.kernel, s.current_task)?;
    let (mounts, problems) = s.kernel.mounts(task.addr)?;
    let mut text = String::from("     MOUNT           SUPERBLK     TYPE   DEVNAME   DIRNAME\n");
    for m in &mounts {
        // Each column pads to a fixed end; a long value pushes the next one right (crash).
        let mut line = format!("{:x} {:x} ", m.mount, m.superblock);
        for (value, end) in [(&m.fstype, 40), (&m.devname, 50)] {
            line.push_str(value);
            while line.len() < end {
                line.push(' ');
            }
            line.push(' ');
        }
        text.push_str(&format!("{line}{:<10}\n", m.dirname));
    }
    for p in &problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    Ok(Report::new(
        text,
        json!({"mounts": mounts, "problems": problems}),
    ))
}
