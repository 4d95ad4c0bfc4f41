//! Where a key column's value changes from one row to the next, found once per batch.
//!
//! The forecast pack's native checks on one dataset group by overlapping key columns
//! (`completeness` and `quantiles_ordered` by series and horizon, `not_constant` by
//! series) and DataFusion hands each of them the same arrays of the same batch, one after
//! the other on one thread. Each column's changes are a bitmap; the last few are kept per
//! thread, keyed by the array they were found in, so the second and third check reuse the
//! first one's. The key is a [`Weak`] reference: it pins the array's allocation (so no
//! other array can take its address while the entry lives) without keeping its buffers.
//! What stays behind on a thread after a run: at most [`KEPT`] bitmaps of one bit per row of
//! a batch (about 1 KiB per 8,192 rows each).

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::buffer::BooleanBuffer;

use super::Canon;

/// How many columns' changes a thread keeps (a batch's key columns, with room to spare).
const KEPT: usize = 8;

struct Entry {
    array: Weak<dyn Array>,
    canon: Canon,
    changes: BooleanBuffer,
}

thread_local! {
    static RECENT: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// The changes of `array` read as `canon` (bit `i` set: row `i` differs from row `i - 1`),
/// from this thread's recent ones, or found by `find` and kept.
pub(super) fn of(
    array: &ArrayRef,
    canon: Canon,
    find: impl FnOnce() -> BooleanBuffer,
) -> BooleanBuffer {
    let same = |e: &Entry| {
        e.canon == canon && std::ptr::addr_eq(Weak::as_ptr(&e.array), Arc::as_ptr(array))
    };
    if let Some(hit) = RECENT.with(|r| {
        r.borrow()
            .iter()
            .find(|e| same(e))
            .map(|e| e.changes.clone())
    }) {
        return hit;
    }
    let changes = find();
    RECENT.with(|r| {
        let mut recent = r.borrow_mut();
        recent.truncate(KEPT - 1);
        recent.insert(
            0,
            Entry {
                array: Arc::downgrade(array),
                canon,
                changes: changes.clone(),
            },
        );
    });
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;

    #[test]
    fn a_column_s_changes_are_found_once_per_array_and_canonical_form() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![1, 1, 2]));
        let b: ArrayRef = Arc::new(Int64Array::from(vec![1, 1, 2]));
        let found = std::cell::Cell::new(0);
        let find = || {
            found.set(found.get() + 1);
            BooleanBuffer::from(vec![false, false, true])
        };
        of(&a, Canon::Int, find);
        of(&a, Canon::Int, find);
        assert_eq!(found.get(), 1, "the same array again is a hit");
        of(&a.clone(), Canon::Int, find);
        assert_eq!(found.get(), 1, "a clone of the reference is the same array");
        of(&b, Canon::Int, find);
        assert_eq!(
            found.get(),
            2,
            "equal values in another array are another entry"
        );
        of(&a, Canon::Text, find);
        assert_eq!(found.get(), 3, "another canonical form is another entry");
    }

    #[test]
    fn a_dropped_array_s_entry_never_matches_a_new_one() {
        let found = std::cell::Cell::new(0);
        let find = || {
            found.set(found.get() + 1);
            BooleanBuffer::from(vec![false])
        };
        for _ in 0..100 {
            // Each array is dropped before the next is made: an allocator reusing its
            // address would make a stale hit if the entry did not pin it.
            let a: ArrayRef = Arc::new(Int64Array::from(vec![7]));
            of(&a, Canon::Int, find);
        }
        assert_eq!(found.get(), 100);
    }
}
