//! The integration tests: the real binaries, on real data, against a real MariaDB server
//! (see util/db.rs). One test binary, so the private server starts once per run.

mod util;

mod backup;
mod backup_consistency;
mod backup_objects;
mod backup_privileges;
mod backup_values;
mod conn;
mod csv_parallel;
mod docs;
mod first_hour;
mod help;
mod inputs;
mod ledger;
mod messages;
mod network;
mod pipes;
mod progress;
mod qcount;
mod qexport;
mod qexport_output;
mod qexport_parallel;
mod qexport_readonly;
mod qexport_wire;
mod qgrep;
mod qimport;
mod qimport_create;
mod qimport_defer;
mod qimport_dry_run;
mod qimport_errors;
mod qimport_foreign_keys;
mod qimport_interrupts;
mod qimport_modes;
mod qimport_parallel;
mod qimport_rejects;
mod qimport_swap;
mod reliability;
mod restore;
mod restore_isolation;
mod restore_script;
mod roundtrip;
mod serve;
mod terminal;
mod tls;
mod translated;
