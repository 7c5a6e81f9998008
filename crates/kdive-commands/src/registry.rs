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
        name: "sys",
        summary: "system data: kernel, dump, CPUs, date, uptime, panic",
        usage: "sys",
        run: crate::sys::run,
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

fn help(_s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    if let Some(name) = args.first() {
        let c = find_command(name).ok_or_else(|| CmdError::Unknown {
            name: name.clone(),
            suggestion: closest_command(name),
        })?;
        let text = format!(
            "NAME\n  {} - {}\n\nSYNOPSIS\n  {}\n",
            c.name, c.summary, c.usage
        );
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
    fn suggestions() {
        assert_eq!(edit_distance("sys", "sys"), 0);
        assert_eq!(closest_command("sy").as_deref(), Some("sys"));
        assert_eq!(closest_command("zzzzzz"), None);
    }
}
