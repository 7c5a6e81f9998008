//! A task's open sockets (crash's `net -s`): each descriptor whose inode is a socket, its
//! `struct socket` (the inode's `socket_alloc`), `struct sock`, family, type, and for IPv4 /
//! IPv6 the bound and peer addresses and ports.

use crate::{AddrExt, Kernel, Result};

/// `AF_INET` and `AF_INET6`.
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;

/// Addresses of an IPv4 or IPv6 socket, as stored (network byte order).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum SockAddrs {
    V4 {
        src: [u8; 4],
        dst: [u8; 4],
    },
    V6 {
        src: [u8; 16],
        dst: [u8; 16],
    },
    /// An IPv6 socket whose addresses could not be read.
    Unreadable,
}

/// One open socket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OpenSocket {
    pub fd: u64,
    /// `struct socket`.
    pub socket: u64,
    /// `socket->sk` (`struct sock`, an `inet_sock` for IPv4/IPv6).
    pub sock: u64,
    /// `sk->__sk_common.skc_family`.
    pub family: u16,
    /// `sk->sk_type`.
    pub sk_type: u16,
    /// Host-order source port (`inet_sport`) and destination port (`skc_dport`).
    pub sport: u16,
    pub dport: u16,
    /// For AF_INET / AF_INET6 sockets.
    pub addrs: Option<SockAddrs>,
}

/// A task's sockets; `no_files` when it has no `files_struct`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TaskSockets {
    pub sockets: Vec<OpenSocket>,
    pub no_files: bool,
}

/// `S_IFSOCK`.
const S_IFMT: u32 = 0o170000;
const S_IFSOCK: u32 = 0o140000;

impl Kernel {
    /// The open sockets of `task`, in descriptor order.
    pub fn task_sockets(&self, task: u64) -> Result<TaskSockets> {
        let files = self.read_u64(
            task.off(self.layout.offset("task_struct", "files")?),
            "task_struct.files",
        )?;
        if files == 0 {
            return Ok(TaskSockets {
                sockets: Vec::new(),
                no_files: true,
            });
        }
        let f_path = self.layout.offset("file", "f_path")?;
        let path_dentry = self.layout.offset("path", "dentry")?;
        let i_mode = self.layout.offset("inode", "i_mode")?;
        let mut out = TaskSockets::default();
        for (fd, file) in self.fd_files(files)? {
            let dentry = self.read_u64(file.off(f_path).off(path_dentry), "file.f_path.dentry")?;
            let inode = self.dentry_inode(dentry)?;
            if inode == 0 {
                continue;
            }
            let mode = self.read_u32(inode.off(i_mode), "inode.i_mode")? & 0xffff;
            if mode & S_IFMT != S_IFSOCK {
                continue;
            }
            out.sockets.push(self.open_socket(fd, inode)?);
        }
        Ok(out)
    }

    /// The socket whose VFS inode is `inode` (inside `struct socket_alloc`).
    fn open_socket(&self, fd: u64, inode: u64) -> Result<OpenSocket> {
        let off = |s: &str, m: &str| self.layout.offset(s, m);
        let socket = inode.back(off("socket_alloc", "vfs_inode")?);
        let sock = self.read_u64(socket.off(off("socket", "sk")?), "socket.sk")?;
        let mut s = OpenSocket {
            fd,
            socket,
            sock,
            family: 0,
            sk_type: 0,
            sport: 0,
            dport: 0,
            addrs: None,
        };
        if sock == 0 {
            return Ok(s);
        }
        let u16_at = |a: u64, what: &str| -> Result<u16> {
            let mut b = [0u8; 2];
            self.read(a, &mut b, what)?;
            Ok(u16::from_le_bytes(b))
        };
        let common = sock.off(off("sock", "__sk_common")?);
        s.family = u16_at(
            common.off(off("sock_common", "skc_family")?),
            "sock.__sk_common.skc_family",
        )?;
        s.sk_type = u16_at(sock.off(off("sock", "sk_type")?), "sock.sk_type")?;
        if s.family != AF_INET && s.family != AF_INET6 {
            return Ok(s);
        }
        // Ports are stored big-endian.
        s.sport = u16_at(
            sock.off(off("inet_sock", "inet_sport")?),
            "inet_sock.inet_sport",
        )?
        .swap_bytes();
        s.dport = u16_at(
            common.off(off("sock_common", "skc_dport")?),
            "sock_common.skc_dport",
        )?
        .swap_bytes();
        s.addrs = Some(if s.family == AF_INET {
            let (src, dst) = self.address_pair(common, "skc_rcv_saddr", "skc_daddr")?;
            SockAddrs::V4 { src, dst }
        } else {
            self.address_pair(common, "skc_v6_rcv_saddr", "skc_v6_daddr")
                .map(|(src, dst)| SockAddrs::V6 { src, dst })
                .unwrap_or(SockAddrs::Unreadable)
        });
        Ok(s)
    }

    /// The bound and peer addresses (`sock_common.SRC`, `.DST`), as stored.
    fn address_pair<const N: usize>(
        &self,
        common: u64,
        src: &str,
        dst: &str,
    ) -> Result<([u8; N], [u8; N])> {
        let mut pair = ([0u8; N], [0u8; N]);
        for (member, buf) in [(src, &mut pair.0), (dst, &mut pair.1)] {
            let at = common.off(self.layout.offset("sock_common", member)?);
            self.read(at, buf, &format!("sock_common.{member}"))?;
        }
        Ok(pair)
    }
}
