//! What each tool says of itself: `--help` (with examples) and `--version`, the man pages
//! and completions scripts/install.sh puts, and the pages of docs/ that describe the flags,
//! all in agreement. (That the docs' examples run and their links resolve: docs.rs.)

use crate::util::Workdir;

/// Each flag `--help` of `tool` lists, with its short form when it has one.
fn help_flags(wd: &Workdir, tool: &str) -> Vec<(Option<String>, String)> {
    let help = wd.cmd(tool).arg("--help").ok().stdout();
    help.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let (short, rest) = match l.strip_prefix('-') {
                Some(r) if !r.starts_with('-') => {
                    let (s, rest) = r.split_once(", ")?;
                    (Some(format!("-{s}")), rest)
                }
                _ => (None, l),
            };
            let long: String = rest
                .strip_prefix("--")?
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            Some((short, format!("--{long}")))
        })
        .collect()
}

// See: #16, #25: every flag of every tool's --help is documented in that tool's page,
// docs/TOOL.md (its long form, as a whole word: `--ssl` in `--ssl-mode` does not count),
// every flag of that page's flag table is one the tool has, the README links the page,
// --help ends with examples, and --version names the commit.
#[test]
fn help_and_docs_agree() {
    let wd = Workdir::new("house_help");
    let readme = std::fs::read_to_string(crate::util::root().join("README.md")).unwrap();
    for tool in ["qexport", "qimport", "qgrep", "qcount"] {
        let path = format!("docs/{tool}.md");
        let page = std::fs::read_to_string(crate::util::root().join(&path)).unwrap();
        assert!(
            readme.contains(&format!("]({path})")),
            "README.md does not link {path}"
        );
        let flags = help_flags(&wd, tool);
        assert!(flags.len() > 5, "{tool}: {flags:?}");
        for (_, long) in &flags {
            assert!(
                mentions(&page, long),
                "{tool} {long} is in --help but not in {path}"
            );
        }
        // Old names the tools still take, which --help does not show.
        let aliases = ["--cascade-deletes"];
        for (flag, line) in flag_table(&page) {
            let known = flags
                .iter()
                .any(|(short, long)| *long == flag || short.as_deref() == Some(flag.as_str()))
                || aliases.contains(&flag.as_str());
            assert!(
                known,
                "{path}: the flag table names {flag}, which {tool} --help does not show: {line}"
            );
        }
        let help = wd.cmd(tool).arg("--help").ok().stdout();
        assert!(help.contains("Examples:"), "{tool}");
        let version = wd.cmd(tool).arg("--version").ok().stdout();
        let rest = version.trim().strip_prefix(&format!("{tool} ")).unwrap();
        assert!(rest.contains(" (") && rest.ends_with(')'), "{version}");
    }
}

/// Whether `text` names `flag` as a whole word: not as part of a longer flag or word.
fn mentions(text: &str, flag: &str) -> bool {
    let part = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(flag).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + flag.len()..].chars().next();
        !before.is_some_and(part) && !after.is_some_and(part)
    })
}

/// The flags named in the first cells of a page's "## Flags" table, with their rows.
fn flag_table(page: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let rows = page
        .lines()
        .skip_while(|l| *l != "## Flags")
        .skip(1)
        .take_while(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with("| `"));
    for row in rows {
        let cell = row.split(" | ").next().unwrap_or("");
        let bytes = cell.as_bytes();
        for (at, _) in cell.match_indices('-') {
            let prev = at.checked_sub(1).map(|i| bytes[i]);
            if prev.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-') {
                continue;
            }
            let name: String = cell[at..]
                .chars()
                .enumerate()
                .take_while(|&(i, c)| i < 2 || c.is_ascii_alphanumeric() || c == '-')
                .map(|(_, c)| c)
                .collect();
            let long = name.starts_with("--");
            let short = !long && name.len() == 2 && name != "- ";
            if (long && name.len() > 3) || short {
                out.push((name, row.to_owned()));
            }
        }
    }
    assert!(out.len() > 5, "no flag table found: {out:?}");
    out
}

// See: #16: scripts/install.sh puts the binaries, man pages and completions under a
// prefix; each page renders with man, each bash completion parses.
#[test]
fn install_puts_binaries_man_pages_and_completions() {
    let wd = Workdir::new("house_install");
    let bins = std::path::Path::new(env!("CARGO_BIN_EXE_qexport"))
        .parent()
        .unwrap();
    let prefix = wd.path().join("prefix");
    // A relative prefix is taken from where the script runs (hostile review, #25).
    let run = std::process::Command::new("bash")
        .arg(crate::util::root().join("scripts/install.sh"))
        .arg("prefix")
        .current_dir(wd.path())
        .env("QTOOLS_BIN_DIR", bins)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for tool in ["qexport", "qimport", "qgrep", "qcount"] {
        assert!(prefix.join("bin").join(tool).exists());
        let page = prefix.join(format!("share/man/man1/{tool}.1"));
        let man = std::process::Command::new("man")
            .arg("-l")
            .arg(&page)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .expect("running man (scripts/deps.sh installs man-db)");
        let text = String::from_utf8_lossy(&man.stdout);
        assert!(
            man.status.success(),
            "{}",
            String::from_utf8_lossy(&man.stderr)
        );
        assert!(text.contains(tool) && text.contains("Examples:"), "{text}");
        // See: #23 (5): the sections clap does not make.
        for section in ["EXIT STATUS", "ENVIRONMENT"] {
            assert!(text.contains(section), "{tool}: {section}\n{text}");
        }
        if tool.starts_with("qexport") || tool.starts_with("qimport") {
            assert!(
                text.contains("FILES") && text.contains("~/.my.cnf"),
                "{text}"
            );
        }
        let bash = prefix.join(format!("share/bash-completion/completions/{tool}"));
        let check = std::process::Command::new("bash")
            .arg("-n")
            .arg(&bash)
            .status()
            .unwrap();
        assert!(check.success(), "bash -n {}", bash.display());
        assert!(prefix
            .join(format!("share/zsh/site-functions/_{tool}"))
            .exists());
        let fish = std::fs::read_to_string(
            prefix.join(format!("share/fish/vendor_completions.d/{tool}.fish")),
        )
        .unwrap();
        // See: #25 (hostile review): a bare `?` is a wildcard to fish.
        assert!(!fish.contains(" -s ? "), "{fish}");
    }
}

// See: #23 (5), #25: the code fences of README.md, BENCHMARKS.md and docs/*.md are closed
// (an open one turns the rest of the page into code).
#[test]
fn doc_fences_are_closed() {
    let root = crate::util::root();
    let mut pages = vec![root.join("README.md"), root.join("BENCHMARKS.md")];
    for e in std::fs::read_dir(root.join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            pages.push(p);
        }
    }
    assert!(pages.len() > 8, "{pages:?}");
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        let fences = text
            .lines()
            .filter(|l| l.trim_start().starts_with("```"))
            .count();
        assert_eq!(
            fences % 2,
            0,
            "an unclosed code fence in {}",
            page.display()
        );
    }
}
