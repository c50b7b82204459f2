//! Results that workers finish in any order, handed on in the order of their numbers: the
//! one place where the block pipeline (both of its loops) and qexport's parallel engine
//! put their results back in order (see: #26).

use std::collections::BTreeMap;

/// Holds results until every one before them has been handed on.
#[derive(Debug)]
pub struct Reorder<T> {
    next: u64,
    pending: BTreeMap<u64, T>,
}

impl<T> Default for Reorder<T> {
    fn default() -> Self {
        Reorder {
            next: 0,
            pending: BTreeMap::new(),
        }
    }
}

impl<T> Reorder<T> {
    /// The number of the next result to hand on (all before it are handed on).
    pub fn next(&self) -> u64 {
        self.next
    }

    /// Take result `i`, then hand on, in order, every result that now can be.
    pub fn put<E>(
        &mut self,
        i: u64,
        item: T,
        mut deliver: impl FnMut(u64, T) -> Result<(), E>,
    ) -> Result<(), E> {
        self.pending.insert(i, item);
        while let Some(item) = self.pending.remove(&self.next) {
            deliver(self.next, item)?;
            self.next += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_on_in_order_whatever_the_arrival() {
        let mut r = Reorder::default();
        let mut out = Vec::new();
        for i in [2u64, 0, 3, 1, 5, 4] {
            r.put(i, i * 10, |n, v| {
                out.push((n, v));
                Ok::<(), ()>(())
            })
            .unwrap();
        }
        assert_eq!(out, [(0, 0), (1, 10), (2, 20), (3, 30), (4, 40), (5, 50)]);
        assert_eq!(r.next(), 6);
    }

    #[test]
    fn a_failed_delivery_stops_there() {
        let mut r = Reorder::default();
        r.put(1, (), |_, ()| Ok::<(), &str>(())).unwrap();
        assert_eq!(
            r.put(0, (), |n, ()| if n == 1 { Err("no") } else { Ok(()) }),
            Err("no")
        );
        assert_eq!(r.next(), 1);
    }
}
