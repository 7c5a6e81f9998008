//! The C expression parser over arbitrary strings (as typed at the prompt or in `p`, `struct`,
//! `rd` arguments). Must never panic or recurse without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let is_type = |n: &str| matches!(n, "u8" | "u64" | "size_t" | "task_struct" | "list_head");
    let _ = kdive_eval::lex::tokenize(s);
    if let Ok(e) = kdive_eval::parse_expression(s, &is_type) {
        let _ = format!("{e:?}");
        let _ = e.per_cpu();
    }
    if let Ok(t) = kdive_eval::parse::parse_type_name(s, &is_type) {
        let _ = t.spelling();
    }
});
