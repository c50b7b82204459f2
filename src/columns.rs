//! Column selections given on the command line (`-s email`, `-s 2,4`, `-s name-city`):
//! names, 1-based numbers and ranges of either, resolved against a header.

use anyhow::bail;
use qtools_csv::record::Record;

/// A comma-separated list of column names, 1-based numbers and ranges `A-B` (either end
/// may be left out: `3-` is the third column to the last). Interpreted only against a
/// header, since a name may itself contain `-`: a part that is a column's name is that
/// column, before it is read as a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection(Vec<String>);

impl Selection {
    pub fn parse(spec: &str) -> anyhow::Result<Selection> {
        let mut items = Vec::new();
        for part in spec.split(',') {
            let part = part.trim();
            if part.is_empty() {
                bail!("empty column in {spec:?}");
            }
            if part == "0" {
                bail!("columns are numbered from 1, not 0");
            }
            items.push(part.to_owned());
        }
        Ok(Selection(items))
    }

    /// The columns as the selection spells them (`email`, `2`, `name-city`).
    pub fn spelled(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// 0-based indexes, resolving names against `header` (None: the input has no header)
    /// and open ranges against `width`, the number of fields.
    pub fn resolve(
        &self,
        header: Option<&Record>,
        width: Option<usize>,
    ) -> anyhow::Result<Vec<usize>> {
        let mut out = Vec::with_capacity(self.0.len());
        for part in &self.0 {
            if let Some(i) = one(part, header)? {
                out.push(i);
                continue;
            }
            let range = part
                .char_indices()
                .filter(|&(_, c)| c == '-')
                .find_map(|(at, _)| {
                    let (a, b) = (&part[..at], &part[at + 1..]);
                    let a = if a.is_empty() {
                        Some(0)
                    } else {
                        one(a, header).ok()?
                    };
                    let b = if b.is_empty() {
                        Some(width?.checked_sub(1)?)
                    } else {
                        one(b, header).ok()?
                    };
                    Some((a?, b?))
                });
            match range {
                Some((a, b)) if a <= b => {
                    // A range is checked against the width before it is spelled out: `1-4000000000` is
                    // one line of error, not four billion indexes.
                    match width {
                        Some(w) if b >= w => bail!(
                            "column {} is past the last one (the records have {})",
                            b.saturating_add(1),
                            crate::error::plural(w as u64, "column")
                        ),
                        _ if b >= MAX_COLUMNS => bail!(
                            "column range {part:?} is wider than any input ({MAX_COLUMNS} columns at most)"
                        ),
                        _ => {}
                    }
                    out.extend(a..=b);
                }
                Some(_) => bail!("column range {part:?} runs backwards"),
                None => match header {
                    Some(h) => {
                        let names: Vec<String> = h
                            .iter()
                            .map(|(v, _)| String::from_utf8_lossy(v).into_owned())
                            .collect();
                        // One field that holds another separator: the file is read with
                        // the wrong one (as qimport says of its header).
                        if let [one] = &names[..] {
                            for (sep, flag) in [(';', "-d ';'"), ('\t', "--tsv"), ('|', "-d '|'")] {
                                if one.contains(sep) {
                                    bail!("no column {part:?}: the header is one field split by {sep:?} ({one:?}): give {flag}");
                                }
                            }
                        }
                        bail!("no column {part:?} in the header ({})", names.join(", "));
                    }
                    None => bail!("column {part:?}: names need a header row (use numbers with -n)"),
                },
            }
        }
        if let (Some(w), Some(&past)) = (width, out.iter().find(|&&i| i >= width.unwrap_or(0))) {
            bail!(
                "column {} is past the last one (the records have {})",
                past + 1,
                crate::error::plural(w as u64, "column")
            );
        }
        Ok(out)
    }
}

/// The widest range a selection spells out when the input's width is not known yet.
const MAX_COLUMNS: usize = 1 << 20;

/// A single column: a 1-based number, or a name in the header. `Ok(None)`: neither.
fn one(part: &str, header: Option<&Record>) -> anyhow::Result<Option<usize>> {
    if let Ok(n) = part.parse::<usize>() {
        if n == 0 {
            bail!("columns are numbered from 1, not 0");
        }
        return Ok(Some(n - 1));
    }
    let Some(h) = header else { return Ok(None) };
    if let Some(i) = h.iter().position(|(v, _)| v == part.as_bytes()) {
        return Ok(Some(i));
    }
    // No column is named exactly that: `-s City` finds `city`, as qimport matches its
    // header. When several match ignoring case, the first is taken, and said.
    let alike: Vec<usize> = h
        .iter()
        .enumerate()
        .filter(|(_, (v, _))| v.eq_ignore_ascii_case(part.as_bytes()))
        .map(|(i, _)| i)
        .collect();
    if let [first, _, ..] = alike[..] {
        let name = h
            .iter()
            .nth(first)
            .map(|(v, _)| String::from_utf8_lossy(v).into_owned());
        eprintln!(
            "{}: note: no column is named exactly {part:?}; took {:?} (column {}), the first of {} that match ignoring case",
            crate::error::tool_name(),
            name.unwrap_or_default(),
            first + 1,
            alike.len()
        );
    }
    Ok(alike.first().copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use qtools_csv::record::Reader;

    fn header(line: &[u8]) -> Record {
        let mut r = Reader::new(line, b',');
        let mut h = Record::default();
        r.read(&mut h).unwrap();
        h
    }

    #[test]
    fn names_and_numbers() {
        let h = header(b"id,name,email\n");
        let s = Selection::parse("email, 1").unwrap();
        assert_eq!(s.resolve(Some(&h), Some(3)).unwrap(), vec![2, 0]);
        assert!(Selection::parse("0").is_err());
        assert!(Selection::parse("a,,b").is_err());
        let e = Selection::parse("nope")
            .unwrap()
            .resolve(Some(&h), Some(3))
            .unwrap_err();
        assert!(e.to_string().contains("id, name, email"));
        assert!(Selection::parse("name")
            .unwrap()
            .resolve(None, Some(3))
            .is_err());
    }

    #[test]
    fn names_ignore_case_when_none_is_exact() {
        let h = header(b"id,City,city,Zip\n");
        let r = |s: &str| Selection::parse(s).unwrap().resolve(Some(&h), Some(4));
        assert_eq!(r("city").unwrap(), vec![2]);
        assert_eq!(r("City").unwrap(), vec![1]);
        assert_eq!(r("CITY").unwrap(), vec![1]);
        assert_eq!(r("zip").unwrap(), vec![3]);
        assert_eq!(r("ID-zip").unwrap(), vec![0, 1, 2, 3]);
    }

    #[test]
    fn ranges() {
        let h = header(b"id,first-name,city,zip\n");
        let r = |s: &str| Selection::parse(s).unwrap().resolve(Some(&h), Some(4));
        assert_eq!(r("2-3").unwrap(), vec![1, 2]);
        assert_eq!(r("id-city").unwrap(), vec![0, 1, 2]);
        assert_eq!(r("first-name").unwrap(), vec![1]);
        assert_eq!(r("first-name-zip").unwrap(), vec![1, 2, 3]);
        assert_eq!(r("3-").unwrap(), vec![2, 3]);
        assert_eq!(r("-2").unwrap(), vec![0, 1]);
        assert!(r("3-1").is_err());
        assert!(r("a-b").is_err());
        let n = Selection::parse("2-").unwrap();
        assert_eq!(n.resolve(None, Some(3)).unwrap(), vec![1, 2]);
        // See: #14: a column past the last is an error, not a silent non-match.
        let e = r("99").unwrap_err().to_string();
        assert_eq!(
            e,
            "column 99 is past the last one (the records have 4 columns)"
        );
        assert!(r("2-9").is_err());
        // See: #23 (review): a huge range is one error, not billions of indexes.
        let e = r("1-18446744073709551615").unwrap_err().to_string();
        assert_eq!(
            e,
            "column 18446744073709551615 is past the last one (the records have 4 columns)"
        );
        let wide = Selection::parse("1-4000000000").unwrap();
        assert!(wide
            .resolve(None, None)
            .unwrap_err()
            .to_string()
            .contains("wider than any input"));
    }
}
