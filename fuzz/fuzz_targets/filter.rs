//! RFC 4515 filter strings (access rules, tools) and their compilation and evaluation.
#![no_main]

use ccdir::core::filter::{Filter, FilterLimits};
use ccdir::core::schema::Schema;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static S: OnceLock<Schema> = OnceLock::new();
    let schema = S.get_or_init(|| Schema::builtin().expect("schema"));
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(f) = ccdir::core::filter_text::parse(text) {
        let limits = FilterLimits { max_depth: 32, max_elements: 1024 };
        if let Ok(c) = Filter::compile(&f, schema, limits) {
            let mut e = ccdir::core::entry::Entry::new("cn=x,dc=example");
            e.set("cn", vec![b"John Smith".to_vec()]);
            e.set("telephoneNumber", vec![b"+49 69 1234".to_vec()]);
            let _ = c.eval(&e, schema);
        }
    }
});
