//! Parser + evaluator + printers over a hand-built type graph and memory image.

use crate::format_type::{ptype, struct_body};
use crate::format_value::{format_value, PrintOptions};
use crate::target::{SymbolInfo, Target};
use crate::{EvalError, Evaluator, Value};
use kdive_debuginfo::types::Composite;
use kdive_debuginfo::{Member, SymbolKind, Type, TypeGraph, TypeId, TypeStore};

struct Mock {
    store: TypeStore,
    base: u64,
    mem: Vec<u8>,
    syms: Vec<(&'static str, u64, SymbolKind)>,
}

impl Target for Mock {
    fn types(&self) -> &TypeStore {
        &self.store
    }
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
        let off = addr
            .checked_sub(self.base)
            .ok_or("excluded from the dump")? as usize;
        let src = self
            .mem
            .get(off..off + buf.len())
            .ok_or("excluded from the dump")?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn symbol(&self, name: &str) -> Option<SymbolInfo> {
        self.syms.iter().find(|s| s.0 == name).map(|s| SymbolInfo {
            name: s.0.into(),
            addr: s.1,
            kind: s.2,
            size: 0,
            per_cpu: false,
        })
    }
    fn symbol_at(&self, addr: u64) -> Option<(String, u64)> {
        self.syms
            .iter()
            .filter(|s| s.1 <= addr && addr - s.1 < 0x100)
            .max_by_key(|s| s.1)
            .map(|s| (s.0.to_string(), addr - s.1))
    }
    fn per_cpu_offset(&self, _cpu: u32) -> Option<u64> {
        None
    }
    fn nr_cpus(&self) -> u32 {
        1
    }
    fn symbol_names(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        Box::new(self.syms.iter().map(|s| s.0))
    }
}

fn m(name: &str, ty: TypeId, bits: u64) -> Member {
    Member {
        name: Some(name.into()),
        ty,
        bit_offset: bits,
        bit_size: None,
    }
}

const BASE: u64 = 0xffff_8880_0000_0000;

/// `struct list_head`, `struct alx_priv {dev; struct {dma; virt;} descmem; qnapi[4]; comm[8];
/// flags:3}`, `int`, `char`, `unsigned long`, typedef `u32`.
fn mock() -> Mock {
    let mut g = TypeGraph::new();
    let int = g.add(Type::Int {
        name: "int".into(),
        size: 4,
        signed: true,
        is_char: false,
        is_bool: false,
    });
    let ch = g.add(Type::Int {
        name: "char".into(),
        size: 1,
        signed: true,
        is_char: true,
        is_bool: false,
    });
    let ulong = g.add(Type::Int {
        name: "unsigned long".into(),
        size: 8,
        signed: false,
        is_char: false,
        is_bool: false,
    });
    let uint = g.add(Type::Int {
        name: "unsigned int".into(),
        size: 4,
        signed: false,
        is_char: false,
        is_bool: false,
    });
    let u32t = g.add(Type::Typedef {
        name: "u32".into(),
        target: uint,
    });
    let fwd = g.add(Type::Struct(Composite {
        name: Some("list_head".into()),
        size: 0,
        members: vec![],
        is_declaration: true,
    }));
    let lhp = g.add(Type::Pointer { target: fwd });
    let lh = g.add(Type::Struct(Composite {
        name: Some("list_head".into()),
        size: 16,
        members: vec![m("next", lhp, 0), m("prev", lhp, 64)],
        is_declaration: false,
    }));
    let void_p = g.add(Type::Pointer {
        target: TypeId::VOID,
    });
    let anon = g.add(Type::Struct(Composite {
        name: None,
        size: 16,
        members: vec![m("dma", ulong, 0), m("virt", void_p, 64)],
        is_declaration: false,
    }));
    let napi = g.add(Type::Struct(Composite {
        name: Some("alx_napi".into()),
        size: 0,
        members: vec![],
        is_declaration: true,
    }));
    let napi_p = g.add(Type::Pointer { target: napi });
    let qnapi = g.add(Type::Array {
        elem: napi_p,
        len: Some(4),
    });
    let comm = g.add(Type::Array {
        elem: ch,
        len: Some(8),
    });
    let f = g.add(Type::Function {
        ret: TypeId::VOID,
        params: vec![(None, lhp)],
        variadic: false,
    });
    let fp = g.add(Type::Pointer { target: f });
    g.add(Type::Struct(Composite {
        name: Some("alx_priv".into()),
        size: 112,
        members: vec![
            m("list", lh, 0),
            m("descmem", anon, 128),
            m("qnapi", qnapi, 256),
            m("comm", comm, 512),
            Member {
                name: Some("flags".into()),
                ty: u32t,
                bit_offset: 576 + 4,
                bit_size: Some(3),
            },
            m("num", int, 608),
            m("func", fp, 640),
        ],
        is_declaration: false,
    }));
    g.add(Type::Enum {
        name: Some("color".into()),
        size: 4,
        signed: false,
        values: vec![("RED".into(), 0), ("GREEN".into(), 1), ("BLUE".into(), 5)],
        is_declaration: false,
    });
    let mut mem = vec![0u8; 0x1000];
    // alx_priv at BASE+0x100: list points to itself, comm "eth0", flags 5, num -3.
    let p = 0x100usize;
    mem[p..p + 8].copy_from_slice(&(BASE + 0x100).to_le_bytes());
    mem[p + 8..p + 16].copy_from_slice(&(BASE + 0x100).to_le_bytes());
    mem[p + 16..p + 24].copy_from_slice(&0x1234u64.to_le_bytes());
    mem[p + 64..p + 68].copy_from_slice(b"eth0");
    mem[p + 72] = 5 << 4;
    mem[p + 76..p + 80].copy_from_slice(&(-3i32).to_le_bytes());
    mem[p + 80..p + 88].copy_from_slice(&0xffff_ffff_8100_0010u64.to_le_bytes());
    Mock {
        store: TypeStore::new(g, None),
        base: BASE,
        mem,
        syms: vec![
            ("priv0", BASE + 0x100, SymbolKind::Data),
            ("do_work", 0xffff_ffff_8100_0000, SymbolKind::Text),
        ],
    }
}

fn p(t: &Mock, hist: &[Value], e: &str) -> String {
    let ev = Evaluator::new(t, hist);
    let v = ev.eval_str(e).unwrap_or_else(|err| panic!("{e}: {err}"));
    format_value(&ev, &v, PrintOptions::crash()).unwrap()
}

fn err(t: &Mock, e: &str) -> EvalError {
    let ev = Evaluator::new(t, &[]);
    ev.eval_str(e)
        .and_then(|v| format_value(&ev, &v, PrintOptions::crash()).map(|_| v))
        .unwrap_err()
}

#[test]
fn seed_shape() {
    let t = mock();
    let a = format!("((struct alx_priv *){:#x})", BASE + 0x100);
    assert_eq!(p(&t, &[], &format!("{a}->qnapi")), "{0x0, 0x0, 0x0, 0x0}");
    let ev = Evaluator::new(&t, &[]);
    let v = ev
        .eval_str(&format!("(struct alx_priv *){:#x}", BASE + 0x100))
        .unwrap();
    assert_eq!(
        ptype(&ev, v.ty),
        "struct alx_priv {\n    struct list_head list;\n    struct {\n        unsigned long dma;\n        void *virt;\n    } descmem;\n    struct alx_napi *qnapi[4];\n    char comm[8];\n    u32 flags : 3;\n    int num;\n    void (*func)(struct list_head *);\n} *"
    );
}

#[test]
fn values() {
    let t = mock();
    let a = format!("((struct alx_priv *){:#x})", BASE + 0x100);
    assert_eq!(p(&t, &[], &format!("{a}->comm")), "\"eth0\\000\\000\\000\"");
    assert_eq!(p(&t, &[], &format!("{a}->flags")), "5");
    assert_eq!(p(&t, &[], &format!("{a}->num")), "-3");
    assert_eq!(p(&t, &[], &format!("{a}->num * 2 + 1")), "-5");
    assert_eq!(p(&t, &[], &format!("{a}->descmem.dma")), "4660");
    assert_eq!(
        p(&t, &[], &format!("{a}->func")),
        "(void (*)(struct list_head *)) 0xffffffff81000010 <do_work+16>"
    );
    assert_eq!(
        p(&t, &[], &format!("{a}->list")),
        format!(
            "{{\n  next = {0:#x} <priv0>,\n  prev = {0:#x} <priv0>\n}}",
            BASE + 0x100
        )
    );
    // Pointer arithmetic and container_of by casts.
    assert_eq!(
        p(&t, &[], &format!("&{a}->qnapi[2]")),
        format!("(struct alx_napi **) {:#x} <priv0+48>", BASE + 0x130)
    );
    assert_eq!(
        p(&t, &[], &format!("(struct alx_priv *)((char *){a}->list.next - (unsigned long)&((struct alx_priv *)0)->list)")),
        format!("(struct alx_priv *) {:#x} <priv0>", BASE + 0x100)
    );
    assert_eq!(p(&t, &[], "sizeof(struct alx_priv)"), "112");
    assert_eq!(p(&t, &[], "1 ? 2 : 3"), "2");
    assert_eq!(p(&t, &[], "-1 < 0U"), "0");
    assert_eq!(p(&t, &[], "(unsigned char)300"), "44 ','");
    assert_eq!(p(&t, &[], "BLUE"), "BLUE");
    assert_eq!(p(&t, &[], "(enum color)1"), "GREEN");
    assert_eq!(p(&t, &[], "0x10 >> 2 | 1"), "5");
    let ev = Evaluator::new(&t, &[]);
    let v = ev.eval_str(&format!("{a}->list")).unwrap();
    let x = PrintOptions {
        format: Some('x'),
        ..PrintOptions::crash()
    };
    assert_eq!(
        format_value(&ev, &ev.eval_str(&format!("{a}->comm")).unwrap(), x).unwrap(),
        "{0x65, 0x74, 0x68, 0x30, 0x0, 0x0, 0x0, 0x0}"
    );
    // crash's `-x` is gdb's output radix, not `/x`: integers in hex (negative ones as the
    // type's two's complement), strings, enums and pointers as they are.
    let hex = PrintOptions {
        radix: 16,
        ..PrintOptions::crash()
    };
    let show =
        |e: &str| format_value(&ev, &ev.eval_str(&format!("{a}->{e}")).unwrap(), hex).unwrap();
    assert_eq!(show("comm"), "\"eth0\\000\\000\\000\"");
    assert_eq!(show("flags"), "0x5");
    assert_eq!(show("num"), "0xfffffffd");
    assert_eq!(show("descmem.dma"), "0x1234");
    assert_eq!(
        format_value(&ev, &ev.eval_str("(enum color)1").unwrap(), hex).unwrap(),
        "GREEN"
    );
    // History.
    let hist = vec![v];
    assert_eq!(p(&t, &hist, "$1.next == $.prev"), "1");
    assert_eq!(p(&t, &hist, "$$0.next->next == $1.next"), "1");
}

#[test]
fn types_and_errors() {
    let t = mock();
    let ev = Evaluator::new(&t, &[]);
    let id = ev.target.types().find_type("struct list_head").unwrap();
    assert_eq!(
        struct_body(&ev, id, true, None),
        "struct list_head {\n   [0] struct list_head *next;\n   [8] struct list_head *prev;\n}"
    );
    let e = ev.target.types().find_type("enum color").unwrap();
    assert_eq!(ptype(&ev, e), "enum color {RED, GREEN, BLUE = 5}");
    assert!(
        matches!(err(&t, "priv1"), EvalError::NoSymbol { suggestions, .. } if suggestions == ["priv0"])
    );
    assert!(matches!(err(&t, "priv0"), EvalError::UntypedSymbol { .. }));
    assert!(
        matches!(err(&t, "(struct alx_prv *)0"), EvalError::NoType { suggestions, .. } if suggestions == ["struct alx_priv"])
    );
    assert!(matches!(
        err(&t, &format!("((struct alx_priv *){:#x})->nmu", BASE + 0x100)),
        EvalError::NoMember { suggestions, .. } if suggestions == ["num"]
    ));
    let e = err(&t, "*(struct list_head *)0x10");
    assert_eq!(
        e.to_string(),
        "Cannot access memory at address 0x10: excluded from the dump"
    );
    assert!(matches!(err(&t, "1 +"), EvalError::Syntax { pos: 3, .. }));
    assert!(matches!(err(&t, "1 / 0"), EvalError::Invalid(_)));
    // The untyped symbol can be cast to its type.
    assert_eq!(p(&t, &[], "((struct alx_priv)priv0).num"), "-3");
    assert_eq!(
        p(&t, &[], "*(int *)&priv0"),
        format!("{}", (BASE + 0x100) as u32 as i32)
    );
}
