//! `kdive triage VMLINUX DUMP` on every dump format of the module-race captures: the same
//! root cause whatever the format (ELF, compressed and filtered kdump, flattened, split,
//! QEMU's own), in text and in `--json`; on every format the race with rmmod is found. The conclusions themselves are checked against
//! independent sources in kdive-commands' lab_triage.

mod common;
use common::*;
use std::process::Command;

#[test]
fn triage_agrees_on_every_format() {
    let Some(lab) = lab_dir() else { return };
    let caps: Vec<Capture> = captures(&lab)
        .into_iter()
        .filter(|c| c.scenario() == "module-race")
        .collect();
    if caps.is_empty() {
        eprintln!("SKIP: no module-race capture in {}", lab.display());
        return;
    }
    for cap in &caps {
        // The QEMU dumps come from a separate boot (other addresses and pids): each boot's
        // formats are compared among themselves.
        let mut reference: std::collections::BTreeMap<bool, serde_json::Value> = Default::default();
        for (label, files) in cap.dumps() {
            let out = Command::new(env!("CARGO_BIN_EXE_kdive"))
                .arg("triage")
                .arg("--json")
                .arg(cap.vmlinux())
                .args(&files)
                .output()
                .expect("run kdive triage");
            let what = format!("{}/{}/{label}", cap.release(), cap.scenario());
            assert!(
                out.status.success(),
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let line: serde_json::Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{what}: not JSON: {e}"));
            assert_eq!(line["command"], "triage", "{what}");
            let j = &line["result"];
            let facts = serde_json::json!({
                "kind": j["report"]["kind"],
                "site": j["site"]["location"],
                "access": j["site"]["access"]["expression"],
                "pointer": j["pointer"],
                "origin": j["origin"]["access"]["expression"],
                "slot": j["origin"]["slot"],
                "slot_now": j["origin"]["slot_now"],
                "container": j["container"],
                "stores": j["writes"]["stores"],
                "involved": j["involved"].as_array().map(|v| v.iter().map(|i| (i["pid"].clone(), i["in_writer"].clone())).collect::<Vec<_>>()),
                "verdict": j["verdict"],
            });
            assert_eq!(j["site"]["access"]["expression"], "np->txq", "{what}");
            let racing = j["verdict"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v.as_str().unwrap_or("").contains("the two paths race"));
            assert!(racing, "{what}: no race in the verdict: {}", j["verdict"]);
            let boot = label.starts_with("qemu");
            match reference.get(&boot) {
                None => {
                    reference.insert(boot, facts);
                }
                Some(r) => assert_eq!(&facts, r, "{what}: differs from the boot's first format"),
            }
        }
        // Without the vmlinux (kallsyms, BTF, ORC from the dump; the module's .ko beside it):
        // the same root cause.
        let out = Command::new(env!("CARGO_BIN_EXE_kdive"))
            .args(["triage", "--json"])
            .arg(cap.dir.join("kdump-zlib-d31"))
            .output()
            .expect("run kdive triage");
        let line: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let j = &line["result"];
        let with = reference.get(&false).expect("a kdump format");
        for key in ["site", "access", "origin", "stores", "verdict", "container"] {
            let got = match key {
                "site" => j["site"]["location"].clone(),
                "access" => j["site"]["access"]["expression"].clone(),
                "origin" => j["origin"]["access"]["expression"].clone(),
                "stores" => j["writes"]["stores"].clone(),
                "verdict" => j["verdict"].clone(),
                _ => j[key].clone(),
            };
            assert_eq!(
                &got,
                &with[key],
                "{}: without vmlinux, {key}",
                cap.dir.display()
            );
        }
        // The text form names the race.
        let (code, out, err) = kdive(&[cap.vmlinux(), cap.dir.join("vmcore.elf")], &["triage"]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("VERDICT") && out.contains("the two paths race"),
            "{out}"
        );
    }
}
