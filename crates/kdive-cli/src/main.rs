//! kdive: the command-line front end — file arguments in any order, an interactive prompt,
//! batch commands from stdin or `-c`, `| pipes` and `> redirects`, and `--json`.

mod line;

use clap::Parser;
use kdive_commands::{Outcome, Session};
use kdive_kernel::{Kernel, OpenOptions};
use line::{split_line, Sink};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::{Command as Proc, ExitCode, Stdio};

#[derive(Parser, Debug)]
#[command(
    name = "kdive",
    version,
    about = "Post-mortem Linux kernel crash-dump debugger"
)]
struct Args {
    /// Dump file(s), an optional vmlinux, optional module .ko files, in any order.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Run this command and exit (repeatable).
    #[arg(short = 'c', long = "command")]
    commands: Vec<String>,
    /// Print each command's result as one JSON object per line.
    #[arg(long)]
    json: bool,
    /// Do not print the system header at start.
    #[arg(short = 's', long)]
    silent: bool,
    /// Do not run the startup files ($HOME/.kdiverc, then ./.kdiverc).
    #[arg(long)]
    no_kdiverc: bool,
}

fn main() -> ExitCode {
    // `kdive save ...` has its own parser (crates/kdive-save); `kdive triage ...` runs the
    // `triage` command over the files given.
    let mut raw = std::env::args_os().skip(1);
    if raw.next().is_some_and(|a| a == "save") {
        let code = kdive_save::main(raw.collect());
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    // `kdive triage FILES... [--json]`: the root-cause report alone, no startup files.
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let triage = argv.get(1).is_some_and(|a| a == "triage");
    if triage {
        argv.remove(1);
    }
    let mut args = Args::parse_from(argv);
    if triage {
        args.commands = vec!["triage".into()];
        args.no_kdiverc = true;
    }
    let kernel = match Kernel::open(&OpenOptions {
        files: args.files.clone(),
    }) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("kdive: {e}");
            return ExitCode::from(1);
        }
    };
    for w in &kernel.warnings {
        eprintln!("kdive: warning: {w}");
    }
    let interactive = args.commands.is_empty() && std::io::stdin().is_terminal();
    let timing = std::env::var_os("KDIVE_TIMING").is_some();
    if (interactive && !args.silent) || timing {
        for s in &kernel.sources {
            eprintln!("kdive: {s}");
        }
    }
    let mut session = Session::new(kernel);
    let mut failed = false;
    if !args.no_kdiverc {
        failed |= !run_startup_files(&mut session, args.json);
    }
    if !args.commands.is_empty() {
        for c in &args.commands {
            match run_line(&mut session, c, args.json) {
                Step::Continue(ok) => failed |= !ok,
                Step::Quit => break,
            }
        }
    } else if interactive {
        if !args.silent {
            run_line(&mut session, "sys", false);
            println!();
        }
        interactive_loop(&mut session, args.json);
    } else {
        let mut input = String::new();
        for l in std::io::stdin().lines() {
            let Ok(l) = l else { break };
            input.clear();
            input.push_str(&l);
            match run_line(&mut session, &input, args.json) {
                Step::Continue(ok) => failed |= !ok,
                Step::Quit => break,
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs `$HOME/.kdiverc` and then `./.kdiverc` (when it is another file), line by line, as
/// crash runs its `.crashrc` files: aliases they define are listed with that origin. False when
/// a command in them failed.
fn run_startup_files(session: &mut Session, json: bool) -> bool {
    use kdive_commands::alias::Origin;
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kdiverc"));
    let local = PathBuf::from(".kdiverc");
    let same = |a: &PathBuf, b: &PathBuf| matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y);
    let mut files = Vec::new();
    if let Some(h) = home.filter(|h| h.is_file()) {
        files.push((h, Origin::RcHome));
    }
    if local.is_file() && !files.iter().any(|(h, _)| same(h, &local)) {
        files.push((local, Origin::RcLocal));
    }
    let mut ok = true;
    for (path, origin) in files {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("kdive: {}: {e}", path.display());
                ok = false;
                continue;
            }
        };
        session.aliases.defining = origin;
        for l in text.lines() {
            // Alias definitions are quiet, as in crash; other commands show their output.
            if l.trim_start().starts_with("alias ") && l.split_whitespace().nth(2).is_some() {
                if let Err(e) = session.run(l) {
                    eprintln!("kdive: {}: {e}", path.display());
                    ok = false;
                }
                continue;
            }
            match run_line(session, l, json) {
                Step::Continue(fine) => ok &= fine,
                Step::Quit => break,
            }
        }
    }
    session.aliases.defining = Origin::Runtime;
    ok
}

fn interactive_loop(session: &mut Session, json: bool) {
    let mut rl = match rustyline::DefaultEditor::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kdive: cannot start line editor: {e}");
            return;
        }
    };
    let history = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kdive_history"));
    if let Some(h) = &history {
        let _ = rl.load_history(h);
    }
    loop {
        match rl.readline("kdive> ") {
            Ok(l) => {
                if !l.trim().is_empty() {
                    let _ = rl.add_history_entry(l.as_str());
                }
                if let Step::Quit = run_line(session, &l, json) {
                    break;
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(_) => break,
        }
    }
    if let Some(h) = &history {
        let _ = rl.save_history(h);
    }
}

enum Step {
    /// Keep going; false when the command failed.
    Continue(bool),
    Quit,
}

/// Runs one input line: the command, then its output to stdout, a pipe or a file.
fn run_line(session: &mut Session, input: &str, json: bool) -> Step {
    // An alias may stand for a pipeline (`alias ksd "kmem -p | grep slab"`): expand it first.
    let input = session.expand_alias(input);
    let parsed = split_line(&input);
    if parsed.command.is_empty() || parsed.command.starts_with('#') {
        return Step::Continue(true);
    }
    let started = std::time::Instant::now();
    let result = session.run(&parsed.command);
    if std::env::var_os("KDIVE_TIMING").is_some() {
        eprintln!(
            "kdive: timing: {:?} for {}",
            started.elapsed(),
            parsed.command
        );
    }
    let (text, ok) = match result {
        Ok(Outcome::Quit) => return Step::Quit,
        Ok(Outcome::Report(r)) => {
            let ok = r.errors.is_empty();
            if json {
                let mut v = serde_json::json!({"command": parsed.command, "result": r.json});
                if !ok {
                    v["errors"] = serde_json::json!(r.errors);
                }
                (format!("{v}\n"), ok)
            } else {
                for e in &r.errors {
                    eprintln!("{e}");
                }
                (r.text, ok)
            }
        }
        Err(e) => {
            if json {
                (
                    format!(
                        "{}\n",
                        serde_json::json!({"command": parsed.command, "error": e.to_string()})
                    ),
                    false,
                )
            } else {
                eprintln!("{e}");
                (String::new(), false)
            }
        }
    };
    if let Err(e) = deliver(&parsed.sink, &text) {
        eprintln!("kdive: {e}");
        return Step::Continue(false);
    }
    Step::Continue(ok)
}

fn deliver(sink: &Sink, text: &str) -> std::io::Result<()> {
    match sink {
        Sink::Stdout => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => r,
            }
        }
        Sink::File { path, append } => {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(*append)
                .truncate(!*append)
                .open(path)?;
            f.write_all(text.as_bytes())
        }
        Sink::Pipe(cmd) => {
            let _ = std::io::stdout().flush();
            let mut child = Proc::new("sh")
                .arg("-c")
                .arg(cmd)
                .stdin(Stdio::piped())
                .spawn()?;
            if let Some(mut stdin) = child.stdin.take() {
                // A pipe reader that exits early (head) is not an error.
                let _ = stdin.write_all(text.as_bytes());
            }
            child.wait()?;
            Ok(())
        }
    }
}
