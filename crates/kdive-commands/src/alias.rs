//! Command aliases (crash's `alias`): the built-in ones crash users type (`man`, `px`, `dmesg`,
//! `lsmod`, `last`...), ones defined at run time or in a startup file, and their expansion.

use crate::{find_command, CmdError, Report, Session};
use serde_json::json;

pub const USAGE: &str = "alias [NAME [COMMAND...]]   (alias NAME \"\" deletes NAME)";

/// Where an alias came from (crash's ORIGIN column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Origin {
    Builtin,
    /// `$HOME/.kdiverc`.
    RcHome,
    /// `.kdiverc` in the current directory.
    RcLocal,
    Runtime,
}

impl Origin {
    fn label(self) -> &'static str {
        match self {
            Origin::Builtin => "builtin",
            Origin::RcHome => "$HOME/.kdiverc",
            Origin::RcLocal => ".kdiverc",
            Origin::Runtime => "runtime",
        }
    }
}

/// One alias: a word standing for the start of a command line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Alias {
    pub name: String,
    pub text: String,
    pub origin: Origin,
}

/// The aliases in definition order, and the origin given to new ones.
#[derive(Debug, Clone)]
pub struct Aliases {
    list: Vec<Alias>,
    /// Set by the front end while it reads a startup file.
    pub defining: Origin,
}

/// crash's built-in aliases whose commands kdive has (crash's `sf`/`sn`/`hex`/`dec` set the
/// scroll and radix modes and `g` runs gdb, which kdive does not have).
const BUILTIN: &[(&str, &str)] = &[
    ("man", "help"),
    ("?", "help"),
    ("quit", "q"),
    ("px", "p -x"),
    ("pd", "p -d"),
    ("for", "foreach"),
    ("size", "*"),
    ("dmesg", "log"),
    ("lsmod", "mod"),
    ("last", "ps -l"),
];

impl Default for Aliases {
    fn default() -> Self {
        Aliases {
            list: BUILTIN
                .iter()
                .map(|(name, text)| Alias {
                    name: name.to_string(),
                    text: text.to_string(),
                    origin: Origin::Builtin,
                })
                .collect(),
            defining: Origin::Runtime,
        }
    }
}

impl Aliases {
    /// The line with its first word replaced by the alias it names, if it names one.
    pub fn expand(&self, line: &str) -> Option<String> {
        let trimmed = line.trim_start();
        let word_end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        let a = self.list.iter().find(|a| a.name == trimmed[..word_end])?;
        Some(format!("{}{}", a.text, &trimmed[word_end..]))
    }

    /// Defines (or replaces) `name`; its text must start with a kdive command, and the name
    /// must not be one.
    pub fn define(&mut self, name: &str, text: &str) -> Result<(), CmdError> {
        if find_command(name).is_some() {
            return Err(CmdError::Usage(format!(
                "alias: cannot alias existing command name: {name}"
            )));
        }
        let first = text.split_whitespace().next().unwrap_or("");
        if find_command(first).is_none() {
            return Err(CmdError::Usage(format!(
                "alias: invalid alias attempt on non-existent command: {first}"
            )));
        }
        self.list.retain(|a| a.name != name);
        self.list.push(Alias {
            name: name.to_string(),
            text: text.to_string(),
            origin: self.defining,
        });
        Ok(())
    }

    /// Deletes `name`; false when there was no such alias.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.list.len();
        self.list.retain(|a| a.name != name);
        self.list.len() != before
    }

    /// crash's table (ORIGIN, ALIAS, COMMAND) of every alias, or of `only`.
    fn table(&self, only: Option<&str>) -> (String, Vec<&Alias>) {
        let width = self
            .list
            .iter()
            .map(|a| a.origin.label().len())
            .max()
            .unwrap_or(0)
            .max(7);
        let shown: Vec<&Alias> = self
            .list
            .iter()
            .filter(|a| only.map_or(true, |n| n == a.name))
            .collect();
        let mut text = format!("{:<width$}  ALIAS    COMMAND\n", "ORIGIN");
        // Each word of the command is followed by a space, as crash prints it.
        for a in &shown {
            text.push_str(&format!(
                "{:<width$}  {:<7}  {} \n",
                a.origin.label(),
                a.name,
                a.text
            ));
        }
        (text, shown)
    }
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let Some(name) = args.first() else {
        return Ok(listing(s, None));
    };
    if args.len() == 1 {
        if !s.aliases.list.iter().any(|a| &a.name == name) {
            return Err(CmdError::Usage(format!("alias does not exist: {name}")));
        }
        return Ok(listing(s, Some(name)));
    }
    if args.len() == 2 && args[1].is_empty() {
        if !s.aliases.remove(name) {
            return Err(CmdError::Usage(format!("alias does not exist: {name}")));
        }
        return Ok(Report::new(
            format!("alias deleted: {name}\n"),
            json!({"deleted": name}),
        ));
    }
    // Quotes are gone: `alias ksd "kmem -p | grep slab"` keeps its pipe for the front end,
    // which expands an alias before it looks for pipes and redirects.
    let text = args[1..].join(" ");
    s.aliases.define(name, text.trim())?;
    Ok(listing(s, Some(name)))
}

fn listing(s: &Session, only: Option<&str>) -> Report {
    let (text, shown) = s.aliases.table(only);
    let json = json!(shown);
    Report::new(text, json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_expand_the_first_word_only() {
        let a = Aliases::default();
        assert_eq!(a.expand("px jiffies").as_deref(), Some("p -x jiffies"));
        assert_eq!(a.expand("  last").as_deref(), Some("ps -l"));
        assert_eq!(a.expand("ps last"), None);
        assert_eq!(a.expand("lastx"), None);
    }

    #[test]
    fn definitions_must_name_a_command_and_not_shadow_one() {
        let mut a = Aliases::default();
        assert!(a.define("ps", "log").is_err());
        assert!(a.define("kp", "nosuchcommand -p").is_err());
        a.define("kp", "kmem -i | grep FREE").unwrap();
        assert_eq!(a.expand("kp").as_deref(), Some("kmem -i | grep FREE"));
        assert!(a.remove("kp"));
        assert!(!a.remove("kp"));
    }

    #[test]
    fn table_is_crash_shaped() {
        let a = Aliases::default();
        let (text, _) = a.table(Some("man"));
        assert_eq!(text, "ORIGIN   ALIAS    COMMAND\nbuiltin  man      help \n");
    }
}
