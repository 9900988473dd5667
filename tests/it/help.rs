//! `ccdir <command> --help` lists the options that command takes and no others: the server's
//! listeners, certificate and log options only on `serve` and `check-config`, the live-tool
//! options (`--url`, `--bind-dn`, `--password-file`, `--ca-file`) only on the commands that can
//! ask a running server, the data directory only where one is opened.

use std::collections::BTreeSet;
use std::process::{Command, Output};

fn ccdir(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ccdir"))
        .args(args)
        .env("COLUMNS", "200")
        .output()
        .expect("run ccdir")
}

/// The long option names in the "Options:" section of a help text.
fn options(help: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut inside = false;
    for line in help.lines() {
        if line.ends_with(':') && !line.starts_with(' ') {
            inside = line == "Options:";
            continue;
        }
        if !inside {
            continue;
        }
        // "  -c, --config <CONFIG>  ..." or "      --set <KEY=VALUE>  ..."
        let t = line.trim_start();
        let t = match t.strip_prefix('-') {
            Some(rest) if !rest.starts_with('-') => {
                rest.split_once(", ").map(|(_, r)| r).unwrap_or("")
            }
            _ => t,
        };
        if let Some(name) = t.strip_prefix("--") {
            let name: String = name
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            out.insert(format!("--{name}"));
        }
    }
    out
}

/// The names in the "Commands:" section (without `help`).
fn commands(help: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut inside = false;
    for line in help.lines() {
        if line.ends_with(':') && !line.starts_with(' ') {
            inside = line == "Commands:";
            continue;
        }
        if inside {
            if let Some(name) = line.split_whitespace().next() {
                if name != "help" {
                    out.insert(name.to_string());
                }
            }
        }
    }
    out
}

fn help_of(path: &[&str]) -> String {
    let mut args = path.to_vec();
    args.push("--help");
    let o = ccdir(&args);
    assert!(
        o.status.success(),
        "ccdir {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const CONFIG: &[&str] = &["--config", "--set"];
const DATA: &[&str] = &["--config", "--set", "--data-dir", "--suffix"];
const LIVE: &[&str] = &["--url", "--bind-dn", "--password-file", "--ca-file"];
const LOG: &[&str] = &["--log-format", "--log-level"];
const SERVER: &[&str] = &["--ldap-listen", "--ldaps-listen", "--tls-cert", "--tls-key"];

/// Each command (as typed) and the options it takes, besides --help.
fn expected() -> Vec<(Vec<&'static str>, BTreeSet<String>)> {
    let set = |groups: &[&[&str]], own: &[&str]| -> BTreeSet<String> {
        groups
            .iter()
            .flat_map(|g| g.iter())
            .chain(own)
            .chain(&["--help"])
            .map(|s| s.to_string())
            .collect()
    };
    vec![
        (vec!["serve"], set(&[DATA, SERVER, LOG], &[])),
        (vec!["check-config"], set(&[DATA, SERVER, LOG], &[])),
        (vec!["hash-password"], set(&[CONFIG], &[])),
        (
            vec!["import"],
            set(&[DATA], &["--continue", "--allow-url", "--quiet"]),
        ),
        (
            vec!["export"],
            set(&[DATA, LIVE], &["--base", "--no-operational", "--output"]),
        ),
        (vec!["backup"], set(&[DATA, LIVE], &[])),
        (vec!["restore"], set(&[DATA], &[])),
        (
            vec!["gen-sample"],
            set(
                &[],
                &["--tlds", "--count", "--passwords", "--suffix", "--output"],
            ),
        ),
        (
            vec!["verify"],
            set(
                &[DATA],
                &[
                    "--method", "--status", "--failed", "--mail", "--at", "--by", "--note",
                ],
            ),
        ),
        (
            vec!["report", "overdue"],
            set(
                &[DATA, LIVE],
                &["--at", "--within", "--format", "--as", "--output"],
            ),
        ),
        (vec!["check"], set(&[DATA, LIVE], &["--format", "--output"])),
        (
            vec!["roster"],
            set(
                &[DATA, LIVE],
                &["--format", "--as", "--region", "--at", "--output"],
            ),
        ),
        (
            vec!["reminders"],
            set(&[DATA, LOG], &["--dry-run", "--send", "--at"]),
        ),
        (
            vec!["roster-mail"],
            set(&[DATA, LOG], &["--dry-run", "--send", "--at"]),
        ),
        (
            vec!["list-keys"],
            set(&[DATA], &["--as", "--openpgp", "--smime"]),
        ),
        (vec!["replication", "status"], set(&[DATA, LIVE], &[])),
        (vec!["promote"], set(&[DATA], &[])),
        (vec!["bounce"], set(&[DATA], &[])),
    ]
}

#[test]
fn every_command_lists_its_own_options_and_no_others() {
    let table = expected();
    // The table covers every command the binary has (a new one must be added here).
    let listed: BTreeSet<String> = table.iter().map(|(p, _)| p[0].to_string()).collect();
    assert_eq!(commands(&help_of(&[])), listed, "top-level commands");
    for group in ["report", "replication"] {
        let subs: BTreeSet<String> = table
            .iter()
            .filter(|(p, _)| p[0] == group && p.len() == 2)
            .map(|(p, _)| p[1].to_string())
            .collect();
        assert_eq!(commands(&help_of(&[group])), subs, "ccdir {group}");
    }
    let all: BTreeSet<String> = table.iter().flat_map(|(_, o)| o.clone()).collect();
    for (path, want) in &table {
        let help = help_of(path);
        let got = options(&help);
        let name = path.join(" ");
        for o in want {
            assert!(got.contains(o), "ccdir {name} --help lacks {o}:\n{help}");
        }
        for o in all.difference(want) {
            assert!(
                !got.contains(o),
                "ccdir {name} --help lists {o}, which it does not take:\n{help}"
            );
        }
        assert_eq!(&got, want, "ccdir {name} --help:\n{help}");
    }
}

#[test]
fn options_of_other_commands_are_refused() {
    // Not only hidden from the help: the parser rejects them.
    for args in [
        &["import", "--ldap-listen", "127.0.0.1:1", "x.ldif"][..],
        &["hash-password", "--data-dir", "/tmp/nowhere"],
        &["restore", "--url", "ldaps://localhost:636", "b.ldif"],
        &[
            "verify",
            "--log-level",
            "debug",
            "--method",
            "voice",
            "cn=x",
        ],
        &["report", "overdue", "--tls-cert", "/etc/ccdir/server.pem"],
    ] {
        let o = ccdir(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "ccdir {}: {err}", args.join(" "));
        assert!(
            err.contains("unexpected argument"),
            "ccdir {}: {err}",
            args.join(" ")
        );
    }
}
