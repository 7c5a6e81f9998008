//! Where output bytes go: a seekable file (positioned writes), or makedumpfile's flattened
//! stream (records of `offset, size, data`, big-endian, after a 4 KiB header) on any writer.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;

pub trait Sink: Send {
    /// Writes `data` at `offset` of the (logical) output file.
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()>;
    /// Ends the output (flattened: the end marker) and flushes it.
    fn finish(&mut self) -> io::Result<()>;
}

pub struct FileSink {
    pub file: File,
}

impl Sink for FileSink {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.file.write_all_at(data, offset)?;
        start_writeback(&self.file, offset, data.len());
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        self.file.sync_all()
    }
}

/// Starts writing `len` bytes at `offset` back to disk without waiting, so the final fsync has
/// little left to do (it overlaps with compressing the pages after them). Best effort.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File, offset: u64, len: usize) {
    use std::os::fd::AsRawFd;
    let (Ok(off), Ok(n)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: a valid open descriptor and plain integers; the call only schedules writeback.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), off, n, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File, _offset: u64, _len: usize) {}

/// Size of the flattened stream's header block.
pub const FLAT_HEADER_SIZE: usize = 4096;
const FLAT_SIGNATURE: &[u8] = b"makedumpfile";

/// The flattened stream header: signature, type 1, version 1 (big-endian), zero padding.
pub fn flat_header() -> Vec<u8> {
    let mut h = vec![0u8; FLAT_HEADER_SIZE];
    h[..FLAT_SIGNATURE.len()].copy_from_slice(FLAT_SIGNATURE);
    h[16..24].copy_from_slice(&1i64.to_be_bytes());
    h[24..32].copy_from_slice(&1i64.to_be_bytes());
    h
}

pub struct FlatSink<W: Write + Send> {
    out: W,
    started: bool,
}

impl<W: Write + Send> FlatSink<W> {
    pub fn new(out: W) -> FlatSink<W> {
        FlatSink {
            out,
            started: false,
        }
    }
    fn start(&mut self) -> io::Result<()> {
        if !self.started {
            self.started = true;
            self.out.write_all(&flat_header())?;
        }
        Ok(())
    }
}

impl<W: Write + Send> Sink for FlatSink<W> {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.start()?;
        self.out.write_all(&(offset as i64).to_be_bytes())?;
        self.out.write_all(&(data.len() as i64).to_be_bytes())?;
        self.out.write_all(data)
    }
    fn finish(&mut self) -> io::Result<()> {
        self.start()?;
        self.out.write_all(&(-1i64).to_be_bytes())?;
        self.out.write_all(&(-1i64).to_be_bytes())?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattened_records() {
        let mut buf = Vec::new();
        {
            let mut s = FlatSink::new(&mut buf);
            s.write_at(0x10, b"abc").unwrap();
            s.finish().unwrap();
        }
        assert_eq!(&buf[..12], b"makedumpfile");
        assert_eq!(buf.len(), 4096 + 16 + 3 + 16);
        assert_eq!(&buf[4096..4104], &0x10i64.to_be_bytes());
        assert_eq!(&buf[4104..4112], &3i64.to_be_bytes());
        assert_eq!(&buf[4112..4115], b"abc");
        assert_eq!(&buf[4115..], &[0xff; 16]);
    }
}
