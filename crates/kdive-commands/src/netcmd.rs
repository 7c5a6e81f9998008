//! `net` (network devices and their IPv4 addresses) and `net -s [PID|TASK...]` (a task's open
//! sockets: descriptor, `struct socket`, `struct sock`, family:type, IPv4/IPv6 ends), in
//! crash's layout.

use crate::report::centre;
use crate::{CmdError, Report, Session};
use kdive_kernel::sockets::{OpenSocket, SockAddrs};
use serde_json::json;

pub const USAGE: &str = "net [-s [PID | TASK] ...]";

/// crash's `net -s` table header (64-bit).
const SOCKET_HEADER: &str =
    "FD      SOCKET            SOCK       FAMILY:TYPE SOURCE-PORT DESTINATION-PORT";

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    match args.first().map(String::as_str) {
        None => devices(s),
        Some("-s") => sockets(s, &args[1..]),
        Some(a) => Err(CmdError::Usage(format!(
            "net: unsupported argument {a} (usage: {USAGE})"
        ))),
    }
}

fn devices(s: &mut Session) -> Result<Report, CmdError> {
    let (devs, problems) = s.kernel.net_devices()?;
    let mut text = String::from("   NET_DEVICE     NAME       IP ADDRESS(ES)\n");
    for d in &devs {
        text.push_str(&format!(
            "{:x}  {:<10} {}\n",
            d.addr,
            d.name,
            d.ipv4.join(", ")
        ));
    }
    for p in &problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    Ok(Report::new(
        text,
        json!({"devices": devs, "problems": problems}),
    ))
}

fn sockets(s: &mut Session, args: &[String]) -> Result<Report, CmdError> {
    if let Some(o) = args.iter().find(|a| a.starts_with('-')) {
        return Err(CmdError::Usage(format!(
            "net: unsupported option {o} (usage: {USAGE})"
        )));
    }
    let targets = crate::pertask::targets(s, "net", args)?;
    let table = s.tasks.table(&s.kernel)?;
    let k = &s.kernel;
    let (text, json) = crate::pertask::per_task(&table, &targets.tasks, "net", "sockets", |t| {
        let found = k.task_sockets(t.addr)?;
        let mut text = String::new();
        if found.sockets.is_empty() {
            text.push_str("No open sockets.\n");
        } else {
            text.push_str(SOCKET_HEADER);
            text.push('\n');
            for so in &found.sockets {
                text.push_str(&socket_line(so));
                text.push('\n');
            }
        }
        Ok::<_, kdive_kernel::Error>((text, json!(found.sockets)))
    });
    Ok(Report::new(text, json).with_errors(targets.errors))
}

/// crash's names of address families.
fn family_name(f: u16) -> String {
    let name = match f {
        0 => "UNSPEC",
        1 => "UNIX",
        2 => "INET",
        3 => "AX25",
        4 => "IPX",
        5 => "APPLETALK",
        6 => "NETROM",
        7 => "BRIDGE",
        8 => "ATMPVC",
        9 => "X25",
        10 => "INET6",
        11 => "ROSE",
        12 => "DECnet",
        13 => "NETBEUI",
        14 => "SECURITY/KEY",
        16 => "NETLINK/ROUTE",
        17 => "PACKET",
        18 => "ASH",
        19 => "ECONET",
        20 => "ATMSVC",
        22 => "SNA",
        23 => "IRDA",
        24 => "PPPOX",
        _ => return f.to_string(),
    };
    name.to_string()
}

/// crash's names of socket types (DGRAM carries a trailing blank there).
fn type_name(t: u16) -> String {
    let name = match t {
        1 => "STREAM",
        2 => "DGRAM ",
        3 => "RAW",
        4 => "RDM",
        5 => "SEQPACKET",
        10 => "PACKET",
        _ => return t.to_string(),
    };
    name.to_string()
}

/// An IPv6 address as crash prints it: eight groups in hex, no `::` shortening, `-PORT`.
fn in6_port(a: &[u8; 16], port: u16) -> String {
    let groups: Vec<String> = a
        .chunks(2)
        .map(|c| format!("{:x}", u16::from_be_bytes([c[0], c[1]])))
        .collect();
    format!("{}-{port}", groups.join(":"))
}

/// One socket row: FD, SOCKET, SOCK, FAMILY:TYPE and, for IPv4/IPv6, both ends.
pub fn socket_line(so: &OpenSocket) -> String {
    let mut line = format!(
        "{:2} {:>16x} {:>16x} {}:{} ",
        so.fd,
        so.socket,
        so.sock,
        family_name(so.family),
        type_name(so.sk_type)
    );
    match &so.addrs {
        Some(SockAddrs::V4 { src, dst }) => {
            let ip = |a: &[u8; 4]| format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
            line.push_str(&format!(
                " {}-{} {}-{}",
                ip(src),
                so.sport,
                ip(dst),
                so.dport
            ));
        }
        Some(SockAddrs::V6 { src, dst }) => {
            let from = in6_port(src, so.sport);
            line.push_str(&format!("{from:>12} "));
            line.push_str(&centre(&in6_port(dst, so.dport), from.len(), false));
        }
        Some(SockAddrs::Unreadable) | None => {}
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sock(family: u16, sk_type: u16, addrs: Option<SockAddrs>) -> OpenSocket {
        OpenSocket {
            fd: 3,
            socket: 0xffff8c3f81b33800,
            sock: 0xffff8c3f82431b00,
            family,
            sk_type,
            sport: 22,
            dport: 40000,
            addrs,
        }
    }

    #[test]
    fn rows_line_up_under_crashs_header() {
        let unix = socket_line(&sock(1, 1, None));
        assert_eq!(unix, " 3 ffff8c3f81b33800 ffff8c3f82431b00 UNIX:STREAM ");
        assert_eq!(unix.find("UNIX"), SOCKET_HEADER.find("FAMILY"));
        let v4 = SockAddrs::V4 {
            src: [10, 0, 2, 15],
            dst: [10, 0, 2, 2],
        };
        assert!(socket_line(&sock(2, 2, Some(v4)))
            .ends_with("INET:DGRAM   10.0.2.15-22 10.0.2.2-40000"));
        assert!(socket_line(&sock(16, 3, None)).ends_with("NETLINK/ROUTE:RAW "));
        assert!(socket_line(&sock(99, 7, None)).ends_with("99:7 "));
    }

    #[test]
    fn ipv6_groups_are_not_shortened() {
        let mut src = [0u8; 16];
        src[15] = 1;
        let line = socket_line(&sock(10, 1, Some(SockAddrs::V6 { src, dst: [0; 16] })));
        assert!(
            line.ends_with("INET6:STREAM 0:0:0:0:0:0:0:1-22 0:0:0:0:0:0:0:0-40000"),
            "{line}"
        );
    }
}
