//! Order-statistic index of eligible outputs, used to pick the payout share.
//!
//! The index maps an [`OutPointKey`] (txid bytes in internal order followed by the vout as a
//! big-endian `u32`, so that byte-lexicographic order is the canonical order) to a value in share
//! units. [`EligibleIndex::select`] finds the entry whose half-open range `[start, start + value)`
//! contains `q`, where `start` is the sum of the values of all entries before it in canonical
//! order.
//!
//! # Structure
//!
//! A B+-tree stored in two arenas (`Vec`s of fixed-size nodes addressed by `u32`), with freed
//! nodes recycled through free lists:
//!
//! * leaves hold up to 32 sorted keys with their values, and a link to the next leaf (used by
//!   [`EligibleIndex::iter`]);
//! * internal nodes hold up to 32 children, the value sum of each child's subtree and, for every
//!   child but the first, a separator that is a lower bound of the keys in that child and greater
//!   than every key of the previous child.
//!
//! Every leaf is at the same depth; every node but the root is at least half full. Deletion
//! rebalances by borrowing from a sibling or merging with it; insertion into a full leaf first
//! tries to shift one entry into a sibling with room, and splits only when neither has room, which
//! keeps leaves about 80 % full (roughly 55–65 bytes per entry).
//!
//! # Complexity
//!
//! With `n` entries the depth is `O(log n)` (5 levels for a million entries). `get`, `insert` and
//! `remove` are `O(log n)`: at each level a key search over at most 32 keys (see `search`), plus
//! moves within one node and at most one sibling. `select` is `O(log n)`: it descends by prefix
//! sums over the child sums, touching one node per level. `len` and `total` are `O(1)`; `iter`
//! is `O(n)` overall. On large indexes every operation is bound by memory latency (about two
//! cache misses per operation at 10^6 entries); the fan-out keeps the depth and the number of
//! cache lines read per level small.

use std::fmt;

use thiserror::Error;

/// Canonical key of an output: txid (32 bytes, internal order) followed by the vout as a
/// big-endian `u32`. Byte-lexicographic order of keys is the canonical order.
pub type OutPointKey = [u8; 36];

/// Maximum number of entries in a leaf.
const LEAF_CAP: usize = 32;
/// Minimum number of entries in a non-root leaf.
const LEAF_MIN: usize = LEAF_CAP / 2;
/// Maximum number of children of an internal node.
const NODE_CAP: usize = 32;
/// Minimum number of children of a non-root internal node.
const NODE_MIN: usize = NODE_CAP / 2;
/// Null arena index (end of the leaf chain); never a valid index, see `ensure_capacity`.
const NIL: u32 = u32::MAX;
/// Placeholder for unused key slots.
const ZERO_KEY: OutPointKey = [0; 36];

/// Errors returned by [`EligibleIndex::insert`]. On error the index is left unchanged.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum IndexError {
    /// The key is already in the index.
    #[error("key is already in the index")]
    DuplicateKey,
    /// Only outputs with a value greater than zero are eligible.
    #[error("value must be greater than zero")]
    ZeroValue,
    /// The sum of all values would exceed `u64::MAX`.
    #[error("total of values would overflow u64 (total {total}, value {value})")]
    TotalOverflow {
        /// Total of the index before the insertion.
        total: u64,
        /// Value that was being inserted.
        value: u64,
    },
    /// The node arenas cannot address more nodes (about 4 billion of them).
    #[error("index node arena is full")]
    CapacityExhausted,
}

/// Result of [`EligibleIndex::select`]: the entry whose range `[start, start + value)` contains
/// the queried position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Selected {
    /// Key of the selected output.
    pub key: OutPointKey,
    /// Value of the selected output.
    pub value: u64,
    /// Sum of the values of all entries before the selected one in canonical order.
    pub start: u64,
}

#[derive(Clone)]
struct Leaf {
    len: u32,
    /// Next leaf in key order, or `NIL`.
    next: u32,
    vals: [u64; LEAF_CAP],
    keys: [OutPointKey; LEAF_CAP],
}

impl Leaf {
    const EMPTY: Leaf = Leaf {
        len: 0,
        next: NIL,
        vals: [0; LEAF_CAP],
        keys: [ZERO_KEY; LEAF_CAP],
    };

    fn len(&self) -> usize {
        self.len as usize
    }

    fn keys(&self) -> &[OutPointKey] {
        &self.keys[..self.len()]
    }

    fn vals(&self) -> &[u64] {
        &self.vals[..self.len()]
    }

    fn sum(&self) -> u64 {
        self.vals().iter().fold(0, |acc, v| acc.saturating_add(*v))
    }

    /// Inserts at `pos`; the caller guarantees `len < LEAF_CAP` and `pos <= len`.
    fn insert_at(&mut self, pos: usize, key: OutPointKey, value: u64) {
        let n = self.len();
        self.keys.copy_within(pos..n, pos + 1);
        self.vals.copy_within(pos..n, pos + 1);
        self.keys[pos] = key;
        self.vals[pos] = value;
        self.len += 1;
    }

    /// Removes the entry at `pos < len`.
    fn remove_at(&mut self, pos: usize) -> (OutPointKey, u64) {
        let n = self.len();
        let out = (self.keys[pos], self.vals[pos]);
        self.keys.copy_within(pos + 1..n, pos);
        self.vals.copy_within(pos + 1..n, pos);
        self.len -= 1;
        out
    }
}

#[derive(Clone)]
struct Node {
    len: u32,
    /// Sum of the values in each child's subtree.
    sums: [u64; NODE_CAP],
    children: [u32; NODE_CAP],
    /// `seps[i]` (for `i >= 1`) bounds child `i` from below; `seps[0]` is unused.
    seps: [OutPointKey; NODE_CAP],
}

impl Node {
    const EMPTY: Node = Node {
        len: 0,
        sums: [0; NODE_CAP],
        children: [NIL; NODE_CAP],
        seps: [ZERO_KEY; NODE_CAP],
    };

    fn len(&self) -> usize {
        self.len as usize
    }

    /// Index of the child whose key range contains `key`: the number of separators `<= key`.
    fn child_for(&self, key: &OutPointKey) -> usize {
        self.seps
            .get(1..self.len())
            .map_or(0, |seps| search(seps, key).map_or_else(|i| i, |i| i + 1))
    }

    /// Inserts a child at `pos`; the caller guarantees `len < NODE_CAP` and `pos <= len`.
    fn insert_at(&mut self, pos: usize, sep: OutPointKey, child: u32, sum: u64) {
        let n = self.len();
        self.seps.copy_within(pos..n, pos + 1);
        self.children.copy_within(pos..n, pos + 1);
        self.sums.copy_within(pos..n, pos + 1);
        self.seps[pos] = sep;
        self.children[pos] = child;
        self.sums[pos] = sum;
        self.len += 1;
    }

    /// Removes the child at `pos < len`, returning its separator, index and sum.
    fn remove_at(&mut self, pos: usize) -> (OutPointKey, u32, u64) {
        let n = self.len();
        let out = (self.seps[pos], self.children[pos], self.sums[pos]);
        self.seps.copy_within(pos + 1..n, pos);
        self.children.copy_within(pos + 1..n, pos);
        self.sums.copy_within(pos + 1..n, pos);
        self.len -= 1;
        out
    }

    /// Moves `sum` of value from child `from` to child `to`.
    fn shift_sum(&mut self, from: usize, to: usize, sum: u64) {
        self.sums[from] = self.sums[from].saturating_sub(sum);
        self.sums[to] = self.sums[to].saturating_add(sum);
    }
}

/// A new right sibling produced by a split, to be inserted into the parent.
struct Split {
    sep: OutPointKey,
    child: u32,
    sum: u64,
}

/// Returns mutable references to two distinct elements `a != b` of `v`.
fn pair_mut<T>(v: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    if a < b {
        let (lo, hi) = v.split_at_mut(b);
        (&mut lo[a], &mut hi[0])
    } else {
        let (lo, hi) = v.split_at_mut(a);
        (&mut hi[0], &mut lo[b])
    }
}

/// Big-endian value of the first 8 bytes of `key` (orders like those bytes).
#[inline]
fn prefix(key: &OutPointKey) -> u64 {
    key.first_chunk::<8>()
        .map_or(0, |bytes| u64::from_be_bytes(*bytes))
}

/// Searches the sorted `keys` like `binary_search`: `Ok(i)` if `keys[i] == *key`, else
/// `Err(i)` with `i` the number of keys `< key`.
///
/// Counts the keys with a smaller 8-byte prefix in one branch-free pass (the loads are independent,
/// so a cold node costs about one memory latency instead of one per bisection step), then settles
/// prefix ties with full comparisons.
#[inline]
fn search(keys: &[OutPointKey], key: &OutPointKey) -> Result<usize, usize> {
    let p = prefix(key);
    let mut pos = keys
        .iter()
        .map(|k| usize::from(prefix(k) < p))
        .sum::<usize>();
    while let Some(k) = keys.get(pos) {
        match k.cmp(key) {
            std::cmp::Ordering::Less => pos += 1,
            std::cmp::Ordering::Equal => return Ok(pos),
            std::cmp::Ordering::Greater => break,
        }
    }
    Err(pos)
}

/// Finds the first `i` with `q < sums[0] + .. + sums[i]`; returns it with the sum before it.
#[inline]
fn scan(sums: &[u64], q: u64) -> Option<(usize, u64)> {
    let mut before = 0u64;
    for (i, &s) in sums.iter().enumerate() {
        let after = before.checked_add(s)?;
        if q < after {
            return Some((i, before));
        }
        before = after;
    }
    None
}

/// Order-statistic index of eligible outputs: a B+-tree keyed by [`OutPointKey`] whose internal
/// nodes keep per-child value sums. See the [module documentation](self) for details.
///
/// Internal sums never overflow: every one of them is bounded by [`EligibleIndex::total`], which
/// `insert` keeps within `u64`.
#[derive(Clone)]
pub struct EligibleIndex {
    leaves: Vec<Leaf>,
    nodes: Vec<Node>,
    free_leaves: Vec<u32>,
    free_nodes: Vec<u32>,
    root: u32,
    /// Number of internal levels above the leaves (0: the root is a leaf).
    height: u32,
    len: usize,
    total: u64,
}

impl Default for EligibleIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for EligibleIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EligibleIndex")
            .field("len", &self.len)
            .field("total", &self.total)
            .field("height", &self.height)
            .field(
                "leaves",
                &self.leaves.len().saturating_sub(self.free_leaves.len()),
            )
            .field(
                "nodes",
                &self.nodes.len().saturating_sub(self.free_nodes.len()),
            )
            .finish()
    }
}

impl EligibleIndex {
    /// Creates an empty index.
    pub fn new() -> Self {
        Self {
            leaves: vec![Leaf::EMPTY],
            nodes: Vec::new(),
            free_leaves: Vec::new(),
            free_nodes: Vec::new(),
            root: 0,
            height: 0,
            len: 0,
            total: 0,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the index has no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sum of all values (`n` of the payout selection).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Value stored under `key`, if any.
    pub fn get(&self, key: &OutPointKey) -> Option<u64> {
        let mut id = self.root;
        for _ in 0..self.height {
            let node = self.nodes.get(id as usize)?;
            id = *node.children.get(node.child_for(key))?;
        }
        let leaf = self.leaves.get(id as usize)?;
        let pos = search(leaf.keys(), key).ok()?;
        leaf.vals().get(pos).copied()
    }

    /// Entry whose range `[start, start + value)` contains `q`; `None` iff `q >= total()`.
    pub fn select(&self, q: u64) -> Option<Selected> {
        if q >= self.total {
            return None;
        }
        let mut rem = q;
        let mut id = self.root;
        for _ in 0..self.height {
            let node = self.nodes.get(id as usize)?;
            let (i, before) = scan(node.sums.get(..node.len())?, rem)?;
            rem -= before;
            id = *node.children.get(i)?;
        }
        let leaf = self.leaves.get(id as usize)?;
        let (i, before) = scan(leaf.vals(), rem)?;
        Some(Selected {
            key: *leaf.keys.get(i)?,
            value: *leaf.vals.get(i)?,
            start: q - (rem - before),
        })
    }

    /// Entries in canonical (ascending key) order.
    pub fn iter(&self) -> impl Iterator<Item = (&OutPointKey, u64)> + '_ {
        let mut id = self.root;
        for _ in 0..self.height {
            id = self
                .nodes
                .get(id as usize)
                .map_or(NIL, |node| node.children[0]);
        }
        std::iter::successors(self.leaves.get(id as usize), move |leaf| {
            self.leaves.get(leaf.next as usize)
        })
        .flat_map(|leaf| leaf.keys().iter().zip(leaf.vals().iter().copied()))
    }

    /// Inserts `key` with `value`.
    ///
    /// # Errors
    ///
    /// Checked in this order: [`IndexError::ZeroValue`] if `value == 0`,
    /// [`IndexError::TotalOverflow`] if the total would exceed `u64::MAX`,
    /// [`IndexError::DuplicateKey`] if `key` is present. On error the index is unchanged.
    pub fn insert(&mut self, key: OutPointKey, value: u64) -> Result<(), IndexError> {
        if value == 0 {
            return Err(IndexError::ZeroValue);
        }
        let total = self
            .total
            .checked_add(value)
            .ok_or(IndexError::TotalOverflow {
                total: self.total,
                value,
            })?;
        self.ensure_capacity()?;
        if let Some(split) = self.insert_rec(self.root, self.height, key, value)? {
            let mut root = Node::EMPTY;
            root.len = 2;
            root.children[0] = self.root;
            root.sums[0] = total.saturating_sub(split.sum);
            root.children[1] = split.child;
            root.sums[1] = split.sum;
            root.seps[1] = split.sep;
            self.root = self.alloc_node(root);
            self.height += 1;
        }
        self.total = total;
        self.len += 1;
        Ok(())
    }

    /// Removes `key`, returning its value if it was present.
    pub fn remove(&mut self, key: &OutPointKey) -> Option<u64> {
        let (value, _) = self.remove_rec(self.root, self.height, key)?;
        self.total = self.total.saturating_sub(value);
        self.len -= 1;
        if self.len == 0 {
            *self = Self::new();
            return Some(value);
        }
        while self.height > 0 && self.nodes[self.root as usize].len == 1 {
            let old = self.root;
            self.root = self.nodes[old as usize].children[0];
            self.free_nodes.push(old);
            self.height -= 1;
        }
        Some(value)
    }

    /// Makes sure that an insertion (one leaf and at most `height + 1` internal nodes) can be
    /// addressed with `u32` indices below `NIL`, so that the `as u32` casts below are lossless.
    fn ensure_capacity(&self) -> Result<(), IndexError> {
        let limit = NIL as usize;
        if self.leaves.len() < limit && self.nodes.len() + self.height as usize + 1 < limit {
            Ok(())
        } else {
            Err(IndexError::CapacityExhausted)
        }
    }

    fn alloc_leaf(&mut self, leaf: Leaf) -> u32 {
        if let Some(id) = self.free_leaves.pop() {
            self.leaves[id as usize] = leaf;
            id
        } else {
            self.leaves.push(leaf);
            (self.leaves.len() - 1) as u32
        }
    }

    fn alloc_node(&mut self, node: Node) -> u32 {
        if let Some(id) = self.free_nodes.pop() {
            self.nodes[id as usize] = node;
            id
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        }
    }

    fn insert_rec(
        &mut self,
        id: u32,
        height: u32,
        key: OutPointKey,
        value: u64,
    ) -> Result<Option<Split>, IndexError> {
        if height == 0 {
            return self.insert_leaf(id, key, value);
        }
        let mut i = self.nodes[id as usize].child_for(&key);
        if height == 1 {
            i = self.make_room(id, i, &key)?;
        }
        let child = self.nodes[id as usize].children[i];
        let split = self.insert_rec(child, height - 1, key, value)?;
        let node = &mut self.nodes[id as usize];
        node.sums[i] = node.sums[i].saturating_add(value);
        let Some(split) = split else { return Ok(None) };
        node.sums[i] = node.sums[i].saturating_sub(split.sum);
        if node.len() < NODE_CAP {
            node.insert_at(i + 1, split.sep, split.child, split.sum);
            return Ok(None);
        }
        let mut right = Node::EMPTY;
        let mid = NODE_CAP / 2;
        right.seps[..NODE_CAP - mid].copy_from_slice(&node.seps[mid..]);
        right.children[..NODE_CAP - mid].copy_from_slice(&node.children[mid..]);
        right.sums[..NODE_CAP - mid].copy_from_slice(&node.sums[mid..]);
        right.len = (NODE_CAP - mid) as u32;
        node.len = mid as u32;
        let up_sep = right.seps[0];
        if i < mid {
            node.insert_at(i + 1, split.sep, split.child, split.sum);
        } else {
            right.insert_at(i + 1 - mid, split.sep, split.child, split.sum);
        }
        let sum = right.sums[..right.len()]
            .iter()
            .fold(0u64, |a, s| a.saturating_add(*s));
        let child = self.alloc_node(right);
        Ok(Some(Split {
            sep: up_sep,
            child,
            sum,
        }))
    }

    /// Before inserting `key` into the full leaf `i` of node `p` (whose children are leaves),
    /// moves one entry into a sibling with room for two (the moved entry and possibly `key`), if
    /// any, so that no split is needed. Returns the child to insert into.
    fn make_room(&mut self, p: u32, i: usize, key: &OutPointKey) -> Result<usize, IndexError> {
        let (plen, children) = (
            self.nodes[p as usize].len(),
            self.nodes[p as usize].children,
        );
        let c = children[i] as usize;
        if self.leaves[c].len() < LEAF_CAP {
            return Ok(i);
        }
        if search(self.leaves[c].keys(), key).is_ok() {
            return Err(IndexError::DuplicateKey);
        }
        if i > 0 {
            let l = children[i - 1] as usize;
            if self.leaves[l].len() < LEAF_CAP - 1 {
                let (k, v) = self.leaves[c].remove_at(0);
                let n = self.leaves[l].len();
                self.leaves[l].insert_at(n, k, v);
                let node = &mut self.nodes[p as usize];
                node.seps[i] = self.leaves[c].keys[0];
                node.shift_sum(i, i - 1, v);
                return Ok(node.child_for(key));
            }
        }
        if i + 1 < plen {
            let r = children[i + 1] as usize;
            if self.leaves[r].len() < LEAF_CAP - 1 {
                let (k, v) = self.leaves[c].remove_at(LEAF_CAP - 1);
                self.leaves[r].insert_at(0, k, v);
                let node = &mut self.nodes[p as usize];
                node.seps[i + 1] = k;
                node.shift_sum(i, i + 1, v);
                return Ok(node.child_for(key));
            }
        }
        Ok(i)
    }

    fn insert_leaf(
        &mut self,
        id: u32,
        key: OutPointKey,
        value: u64,
    ) -> Result<Option<Split>, IndexError> {
        let leaf = &mut self.leaves[id as usize];
        let pos = match search(leaf.keys(), &key) {
            Ok(_) => return Err(IndexError::DuplicateKey),
            Err(pos) => pos,
        };
        if leaf.len() < LEAF_CAP {
            leaf.insert_at(pos, key, value);
            return Ok(None);
        }
        let mut right = Leaf::EMPTY;
        let mid = LEAF_CAP / 2;
        right.keys[..LEAF_CAP - mid].copy_from_slice(&leaf.keys[mid..]);
        right.vals[..LEAF_CAP - mid].copy_from_slice(&leaf.vals[mid..]);
        right.len = (LEAF_CAP - mid) as u32;
        right.next = leaf.next;
        leaf.len = mid as u32;
        if pos <= mid {
            leaf.insert_at(pos, key, value);
        } else {
            right.insert_at(pos - mid, key, value);
        }
        let (sep, sum) = (right.keys[0], right.sum());
        let child = self.alloc_leaf(right);
        self.leaves[id as usize].next = child;
        Ok(Some(Split { sep, child, sum }))
    }

    /// Removes `key` below node `id`; returns the value and whether the node underflowed.
    fn remove_rec(&mut self, id: u32, height: u32, key: &OutPointKey) -> Option<(u64, bool)> {
        if height == 0 {
            let leaf = &mut self.leaves[id as usize];
            let pos = search(leaf.keys(), key).ok()?;
            let (_, value) = leaf.remove_at(pos);
            return Some((value, leaf.len() < LEAF_MIN));
        }
        let i = self.nodes[id as usize].child_for(key);
        let child = self.nodes[id as usize].children[i];
        let (value, underflow) = self.remove_rec(child, height - 1, key)?;
        let node = &mut self.nodes[id as usize];
        node.sums[i] = node.sums[i].saturating_sub(value);
        if underflow {
            if height == 1 {
                self.rebalance_leaf(id, i);
            } else {
                self.rebalance_node(id, i);
            }
        }
        Some((value, self.nodes[id as usize].len() < NODE_MIN))
    }

    /// Restores the fill of leaf `i` of node `p` by borrowing from or merging with a sibling.
    fn rebalance_leaf(&mut self, p: u32, i: usize) {
        let (plen, children) = (
            self.nodes[p as usize].len(),
            self.nodes[p as usize].children,
        );
        let c = children[i] as usize;
        if i > 0 {
            let l = children[i - 1] as usize;
            if self.leaves[l].len() > LEAF_MIN {
                let last = self.leaves[l].len() - 1;
                let (k, v) = self.leaves[l].remove_at(last);
                self.leaves[c].insert_at(0, k, v);
                let node = &mut self.nodes[p as usize];
                node.seps[i] = k;
                node.shift_sum(i - 1, i, v);
                return;
            }
        }
        if i + 1 < plen {
            let r = children[i + 1] as usize;
            if self.leaves[r].len() > LEAF_MIN {
                let (k, v) = self.leaves[r].remove_at(0);
                let n = self.leaves[c].len();
                self.leaves[c].insert_at(n, k, v);
                let node = &mut self.nodes[p as usize];
                node.seps[i + 1] = self.leaves[r].keys[0];
                node.shift_sum(i + 1, i, v);
                return;
            }
        }
        let a = if i > 0 { i - 1 } else { i };
        if a + 1 >= plen {
            return; // a lone child can only be the root's, which `remove` collapses
        }
        let (l, r) = (children[a] as usize, children[a + 1] as usize);
        let (left, right) = pair_mut(&mut self.leaves, l, r);
        let (n, m) = (left.len(), right.len());
        left.keys[n..n + m].copy_from_slice(right.keys());
        left.vals[n..n + m].copy_from_slice(right.vals());
        left.len += right.len;
        left.next = right.next;
        let node = &mut self.nodes[p as usize];
        let (_, _, sum) = node.remove_at(a + 1);
        node.sums[a] = node.sums[a].saturating_add(sum);
        self.free_leaves.push(r as u32);
    }

    /// Restores the fill of internal child `i` of node `p` by borrowing or merging.
    fn rebalance_node(&mut self, p: u32, i: usize) {
        let (plen, children) = (
            self.nodes[p as usize].len(),
            self.nodes[p as usize].children,
        );
        let c = children[i] as usize;
        if i > 0 {
            let l = children[i - 1] as usize;
            if self.nodes[l].len() > NODE_MIN {
                let sep_c = self.nodes[p as usize].seps[i];
                let last = self.nodes[l].len() - 1;
                let (sep, child, sum) = self.nodes[l].remove_at(last);
                let cn = &mut self.nodes[c];
                cn.insert_at(0, ZERO_KEY, child, sum);
                cn.seps[1] = sep_c;
                let node = &mut self.nodes[p as usize];
                node.seps[i] = sep;
                node.shift_sum(i - 1, i, sum);
                return;
            }
        }
        if i + 1 < plen {
            let r = children[i + 1] as usize;
            if self.nodes[r].len() > NODE_MIN {
                let sep_r = self.nodes[p as usize].seps[i + 1];
                let (_, child, sum) = self.nodes[r].remove_at(0);
                let new_sep_r = self.nodes[r].seps[0];
                let n = self.nodes[c].len();
                self.nodes[c].insert_at(n, sep_r, child, sum);
                let node = &mut self.nodes[p as usize];
                node.seps[i + 1] = new_sep_r;
                node.shift_sum(i + 1, i, sum);
                return;
            }
        }
        let a = if i > 0 { i - 1 } else { i };
        if a + 1 >= plen {
            return; // a lone child can only be the root's, which `remove` collapses
        }
        let (l, r) = (children[a] as usize, children[a + 1] as usize);
        let sep_r = self.nodes[p as usize].seps[a + 1];
        let (left, right) = pair_mut(&mut self.nodes, l, r);
        let (n, m) = (left.len(), right.len());
        left.seps[n..n + m].copy_from_slice(&right.seps[..m]);
        left.seps[n] = sep_r;
        left.children[n..n + m].copy_from_slice(&right.children[..m]);
        left.sums[n..n + m].copy_from_slice(&right.sums[..m]);
        left.len += right.len;
        let node = &mut self.nodes[p as usize];
        let (_, _, sum) = node.remove_at(a + 1);
        node.sums[a] = node.sums[a].saturating_add(sum);
        self.free_nodes.push(r as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    type Model = BTreeMap<OutPointKey, u64>;

    impl EligibleIndex {
        /// Verifies sums, key order and bounds, fill bounds, uniform depth, the leaf chain and the
        /// arena accounting (every slot is reachable exactly once or free exactly once).
        fn check_invariants(&self) -> Result<(), String> {
            let (mut leaves, mut nodes) = (Vec::new(), Vec::new());
            let (sum, count) = self.check_subtree(
                self.root,
                self.height,
                None,
                None,
                true,
                &mut leaves,
                &mut nodes,
            )?;
            if sum != self.total || count != self.len {
                return Err(format!(
                    "sum {sum}/count {count} vs {}/{}",
                    self.total, self.len
                ));
            }
            let mut chain = Vec::new();
            let mut id = leaves.first().copied().unwrap_or(NIL);
            while id != NIL && chain.len() <= self.leaves.len() {
                chain.push(id);
                id = self
                    .leaves
                    .get(id as usize)
                    .ok_or("chain out of range")?
                    .next;
            }
            if chain != leaves {
                return Err(format!(
                    "leaf chain {chain:?} != in-order leaves {leaves:?}"
                ));
            }
            for (used, free, size, what) in [
                (&leaves, &self.free_leaves, self.leaves.len(), "leaf"),
                (&nodes, &self.free_nodes, self.nodes.len(), "node"),
            ] {
                let all: BTreeSet<u32> = used.iter().chain(free.iter()).copied().collect();
                if all.len() != used.len() + free.len() || all.len() != size {
                    return Err(format!(
                        "{what} arena: {} used + {} free != {size}",
                        used.len(),
                        free.len()
                    ));
                }
            }
            Ok(())
        }

        #[allow(clippy::too_many_arguments)] // a recursive invariant check threads its bounds through
        fn check_subtree(
            &self,
            id: u32,
            height: u32,
            lo: Option<OutPointKey>,
            hi: Option<OutPointKey>,
            is_root: bool,
            leaves: &mut Vec<u32>,
            nodes: &mut Vec<u32>,
        ) -> Result<(u64, usize), String> {
            let in_bounds =
                |k: &OutPointKey| lo.is_none_or(|lo| lo <= *k) && hi.is_none_or(|hi| *k < hi);
            if height == 0 {
                let leaf = self.leaves.get(id as usize).ok_or("leaf out of range")?;
                let n = leaf.len();
                if n > LEAF_CAP || (!is_root && n < LEAF_MIN) {
                    return Err(format!("leaf {id} has {n} entries"));
                }
                if !leaf.keys().windows(2).all(|w| w[0] < w[1])
                    || !leaf.keys().iter().all(in_bounds)
                {
                    return Err(format!("leaf {id} keys unordered or out of bounds"));
                }
                if leaf.vals().contains(&0) {
                    return Err(format!("leaf {id} holds a zero value"));
                }
                leaves.push(id);
                let sum = leaf.vals().iter().try_fold(0u64, |a, v| a.checked_add(*v));
                return Ok((sum.ok_or("leaf sum overflows")?, n));
            }
            let node = self.nodes.get(id as usize).ok_or("node out of range")?;
            let n = node.len();
            if n > NODE_CAP || n < if is_root { 2 } else { NODE_MIN } {
                return Err(format!("node {id} has {n} children"));
            }
            let seps = &node.seps[1..n];
            if !seps.windows(2).all(|w| w[0] < w[1]) || !seps.iter().all(in_bounds) {
                return Err(format!("node {id} separators unordered or out of bounds"));
            }
            let (mut sum, mut count) = (0u64, 0usize);
            for i in 0..n {
                let clo = if i == 0 { lo } else { Some(node.seps[i]) };
                let chi = if i + 1 < n {
                    Some(node.seps[i + 1])
                } else {
                    hi
                };
                let (s, c) = self.check_subtree(
                    node.children[i],
                    height - 1,
                    clo,
                    chi,
                    false,
                    leaves,
                    nodes,
                )?;
                if s != node.sums[i] {
                    return Err(format!(
                        "node {id} child {i}: sum {} != actual {s}",
                        node.sums[i]
                    ));
                }
                sum = sum.checked_add(s).ok_or("node sum overflows")?;
                count += c;
            }
            nodes.push(id);
            Ok((sum, count))
        }
    }

    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Key number `n`: four vouts share each pseudo-random txid, so keys also differ only in the
    /// trailing bytes.
    fn key_of(n: u64) -> OutPointKey {
        let mut key = [0u8; 36];
        let mut s = n >> 2;
        for chunk in key[..32].chunks_mut(8) {
            chunk.copy_from_slice(&splitmix(&mut s).to_le_bytes());
        }
        key[32..].copy_from_slice(&((n & 3) as u32).to_be_bytes());
        key
    }

    fn model_select(model: &Model, q: u64) -> Option<Selected> {
        let mut start = 0u64;
        for (key, &value) in model {
            if q - start < value {
                return Some(Selected {
                    key: *key,
                    value,
                    start,
                });
            }
            start += value;
        }
        None
    }

    fn check_model(idx: &EligibleIndex, model: &Model, seed: u64) -> Result<(), TestCaseError> {
        idx.check_invariants().map_err(TestCaseError::fail)?;
        let total: u64 = model.values().sum();
        prop_assert_eq!(idx.len(), model.len());
        prop_assert_eq!(idx.is_empty(), model.is_empty());
        prop_assert_eq!(idx.total(), total);
        prop_assert!(idx
            .iter()
            .map(|(k, v)| (*k, v))
            .eq(model.iter().map(|(k, v)| (*k, *v))));
        let mut start = 0u64;
        for (key, &value) in model {
            let expected = Some(Selected {
                key: *key,
                value,
                start,
            });
            prop_assert_eq!(idx.get(key), Some(value));
            prop_assert_eq!(idx.select(start), expected);
            prop_assert_eq!(idx.select(start + value - 1), expected);
            start += value;
        }
        if total > 0 {
            prop_assert_eq!(idx.select(total - 1), model_select(model, total - 1));
        }
        prop_assert_eq!(idx.select(total), None);
        prop_assert_eq!(idx.select(u64::MAX), None);
        let mut s = seed;
        for _ in 0..8 {
            // `total` may be u64::MAX itself (the index's limit): then every q is in range.
            let r = splitmix(&mut s);
            let q = total.checked_add(1).map_or(r, |m| r % m);
            prop_assert_eq!(idx.select(q), model_select(model, q));
        }
        Ok(())
    }

    /// Applies an insertion to both index and model, checking the result against the model.
    fn insert_both(
        idx: &mut EligibleIndex,
        model: &mut Model,
        key: OutPointKey,
        value: u64,
    ) -> Result<(), TestCaseError> {
        let total: u64 = model.values().sum();
        let expected = if value == 0 {
            Err(IndexError::ZeroValue)
        } else if total.checked_add(value).is_none() {
            Err(IndexError::TotalOverflow { total, value })
        } else if model.contains_key(&key) {
            Err(IndexError::DuplicateKey)
        } else {
            Ok(())
        };
        if expected.is_ok() {
            model.insert(key, value);
        }
        prop_assert_eq!(idx.insert(key, value), expected);
        Ok(())
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u64, u64),
        Remove(u64),
        RemoveNth(usize),
        Get(u64),
        Select(u64),
        Grow(u64, usize),
        Shrink(u64, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        let key = 0u64..4096;
        let value = prop_oneof![
            8 => 1u64..=5_000_000_000,
            2 => 1u64..=3,
            1 => Just(0u64),
            1 => (u64::MAX - 1000)..=u64::MAX,
        ];
        prop_oneof![
            6 => (key.clone(), value).prop_map(|(k, v)| Op::Insert(k, v)),
            3 => key.clone().prop_map(Op::Remove),
            3 => any::<usize>().prop_map(Op::RemoveNth),
            2 => key.prop_map(Op::Get),
            2 => any::<u64>().prop_map(Op::Select),
            1 => (any::<u64>(), 0usize..1500).prop_map(|(s, c)| Op::Grow(s, c)),
            1 => (any::<u64>(), 0usize..1500).prop_map(|(s, c)| Op::Shrink(s, c)),
        ]
    }

    proptest! {
        // Each case checks the whole index against the model after every operation.
        #![proptest_config(ProptestConfig::with_cases(if cfg!(debug_assertions) { 16 } else { 64 }))]

        #[test]
        fn matches_btreemap_model(ops in prop::collection::vec(op(), 1..80)) {
            let mut idx = EligibleIndex::new();
            let mut model = Model::new();
            for (step, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Insert(k, v) => insert_both(&mut idx, &mut model, key_of(k), v)?,
                    Op::Remove(k) => prop_assert_eq!(idx.remove(&key_of(k)), model.remove(&key_of(k))),
                    Op::RemoveNth(n) => {
                        if let Some(key) = model.keys().nth(n % model.len().max(1)).copied() {
                            prop_assert_eq!(idx.remove(&key), model.remove(&key));
                        }
                    }
                    Op::Get(k) => prop_assert_eq!(idx.get(&key_of(k)), model.get(&key_of(k)).copied()),
                    Op::Select(q) => {
                        let total = idx.total();
                        prop_assert_eq!(idx.select(q), model_select(&model, q));
                        let q = q % total.saturating_add(1);
                        prop_assert_eq!(idx.select(q), model_select(&model, q));
                    }
                    Op::Grow(mut s, count) => {
                        for _ in 0..count {
                            let (k, v) = (splitmix(&mut s) % (1 << 20), 1 + splitmix(&mut s) % 5_000_000_000);
                            insert_both(&mut idx, &mut model, key_of(k), v)?;
                        }
                    }
                    Op::Shrink(mut s, count) => {
                        let mut keys: Vec<OutPointKey> = model.keys().copied().collect();
                        for _ in 0..count.min(keys.len()) {
                            let key = keys.swap_remove((splitmix(&mut s) % keys.len() as u64) as usize);
                            prop_assert_eq!(idx.remove(&key), model.remove(&key));
                        }
                    }
                }
                check_model(&idx, &model, step as u64)?;
            }
        }
    }

    fn snapshot(idx: &EligibleIndex) -> (Vec<(OutPointKey, u64)>, u64, String) {
        (
            idx.iter().map(|(k, v)| (*k, v)).collect(),
            idx.total(),
            format!("{idx:?}"),
        )
    }

    #[test]
    fn empty_index() {
        let idx = EligibleIndex::default();
        assert!(idx.is_empty());
        assert_eq!((idx.len(), idx.total()), (0, 0));
        assert_eq!(idx.select(0), None);
        assert_eq!(idx.get(&[0; 36]), None);
        assert_eq!(idx.iter().count(), 0);
        assert_eq!(idx.check_invariants(), Ok(()));
        let mut idx = idx;
        assert_eq!(idx.remove(&[0; 36]), None);
    }

    #[test]
    fn small_example_selects_by_prefix_sums() {
        let mut idx = EligibleIndex::new();
        let (a, b, c) = ([1; 36], [2; 36], [3; 36]);
        for (k, v) in [(c, 7), (a, 5), (b, 1)] {
            assert_eq!(idx.insert(k, v), Ok(()));
        }
        let expect = |q: u64| match q {
            0..=4 => Some(Selected {
                key: a,
                value: 5,
                start: 0,
            }),
            5 => Some(Selected {
                key: b,
                value: 1,
                start: 5,
            }),
            6..=12 => Some(Selected {
                key: c,
                value: 7,
                start: 6,
            }),
            _ => None,
        };
        for q in 0..20 {
            assert_eq!(idx.select(q), expect(q), "q = {q}");
        }
        assert_eq!(idx.remove(&b), Some(1));
        assert_eq!(
            idx.select(5),
            Some(Selected {
                key: c,
                value: 7,
                start: 5
            })
        );
    }

    #[test]
    fn errors_leave_index_unchanged() {
        let mut idx = EligibleIndex::new();
        // Ascending keys fill leaves completely (shifting into left siblings), so duplicates hit
        // full leaves with room next door as well as the rightmost, partly filled one.
        for n in 0..3000u64 {
            assert_eq!(idx.insert(key_of(n << 2), 1 + n % 7), Ok(()));
        }
        let before = snapshot(&idx);
        for n in 0..3000u64 {
            assert_eq!(idx.insert(key_of(n << 2), 9), Err(IndexError::DuplicateKey));
        }
        assert_eq!(idx.insert(key_of(1), 0), Err(IndexError::ZeroValue));
        let total = idx.total();
        assert_eq!(
            idx.insert(key_of(1), u64::MAX - total + 1),
            Err(IndexError::TotalOverflow {
                total,
                value: u64::MAX - total + 1
            })
        );
        assert_eq!(snapshot(&idx), before);
        assert_eq!(idx.check_invariants(), Ok(()));
        assert_eq!(idx.insert(key_of(1), u64::MAX - total), Ok(()));
        assert_eq!(idx.total(), u64::MAX);
        assert_eq!(
            idx.select(u64::MAX - 1).map(|s| s.key),
            idx.iter().last().map(|(k, _)| *k)
        );
        assert_eq!(
            IndexError::ZeroValue.to_string(),
            "value must be greater than zero"
        );
    }

    fn build_and_drain(order: &[u64]) {
        let mut idx = EligibleIndex::new();
        let mut model = Model::new();
        for (i, &n) in order.iter().enumerate() {
            let value = 1 + n % 5_000_000_000;
            assert_eq!(idx.insert(key_of(n), value), Ok(()));
            model.insert(key_of(n), value);
            if i % 9973 == 0 {
                assert_eq!(idx.check_invariants(), Ok(()));
            }
        }
        assert!(idx.height >= 3, "height {}", idx.height);
        assert_eq!(
            check_model(&idx, &model, 7).map_err(|e| e.to_string()),
            Ok(())
        );
        for (i, &n) in order.iter().rev().enumerate() {
            let key = key_of(n.wrapping_mul(0x9E37_79B9) % order.len() as u64);
            let key = if model.contains_key(&key) {
                key
            } else {
                key_of(n)
            };
            assert_eq!(idx.remove(&key), model.remove(&key));
            if i % 9973 == 0 {
                assert_eq!(idx.check_invariants(), Ok(()));
            }
        }
        for key in model.keys().copied().collect::<Vec<_>>() {
            assert_eq!(idx.remove(&key), model.remove(&key));
        }
        assert!(idx.is_empty());
        assert_eq!(idx.check_invariants(), Ok(()));
    }

    #[test]
    fn large_random_build_and_drain() {
        let mut s = 42;
        let order: Vec<u64> = (0..120_000).map(|_| splitmix(&mut s)).collect();
        build_and_drain(&order);
    }

    #[test]
    fn ascending_and_descending_build_and_drain() {
        let order: Vec<u64> = (0..60_000).collect();
        build_and_drain(&order);
        let order: Vec<u64> = (0..60_000).rev().collect();
        build_and_drain(&order);
    }

    #[test]
    fn memory_per_entry_is_small() {
        let mut idx = EligibleIndex::new();
        let mut s = 1;
        let n = 200_000;
        for _ in 0..n {
            let _ = idx.insert(key_of(splitmix(&mut s)), 1);
        }
        let used = idx.leaves.len() * std::mem::size_of::<Leaf>()
            + idx.nodes.len() * std::mem::size_of::<Node>();
        let fill = idx.len() as f64 / (idx.leaves.len() * LEAF_CAP) as f64;
        let reserved = idx.leaves.capacity() * std::mem::size_of::<Leaf>()
            + idx.nodes.capacity() * std::mem::size_of::<Node>();
        eprintln!(
            "{} bytes/entry used ({} reserved), leaf fill {:.0} %, height {}",
            used / idx.len(),
            reserved / idx.len(),
            fill * 100.0,
            idx.height
        );
        assert!(used / idx.len() < 80);
    }
}
