//! Safe output: DEST is written under a temporary name in its own directory (mode 0600),
//! fsynced, then renamed; SIGINT/SIGTERM/SIGHUP only raise a flag the copy loop checks, so
//! an interrupted run removes its temporary file and leaves no DEST.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};

use crate::error::{Result, SaveError};

static SIGNALLED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    SIGNALLED.store(sig, Ordering::SeqCst);
}

/// Routes SIGINT, SIGTERM and SIGHUP to the flag (idempotent).
pub fn install_signal_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// Fails with `Interrupted` once a signal arrived.
pub fn check_signal() -> Result<()> {
    match SIGNALLED.load(Ordering::Relaxed) {
        0 => Ok(()),
        s => Err(SaveError::Interrupted(s)),
    }
}

/// A DEST being written.
pub struct PendingFile {
    pub dest: PathBuf,
    pub tmp: PathBuf,
    done: bool,
}

impl PendingFile {
    /// Creates the temporary file next to `dest`; refuses to replace `dest` unless `force`.
    pub fn create(dest: &Path, force: bool) -> Result<(PendingFile, File)> {
        if !force && dest.exists() {
            return Err(SaveError::Usage(format!(
                "{}: already exists (remove it, or pass --force)",
                dest.display()
            )));
        }
        let name = dest
            .file_name()
            .ok_or_else(|| SaveError::Usage(format!("{}: not a file name", dest.display())))?;
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = dir.join(format!(
            ".{}.kdive-save-{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = OpenOptions::new()
            .write(true)
            .read(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| SaveError::io(&tmp, "create", e))?;
        Ok((
            PendingFile {
                dest: dest.to_path_buf(),
                tmp,
                done: false,
            },
            file,
        ))
    }

    /// fsyncs `file`, renames it to DEST and fsyncs the directory.
    pub fn commit(mut self, file: &File) -> Result<()> {
        file.sync_all()
            .map_err(|e| SaveError::io(&self.tmp, "fsync", e))?;
        std::fs::rename(&self.tmp, &self.dest)
            .map_err(|e| SaveError::io(&self.dest, "rename into place", e))?;
        self.done = true;
        if let Some(dir) = self.dest.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
