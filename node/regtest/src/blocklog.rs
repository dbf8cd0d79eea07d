//! The durable log of accepted blocks.
//!
//! `bitcoinkernel` 0.3.2 writes its block index and chainstate only when it decides to flush
//! (at a clean shutdown, or when its caches fill); it exposes no flush call. A process killed
//! after `submitblock` answered would come back without the blocks accepted since its start.
//! So every block the kernel accepts is first appended here and synced to disk before the
//! submission returns; at open the log is replayed into the kernel (blocks it already has are
//! duplicates), and after a clean close — once the kernel has flushed — the log is emptied.
//!
//! A record is `length (u32 LE) ‖ checksum (first 4 bytes of the payload's double SHA-256) ‖
//! payload (the consensus-encoded block)`. A kill in the middle of an append leaves a short or
//! mismatched last record: reading stops there and the file is cut back to the last whole
//! record, which is exactly the set of blocks whose submission had answered.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bitcoin::consensus::encode::{deserialize, serialize};
use bitcoin::hashes::{sha256d, Hash};
use bitcoin::Block;

/// Largest record the log accepts (a block is at most 4 MB of weight, so at most 4 MB of bytes).
const MAX_RECORD: usize = 4_000_000;
const RECORD_HEADER: usize = 8;

/// An append-only, fsynced log of blocks.
#[derive(Debug)]
pub(crate) struct BlockLog {
    path: PathBuf,
    file: Mutex<File>,
    /// Set when the owner closes cleanly after the kernel flushed: the log is emptied on drop.
    clear_on_drop: std::sync::atomic::AtomicBool,
}

fn checksum(payload: &[u8]) -> [u8; 4] {
    let h = sha256d::Hash::hash(payload).to_byte_array();
    [h[0], h[1], h[2], h[3]]
}

impl BlockLog {
    /// Opens (creating) the log at `path` and returns it with the blocks it holds, in the
    /// order they were appended. A torn last record is cut off.
    pub(crate) fn open(path: &Path) -> std::io::Result<(BlockLog, Vec<Block>)> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let (blocks, good) = parse(&bytes);
        if good < bytes.len() {
            file.set_len(good as u64)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::End(0))?;
        Ok((
            BlockLog {
                path: path.to_path_buf(),
                file: Mutex::new(file),
                clear_on_drop: std::sync::atomic::AtomicBool::new(false),
            },
            blocks,
        ))
    }

    /// Appends `block` and syncs it to disk before returning.
    pub(crate) fn append(&self, block: &Block) -> std::io::Result<()> {
        let payload = serialize(block);
        let len = u32::try_from(payload.len())
            .map_err(|_| std::io::Error::other("block too large for the log"))?;
        let mut record = Vec::with_capacity(RECORD_HEADER + payload.len());
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&checksum(&payload));
        record.extend_from_slice(&payload);
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(&record)?;
        file.sync_data()
    }

    /// Marks the log to be emptied when it is dropped: call once the kernel that holds its
    /// blocks has been dropped (and so flushed) before the log.
    pub(crate) fn clear_on_drop(&self) {
        self.clear_on_drop
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The log's path.
    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for BlockLog {
    fn drop(&mut self) {
        if self.clear_on_drop.load(std::sync::atomic::Ordering::SeqCst) {
            let file = self
                .file
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // A failure leaves the blocks in the log: they are replayed as duplicates.
            if file.set_len(0).and_then(|()| file.sync_all()).is_err() {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

/// The whole records of `bytes` decoded, and the length of the prefix they cover.
fn parse(bytes: &[u8]) -> (Vec<Block>, usize) {
    let mut blocks = Vec::new();
    let mut at = 0usize;
    while let Some(header) = bytes.get(at..at + RECORD_HEADER) {
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if len > MAX_RECORD {
            break;
        }
        let Some(payload) = bytes.get(at + RECORD_HEADER..at + RECORD_HEADER + len) else {
            break;
        };
        if checksum(payload) != header[4..8] {
            break;
        }
        let Ok(block) = deserialize::<Block>(payload) else {
            break;
        };
        blocks.push(block);
        at += RECORD_HEADER + len;
    }
    (blocks, at)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn blocks() -> Vec<Block> {
        let genesis = bitcoin::constants::genesis_block(bitcoin::Network::Regtest);
        let mut other = genesis.clone();
        other.header.nonce ^= 1;
        vec![genesis, other]
    }

    #[test]
    fn appended_blocks_are_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        {
            let (log, got) = BlockLog::open(&path).unwrap();
            assert!(got.is_empty());
            for b in blocks() {
                log.append(&b).unwrap();
            }
        }
        let (_, got) = BlockLog::open(&path).unwrap();
        assert_eq!(got, blocks());
    }

    #[test]
    fn a_torn_last_record_is_cut_off_at_every_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        {
            let (log, _) = BlockLog::open(&path).unwrap();
            for b in blocks() {
                log.append(&b).unwrap();
            }
        }
        let whole = std::fs::read(&path).unwrap();
        let first_len = RECORD_HEADER + serialize(&blocks()[0]).len();
        for cut in first_len..whole.len() {
            std::fs::write(&path, &whole[..cut]).unwrap();
            let (log, got) = BlockLog::open(&path).unwrap();
            assert_eq!(got, blocks()[..1], "cut at {cut}");
            drop(log);
            assert_eq!(std::fs::metadata(&path).unwrap().len(), first_len as u64);
        }
    }

    #[test]
    fn a_corrupt_record_ends_the_log_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        {
            let (log, _) = BlockLog::open(&path).unwrap();
            for b in blocks() {
                log.append(&b).unwrap();
            }
        }
        let mut bytes = std::fs::read(&path).unwrap();
        let first_len = RECORD_HEADER + serialize(&blocks()[0]).len();
        bytes[first_len + RECORD_HEADER + 3] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        let (_, got) = BlockLog::open(&path).unwrap();
        assert_eq!(got, blocks()[..1]);
    }

    #[test]
    fn a_clean_close_empties_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let (log, _) = BlockLog::open(&path).unwrap();
        log.append(&blocks()[0]).unwrap();
        assert_eq!(log.path(), path);
        log.clear_on_drop();
        drop(log);
        let (_, got) = BlockLog::open(&path).unwrap();
        assert!(got.is_empty());
    }
}
