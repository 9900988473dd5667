//! RFC 4514 DNs: parse, normalise, and the parsed form round-trips through its display.
#![no_main]

use ccdir::core::dn::Dn;
use ccdir::core::schema::Schema;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static S: OnceLock<Schema> = OnceLock::new();
    let schema = S.get_or_init(|| Schema::builtin().expect("schema"));
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(d) = Dn::parse(text, schema) {
        let _ = d.store_key();
        let _ = d.parent();
        let rebuilt: Vec<String> = d.rdns().iter().map(|r| r.display()).collect();
        let again = Dn::parse(&rebuilt.join(","), schema).expect("display form parses");
        assert_eq!(again.norm(), d.norm());
    }
});
