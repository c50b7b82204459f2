//! Man pages and shell completions, generated from each tool's clap definition, so that
//! they never say other than `--help`: `QTOOLS_GENERATE=man|bash|zsh|fish qexport` prints
//! one on stdout instead of running the tool. `scripts/install.sh` collects them.

use std::io::Write as _;
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
        None => clap_mangen::Man::new(cmd).render(&mut out),
        Some(s) => {
            clap_complete::generate(s, &mut cmd, name.clone(), &mut out);
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
