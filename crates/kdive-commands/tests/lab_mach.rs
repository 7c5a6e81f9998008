//! `mach -m` (the e820 map) and `mach -c` (each CPU's `struct cpuinfo_x86`) on every lab
//! capture, text for text with crash 8.0.6 run live on the same dump, in a session without a
//! vmlinux (types from BTF); and the map's RAM ranges against the `System RAM` resources the
//! kernel registered from it (`dev -i`). Skipped, with a note, without the lab or crash 8.0.6.

mod common;
use common::*;

use kdive_lab::lab_dir;

#[test]
fn mach_views_equal_crash_806() {
    let Some(lab) = lab_dir() else { return };
    let mut iomem_ram: Vec<(u64, u64)> = Vec::new();
    let compared = with_crash806(
        &lab,
        &["dev -i", "mach -m", "mach -c"],
        |_| true,
        |cap, c, r, theirs| {
            if c == "dev -i" {
                iomem_ram = r.json["iomem"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|x| x["depth"] == 1 && x["name"] == "System RAM")
                    .map(|x| (x["start"].as_u64().unwrap(), x["end"].as_u64().unwrap()))
                    .collect();
                return;
            }
            assert_eq!(
                r.text,
                theirs,
                "{}: {c} differs from crash 8.0.6",
                cap.display()
            );
            if c == "mach -m" {
                let ram: Vec<(u64, u64)> = r.json["e820"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|e| e["kind_name"] == "E820_TYPE_RAM")
                    .map(|e| {
                        let (a, n) = (e["addr"].as_u64().unwrap(), e["size"].as_u64().unwrap());
                        (a, a + n - 1)
                    })
                    .collect();
                assert!(!ram.is_empty(), "{}: no RAM in {}", cap.display(), r.text);
                assert_eq!(
                    ram,
                    iomem_ram,
                    "{}: e820 RAM vs iomem System RAM",
                    cap.display()
                );
            }
            if c == "mach -c" {
                let cpus = r.json.as_array().map(Vec::len).unwrap_or(0);
                assert_eq!(r.text.matches("struct cpuinfo_x86 {").count(), cpus);
                assert!(cpus >= 1, "{}", cap.display());
            }
        },
    );
    eprintln!("mach -m/-c compared with crash 8.0.6 on {compared} captures");
}
