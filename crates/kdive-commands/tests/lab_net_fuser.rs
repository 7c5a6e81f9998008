//! `net -s` (a task's open sockets) and `fuser` (the tasks using a file) on the lab's
//! module-race captures, compared with crash 8.0.6 run live on the same dump, text for text.
//! Skipped, with a note, when the lab cache or crash 8.0.6 is absent.

mod common;
use common::*;

use kdive_lab::lab_dir;

#[test]
fn net_sockets_and_fuser_equal_crash_806() {
    let Some(lab) = lab_dir() else { return };
    let cmds = [
        "net -s",
        "net -s 1",
        "net -s 1 2",
        "foreach net -s",
        "fuser /",
        "fuser /dev/console",
        "fuser /dev/null",
        "fuser /bin/busybox",
        "fuser /nonexistent",
    ];
    let module_race = |cap: &std::path::Path| cap.ends_with("module-race");
    let compared = with_crash806(&lab, &cmds, module_race, |cap, c, r, theirs| {
        assert_eq!(
            r.text,
            theirs,
            "{}: {c} differs from crash 8.0.6",
            cap.display()
        );
    });
    eprintln!("net -s and fuser compared with crash 8.0.6 on {compared} captures");
}
