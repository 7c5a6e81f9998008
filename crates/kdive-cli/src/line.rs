//! Splits a command line the way crash does: the kdive command, then an optional shell pipeline
//! (`| grep x`) or output redirect (`> file`, `>> file`), outside quotes and parentheses.

/// Where a command's output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    Stdout,
    /// `| ...`: the rest of the line runs in `sh -c` with the output on its stdin.
    Pipe(String),
    /// `> file` or `>> file`.
    File {
        path: String,
        append: bool,
    },
}

/// A parsed input line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The kdive command text, trimmed.
    pub command: String,
    pub sink: Sink,
}

/// Finds the first `|` or a `>` that starts a word, outside quotes, parentheses and brackets.
pub fn split_line(input: &str) -> Line {
    let bytes = input.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    for (i, &c) in bytes.iter().enumerate() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            b'"' | b'\'' => quote = Some(c),
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            b'|' if depth <= 0 => {
                return Line {
                    command: input[..i].trim().to_string(),
                    sink: Sink::Pipe(input[i + 1..].trim().to_string()),
                };
            }
            b'>' if depth <= 0 && (i == 0 || bytes[i - 1].is_ascii_whitespace()) => {
                let append = bytes.get(i + 1) == Some(&b'>');
                let rest = &input[i + if append { 2 } else { 1 }..];
                return Line {
                    command: input[..i].trim().to_string(),
                    sink: Sink::File {
                        path: rest.trim().to_string(),
                        append,
                    },
                };
            }
            _ => {}
        }
    }
    Line {
        command: input.trim().to_string(),
        sink: Sink::Stdout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain() {
        assert_eq!(split_line(" sys ").command, "sys");
        assert_eq!(split_line("sys").sink, Sink::Stdout);
    }

    #[test]
    fn pipe_and_redirect() {
        let l = split_line("ps | grep bash");
        assert_eq!(l.command, "ps");
        assert_eq!(l.sink, Sink::Pipe("grep bash".into()));
        let l = split_line("log > /tmp/x");
        assert_eq!(
            l.sink,
            Sink::File {
                path: "/tmp/x".into(),
                append: false
            }
        );
        let l = split_line("log >> /tmp/x");
        assert_eq!(
            l.sink,
            Sink::File {
                path: "/tmp/x".into(),
                append: true
            }
        );
    }

    #[test]
    fn arrows_and_parens_are_not_redirects() {
        let l = split_line("p ((struct alx_priv*)0xffff888262589880)->qnapi");
        assert_eq!(l.sink, Sink::Stdout);
        assert_eq!(l.command, "p ((struct alx_priv*)0xffff888262589880)->qnapi");
        let l = split_line("p (a | b)");
        assert_eq!(l.sink, Sink::Stdout);
        let l = split_line("p \"a|b\" | wc -l");
        assert_eq!(l.sink, Sink::Pipe("wc -l".into()));
    }
}
