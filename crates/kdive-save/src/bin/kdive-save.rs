//! `kdive-save`: the same as `kdive save`, as a small stand-alone binary (for capture
//! initramfs images and for tests).

fn main() {
    let code = kdive_save::main(std::env::args_os().skip(1).collect());
    std::process::exit(code);
}
