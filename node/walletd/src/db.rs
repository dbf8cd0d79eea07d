//! The wallet's SQLite file (`<datadir>/wallet.sqlite`, through sqlx like the node's store):
//! the BTC wallet's changesets, the share wallet's history and sync point, swap states, facts.
//!
//! Durability as the node's store: WAL with `synchronous=FULL`, one connection, every write a
//! transaction — a kill at any moment leaves the last committed state.

use std::path::Path;
use std::str::FromStr;

use bdk_wallet::ChangeSet;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Row;

/// A failure of the wallet database, naming the operation.
#[derive(Debug, thiserror::Error)]
#[error("wallet database: {what}: {source}")]
pub struct DbError {
    /// The operation.
    pub what: &'static str,
    /// The cause.
    #[source]
    pub source: sqlx::Error,
}

/// A stored changeset that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("wallet database: changeset {id} is corrupt: {reason}")]
pub struct CorruptChangeset {
    /// Its row id.
    pub id: i64,
    /// The parser's message.
    pub reason: String,
}

fn err(what: &'static str) -> impl FnOnce(sqlx::Error) -> DbError {
    move |source| DbError { what, source }
}

/// The wallet's database; cheap to clone.
#[derive(Clone, Debug)]
pub struct WalletDb {
    pool: SqlitePool,
}

/// One sharechain transaction of the wallet's history, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareTxRow {
    /// Its id.
    pub txid: bitcoin::Txid,
    /// Height of the share that confirmed it (`None`: in the mempool).
    pub height: Option<u32>,
    /// That share.
    pub share_hash: Option<[u8; 32]>,
    /// Unix time first seen (or of its share).
    pub time: u64,
    /// Units paid to the wallet.
    pub received: u64,
    /// Units spent from the wallet.
    pub sent: u64,
    /// Its fee in units, when every input was known.
    pub fee: Option<u64>,
    /// The transaction.
    pub tx: bitcoin::Transaction,
}

impl WalletDb {
    /// Opens (creating, migrating) the database at `path`.
    ///
    /// # Errors
    /// [`DbError`] when the file cannot be opened or migrated.
    pub async fn open(path: &Path) -> Result<WalletDb, DbError> {
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(err("options"))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .map_err(err("open"))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| DbError {
                what: "migrate",
                source: e.into(),
            })?;
        Ok(WalletDb { pool })
    }

    /// Closes the pool (every write is already committed).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Every stored BTC-wallet changeset merged, in the order written.
    ///
    /// # Errors
    /// A database failure, or a row that does not parse (named by id).
    pub async fn load_changeset(
        &self,
    ) -> Result<ChangeSet, Box<dyn std::error::Error + Send + Sync>> {
        let rows = sqlx::query("SELECT id, changeset FROM bdk_changesets ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(err("load changesets"))?;
        let mut all = ChangeSet::default();
        for row in rows {
            let id: i64 = row.get(0);
            let text: String = row.get(1);
            let cs: ChangeSet = serde_json::from_str(&text).map_err(|e| CorruptChangeset {
                id,
                reason: e.to_string(),
            })?;
            bdk_wallet::chain::Merge::merge(&mut all, cs);
        }
        Ok(all)
    }

    /// Appends a BTC-wallet changeset (an empty one is not written).
    ///
    /// # Errors
    /// A database failure.
    pub async fn append_changeset(&self, cs: &ChangeSet) -> Result<(), DbError> {
        if bdk_wallet::chain::Merge::is_empty(cs) {
            return Ok(());
        }
        let text = serde_json::to_string(cs).map_err(|e| DbError {
            what: "encode changeset",
            source: sqlx::Error::Protocol(e.to_string()),
        })?;
        sqlx::query("INSERT INTO bdk_changesets (changeset) VALUES (?)")
            .bind(text)
            .execute(&self.pool)
            .await
            .map_err(err("append changeset"))?;
        Ok(())
    }

    /// A fact.
    ///
    /// # Errors
    /// A database failure.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, DbError> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(err("read meta"))
    }

    /// Sets a fact.
    ///
    /// # Errors
    /// A database failure.
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), DbError> {
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await
            .map_err(err("write meta"))?;
        Ok(())
    }

    /// The share the history is synced to: (height, hash).
    ///
    /// # Errors
    /// A database failure.
    pub async fn share_sync(&self) -> Result<Option<(u32, [u8; 32])>, DbError> {
        let row = sqlx::query("SELECT height, hash FROM share_sync WHERE id = 0")
            .fetch_optional(&self.pool)
            .await
            .map_err(err("read share sync"))?;
        Ok(row.and_then(|r| {
            let h: i64 = r.get(0);
            let hash: Vec<u8> = r.get(1);
            Some((u32::try_from(h).ok()?, hash.try_into().ok()?))
        }))
    }

    /// Applies one step of the share history in one transaction: unconfirms the rows above
    /// `rollback_above` (a reorg), writes `rows` and moves the sync point.
    ///
    /// # Errors
    /// A database failure (nothing is written then).
    pub async fn apply_share_step(
        &self,
        rollback_above: Option<u32>,
        rows: &[ShareTxRow],
        sync: (u32, [u8; 32]),
    ) -> Result<(), DbError> {
        use bitcoin::consensus::serialize;
        use bitcoin::hashes::Hash;
        let mut tx = self.pool.begin().await.map_err(err("begin share step"))?;
        if let Some(h) = rollback_above {
            // Confirmations above the fork are undone: those transactions are unconfirmed again
            // (the node's mempool takes them back); the next mempool pass drops those it lost.
            sqlx::query("UPDATE share_txs SET height = NULL, share_hash = NULL WHERE height > ?")
                .bind(i64::from(h))
                .execute(&mut *tx)
                .await
                .map_err(err("roll back share history"))?;
        }
        for r in rows {
            sqlx::query(
                "INSERT INTO share_txs (txid, height, share_hash, time, received, sent, fee, raw) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(txid) DO UPDATE SET \
                 height = excluded.height, share_hash = excluded.share_hash, \
                 time = MIN(share_txs.time, excluded.time), received = excluded.received, \
                 sent = excluded.sent, fee = COALESCE(excluded.fee, share_txs.fee), raw = excluded.raw",
            )
            .bind(r.txid.to_byte_array().to_vec())
            .bind(r.height.map(i64::from))
            .bind(r.share_hash.map(|h| h.to_vec()))
            .bind(i64::try_from(r.time).unwrap_or(i64::MAX))
            .bind(i64::try_from(r.received).unwrap_or(i64::MAX))
            .bind(i64::try_from(r.sent).unwrap_or(i64::MAX))
            .bind(r.fee.map(|f| i64::try_from(f).unwrap_or(i64::MAX)))
            .bind(serialize(&r.tx))
            .execute(&mut *tx)
            .await
            .map_err(err("write share history"))?;
        }
        sqlx::query(
            "INSERT INTO share_sync (id, height, hash) VALUES (0, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET height = excluded.height, hash = excluded.hash",
        )
        .bind(i64::from(sync.0))
        .bind(sync.1.to_vec())
        .execute(&mut *tx)
        .await
        .map_err(err("move the share sync point"))?;
        tx.commit().await.map_err(err("commit share step"))
    }

    /// Adds mempool transactions to the history (a row already there is kept as it is) and
    /// removes `gone` (unconfirmed transactions that left the mempool), in one transaction.
    ///
    /// # Errors
    /// A database failure (nothing is written then).
    pub async fn apply_mempool_rows(
        &self,
        rows: &[ShareTxRow],
        gone: &[bitcoin::Txid],
    ) -> Result<(), DbError> {
        use bitcoin::consensus::serialize;
        use bitcoin::hashes::Hash;
        let mut tx = self.pool.begin().await.map_err(err("begin mempool step"))?;
        for r in rows {
            sqlx::query(
                "INSERT INTO share_txs (txid, height, share_hash, time, received, sent, fee, raw) \
                 VALUES (?, NULL, NULL, ?, ?, ?, ?, ?) ON CONFLICT(txid) DO NOTHING",
            )
            .bind(r.txid.to_byte_array().to_vec())
            .bind(i64::try_from(r.time).unwrap_or(i64::MAX))
            .bind(i64::try_from(r.received).unwrap_or(i64::MAX))
            .bind(i64::try_from(r.sent).unwrap_or(i64::MAX))
            .bind(r.fee.map(|f| i64::try_from(f).unwrap_or(i64::MAX)))
            .bind(serialize(&r.tx))
            .execute(&mut *tx)
            .await
            .map_err(err("write mempool history"))?;
        }
        for txid in gone {
            sqlx::query("DELETE FROM share_txs WHERE txid = ? AND height IS NULL")
                .bind(txid.to_byte_array().to_vec())
                .execute(&mut *tx)
                .await
                .map_err(err("drop a lost mempool transaction"))?;
        }
        tx.commit().await.map_err(err("commit mempool step"))
    }

    /// The share history, newest first; at most `limit` rows from `offset`.
    ///
    /// # Errors
    /// A database failure.
    pub async fn share_history(&self, offset: u32, limit: u32) -> Result<Vec<ShareTxRow>, DbError> {
        use bitcoin::hashes::Hash;
        let rows = sqlx::query(
            "SELECT txid, height, share_hash, time, received, sent, fee, raw FROM share_txs \
             ORDER BY height IS NOT NULL, height DESC, time DESC LIMIT ? OFFSET ?",
        )
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await
        .map_err(err("read share history"))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let txid: Vec<u8> = r.get(0);
            let raw: Vec<u8> = r.get(7);
            let (Ok(txid), Ok(tx)) = (
                <[u8; 32]>::try_from(txid.as_slice()),
                bitcoin::consensus::deserialize::<bitcoin::Transaction>(&raw),
            ) else {
                continue;
            };
            let height: Option<i64> = r.get(1);
            let share_hash: Option<Vec<u8>> = r.get(2);
            let time: i64 = r.get(3);
            let received: i64 = r.get(4);
            let sent: i64 = r.get(5);
            let fee: Option<i64> = r.get(6);
            out.push(ShareTxRow {
                txid: bitcoin::Txid::from_byte_array(txid),
                height: height.and_then(|h| u32::try_from(h).ok()),
                share_hash: share_hash.and_then(|h| h.try_into().ok()),
                time: u64::try_from(time).unwrap_or(0),
                received: u64::try_from(received).unwrap_or(0),
                sent: u64::try_from(sent).unwrap_or(0),
                fee: fee.and_then(|f| u64::try_from(f).ok()),
                tx,
            });
        }
        Ok(out)
    }

    /// Number of history rows.
    ///
    /// # Errors
    /// A database failure.
    pub async fn share_history_len(&self) -> Result<u64, DbError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM share_txs")
            .fetch_one(&self.pool)
            .await
            .map_err(err("count share history"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Every unconfirmed history row's txid.
    ///
    /// # Errors
    /// A database failure.
    pub async fn unconfirmed_share_txids(&self) -> Result<Vec<bitcoin::Txid>, DbError> {
        use bitcoin::hashes::Hash;
        let rows: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT txid FROM share_txs WHERE height IS NULL")
                .fetch_all(&self.pool)
                .await
                .map_err(err("read unconfirmed"))?;
        Ok(rows
            .into_iter()
            .filter_map(|t| <[u8; 32]>::try_from(t.as_slice()).ok())
            .map(bitcoin::Txid::from_byte_array)
            .collect())
    }

    /// A swap's stored state.
    ///
    /// # Errors
    /// A database failure.
    pub async fn swaps(&self) -> Result<Vec<(String, String)>, DbError> {
        let rows = sqlx::query("SELECT id, state FROM swaps ORDER BY updated")
            .fetch_all(&self.pool)
            .await
            .map_err(err("read swaps"))?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Writes a swap's state (before the action it leads to).
    ///
    /// # Errors
    /// A database failure.
    pub async fn put_swap(&self, id: &str, state: &str, now: u64) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO swaps (id, state, updated) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE \
             SET state = excluded.state, updated = excluded.updated",
        )
        .bind(id)
        .bind(state)
        .bind(i64::try_from(now).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await
        .map_err(err("write swap"))?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn facts_and_swaps_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.sqlite");
        {
            let db = WalletDb::open(&path).await.unwrap();
            db.set_meta("k", "1").await.unwrap();
            db.set_meta("k", "2").await.unwrap();
            db.put_swap("s1", "{\"a\":1}", 5).await.unwrap();
            db.close().await;
        }
        let db = WalletDb::open(&path).await.unwrap();
        assert_eq!(db.meta("k").await.unwrap().as_deref(), Some("2"));
        assert_eq!(db.meta("none").await.unwrap(), None);
        assert_eq!(
            db.swaps().await.unwrap(),
            vec![("s1".into(), "{\"a\":1}".into())]
        );
    }

    #[tokio::test]
    async fn a_corrupt_changeset_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let db = WalletDb::open(&dir.path().join("w.sqlite")).await.unwrap();
        assert_eq!(db.load_changeset().await.unwrap(), ChangeSet::default());
        sqlx::query("INSERT INTO bdk_changesets (changeset) VALUES ('{not json')")
            .execute(&db.pool)
            .await
            .unwrap();
        let e = db.load_changeset().await.unwrap_err().to_string();
        assert!(e.contains("changeset 1 is corrupt"), "{e}");
    }
}
