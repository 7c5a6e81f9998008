//! Variables live at an address (`dwarf/locals.rs`) on the lab's real files: the kdive_race.ko
//! of the module-race captures (relocated as if loaded at a fixed address) and the Debian
//! vmlinux. Expected answers come from kdive_race.c and the x86_64 calling convention.
//! Skipped with a note when the lab is absent ($KDIVE_LAB_DIR or ~/.cache/kdive/lab).

use kdive_debuginfo::dwarf::{DwarfInfo, DwarfLoader, Loc, MemberStep};
use kdive_debuginfo::ko::KoFile;
use kdive_debuginfo::{TypeGraph, TypeLoader};
use kdive_lab::{capture_dirs, lab_dir, manifest};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the test pretends the module's sections were loaded: 1 MiB apart from this base.
const BASE: u64 = 0xffff_ffff_c100_0000;

/// The kdive_race.ko of every module-race capture.
fn kos() -> Vec<PathBuf> {
    let Some(lab) = lab_dir() else {
        return Vec::new();
    };
    let v: Vec<PathBuf> = capture_dirs(&lab)
        .into_iter()
        .map(|c| c.join("kdive_race.ko"))
        .filter(|k| k.is_file())
        .collect();
    if v.is_empty() {
        eprintln!(
            "SKIP: no module-race capture with kdive_race.ko in {}",
            lab.display()
        );
    }
    v
}

fn open_ko(path: &PathBuf) -> Arc<DwarfInfo> {
    let ko = KoFile::open(path).unwrap();
    let names: Vec<String> = ko
        .sections()
        .iter()
        .filter(|s| s.is_alloc())
        .map(|s| s.name.clone())
        .collect();
    let sec = |n: &str| {
        names
            .iter()
            .position(|x| x == n)
            .map(|i| BASE + ((i as u64) << 20))
    };
    let (dw, _) = DwarfInfo::open_module(&ko, &sec, &|_| Some(0)).unwrap();
    Arc::new(dw)
}

/// A function's entry address from its DWARF.
fn entry(dw: &Arc<DwarfInfo>, name: &str) -> u64 {
    let loader = DwarfLoader::new(dw.clone());
    let mut g = TypeGraph::new();
    loader
        .load_function(&mut g, name)
        .and_then(|f| f.addr)
        .unwrap_or_else(|| panic!("{name}: no address"))
}

fn loc_of(dw: &DwarfInfo, pc: u64, name: &str) -> Option<Loc> {
    dw.locals_at(pc)
        .into_iter()
        .find(|l| l.name == name)
        .map(|l| l.loc)
}

#[test]
fn module_reinit_rings_fault_pc() {
    for ko in kos() {
        let dw = open_ko(&ko);
        let f = entry(&dw, "kdive_race_reinit_rings");
        // kdive_race_reinit_rings+37 (crash's `bt -p`): `mov 0x1a0(%rax),%rcx`, np->txq with
        // np = priv->qnapi[i] just loaded into rax.
        let pc = f + 37;
        let locals = dw.locals_at(pc);
        eprintln!("{}: {locals:?}", ko.display());
        assert_eq!(loc_of(&dw, pc, "np"), Some(Loc::Reg(0)), "np in rax");
        assert_eq!(loc_of(&dw, pc, "priv"), Some(Loc::Reg(5)), "priv in rdi");
        assert_eq!(loc_of(&dw, pc, "i"), Some(Loc::Reg(1)), "i in rdx");
        let priv_ = locals.iter().find(|l| l.name == "priv").unwrap();
        assert!(priv_.param && priv_.inlined.is_none());
        // hw = &priv->hw: a value, rdi + offsetof(hw) (8: after `struct net_device *dev`).
        assert_eq!(loc_of(&dw, pc, "hw"), Some(Loc::Value { reg: 5, off: 8 }));
        // Before np is loaded (the ftrace NOP at the entry) it has no location.
        assert_eq!(loc_of(&dw, f, "np"), None);
        assert_eq!(loc_of(&dw, f, "priv"), Some(Loc::Reg(5)));

        // The members the instructions reach through np and priv.
        let np_ty = locals.iter().find(|l| l.name == "np").unwrap().type_die;
        let m = dw.pointee_member(np_ty.unwrap(), 0x1a0).unwrap();
        assert_eq!(m.steps, vec![MemberStep::Field("txq".into())]);
        assert_eq!(m.rest, 0);
        let m = dw.pointee_member(np_ty.unwrap(), 0x198).unwrap();
        assert_eq!(m.steps, vec![MemberStep::Field("rxq".into())]);
        let priv_ty = priv_.type_die.unwrap();
        let m = dw.pointee_member(priv_ty, 0x2c).unwrap();
        assert_eq!(
            m.steps,
            vec![
                MemberStep::Field("hw".into()),
                MemberStep::Field("ith_tpd".into())
            ]
        );
        let m = dw.pointee_member(priv_ty, 0x100).unwrap();
        assert_eq!(m.steps[0], MemberStep::Field("qnapi".into()));
        assert_eq!(
            m.steps[1],
            MemberStep::Elem {
                index: 0,
                elem_size: 8
            }
        );
        // An int is not a pointer.
        let i_ty = locals.iter().find(|l| l.name == "i").unwrap().type_die;
        assert!(dw.pointee_member(i_ty.unwrap(), 0).is_none());
    }
}

#[test]
fn module_inlined_subroutine_parameters() {
    for ko in kos() {
        let dw = open_ko(&ko);
        let f = entry(&dw, "kdive_race_reset");
        let fl = dw.function_locals(f).unwrap();
        assert_eq!(fl.name.as_deref(), Some("kdive_race_reset"));
        // Somewhere in the function, kdive_race_reinit() (static inline) is inlined and its
        // `priv` parameter has a register; the caller's own `work` too.
        let mut seen_inlined = false;
        for pc in fl.low_pc..fl.high_pc {
            for l in fl.at(pc) {
                if l.inlined.as_deref() == Some("kdive_race_reinit") && l.name == "priv" {
                    assert!(matches!(l.loc, Loc::Reg(_)), "{l:?}");
                    seen_inlined = true;
                }
            }
        }
        assert!(seen_inlined, "no inlined kdive_race_reinit priv in {fl:?}");
        // At the entry the work_struct argument is in rdi.
        assert_eq!(loc_of(&dw, f, "work"), Some(Loc::Reg(5)));
    }
}

/// The 6.1 vmlinux of the lab: parameters at function entries are in the ABI's registers.
#[test]
fn vmlinux_parameters_at_entry() {
    let Some(lab) = lab_dir() else { return };
    let vmlinuxes: Vec<PathBuf> = capture_dirs(&lab)
        .iter()
        .filter_map(|c| manifest(c, "vmlinux"))
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if vmlinuxes.is_empty() {
        eprintln!("SKIP: no lab vmlinux");
    }
    for v in vmlinuxes {
        let dw = Arc::new(DwarfInfo::open_path(&v).unwrap());
        // int do_exit(long code)... is __noreturn; use functions with stable prototypes:
        // schedule_timeout(signed long timeout), msleep(unsigned int msecs).
        for (func, param) in [("schedule_timeout", "timeout"), ("msleep", "msecs")] {
            let f = entry(&dw, func);
            let locals = dw.locals_at(f);
            eprintln!("{} {func}: {locals:?}", v.display());
            let p = locals
                .iter()
                .find(|l| l.name == param)
                .unwrap_or_else(|| panic!("{func}: no {param} at entry: {locals:?}"));
            assert!(p.param);
            assert_eq!(p.loc, Loc::Reg(5), "{func}: {param} in rdi");
        }
        // schedule_timeout's on-stack `struct process_timer { struct timer_list timer;
        // struct task_struct *task; } timer`: a stack slot, and its members by offset.
        let f = entry(&dw, "schedule_timeout");
        let timer = dw
            .locals_at(f)
            .into_iter()
            .find(|l| l.name == "timer")
            .expect("timer");
        assert!(matches!(timer.loc, Loc::Cfa(_)), "{timer:?}");
        let t = timer.type_die.unwrap();
        let m = dw.member_at(t, 0x28).unwrap();
        assert!(m.pointee_is_composite);
        assert_eq!(m.steps, vec![MemberStep::Field("task".into())]);
        let m = dw.member_at(t, 0).unwrap();
        assert_eq!(m.steps[0], MemberStep::Field("timer".into()));
        // Not a pointer: no pointee.
        assert!(dw.pointee_member(t, 0).is_none());
    }
}
