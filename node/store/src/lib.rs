//! # p2share store
//!
//! Persistence for the p2share node: the sharechain (headers always, bodies for a recent window),
//! the UTXO set at the tip, the undo data of connected shares, and the tip, in one SQLite file.
//!
//! The consensus crate is sans-IO: it yields [`ShareUndo`] values; this crate applies the same
//! values to disk. Every [`Store::connect`], [`Store::disconnect`] and [`Store::reorg`] is **one
//! SQLite transaction**, so a kill at any moment leaves the store at the last committed tip, and a
//! restart rebuilds the in-memory UTXO set from [`Store::load_utxos`] without re-validating.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use bitcoin::consensus::encode::serialize;
use bitcoin::hashes::Hash;
use bitcoin::pow::Work;
use bitcoin::{Amount, OutPoint, ScriptBuf, Transaction, TxOut};
use futures_util::TryStreamExt;
use p2share_consensus::builder::genesis_share;
use p2share_consensus::chain::ChainState;
use p2share_consensus::payout::Payout;
use p2share_consensus::pow::decode_compact;
use p2share_consensus::share::write_compact_size;
use p2share_consensus::share::ShareHeader;
use p2share_consensus::utxo::{is_unspendable, key_outpoint, Coin, ShareUndo, UtxoSet};
use p2share_consensus::{ChainParams, Share, ShareAmount, ShareHash, ShareHead};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Row;

mod mining;
mod write;
use write::*;
mod undo;
pub use undo::{decode_undo, encode_undo, UNDO_VERSION};

/// The schema version recorded in `meta` (matches the embedded migrations).
pub const SCHEMA_VERSION: u32 = 3;

/// Why a store operation failed. Every variant names the operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite refused a statement.
    #[error("store {op}: sqlite: {source}")]
    Sqlite {
        /// The operation, e.g. `"connect: insert utxo"`.
        op: &'static str,
        /// The SQLite error.
        #[source]
        source: sqlx::Error,
    },
    /// Applying the embedded migrations failed.
    #[error("store open: migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The file belongs to another network.
    #[error(
        "store {path} belongs to the network with genesis {stored}, not to network '{network}' \
         (genesis {expected}); use that network's data directory"
    )]
    WrongNetwork {
        /// The file.
        path: PathBuf,
        /// Genesis hash recorded in the file.
        stored: String,
        /// Genesis hash of the requested network.
        expected: ShareHash,
        /// Name of the requested network.
        network: String,
    },
    /// The change does not fit the stored state (a caller bug); nothing was written.
    #[error("store {op}: {reason}")]
    Inconsistent {
        /// The operation.
        op: &'static str,
        /// What did not fit.
        reason: String,
    },
    /// Stored bytes do not decode.
    #[error("store {op}: corrupt data: {reason}")]
    Corrupt {
        /// The operation.
        op: &'static str,
        /// What failed to decode.
        reason: String,
    },
    /// Reading the file size failed.
    #[error("store {op}: {source}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn sql(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Sqlite { op, source }
}

fn corrupt(op: &'static str, reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        op,
        reason: reason.to_string(),
    }
}

fn inconsistent(op: &'static str, reason: String) -> StoreError {
    StoreError::Inconsistent { op, reason }
}

/// The active tip as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tip {
    /// Share id.
    pub hash: ShareHash,
    /// Height.
    pub height: u32,
}

/// A share as stored: the head always, the transactions unless pruned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredShare {
    /// Share id.
    pub hash: ShareHash,
    /// Height.
    pub height: u32,
    /// Header and Bitcoin work.
    pub head: ShareHead,
    /// The transactions; `None` once the body was pruned.
    pub txs: Option<Vec<Transaction>>,
    /// Cumulative work, when known.
    pub chain_work: Option<Work>,
    /// Whether the share is on the active chain.
    pub on_active: bool,
}

impl StoredShare {
    /// The full share, if its body is still stored.
    pub fn share(&self) -> Option<Share> {
        self.txs.as_ref().map(|txs| Share {
            head: self.head.clone(),
            txs: txs.clone(),
        })
    }
}

/// Row counts and file size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Stored shares (headers).
    pub shares: u64,
    /// Shares whose body is still stored.
    pub bodies: u64,
    /// Unspent outputs.
    pub utxos: u64,
    /// Undo records.
    pub undo: u64,
    /// Bytes on disk: the database file plus its write-ahead log.
    pub file_bytes: u64,
}

/// The node's store over one SQLite file.
///
/// Durability: WAL journal with `synchronous=FULL`. With WAL, `NORMAL` keeps the file consistent
/// but may lose the last committed transactions on power loss; `FULL` syncs the log at every
/// commit, so a tip reported as stored (and perhaps relayed) survives a crash. One fsync per share
/// is cheap at sharechain rates, so we take `FULL`.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
    maturity: u32,
}

fn hash_bytes(h: &ShareHash) -> Vec<u8> {
    h.to_byte_array().to_vec()
}

fn hash_from(op: &'static str, b: &[u8]) -> Result<ShareHash, StoreError> {
    let a: [u8; 32] = b
        .try_into()
        .map_err(|_| corrupt(op, format!("hash of {} bytes", b.len())))?;
    Ok(ShareHash::from_byte_array(a))
}

/// The encoding of the transaction list: the share encoding after its head.
fn body_bytes(share: &Share) -> Vec<u8> {
    let mut out = Vec::new();
    write_compact_size(&mut out, share.txs.len() as u64);
    for tx in &share.txs {
        out.extend_from_slice(&serialize(tx));
    }
    out
}

fn share_work(share: &Share) -> Option<Work> {
    decode_compact(share.head.header.bits)
        .ok()
        .map(|t| t.to_work())
}

fn u32_col(op: &'static str, v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| corrupt(op, format!("integer {v} out of range")))
}

impl Store {
    /// Opens (creating if missing) the store at `path` for the network `params`, applying the
    /// embedded migrations. A new store starts at the genesis share with the genesis allocation.
    ///
    /// # Errors
    /// [`StoreError::WrongNetwork`] if the file was created for another network; SQLite and
    /// migration errors otherwise.
    pub async fn open(path: impl AsRef<Path>, params: &ChainParams) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(sql("open: options"))?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(10));
        // One connection: writes are serialized anyway, and it keeps transactions simple.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .map_err(sql("open: connect"))?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let store = Store {
            pool,
            path,
            maturity: params.maturity,
        };
        store.check_or_init(params).await?;
        sqlx::query("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)")
            .bind(SCHEMA_VERSION.to_le_bytes().to_vec())
            .execute(&store.pool)
            .await
            .map_err(sql("open: record schema"))?;
        Ok(store)
    }

    async fn check_or_init(&self, params: &ChainParams) -> Result<(), StoreError> {
        const OP: &str = "open: network check";
        let genesis = genesis_share(params);
        let ghash = genesis.hash();
        let stored: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'genesis'")
                .fetch_optional(&self.pool)
                .await
                .map_err(sql(OP))?;
        if let Some(stored) = stored {
            if stored != hash_bytes(&ghash) {
                let stored = hash_from(OP, &stored)
                    .map(|h| h.to_string())
                    .unwrap_or_else(|_| format!("{stored:02x?}"));
                return Err(StoreError::WrongNetwork {
                    path: self.path.clone(),
                    stored,
                    expected: ghash,
                    network: params.name.clone(),
                });
            }
            return Ok(());
        }
        const INIT: &str = "open: initialize";
        let mut tx = self.pool.begin().await.map_err(sql(INIT))?;
        for (key, value) in [
            ("schema", SCHEMA_VERSION.to_le_bytes().to_vec()),
            ("network", params.name.as_bytes().to_vec()),
            ("genesis", hash_bytes(&ghash)),
        ] {
            sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?)")
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await
                .map_err(sql(INIT))?;
        }
        let work = share_work(&genesis);
        insert_share(&mut tx, &genesis, 0, work, true).await?;
        if let Some(sb) = genesis.txs.first() {
            let txid = sb.compute_txid();
            for (vout, out) in sb.output.iter().enumerate() {
                if is_unspendable(out) {
                    continue;
                }
                let op = OutPoint {
                    txid,
                    vout: vout as u32,
                };
                let coin = Coin {
                    output: out.clone(),
                    height: 0,
                    is_sharebase: false,
                };
                insert_coin(&mut tx, &op, &coin, INIT).await?;
            }
        }
        sqlx::query("INSERT INTO tip (id, hash, height) VALUES (0, ?, 0)")
            .bind(hash_bytes(&ghash))
            .execute(&mut *tx)
            .await
            .map_err(sql(INIT))?;
        tx.commit().await.map_err(sql(INIT))
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The maturity of the network (for [`p2share_consensus::utxo::UtxoSet::from_coins`]).
    pub fn maturity(&self) -> u32 {
        self.maturity
    }

    /// The active tip.
    ///
    /// # Errors
    /// SQLite errors, or [`StoreError::Corrupt`] if the tip row is missing or malformed.
    pub async fn tip(&self) -> Result<Tip, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(sql("tip"))?;
        read_tip(&mut conn, "tip").await
    }

    /// Connects `share` (whose parent must be the tip) with the change `undo` the consensus
    /// crate computed for it: stores the share if missing, applies the UTXO change, writes the
    /// undo record and moves the tip — all in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Inconsistent`] if the share does not build on the tip or the change does not
    /// fit the UTXO set (nothing is written); SQLite errors.
    pub async fn connect(&self, share: &Share, undo: &ShareUndo) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(sql("connect"))?;
        connect_in(&mut tx, share, undo).await?;
        tx.commit().await.map_err(sql("connect: commit"))
    }

    /// Disconnects the tip `hash` with its `undo`: reverts the UTXO change, marks the share as a
    /// side share, drops its undo record and moves the tip to its parent — in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Inconsistent`] if `hash` is not the tip or the change does not fit (nothing
    /// is written); SQLite errors.
    pub async fn disconnect(&self, hash: &ShareHash, undo: &ShareUndo) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(sql("disconnect"))?;
        disconnect_in(&mut tx, hash, undo).await?;
        tx.commit().await.map_err(sql("disconnect: commit"))
    }

    /// Applies a whole reorganization in **one transaction**: disconnects the shares of
    /// `disconnect` (tip first, each with its undo), then connects the shares of `connect` (fork
    /// point first, each with the undo the consensus crate computed). Each step is checked as in
    /// [`Store::disconnect`] and [`Store::connect`]; if any step fails, nothing is written and the
    /// store stays at the old tip.
    ///
    /// # Errors
    /// [`StoreError::Inconsistent`] if a step does not fit the stored state; SQLite errors.
    pub async fn reorg(
        &self,
        disconnect: &[(ShareHash, ShareUndo)],
        connect: &[(Share, ShareUndo)],
    ) -> Result<(), StoreError> {
        let connect: Vec<(&Share, &ShareUndo, Option<&Payout>)> =
            connect.iter().map(|(s, u)| (s, u, None)).collect();
        self.reorg_with_payouts(disconnect, &connect).await
    }

    /// [`Store::reorg`], also recording the payout each connected share made (see
    /// [`Store::payout`]) in the same transaction.
    ///
    /// # Errors
    /// As [`Store::reorg`].
    pub async fn reorg_with_payouts(
        &self,
        disconnect: &[(ShareHash, ShareUndo)],
        connect: &[(&Share, &ShareUndo, Option<&Payout>)],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(sql("reorg"))?;
        for (hash, undo) in disconnect {
            disconnect_in(&mut tx, hash, undo).await?;
            sqlx::query("DELETE FROM payouts WHERE hash = ?")
                .bind(hash_bytes(hash))
                .execute(&mut *tx)
                .await
                .map_err(sql("reorg: drop payout"))?;
        }
        connect_run(&mut tx, connect).await?;
        tx.commit().await.map_err(sql("reorg: commit"))
    }

    /// The payout the Bitcoin coinbase of a connected share made, if recorded.
    ///
    /// # Errors
    /// SQLite errors; [`StoreError::Corrupt`] for malformed rows.
    pub async fn payout(&self, hash: &ShareHash) -> Result<Option<Payout>, StoreError> {
        const OP: &str = "payout";
        let row = sqlx::query(
            "SELECT q, n, outpoint, script, value, range_start FROM payouts WHERE hash = ?",
        )
        .bind(hash_bytes(hash))
        .fetch_optional(&self.pool)
        .await
        .map_err(sql(OP))?;
        let Some(row) = row else { return Ok(None) };
        let u = |i: usize| -> Result<u64, StoreError> {
            let v: i64 = row.try_get(i).map_err(sql(OP))?;
            u64::try_from(v).map_err(|_| corrupt(OP, format!("negative column {i}")))
        };
        let amount = |v: u64| {
            ShareAmount::from_units(v).map_err(|_| corrupt(OP, format!("amount {v} out of range")))
        };
        let key: Vec<u8> = row.try_get(2).map_err(sql(OP))?;
        let key: [u8; 36] = key
            .as_slice()
            .try_into()
            .map_err(|_| corrupt(OP, "outpoint key length"))?;
        let script: Vec<u8> = row.try_get(3).map_err(sql(OP))?;
        Ok(Some(Payout {
            q: u(0)?,
            n: amount(u(1)?)?,
            outpoint: key_outpoint(&key),
            script_pubkey: ScriptBuf::from_bytes(script),
            value: amount(u(4)?)?,
            start: u(5)?,
        }))
    }

    /// Stores a share that is not (yet) on the active chain; no-op if already stored.
    ///
    /// # Errors
    /// SQLite errors.
    pub async fn store_side_share(&self, share: &Share) -> Result<(), StoreError> {
        const OP: &str = "store side share";
        let mut tx = self.pool.begin().await.map_err(sql(OP))?;
        let parent_work = read_work(&mut tx, &share.head.header.prev_share, OP).await?;
        let work = match (parent_work, share_work(share)) {
            (Some(p), Some(w)) => Some(p + w),
            _ => None,
        };
        insert_share(&mut tx, share, share.head.header.height, work, false).await?;
        tx.commit().await.map_err(sql(OP))
    }

    /// Every unspent output at the tip, sorted by canonical outpoint order — the input of
    /// `UtxoSet::from_coins(maturity, tip.height, ..)`.
    ///
    /// # Errors
    /// SQLite errors; [`StoreError::Corrupt`] for malformed rows.
    pub async fn load_utxos(&self) -> Result<Vec<(OutPoint, Coin)>, StoreError> {
        const OP: &str = "load utxos";
        // Streamed row by row: holding every row at once would double the transient memory of
        // a restart (and glibc keeps that high-water mark).
        let mut rows = sqlx::query(
            "SELECT outpoint, value, script, height, is_sharebase FROM utxos ORDER BY outpoint",
        )
        .fetch(&self.pool);
        let mut out = Vec::new();
        while let Some(row) = rows.try_next().await.map_err(sql(OP))? {
            let key: Vec<u8> = row.try_get(0).map_err(sql(OP))?;
            let key: [u8; 36] = key
                .as_slice()
                .try_into()
                .map_err(|_| corrupt(OP, format!("outpoint key of {} bytes", key.len())))?;
            let value: i64 = row.try_get(1).map_err(sql(OP))?;
            let value = u64::try_from(value).map_err(|_| corrupt(OP, "negative value"))?;
            let script: Vec<u8> = row.try_get(2).map_err(sql(OP))?;
            let height = u32_col(OP, row.try_get(3).map_err(sql(OP))?)?;
            let is_sharebase: bool = row.try_get(4).map_err(sql(OP))?;
            out.push((
                key_outpoint(&key),
                Coin {
                    output: TxOut {
                        value: Amount::from_sat(value),
                        script_pubkey: ScriptBuf::from_bytes(script),
                    },
                    height,
                    is_sharebase,
                },
            ));
        }
        Ok(out)
    }

    /// A stored share by id.
    ///
    /// # Errors
    /// SQLite errors; [`StoreError::Corrupt`] for undecodable rows.
    pub async fn share(&self, hash: &ShareHash) -> Result<Option<StoredShare>, StoreError> {
        let row = sqlx::query(
            "SELECT hash, height, head, body, chain_work, on_active FROM shares WHERE hash = ?",
        )
        .bind(hash_bytes(hash))
        .fetch_optional(&self.pool)
        .await
        .map_err(sql("share"))?;
        row.map(|r| stored_share(&r, "share")).transpose()
    }

    /// The active share at `height`.
    ///
    /// # Errors
    /// SQLite errors; [`StoreError::Corrupt`] for undecodable rows.
    pub async fn share_at(&self, height: u32) -> Result<Option<StoredShare>, StoreError> {
        let row = sqlx::query(
            "SELECT hash, height, head, body, chain_work, on_active FROM shares \
             WHERE height = ? AND on_active = 1",
        )
        .bind(i64::from(height))
        .fetch_optional(&self.pool)
        .await
        .map_err(sql("share at height"))?;
        row.map(|r| stored_share(&r, "share at height")).transpose()
    }

    /// The undo record of a connected share.
    ///
    /// # Errors
    /// SQLite errors; [`StoreError::Corrupt`] for an undecodable record.
    pub async fn undo(&self, hash: &ShareHash) -> Result<Option<ShareUndo>, StoreError> {
        let data: Option<Vec<u8>> = sqlx::query_scalar("SELECT data FROM undo WHERE hash = ?")
            .bind(hash_bytes(hash))
            .fetch_optional(&self.pool)
            .await
            .map_err(sql("undo"))?;
        data.map(|d| decode_undo(&d).map_err(|e| corrupt("undo", e)))
            .transpose()
    }

    /// Keeps the reorg window on disk and, optionally, prunes bodies: drops undo records of
    /// active shares more than `window` below the tip and side shares that deep (they can never
    /// win a reorg that window allows), and — when `body_depth` is set — the bodies of shares
    /// more than `body_depth` below the tip. Headers and the UTXO set are always kept. One
    /// transaction. Returns the number of side shares and bodies dropped.
    ///
    /// # Errors
    /// SQLite errors.
    pub async fn prune(&self, window: u32, body_depth: Option<u32>) -> Result<u64, StoreError> {
        const OP: &str = "prune";
        let mut tx = self.pool.begin().await.map_err(sql(OP))?;
        let tip = read_tip(&mut tx, OP).await?;
        let mut dropped = 0;
        if let Some(below) = tip.height.checked_sub(window) {
            let below = i64::from(below);
            let side = sqlx::query("DELETE FROM shares WHERE on_active = 0 AND height < ?")
                .bind(below)
                .execute(&mut *tx)
                .await
                .map_err(sql(OP))?;
            dropped += side.rows_affected();
            // Walk the undo records (the window), not the chain.
            sqlx::query(
                "DELETE FROM undo WHERE hash IN (SELECT u.hash FROM undo u \
                 CROSS JOIN shares s ON s.hash = u.hash WHERE s.height < ?)",
            )
            .bind(below)
            .execute(&mut *tx)
            .await
            .map_err(sql(OP))?;
        }
        if let Some(below) = body_depth.and_then(|d| tip.height.checked_sub(d.max(window))) {
            let bodies =
                sqlx::query("UPDATE shares SET body = NULL WHERE body IS NOT NULL AND height < ?")
                    .bind(i64::from(below))
                    .execute(&mut *tx)
                    .await
                    .map_err(sql(OP))?;
            dropped += bodies.rows_affected();
        }
        tx.commit().await.map_err(sql(OP))?;
        Ok(dropped)
    }

    /// Up to `max` heads of active shares from `from_height` up (headers-first sync serves
    /// these; heads are kept for the whole chain).
    ///
    /// # Errors
    /// SQLite errors; [`StoreError::Corrupt`] for malformed rows.
    pub async fn active_heads(
        &self,
        from_height: u32,
        max: u32,
    ) -> Result<Vec<ShareHead>, StoreError> {
        const OP: &str = "load active heads";
        let rows: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT head FROM shares WHERE on_active = 1 AND height >= ? ORDER BY height LIMIT ?",
        )
        .bind(i64::from(from_height))
        .bind(i64::from(max))
        .fetch_all(&self.pool)
        .await
        .map_err(sql(OP))?;
        rows.iter()
            .map(|h| ShareHead::decode(h).map_err(|e| corrupt(OP, e)))
            .collect()
    }

    /// The id and header of every active share, genesis first.
    ///
    /// # Errors
    /// SQLite errors; [`StoreError::Corrupt`] for gaps or malformed rows.
    pub async fn active_headers(&self) -> Result<Vec<(ShareHash, ShareHeader)>, StoreError> {
        const OP: &str = "load active headers";
        let mut rows = sqlx::query(
            "SELECT hash, height, substr(head, 1, 80) FROM shares WHERE on_active = 1 \
             ORDER BY height",
        )
        .fetch(&self.pool);
        let mut out = Vec::new();
        while let Some(row) = rows.try_next().await.map_err(sql(OP))? {
            let i = out.len();
            let hash: Vec<u8> = row.try_get(0).map_err(sql(OP))?;
            let height = u32_col(OP, row.try_get(1).map_err(sql(OP))?)?;
            if height as usize != i {
                return Err(corrupt(
                    OP,
                    format!("active chain has no share at height {i}"),
                ));
            }
            let header: Vec<u8> = row.try_get(2).map_err(sql(OP))?;
            let header = ShareHeader::decode(&header).map_err(|e| corrupt(OP, e))?;
            out.push((hash_from(OP, &hash)?, header));
        }
        Ok(out)
    }

    /// Every share with a body at or above `from_height` (active and side), each active one
    /// with its undo record.
    ///
    /// # Errors
    /// SQLite errors; [`StoreError::Corrupt`] for malformed rows.
    pub async fn recent_shares(
        &self,
        from_height: u32,
    ) -> Result<Vec<(Share, Option<ShareUndo>)>, StoreError> {
        const OP: &str = "load recent shares";
        let rows = sqlx::query(
            "SELECT s.hash, s.height, s.head, s.body, s.chain_work, s.on_active, u.data \
             FROM shares s LEFT JOIN undo u ON u.hash = s.hash \
             WHERE s.height >= ? AND s.body IS NOT NULL ORDER BY s.height",
        )
        .bind(i64::from(from_height))
        .fetch_all(&self.pool)
        .await
        .map_err(sql(OP))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let stored = stored_share(row, OP)?;
            let undo: Option<Vec<u8>> = row.try_get(6).map_err(sql(OP))?;
            let undo = undo
                .map(|d| decode_undo(&d).map_err(|e| corrupt(OP, e)))
                .transpose()?;
            if let Some(share) = stored.share() {
                out.push((share, undo));
            }
        }
        Ok(out)
    }

    /// Rebuilds the in-memory chain state from the store without re-validating: headers of the
    /// whole active chain, whole shares and undo data of the reorg `window`, and the UTXO set.
    ///
    /// # Errors
    /// Store errors, or [`StoreError::Inconsistent`] if the parts do not fit together.
    pub async fn load_chain(
        &self,
        params: &ChainParams,
        window: u32,
    ) -> Result<ChainState, StoreError> {
        const OP: &str = "load chain";
        let active = self.active_headers().await?;
        let tip_height = active.len().saturating_sub(1) as u32;
        let recent = self
            .recent_shares(tip_height.saturating_sub(window))
            .await?;
        let coins = self.load_utxos().await?;
        let utxo = UtxoSet::from_coins(params.maturity, tip_height, coins)
            .map_err(|e| inconsistent(OP, e.to_string()))?;
        ChainState::restore(params.clone(), active, recent, utxo, window)
            .map_err(|e| inconsistent(OP, e.to_string()))
    }

    /// Row counts and bytes on disk.
    ///
    /// # Errors
    /// SQLite or I/O errors.
    pub async fn stats(&self) -> Result<StoreStats, StoreError> {
        const OP: &str = "stats";
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM shares), \
                    (SELECT COUNT(*) FROM shares WHERE body IS NOT NULL), \
                    (SELECT COUNT(*) FROM utxos), (SELECT COUNT(*) FROM undo)",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(sql(OP))?;
        let count = |i: usize| -> Result<u64, StoreError> {
            let v: i64 = row.try_get(i).map_err(sql(OP))?;
            Ok(u64::try_from(v).unwrap_or(0))
        };
        let mut file_bytes = 0;
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        for p in [self.path.clone(), PathBuf::from(wal)] {
            match tokio::fs::metadata(&p).await {
                Ok(m) => file_bytes += m.len(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(StoreError::Io { op: OP, source }),
            }
        }
        Ok(StoreStats {
            shares: count(0)?,
            bodies: count(1)?,
            utxos: count(2)?,
            undo: count(3)?,
            file_bytes,
        })
    }

    /// Closes the pool, checkpointing the write-ahead log.
    pub async fn close(self) {
        self.pool.close().await;
    }
}
