//! What the node's miner keeps: the Bitcoin blocks it found and the hashers' rates over time.

use sqlx::Row;

use crate::{corrupt, sql, Store, StoreError};

impl Store {
    /// Keeps a Bitcoin block the node's miner found: `record` (the node's JSON) under its
    /// block hash, replacing an earlier record of the same block.
    ///
    /// # Errors
    /// SQL errors.
    pub async fn put_found_block(
        &self,
        block_hash: &str,
        found_at: u64,
        record: &str,
    ) -> Result<(), StoreError> {
        const OP: &str = "put found block";
        let at = i64::try_from(found_at).map_err(|_| corrupt(OP, "time out of range"))?;
        sqlx::query(
            "INSERT OR REPLACE INTO found_blocks (block_hash, found_at, record) VALUES (?, ?, ?)",
        )
        .bind(block_hash)
        .bind(at)
        .bind(record)
        .execute(&self.pool)
        .await
        .map_err(sql(OP))?;
        Ok(())
    }

    /// The records of the last `limit` Bitcoin blocks the node's miner found, in the order they
    /// were kept (a replaced record counts as new).
    ///
    /// # Errors
    /// SQL errors.
    pub async fn found_blocks(&self, limit: u32) -> Result<Vec<String>, StoreError> {
        const OP: &str = "found blocks";
        let rows = sqlx::query(
            "SELECT record FROM (SELECT record, seq FROM found_blocks ORDER BY seq DESC LIMIT ?) \
             ORDER BY seq",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(sql(OP))?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(sql(OP)))
            .collect()
    }

    /// Keeps one hashrate sample per hasher at `time` (unix seconds) and deletes the samples
    /// older than `delete_before`, in one transaction.
    ///
    /// # Errors
    /// SQL errors.
    pub async fn put_hashrate_samples(
        &self,
        time: u64,
        rates: &[(String, f64)],
        delete_before: u64,
    ) -> Result<(), StoreError> {
        const OP: &str = "put hashrate samples";
        let at = i64::try_from(time).map_err(|_| corrupt(OP, "time out of range"))?;
        let before = i64::try_from(delete_before).map_err(|_| corrupt(OP, "time out of range"))?;
        let mut tx = self.pool.begin().await.map_err(sql(OP))?;
        for (hasher, rate) in rates {
            sqlx::query("INSERT INTO hashrate_samples (time, hasher, hashrate) VALUES (?, ?, ?)")
                .bind(at)
                .bind(hasher)
                .bind(rate)
                .execute(&mut *tx)
                .await
                .map_err(sql(OP))?;
        }
        sqlx::query("DELETE FROM hashrate_samples WHERE time < ?")
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(sql(OP))?;
        tx.commit().await.map_err(sql(OP))?;
        Ok(())
    }

    /// The hashrate samples at or after `since` (unix seconds), oldest first, as
    /// `(time, hasher, hashes per second)`.
    ///
    /// # Errors
    /// SQL errors.
    pub async fn hashrate_samples(
        &self,
        since: u64,
    ) -> Result<Vec<(u64, String, f64)>, StoreError> {
        const OP: &str = "hashrate samples";
        let since = i64::try_from(since).map_err(|_| corrupt(OP, "time out of range"))?;
        let rows = sqlx::query(
            "SELECT time, hasher, hashrate FROM hashrate_samples WHERE time >= ? ORDER BY time",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(sql(OP))?;
        rows.iter()
            .map(|r| {
                let t: i64 = r.try_get(0).map_err(sql(OP))?;
                Ok((
                    u64::try_from(t).map_err(|_| corrupt(OP, "negative time"))?,
                    r.try_get::<String, _>(1).map_err(sql(OP))?,
                    r.try_get::<f64, _>(2).map_err(sql(OP))?,
                ))
            })
            .collect()
    }
}
