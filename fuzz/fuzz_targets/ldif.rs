//! LDIF records: the reader never panics, and what it reads is written back identically.
#![no_main]

use ccdir::core::ldif::{write_record, Reader, ReaderOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ReaderOptions { max_value_bytes: 1 << 16, max_record_bytes: 1 << 20, ..ReaderOptions::default() };
    for rec in Reader::new(data, opts).flatten() {
        let mut out = Vec::new();
        if write_record(&mut out, &rec).is_ok() {
            let back: Vec<_> = Reader::new(out.as_slice(), ReaderOptions::default()).collect();
            assert_eq!(back.len(), 1, "one record written, one read back");
            match &back[0] {
                Ok(r) => assert_eq!(r.dn(), rec.dn()),
                Err(e) => panic!("written record does not read back: {e}"),
            }
        }
    }
});
