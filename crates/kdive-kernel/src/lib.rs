//! Kernel model: what a kernel engineer asks of a dump — tasks, CPUs, utsname, time, memory
//! size, the printk log and the panic — read through symbols and types, never hard-coded offsets.

pub mod addr;
pub mod archfacts;
pub mod cpus;
pub mod devices;
pub mod error;
pub mod files;
pub mod irq;
pub mod lastrun;
pub mod layout;
pub mod list;
pub mod maple;
pub mod meminfo;
pub mod memory;
pub mod moddebug;
pub mod modules;
pub mod netdev;
pub mod open;
pub mod page;
pub mod panic;
pub mod percpu;
pub mod printk;
pub mod printk_legacy;
pub mod rbtree;
pub mod runq;
pub mod scan;
pub mod signals;
pub mod slab;
pub mod slabwalk;
pub mod stack;
pub mod taskmem;
pub mod tasks;
pub mod taskstate;
pub mod time;
pub mod timers;
pub mod uts;
pub mod vfs;
pub mod vma;
pub mod vmalloc;
pub mod vmstat;
pub mod walk;
pub mod xarray;

pub use addr::AddrExt;
pub use error::{Error, Result};
pub use files::{classify, FileKind};
pub use open::{Kernel, OpenOptions};
