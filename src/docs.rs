//! Man pages and shell completions, generated from each tool's clap definition, so that
//! they never say other than `--help`: `QTOOLS_GENERATE=man|bash|zsh|fish qexport` prints
//! one on stdout instead of running the tool. `scripts/install.sh` collects them.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

/// What `QTOOLS_GENERATE` asks of the tool with the arguments `A`, printed; `None` when
/// the variable is not set (run the tool).
pub fn generate_if_asked<A: CommandFactory>() -> Option<ExitCode> {
    let what = std::env::var("QTOOLS_GENERATE").ok()?;
    let mut cmd = A::command();
    let name = cmd.get_name().to_owned();
    let mut out = Vec::new();
    let shell = match what.as_str() {
        "man" => None,
        "bash" => Some(Shell::Bash),
        "zsh" => Some(Shell::Zsh),
        "fish" => Some(Shell::Fish),
        other => {
            eprintln!("{name}: QTOOLS_GENERATE={other}: expected man, bash, zsh or fish");
            return Some(ExitCode::from(crate::error::EXIT_ERROR));
        }
    };
    let made = match shell {
        None => man_page(cmd, &name, &mut out),
        Some(s) => {
            clap_complete::generate(s, &mut cmd, name.clone(), &mut out);
            if s == Shell::Fish {
                // clap_complete writes `-s ?` bare: fish takes the `?` for a wildcard (no
                // matches, or a one-letter file's name). Quoted, it is the flag `-?`.
                out = String::from_utf8_lossy(&out)
                    .replace(" -s ? ", " -s '?' ")
                    .into_bytes();
            }
            Ok(())
        }
    };
    match made.and_then(|()| std::io::stdout().write_all(&out)) {
        Ok(()) => Some(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("{name}: writing the {what} page: {e}");
            Some(ExitCode::from(crate::error::EXIT_ERROR))
        }
    }
}

/// The man page: clap's sections, then EXIT STATUS, ENVIRONMENT and FILES (before
/// VERSION), which clap does not know.
fn man_page(cmd: clap::Command, name: &str, out: &mut dyn Write) -> std::io::Result<()> {
    let synopsis = synopsis(&cmd);
    let man = clap_mangen::Man::new(cmd);
    man.render_title(out)?;
    man.render_name_section(out)?;
    out.write_all(synopsis.as_bytes())?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    man.render_extra_section(out)?;
    out.write_all(sections(name).as_bytes())?;
    man.render_version_section(out)
}

/// The SYNOPSIS, with each option's value named (`[-o|--output FILE]`): clap_mangen's
/// leaves the values out.
fn synopsis(cmd: &clap::Command) -> String {
    use std::fmt::Write as _;
    let esc = |t: &str| t.replace('-', "\\-");
    let mut s = format!(".SH SYNOPSIS\n\\fB{}\\fR", cmd.get_name());
    let value = |a: &clap::Arg| {
        a.get_value_names()
            .and_then(|v| v.first())
            .map_or_else(|| a.get_id().as_str().to_uppercase(), ToString::to_string)
    };
    let mut cmd = cmd.clone();
    cmd.build();
    let mut operands = String::new();
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let n = a.get_num_args().unwrap_or_default();
        if a.is_positional() {
            let dots = if n.max_values() > 1 { "..." } else { "" };
            let _ = write!(operands, " [\\fI{}\\fR]{dots}", value(a));
            continue;
        }
        let mut names = Vec::new();
        if let Some(c) = a.get_short() {
            names.push(format!("\\fB\\-{}\\fR", esc(&c.to_string())));
        }
        if let Some(l) = a.get_long() {
            names.push(format!("\\fB\\-\\-{}\\fR", esc(l)));
        }
        let v = match (n.min_values(), n.takes_values()) {
            (_, false) => String::new(),
            (0, true) => format!(" [\\fI{}\\fR]", value(a)),
            _ => format!(" \\fI{}\\fR", value(a)),
        };
        let _ = write!(s, " [{}{v}]", names.join("|"));
    }
    s.push_str(&operands);
    s.push('\n');
    s
}

/// The roff of the sections clap does not make, for the tool `name`.
fn sections(name: &str) -> String {
    let server = matches!(name, "qexport" | "qimport");
    let mut s = String::from(".SH \"EXIT STATUS\"\n");
    if name == "qgrep" {
        item(&mut s, "0", "Some record matched.");
        item(&mut s, "1", "No record matched (0 with --exit-zero).");
    } else {
        item(&mut s, "0", "Done.");
    }
    item(
        &mut s,
        "2",
        "An error, said in one line on stderr (and, when the data goes to a pipe, as an unterminated last field of the output).",
    );
    item(
        &mut s,
        "130, 143",
        "Ended by Ctrl-C (SIGINT) or SIGTERM, once what the run had half done was undone.",
    );
    s.push_str(".SH ENVIRONMENT\n");
    if server {
        item(
            &mut s,
            "MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_UNIX_PORT",
            "The server, as for the mysql client (option files, --url and flags win).",
        );
        item(
            &mut s,
            "MYSQL_PWD",
            "The password (the mysql client's documentation calls this insecure: prefer an option file).",
        );
        item(&mut s, "HOME", "Where ~/.my.cnf is.");
        item(
            &mut s,
            "USER, LOGNAME",
            "The user name, when none is given and the password database has no name for this process's user.",
        );
    }
    item(
        &mut s,
        "QTOOLS_GENERATE",
        "man, bash, zsh or fish: print this page or a completion script instead of running.",
    );
    if server {
        s.push_str(".SH FILES\n");
        item(
            &mut s,
            "/etc/my.cnf, /etc/mysql/my.cnf, ~/.my.cnf",
            "Option files, read as the mysql client reads them (groups [client], [client-server], [client-mariadb] and the tool's own), unless --no-defaults or --defaults-file; --print-defaults shows what they give.",
        );
    }
    s
}

/// One tagged paragraph: `term` in bold, then `text`.
fn item(s: &mut String, term: &str, text: &str) {
    use std::fmt::Write as _;
    let _ = write!(s, ".TP\n\\fB{term}\\fR\n{text}\n");
}

#[cfg(test)]
mod tests {
    use clap::{Arg, ArgAction, Command};

    // See: #25: the SYNOPSIS names each option's value, an optional one in brackets.
    #[test]
    fn synopsis_names_values() {
        let cmd = Command::new("t")
            .arg(Arg::new("out").short('o').long("output").value_name("FILE"))
            .arg(Arg::new("quiet").long("quiet").action(ArgAction::SetTrue))
            .arg(
                Arg::new("password")
                    .short('p')
                    .long("password")
                    .num_args(0..=1)
                    .value_name("PASSWORD"),
            )
            .arg(Arg::new("files").value_name("FILE").num_args(1..));
        assert_eq!(
            super::synopsis(&cmd),
            ".SH SYNOPSIS\n\\fBt\\fR [\\fB\\-o\\fR|\\fB\\-\\-output\\fR \\fIFILE\\fR] [\\fB\\-\\-quiet\\fR] \
             [\\fB\\-p\\fR|\\fB\\-\\-password\\fR [\\fIPASSWORD\\fR]] [\\fB\\-h\\fR|\\fB\\-\\-help\\fR] [\\fIFILE\\fR]...\n"
        );
    }
}
