//! `--dump-dmesg`: the kernel log as `makedumpfile --dump-dmesg` writes it: `[%5d.%06d] text`,
//! continuation lines indented to the text column, non-printable bytes as `\xNN`.

use kdive_kernel::printk::Log;

pub fn render(log: &Log) -> Vec<u8> {
    let mut out = Vec::new();
    for r in &log.records {
        let prefix = format!("{} ", r.timestamp());
        out.extend_from_slice(prefix.as_bytes());
        for &b in r.text.as_bytes() {
            match b {
                b'\n' => {
                    out.push(b'\n');
                    out.resize(out.len() + prefix.len(), b' ');
                }
                b' '..=b'~' | b'\t' => out.push(b),
                _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            }
        }
        out.push(b'\n');
    }
    out
}
