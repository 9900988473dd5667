//! The layer rules of docs/ARCHITECTURE.md, checked on the source: each top-level module of
//! src/ may use only the modules below it, the store never speaks LDAP, the offline tools never
//! use the protocol operations, and only the write pipeline certifies entries for the store.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each layer and the layers it may use (besides itself and external crates).
const LAYERS: &[(&str, &[&str])] = &[
    ("core", &[]),
    ("store", &["core"]),
    ("acl", &["core", "store"]),
    ("freshness", &["core"]),
    ("service", &["core", "store", "acl"]),
    ("write", &["core", "store", "acl", "freshness", "service"]),
    (
        "ops",
        &[
            "core",
            "store",
            "acl",
            "freshness",
            "service",
            "write",
            "tools",
        ],
    ),
    (
        "repl",
        &[
            "core",
            "store",
            "acl",
            "freshness",
            "service",
            "write",
            "ops",
        ],
    ),
    ("proto", &["core", "acl", "service", "ops", "repl"]),
    (
        "tools",
        &["core", "store", "acl", "freshness", "service", "write"],
    ),
    (
        "web",
        &[
            "core",
            "store",
            "acl",
            "freshness",
            "service",
            "write",
            "tools",
        ],
    ),
    (
        "portal",
        &[
            "core",
            "store",
            "acl",
            "freshness",
            "service",
            "write",
            "ops",
            "tools",
        ],
    ),
    (
        "app",
        &[
            "core",
            "store",
            "acl",
            "freshness",
            "service",
            "write",
            "ops",
            "repl",
            "proto",
            "tools",
            "web",
            "portal",
        ],
    ),
];

/// External crates a layer must not use.
const FORBIDDEN_CRATES: &[(&str, &[&str])] = &[
    ("store", &["ldap3_proto", "ldap3_lber", "tokio"]),
    ("core", &["tokio", "redb"]),
    ("tools", &["tokio"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without its unit tests and comments.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read source");
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// (layer of the file, file, code) for every file of the library.
fn sources() -> Vec<(String, String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&src).expect("under src");
        let mut parts = rel.components();
        let first = parts
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("name");
        // Unit tests (in a file's `#[cfg(test)]` part or a `tests.rs`) may use any layer.
        if first == "lib.rs" || first == "main.rs" || rel.ends_with("tests.rs") {
            continue;
        }
        let layer = first.trim_end_matches(".rs").to_string();
        out.push((layer, rel.display().to_string(), code_of(&f)));
    }
    out
}

fn used_layers(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        out.insert(name);
        rest = after;
    }
    out
}

#[test]
fn every_layer_uses_only_the_layers_below_it() {
    let known: Vec<&str> = LAYERS.iter().map(|(l, _)| *l).collect();
    let mut broken = Vec::new();
    for (layer, file, code) in sources() {
        let Some((_, allowed)) = LAYERS.iter().find(|(l, _)| *l == layer) else {
            broken.push(format!("{file}: layer '{layer}' is not in the layer table"));
            continue;
        };
        for used in used_layers(&code) {
            if used == layer || allowed.contains(&used.as_str()) {
                continue;
            }
            if !known.contains(&used.as_str()) {
                broken.push(format!("{file}: uses crate::{used}, which is no layer"));
            } else {
                broken.push(format!("{file}: {layer} may not use {used}"));
            }
        }
        for (l, crates) in FORBIDDEN_CRATES {
            if *l != layer {
                continue;
            }
            for c in *crates {
                if code.contains(&format!("{c}::")) {
                    broken.push(format!("{file}: {layer} may not use the crate {c}"));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "layer rules broken:\n{}",
        broken.join("\n")
    );
}

#[test]
fn only_the_write_pipeline_certifies_entries() {
    let mut broken = Vec::new();
    for (layer, file, code) in sources() {
        if layer == "write" || file.ends_with("core/entry.rs") {
            continue;
        }
        if code.contains("CheckedEntry::certified") || code.contains("::certified(") {
            broken.push(file);
        }
    }
    assert!(
        broken.is_empty(),
        "CheckedEntry made outside the write pipeline: {broken:?}"
    );
}

#[test]
fn the_layer_check_sees_a_broken_rule() {
    // The check itself: a store file that used an operation would be caught.
    let used = used_layers("use crate::ops::write;\nfn f() { crate::core::dn::Dn::root(); }");
    assert!(used.contains("ops") && used.contains("core"));
    let (_, allowed) = LAYERS.iter().find(|(l, _)| *l == "store").expect("store");
    assert!(!allowed.contains(&"ops"));
}
