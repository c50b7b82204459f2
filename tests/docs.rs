//! The docs keep their promises (#25). Every shell example of README.md and docs/*.md runs
//! against the private server; every code fence has a language; every relative link leads
//! to a file (and a heading) that exists; the README stays a front door.
//!
//! The sandbox of an example: a fresh work directory, which is also `$HOME`, holding the
//! files of fixtures/docs/ and a `~/.my.cnf` whose database holds fixtures/sql/users.sql
//! and fixtures/sql/docs.sql. The examples call that database `shop`, and an empty second
//! one `shop_copy`: each name stands for a test database of its own, in the block that
//! runs and in the output that a console block shows.
//!
//! A fence's info string says how its block is taken:
//! - ```` ```sh ````, ```` ```bash ````: the block runs under `bash -euo pipefail`, in a
//!   sandbox of its own, with the built binaries first on PATH;
//! - ```` ```console ````: each `$ ` line runs in turn (in one sandbox), and its stdout
//!   must be the lines below it;
//! - ```` ```sh no-run (reason) ````: not run (another host, cron, an install), listed;
//! - any other language (`text`, `ini`): not a command;
//! - no language at all: an error.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::util::db::TestDb;
use crate::util::{fixture, root, Workdir};

/// A fenced block of a page.
struct Block {
    /// The page, relative to the project's root.
    file: String,
    /// The line of the opening fence (1-based).
    line: usize,
    lang: String,
    /// The rest of the info string (`no-run (reason)`).
    note: String,
    text: String,
}

impl Block {
    fn place(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    fn runs(&self) -> bool {
        matches!(self.lang.as_str(), "sh" | "bash" | "console") && self.note.is_empty()
    }
}

/// The pages: README.md, BENCHMARKS.md and docs/*.md.
fn pages() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("reading docs/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    let mut all = vec![root().join("README.md"), root().join("BENCHMARKS.md")];
    all.extend(docs);
    all
}

fn rel(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The fenced blocks of a page. An unclosed fence is an error here too.
fn blocks(path: &Path) -> Vec<Block> {
    let file = rel(path);
    let mut out = Vec::new();
    let mut open: Option<(Block, usize)> = None;
    for (i, line) in read(path).lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match open.take() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let info = info.trim();
                    let (lang, note) = info.split_once(' ').unwrap_or((info, ""));
                    let block = Block {
                        file: file.clone(),
                        line: i + 1,
                        lang: lang.to_owned(),
                        note: note.trim().to_owned(),
                        text: String::new(),
                    };
                    open = Some((block, indent));
                }
            }
            Some((block, _)) if trimmed.trim_end() == "```" => out.push(block),
            Some((mut block, indent)) => {
                let cut = line.len() - line.trim_start().len();
                block.text.push_str(&line[cut.min(indent)..]);
                block.text.push('\n');
                open = Some((block, indent));
            }
        }
    }
    if let Some((block, _)) = open {
        panic!("{}: a code fence that is never closed", block.place());
    }
    out
}

/// Replace `from` where it stands as a whole word (not part of a longer name).
fn rename(text: &str, from: &str, to: &str) -> String {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let before = rest[..at].chars().next_back().or(out.chars().next_back());
        let after = rest[at + from.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(word) || after.is_some_and(word) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = &rest[at + from.len()..];
    }
    out.push_str(rest);
    out
}

/// A work directory and the databases behind `shop` and `shop_copy`.
struct Sandbox {
    wd: Workdir,
    shop: TestDb,
    copy: TestDb,
}

impl Sandbox {
    fn new() -> Sandbox {
        let wd = Workdir::new("docs");
        let shop = TestDb::new("docs");
        shop.load("users.sql");
        shop.load("docs.sql");
        let copy = TestDb::new("docs");
        for entry in std::fs::read_dir(fixture("docs")).unwrap() {
            let p = entry.unwrap().path();
            std::fs::copy(&p, wd.path().join(p.file_name().unwrap())).unwrap();
        }
        let opts = mysql::Opts::from_url(&shop.url).unwrap();
        let (host, port) = shop.host_port();
        let mut cnf = format!(
            "[client]\nhost = {host}\nport = {port}\nuser = {}\ndatabase = {}\n",
            opts.get_user().unwrap_or("root"),
            shop.name
        );
        if let Some(pass) = opts.get_pass() {
            writeln!(cnf, "password = {pass}").unwrap();
        }
        wd.create(".my.cnf", cnf);
        Sandbox { wd, shop, copy }
    }

    /// The example's text with the sandbox's database names.
    fn script(&self, text: &str) -> String {
        let text = rename(text, "shop_copy", &self.copy.name);
        rename(&text, "shop", &self.shop.name)
    }

    /// What a command printed, with the names the docs use.
    fn shown(&self, out: &str) -> String {
        out.replace(&self.copy.name, "shop_copy")
            .replace(&self.shop.name, "shop")
    }

    fn run(&self, text: &str) -> crate::util::Run {
        self.wd
            .sh(&format!("set -euo pipefail\n{}", self.script(text)))
            .run()
    }
}

/// Run one block; Err is its report.
fn run_block(block: &Block) -> Result<(), String> {
    let sandbox = Sandbox::new();
    if block.lang != "console" {
        let run = sandbox.run(&block.text);
        if run.out.status.success() {
            return Ok(());
        }
        return Err(format!(
            "{}: the example failed ({})\n--- stderr ---\n{}--- stdout (last lines) ---\n{}",
            block.place(),
            run.out.status,
            run.stderr(),
            tail(&run.stdout(), 10)
        ));
    }
    // A console block: `$ command` lines, each followed by what it prints on stdout.
    let mut steps: Vec<(usize, String, String)> = Vec::new();
    for (i, line) in block.text.lines().enumerate() {
        match (line.strip_prefix("$ "), steps.last_mut()) {
            (Some(cmd), _) => steps.push((block.line + 1 + i, cmd.to_owned(), String::new())),
            (None, Some(step)) => {
                step.2.push_str(line);
                step.2.push('\n');
            }
            (None, None) => {
                return Err(format!(
                    "{}: a console block must start with a `$ ` line",
                    block.place()
                ))
            }
        }
    }
    for (line, cmd, want) in steps {
        let run = sandbox.run(&cmd);
        let got = sandbox.shown(&run.stdout());
        if !run.out.status.success() || got != want {
            return Err(format!(
                "{}:{line}: `{cmd}` ({})\n--- expected stdout ---\n{want}--- stdout ---\n{got}--- stderr ---\n{}",
                block.file,
                run.out.status,
                sandbox.shown(&run.stderr())
            ));
        }
    }
    Ok(())
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    let mut out = lines[lines.len().saturating_sub(n)..].join("\n");
    out.push('\n');
    out
}

/// Say something in the test's output whether or not it passes (the harness captures
/// `println!`, not writes to the stderr handle).
fn say(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

// See: #25: every shell example of the README and docs/ runs, as written, in a sandbox.
#[test]
fn every_shell_example_runs() {
    let all: Vec<Block> = pages().iter().flat_map(|p| blocks(p)).collect();
    let mut errors = Vec::new();
    let mut skipped = Vec::new();
    for b in &all {
        if b.lang.is_empty() {
            errors.push(format!(
                "{}: a code fence without a language (```sh, ```console, ```text ...)",
                b.place()
            ));
        } else if let Some(rest) = b.note.strip_prefix("no-run") {
            let reason = rest.trim();
            if reason.len() < 3 || !reason.starts_with('(') || !reason.ends_with(')') {
                errors.push(format!(
                    "{}: no-run needs a reason: no-run (why)",
                    b.place()
                ));
            }
            skipped.push(format!("  {} {reason}", b.place()));
        } else if !b.note.is_empty() {
            errors.push(format!("{}: unknown fence note {:?}", b.place(), b.note));
        }
    }
    let runnable: Vec<&Block> = all.iter().filter(|b| b.runs()).collect();
    assert!(
        runnable.len() > 20,
        "only {} examples found",
        runnable.len()
    );
    let next = AtomicUsize::new(0);
    let failed = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(b) = runnable.get(i) else { break };
                if let Err(e) = run_block(b) {
                    failed.lock().unwrap().push((b.place(), e));
                }
            });
        }
    });
    let mut failed = failed.into_inner().unwrap();
    failed.sort();
    errors.extend(failed.into_iter().map(|(_, e)| e));
    say(&format!(
        "docs: {} examples ran; {} not run:\n{}\n",
        runnable.len(),
        skipped.len(),
        skipped.join("\n")
    ));
    assert!(errors.is_empty(), "\n{}", errors.join("\n\n"));
}

/// The anchors of a page's headings, as GitHub makes them.
fn anchors(page: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut fenced = false;
    for line in page.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let text = line.trim_start_matches('#').trim();
        let slug: String = text
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let n = seen.iter().filter(|a| *a == &slug).count();
        out.push(if n == 0 {
            slug.clone()
        } else {
            format!("{slug}-{n}")
        });
        seen.push(slug);
    }
    out
}

/// The targets of a page's links `[text](target)`, with their lines, outside code.
fn links(page: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (i, line) in page.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Code spans hold no links.
        let text: String = line
            .split('`')
            .enumerate()
            .filter(|(k, _)| k % 2 == 0)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join(" ");
        let mut rest = text.as_str();
        while let Some(at) = rest.find("](") {
            let tail = &rest[at + 2..];
            let Some(end) = tail.find(')') else { break };
            out.push((i + 1, tail[..end].to_owned()));
            rest = &tail[end..];
        }
    }
    out
}

// See: #25: the README and docs/ link each other by relative paths; each leads to a file
// that exists, and a #heading to a heading of that file.
#[test]
fn relative_links_lead_somewhere() {
    let mut errors = Vec::new();
    let mut count = 0;
    for page in pages() {
        let text = read(&page);
        for (line, target) in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            count += 1;
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let dest = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            let place = format!("{}:{line}", rel(&page));
            if !dest.exists() {
                errors.push(format!("{place}: {target}: no such file"));
                continue;
            }
            if !anchor.is_empty() && !anchors(&read(&dest)).iter().any(|a| a == anchor) {
                errors.push(format!("{place}: {target}: no heading #{anchor} there"));
            }
        }
    }
    assert!(count > 30, "only {count} relative links found");
    assert!(errors.is_empty(), "\n{}", errors.join("\n"));
}

// See: #25: the README is a front door: short, its first two commands the demo and the
// tests (the command .ci/run runs), and a link to every page of docs/.
#[test]
fn readme_is_the_front_door() {
    let readme = read(&root().join("README.md"));
    let lines = readme.lines().count();
    assert!(
        lines < 250,
        "README.md has {lines} lines: keep it under 250"
    );
    let commands: Vec<String> = blocks(&root().join("README.md"))
        .iter()
        .filter(|b| matches!(b.lang.as_str(), "sh" | "bash" | "console"))
        .flat_map(|b| {
            b.text
                .lines()
                .map(|l| l.trim_start_matches("$ ").trim().to_owned())
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        commands.len() > 2
            && commands[0].starts_with("scripts/demo.sh")
            && commands[1].starts_with("scripts/test.sh"),
        "the README's first two commands must be the demo and the tests: {:?}",
        &commands[..commands.len().min(2)]
    );
    let ci = read(&root().join(".ci/run"));
    assert!(
        ci.lines().any(|l| l.trim() == "scripts/test.sh"),
        ".ci/run no longer runs scripts/test.sh, the README's test command"
    );
    for page in pages()
        .iter()
        .filter(|p| p.starts_with(root().join("docs")))
    {
        let link = format!("]({})", rel(page));
        assert!(
            readme.contains(&link),
            "README.md does not link {}",
            rel(page)
        );
    }
}
