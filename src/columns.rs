//! Column selections given on the command line (`-s email`, `-s 2,4`): names or 1-based
//! numbers, resolved against a header.

use anyhow::bail;

use crate::record::Record;

/// One item of a selection, before it is resolved against a header.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Index(usize),
    Name(String),
}

/// A comma-separated list of column names and 1-based numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection(Vec<Item>);

impl Selection {
    pub fn parse(spec: &str) -> anyhow::Result<Selection> {
        let mut items = Vec::new();
        for part in spec.split(',') {
            let part = part.trim();
            if part.is_empty() {
                bail!("empty column in {spec:?}");
            }
            items.push(match part.parse::<usize>() {
                Ok(0) => bail!("columns are numbered from 1, not 0"),
                Ok(n) => Item::Index(n - 1),
                Err(_) => Item::Name(part.to_owned()),
            });
        }
        Ok(Selection(items))
    }

    /// 0-based indexes, resolving names against `header` (None: the input has no header).
    pub fn resolve(&self, header: Option<&Record>) -> anyhow::Result<Vec<usize>> {
        let mut out = Vec::with_capacity(self.0.len());
        for item in &self.0 {
            match item {
                Item::Index(i) => out.push(*i),
                Item::Name(name) => {
                    let Some(h) = header else {
                        bail!("column {name:?}: names need a header row (use numbers with -n)");
                    };
                    let Some(i) = h.iter().position(|(v, _)| v == name.as_bytes()) else {
                        let names: Vec<String> = h
                            .iter()
                            .map(|(v, _)| String::from_utf8_lossy(v).into_owned())
                            .collect();
                        bail!("no column {name:?} in the header ({})", names.join(", "));
                    };
                    out.push(i);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Reader;

    #[test]
    fn names_and_numbers() {
        let mut r = Reader::new(&b"id,name,email\n"[..], b',');
        let mut h = Record::default();
        r.read(&mut h).unwrap();
        let s = Selection::parse("email, 1").unwrap();
        assert_eq!(s.resolve(Some(&h)).unwrap(), vec![2, 0]);
        assert!(Selection::parse("0").is_err());
        assert!(Selection::parse("a,,b").is_err());
        let e = Selection::parse("nope")
            .unwrap()
            .resolve(Some(&h))
            .unwrap_err();
        assert!(e.to_string().contains("id, name, email"));
        assert!(Selection::parse("name").unwrap().resolve(None).is_err());
    }
}
