//! crash-compatible commands over the kernel model. Each command turns arguments into a
//! [`Report`]: text as crash prints it, and the same facts as JSON. No terminal assumptions:
//! the front end decides where reports go.

pub mod annotate;
pub mod ascii;
pub mod bt;
pub mod bttext;
pub mod context;
pub mod dev;
pub mod dis;
pub mod disasm;
pub mod disassemble;
pub mod error;
pub mod eval_ctx;
pub mod foreach;
pub mod fuser;
pub mod hrtimer;
pub mod irqcmd;
pub mod kmem;
pub mod kmemslab;
pub mod kmemzones;
pub mod listcmd;
pub mod log;
pub mod mach;
pub mod modcmd;
pub mod modload;
pub mod netcmd;
pub mod numbers;
pub mod pertask;
pub mod print;
pub mod ps;
pub mod psviews;
pub mod ptype;
pub mod rd;
pub mod registry;
pub mod report;
pub mod sched;
pub mod search;
pub mod searchmatch;
pub mod session;
pub mod sig;
pub mod source;
pub mod structcmd;
pub mod swapcmd;
pub mod sym;
pub mod sys;
pub mod task;
pub mod timer;
pub mod treecmd;
pub mod vfscmd;
pub mod vm;
pub mod vtop;
pub mod waitq;

pub use error::CmdError;
pub use registry::{find_command, Command, COMMANDS};
pub use report::Report;
pub use session::{Outcome, Session};
