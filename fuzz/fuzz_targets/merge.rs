//! `qcount --merge` on arbitrary inputs: never a panic, whatever the bytes (plain counts,
//! `-g` tables, sums past u64, blank lines, quotes), the dialect (`-n`, `--tsv`, `-d ';'`,
//! `--null`) and whether the inputs are read as files or as pipes. The first byte picks
//! the flags; the rest is the inputs, split at each 0xFF byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qtools::cmd::qcount;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut flags = Vec::new();
    if pick & 1 != 0 {
        flags.push("-n");
    }
    match (pick >> 1) & 3 {
        1 => flags.push("--tsv"),
        2 => flags.extend(["-d", ";"]),
        _ => {}
    }
    if pick & 8 != 0 {
        flags.extend(["--null", "\\N"]);
    }
    let stream = pick & 16 != 0;
    let parts: Vec<&[u8]> = rest.split(|&b| b == 0xFF).collect();
    let _ = qcount::merge_parts(&flags, &parts, stream);
});
