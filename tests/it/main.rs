//! The one integration-test binary: starts ccdir in process on port 0 with a temporary data dir
//! and talks to it with the `ldap3` client and the OpenLDAP command-line tools.

mod harness;

mod access;
mod cli_tools;
mod command;
mod freshness;
mod interop;
mod ldif_io;
mod mailing_list;
mod operations;
mod protocol;
mod roster;
mod schema_clients;
mod scripts;
