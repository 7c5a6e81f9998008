//! A debugging session: the opened kernel plus the user's context, and the line dispatcher.

use crate::{find_command, CmdError, Report};
use kdive_kernel::Kernel;

/// What running one line led to.
#[derive(Debug)]
pub enum Outcome {
    Report(Report),
    Quit,
}

pub struct Session {
    pub kernel: Kernel,
    /// Expression state: the type store and the `$N` value history.
    pub eval: crate::eval_ctx::EvalState,
    /// Task `bt` shows by default (None: the panic task).
    pub current_task: Option<u64>,
    /// Unwind tables, built by the first `bt`.
    pub stacks: Option<std::sync::Arc<kdive_kernel::stack::StackContext>>,
    /// The task table `ps`, `set`, `task` and `foreach` share.
    pub tasks: crate::context::TaskCache,
    /// gdb's `set substitute-path` rules and `directory` list, for source lines.
    pub source_paths: crate::source::SourcePaths,
    /// Command aliases (`alias`), expanded by `run`.
    pub aliases: crate::alias::Aliases,
}

impl Session {
    pub fn new(kernel: Kernel) -> Session {
        Session {
            kernel,
            eval: Default::default(),
            current_task: None,
            stacks: None,
            tasks: Default::default(),
            source_paths: Default::default(),
            aliases: Default::default(),
        }
    }

    /// Runs one command line (no pipes or redirects: the front end strips those, after it
    /// has expanded an alias with [`Session::expand_alias`]).
    pub fn run(&mut self, line: &str) -> Result<Outcome, CmdError> {
        let expanded = self.aliases.expand(line);
        let line = expanded.as_deref().unwrap_or(line);
        let args = split_args(line);
        let Some(name) = args.first() else {
            return Ok(Outcome::Report(Report::default()));
        };
        if matches!(name.as_str(), "q" | "quit" | "exit") {
            return Ok(Outcome::Quit);
        }
        // `p/x EXPR` and `*struct ADDR`: the command word carries a suffix or prefix.
        let line = line.trim_start();
        let (word, rest_line) = match (find_command(name), name.find('/'), name.strip_prefix('*')) {
            (None, Some(slash), _) if slash > 0 => (&name[..slash], &line[slash..]),
            (None, _, Some(_)) if name.len() > 1 => ("*", &line[1..]),
            _ => (name.as_str(), &line[name.len()..]),
        };
        let Some(cmd) = find_command(word) else {
            if let Some(r) = crate::eval_ctx::route_unknown(self, line)? {
                return Ok(Outcome::Report(r));
            }
            return Err(CmdError::Unknown {
                name: name.clone(),
                suggestion: crate::registry::closest_command(name),
            });
        };
        let rest = rest_line.trim();
        let args = split_args(rest);
        (cmd.run)(self, &args, rest).map(Outcome::Report)
    }
}

impl Session {
    /// The line with a leading alias replaced by its command text (which may hold a pipe or
    /// a redirect for the front end), or the line itself.
    pub fn expand_alias(&self, line: &str) -> String {
        self.aliases
            .expand(line)
            .unwrap_or_else(|| line.to_string())
    }
}

/// Splits on whitespace, keeping quoted strings together (quotes removed).
pub fn split_args(line: &str) -> Vec<String> {
    split(line, false)
}

/// As [`split_args`], but a word wholly in single quotes keeps them: crash's `'REGEX'`
/// task selector (`ps 'kworker/[01]'`).
pub fn split_args_keeping_regex(line: &str) -> Vec<String> {
    split(line, true)
}

fn split(line: &str, keep_single: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut has = false;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                if keep_single && q == '\'' {
                    cur.push(q);
                }
            }
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                if keep_single && c == '\'' {
                    cur.push(c);
                }
                has = true;
            }
            None if c.is_whitespace() => {
                if has {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            None => {
                cur.push(c);
                has = true;
            }
        }
    }
    if has {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split_args;

    #[test]
    fn splits_with_quotes() {
        assert_eq!(split_args(" bt  -a "), vec!["bt", "-a"]);
        assert_eq!(
            split_args("ps \"kworker/0:1\" x"),
            vec!["ps", "kworker/0:1", "x"]
        );
        assert_eq!(
            super::split_args_keeping_regex("-k 'kworker/[01]' \"a b\""),
            vec!["-k", "'kworker/[01]'", "a b"]
        );
    }
}
