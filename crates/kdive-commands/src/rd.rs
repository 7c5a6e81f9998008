//! `rd [-8|-16|-32|-64] [-s|-x|-d|-a] [-p] ADDR|SYMBOL [COUNT]`: memory in crash's layout
//! (`ffffffff82a0c940:  0000000000000000 ffffffff82a0c948   ........H.......`).

use crate::eval_ctx::with_eval_kernel;
use crate::structcmd::parse_address;
use crate::{CmdError, Report, Session};
use kdive_kernel::AddrExt;
use serde_json::json;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Hex,
    HexOnly,
    Decimal,
    Unsigned,
    Symbolic,
    Ascii,
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let mut size = 8u64;
    let mut mode = Mode::Hex;
    let mut phys = false;
    let mut pos = Vec::new();
    for a in args {
        match a.as_str() {
            "-8" => size = 1,
            "-16" => size = 2,
            "-32" => size = 4,
            "-64" => size = 8,
            "-s" => mode = Mode::Symbolic,
            "-x" => mode = Mode::HexOnly,
            "-d" => mode = Mode::Decimal,
            "-D" => mode = Mode::Unsigned,
            "-a" => mode = Mode::Ascii,
            "-p" => phys = true,
            "-u" => {
                return Err(CmdError::Usage(
                    "rd: user virtual addresses are not supported (a kernel dump)".into(),
                ))
            }
            _ if a.starts_with('-') && a.len() > 1 => {
                return Err(CmdError::Usage(format!("rd: invalid option {a}")))
            }
            _ => pos.push(a.clone()),
        }
    }
    if mode == Mode::Symbolic {
        size = 8;
    }
    let Some(addr_arg) = pos.first() else {
        return Err(CmdError::Usage(
            "usage: rd [-8|-16|-32|-64] [-s|-x|-d|-a] [-p] ADDR|SYMBOL [COUNT]".into(),
        ));
    };
    let count: u64 = match pos.get(1) {
        Some(c) => c
            .parse()
            .map_err(|_| CmdError::Usage(format!("rd: invalid count: {c}")))?,
        None => {
            if mode == Mode::Ascii {
                0
            } else {
                1
            }
        }
    };
    let count = count.min(1 << 24);
    with_eval_kernel(s, |ev, k| {
        let addr = if phys {
            let hex = addr_arg.strip_prefix("0x").unwrap_or(addr_arg);
            u64::from_str_radix(hex, 16)
                .map_err(|_| CmdError::Usage(format!("rd: invalid physical address {addr_arg}")))?
        } else {
            parse_address(ev, addr_arg)?
        };
        let read = |a: u64, buf: &mut [u8]| -> Result<(), String> {
            if phys {
                k.mem.read_phys(a, buf).map_err(|e| e.to_string())
            } else {
                ev.target.read(a, buf)
            }
        };
        let kind = if phys { "physical" } else { "kernel virtual" };
        if mode == Mode::Ascii {
            return ascii(addr, count, &read, kind);
        }
        let per_line = (16 / size) as usize;
        let mut text = String::new();
        let mut words = Vec::new();
        let mut done = 0u64;
        while done < count {
            let a = addr.elem(done, size);
            let n = (count - done).min(per_line as u64) as usize;
            let mut buf = vec![0u8; n * size as usize];
            if let Err(e) = read(a, &mut buf) {
                if done == 0 {
                    return Err(CmdError::Usage(format!(
                        "rd: cannot read {kind} address {a:x}: {e}"
                    )));
                }
                text.push_str(&format!("rd: cannot read {kind} address {a:x}: {e}\n"));
                break;
            }
            text.push_str(&format!("{a:>16x}:  "));
            for i in 0..n {
                let b = &buf[i * size as usize..(i + 1) * size as usize];
                let mut v = [0u8; 8];
                v[..b.len()].copy_from_slice(b);
                let v = u64::from_le_bytes(v);
                words.push(v);
                let w = (size * 2) as usize;
                let cell = match mode {
                    Mode::Decimal => {
                        let sv = kdive_eval::value::wrap(v as i128, size, true);
                        format!("{sv:>w$}", w = dec_width(size))
                    }
                    Mode::Unsigned => format!("{v:>w$}", w = dec_width(size)),
                    Mode::Symbolic => match ev.target.symbol_at(v) {
                        Some((name, 0)) => format!("{name:<16}"),
                        Some((name, off)) => format!("{:<16}", format!("{name}+{off}")),
                        None => format!("{v:0w$x}"),
                    },
                    _ => format!("{v:0w$x}"),
                };
                text.push_str(&cell);
                text.push(' ');
            }
            if mode == Mode::Hex {
                let missing = per_line - n;
                text.push_str(&" ".repeat(missing * (size as usize * 2 + 1)));
                text.push_str("  ");
                for &c in &buf {
                    text.push(if (0x20..0x7f).contains(&c) {
                        c as char
                    } else {
                        '.'
                    });
                }
            }
            text.push('\n');
            done += n as u64;
        }
        Ok(Report::new(
            text,
            json!({"address": addr, "physical": phys, "size": size, "words": words}),
        ))
    })
}

fn dec_width(size: u64) -> usize {
    match size {
        8 => 16,
        4 => 11,
        2 => 6,
        _ => 4,
    }
}

/// Reads memory into a buffer, or says why not.
type ReadFn<'a> = dyn Fn(u64, &mut [u8]) -> Result<(), String> + 'a;

/// `rd -a`: characters up to a NUL (or `count`), 60 a line.
fn ascii(addr: u64, count: u64, read: &ReadFn, kind: &str) -> Result<Report, CmdError> {
    let limit = if count == 0 { 1 << 16 } else { count } as usize;
    let mut bytes = Vec::new();
    let mut a = addr;
    while bytes.len() < limit {
        let mut b = [0u8; 1];
        if let Err(e) = read(a, &mut b) {
            if bytes.is_empty() {
                return Err(CmdError::Usage(format!(
                    "rd: cannot read {kind} address {a:x}: {e}"
                )));
            }
            break;
        }
        if b[0] == 0 || !(0x20..0x7f).contains(&b[0]) {
            break;
        }
        bytes.push(b[0]);
        a += 1;
    }
    let mut text = String::new();
    for (i, chunk) in bytes.chunks(60).enumerate() {
        text.push_str(&format!(
            "{:>16x}:  {}\n",
            addr.off((i * 60) as u64),
            String::from_utf8_lossy(chunk)
        ));
    }
    if bytes.is_empty() {
        text.push_str(&format!("{addr:>16x}:  \n"));
    }
    let s = String::from_utf8_lossy(&bytes).into_owned();
    Ok(Report::new(text, json!({"address": addr, "string": s})))
}
