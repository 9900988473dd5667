//! The one integration-test binary: starts ccdir in process on port 0 with a temporary data dir
//! and talks to it with the `ldap3` client and the OpenLDAP command-line tools.

mod harness;
mod layers;

mod access;
mod accounts;
mod bounces;
mod checks;
mod cli_tools;
mod command;
mod consumer;
mod controls;
mod faults;
mod freshness;
mod gnupg;
mod help;
mod history;
mod interop;
mod ldif_io;
mod list_keys;
mod live_tools;
mod mail_clients;
mod mailing_list;
mod metrics;
mod monitor;
mod operations;
mod portal;
mod portal_admin;
mod portal_browser;
mod portal_links;
mod portal_registry;
mod portal_verify;
mod postfix;
mod protocol;
mod references;
mod reminders;
mod repl_monitor;
mod replication;
mod roster;
mod roster_mail;
mod schema_clients;
mod scripts;
mod service;
mod slapd_provider;
mod smime;
mod spf_dkim;
