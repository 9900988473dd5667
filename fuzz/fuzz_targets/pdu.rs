//! Client bytes through the codec the server uses, then through what the server does with a
//! decoded request before touching the store: controls, DNs, filters, attribute selection.
#![no_main]

use bytes::BytesMut;
use ccdir::core::filter::{Filter, FilterLimits};
use ccdir::core::schema::Schema;
use ccdir::ops::Op;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tokio_util::codec::Decoder;

fn schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| Schema::builtin().expect("schema"))
}

fuzz_target!(|data: &[u8]| {
    let mut codec = ccdir::proto::codec::RequestCodec::new(1 << 20, 64);
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        // The typed request, with its controls decoded, as the connection makes it.
        let Ok(req) = ccdir::ops::Request::decode(frame.msg, frame.controls) else {
            continue;
        };
        match &req.op {
            Op::Search(r) => {
                let _ = ccdir::core::dn::Dn::parse(&r.base, schema());
                let limits = FilterLimits { max_depth: 32, max_elements: 1024 };
                if let Ok(f) = Filter::compile(&r.filter, schema(), limits) {
                    let e = ccdir::core::entry::Entry::new("cn=x,dc=example");
                    let _ = f.eval(&e, schema());
                }
                let _ = ccdir::ops::project::Selection::parse(&r.attrs, schema());
            }
            Op::Add(r) => {
                let _ = ccdir::core::dn::Dn::parse(&r.dn, schema());
                for a in &r.attributes {
                    let _ = ccdir::core::entry::AttrDesc::parse(&a.atype, schema());
                }
            }
            Op::ModifyDn(r) => {
                let _ = ccdir::core::dn::Dn::parse_rdn(&r.newrdn, schema());
            }
            _ => {}
        }
    }
});
