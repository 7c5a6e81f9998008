//! Network devices as `net` lists them: `init_net.dev_base_head` (`net_device.dev_list`) with
//! each device's IPv4 addresses (`ip_ptr->ifa_list`, `ifa_next`).

use crate::list::walk_chain;
use crate::{AddrExt, Kernel, Result};

#[derive(Debug, Clone, serde::Serialize)]
pub struct NetDevice {
    pub addr: u64,
    pub name: String,
    pub ipv4: Vec<String>,
}

impl Kernel {
    pub fn net_devices(&self) -> Result<(Vec<NetDevice>, Vec<String>)> {
        let o = |s: &str, m: &str| self.layout.offset(s, m);
        let init_net = self.symbol_addr("init_net")?;
        let head = init_net.off(o("net", "dev_base_head")?);
        let link = o("net_device", "dev_list")?;
        let walk = crate::list::walk_list(self, head, 1 << 16);
        let mut problems = Vec::new();
        if let Some(b) = walk.broken {
            problems.push(format!("device list: {b}"));
        }
        let mut out = Vec::new();
        for n in walk.nodes {
            let dev = n.back(link);
            let name = self.read_cstr(dev.off(o("net_device", "name")?), 16, "net_device.name")?;
            let mut ipv4 = Vec::new();
            let ip_ptr = self.read_u64(dev.off(o("net_device", "ip_ptr")?), "net_device.ip_ptr")?;
            if ip_ptr != 0 {
                let first = self.read_u64(
                    ip_ptr.off(o("in_device", "ifa_list")?),
                    "in_device.ifa_list",
                )?;
                let next = o("in_ifaddr", "ifa_next")?;
                let address = o("in_ifaddr", "ifa_address")?;
                let chain = walk_chain(first, 256, |ifa| {
                    self.read_u64(ifa.off(next), "in_ifaddr.ifa_next")
                })?;
                if let Some(b) = chain.broken {
                    problems.push(format!("addresses of {name}: {b}"));
                }
                for ifa in chain.nodes {
                    let a = self
                        .read_u32(ifa.off(address), "in_ifaddr.ifa_address")?
                        .to_le_bytes();
                    ipv4.push(format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]));
                }
            }
            out.push(NetDevice {
                addr: dev,
                name,
                ipv4,
            });
        }
        Ok((out, problems))
    }
}
