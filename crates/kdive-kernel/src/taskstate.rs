//! Task states decoded for the kernel at hand: the TASK_* bits of `__state`/`state` and
//! `exit_state`, the one-letter code the kernel reports (`task_state_array` in
//! fs/proc/array.c, read from the dump when it is there), and crash's two-letter ST column.

use crate::tasks::Task;
use crate::{AddrExt, Kernel};

/// Bits of `task_struct.__state` (include/linux/sched.h; the same from 4.14 to 6.12).
pub const TASK_INTERRUPTIBLE: u64 = 0x1;
pub const TASK_UNINTERRUPTIBLE: u64 = 0x2;
pub const TASK_STOPPED: u64 = 0x4;
pub const TASK_TRACED: u64 = 0x8;
pub const EXIT_DEAD: u64 = 0x10;
pub const EXIT_ZOMBIE: u64 = 0x20;
pub const TASK_PARKED: u64 = 0x40;
pub const TASK_DEAD: u64 = 0x80;
pub const TASK_WAKEKILL: u64 = 0x100;
pub const TASK_WAKING: u64 = 0x200;
pub const TASK_NOLOAD: u64 = 0x400;
pub const TASK_NEW: u64 = 0x800;
pub const TASK_RTLOCK_WAIT: u64 = 0x1000;
/// 6.1+ freezer: a frozen task (reported as D).
pub const TASK_FROZEN: u64 = 0x8000;
pub const TASK_IDLE: u64 = TASK_UNINTERRUPTIBLE | TASK_NOLOAD;
/// TASK_REPORT: the states /proc reports (RUNNING..PARKED).
pub const TASK_REPORT: u64 = 0x7f;

/// The kernel's state letters, index i standing for bit `1 << (i - 1)` (index 0: running).
#[derive(Debug, Clone)]
pub struct StateTable {
    /// First character of each `task_state_array[]` entry: "RSDTtXZPI" on 4.14+.
    pub letters: Vec<char>,
    /// Where the table came from ("task_state_array in the dump" or "built-in").
    pub source: &'static str,
}

impl Default for StateTable {
    fn default() -> Self {
        StateTable {
            letters: "RSDTtXZPI".chars().collect(),
            source: "built-in (4.14+)",
        }
    }
}

impl StateTable {
    /// Reads `task_state_array` (an array of `const char *`) from the dump; the built-in table
    /// when the symbol or its strings are not readable.
    pub fn read(k: &Kernel) -> StateTable {
        let Ok(arr) = k.symbol_addr("task_state_array") else {
            return StateTable::default();
        };
        let mut letters = Vec::new();
        for i in 0..16u64 {
            let Ok(p) = k.read_u64(arr.elem(i, 8), "task_state_array[]") else {
                break;
            };
            // Entries are "R (running)": a letter, a space, a parenthesis.
            match k.mem.read_cstr(p, 32) {
                Ok(s) if s.len() > 3 && s[1] == b' ' && s[2] == b'(' => letters.push(s[0] as char),
                _ => break,
            }
        }
        if letters.len() < 7 || letters[0] != 'R' {
            return StateTable::default();
        }
        StateTable {
            letters,
            source: "task_state_array in the dump",
        }
    }

    /// The kernel's `task_state_index()`: fls() of the reported bits, TASK_IDLE (with any
    /// extra bits, e.g. TASK_FREEZABLE) as the extra index after TASK_REPORT, RTLOCK waiters and
    /// frozen tasks as D.
    pub fn index(&self, state: u64, exit_state: u64) -> usize {
        let mut report = (state | exit_state) & TASK_REPORT;
        if state & TASK_IDLE == TASK_IDLE && self.letters.len() > 8 {
            return 8;
        }
        if state & (TASK_RTLOCK_WAIT | TASK_FROZEN) != 0 {
            report = TASK_UNINTERRUPTIBLE;
        }
        (64 - report.leading_zeros()) as usize
    }

    /// The kernel's letter (R, S, D, T, t, X, Z, P, I), as /proc and drgn show it.
    pub fn letter(&self, state: u64, exit_state: u64) -> char {
        self.letters
            .get(self.index(state, exit_state))
            .copied()
            .unwrap_or('?')
    }

    /// crash's two-letter ST column.
    pub fn crash_code(&self, t: &Task) -> &'static str {
        let s = t.state;
        let x = t.exit_state;
        if x & EXIT_ZOMBIE != 0 {
            return "ZO";
        }
        if x & EXIT_DEAD != 0 {
            return "DE";
        }
        match self.letter(s, x) {
            'R' if s & TASK_WAKING != 0 => "WA",
            'R' if s & TASK_NEW != 0 => "NE",
            'R' if s & TASK_DEAD != 0 => "DE",
            'R' => "RU",
            'S' => "IN",
            'D' => "UN",
            'T' => "ST",
            't' => "TR",
            'X' => "DE",
            'Z' => "ZO",
            'P' => "PA",
            'I' => "ID",
            _ => "??",
        }
    }
}

/// A crash ST code or kernel letter as given to `foreach`/`ps` filters, upper-cased.
pub fn is_state_code(word: &str) -> bool {
    matches!(
        word,
        "RU" | "IN" | "UN" | "ST" | "TR" | "DE" | "ZO" | "PA" | "ID" | "WA" | "NE" | "SW"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(state: u64, exit_state: u64) -> Task {
        Task {
            addr: 0,
            pid: 1,
            tgid: 1,
            comm: String::new(),
            state,
            exit_state,
            cpu: 0,
            idle: false,
            parent: 0,
            ppid: 0,
            mm: 0,
            flags: 0,
        }
    }

    #[test]
    fn letters_like_the_kernel() {
        let t = StateTable::default();
        assert_eq!(t.letter(0, 0), 'R');
        assert_eq!(t.letter(TASK_INTERRUPTIBLE, 0), 'S');
        assert_eq!(t.letter(TASK_UNINTERRUPTIBLE, 0), 'D');
        assert_eq!(t.letter(TASK_IDLE, 0), 'I');
        assert_eq!(t.letter(TASK_UNINTERRUPTIBLE | TASK_WAKEKILL, 0), 'D');
        assert_eq!(t.letter(TASK_STOPPED | TASK_WAKEKILL, 0), 'T');
        assert_eq!(t.letter(TASK_DEAD, EXIT_ZOMBIE), 'Z');
        assert_eq!(t.letter(TASK_RTLOCK_WAIT, 0), 'D');
        assert_eq!(t.letter(TASK_PARKED, 0), 'P');
    }

    #[test]
    fn crash_codes() {
        let t = StateTable::default();
        assert_eq!(t.crash_code(&task(0, 0)), "RU");
        assert_eq!(t.crash_code(&task(1, 0)), "IN");
        assert_eq!(t.crash_code(&task(2, 0)), "UN");
        assert_eq!(t.crash_code(&task(TASK_IDLE, 0)), "ID");
        assert_eq!(t.crash_code(&task(TASK_DEAD, EXIT_ZOMBIE)), "ZO");
        assert_eq!(t.crash_code(&task(TASK_WAKING, 0)), "WA");
        assert_eq!(t.crash_code(&task(TASK_NEW, 0)), "NE");
        assert_eq!(t.crash_code(&task(TASK_TRACED, 0)), "TR");
    }
}
