//! kdive: the command-line front end.
fn main() {
    eprintln!("kdive: not yet built");
    std::process::exit(1);
}
