//! The write path: connecting and disconnecting shares, the tip, coins and share rows, inside
//! the caller's SQL transaction.

use bitcoin::pow::Work;
use bitcoin::OutPoint;
use p2share_consensus::payout::Payout;
use p2share_consensus::utxo::{outpoint_key, Coin, ShareUndo};
use p2share_consensus::{Share, ShareHash, ShareHead};
use sqlx::{Row, Sqlite, Transaction as SqlTx};

use crate::*;

/// Connects `share` on the tip inside `tx` (see [`Store::connect`]).
pub(crate) async fn connect_in(
    tx: &mut SqlTx<'_, Sqlite>,
    share: &Share,
    undo: &ShareUndo,
) -> Result<(), StoreError> {
    connect_run(tx, &[(share, undo, None)]).await
}

/// Connects a run of shares, each on the previous, starting on the tip, inside `tx`: the tip and
/// its work are read once and written once, and each share costs one insert (or one update of
/// a stored side share), its coin changes, its undo record and its payout.
pub(crate) async fn connect_run(
    tx: &mut SqlTx<'_, Sqlite>,
    run: &[(&Share, &ShareUndo, Option<&Payout>)],
) -> Result<(), StoreError> {
    const OP: &str = "connect";
    let Some(_) = run.first() else { return Ok(()) };
    let mut tip = read_tip(tx, OP).await?;
    let mut work = read_work(tx, &tip.hash, OP).await?;
    for (share, undo, payout) in run {
        let hash = share.hash();
        let prev = share.head.header.prev_share;
        if prev != tip.hash || undo.height != tip.height.wrapping_add(1) {
            return Err(inconsistent(
                OP,
                format!(
                    "share {hash} at height {} (parent {prev}) does not extend the tip {} at \
                     height {}",
                    undo.height, tip.hash, tip.height
                ),
            ));
        }
        work = match (work, share_work(share)) {
            (Some(p), Some(w)) => Some(p + w),
            _ => None,
        };
        if !insert_share(tx, share, undo.height, work, true).await? {
            // Stored before as a side share: activate it.
            sqlx::query(
                "UPDATE shares SET on_active = 1, chain_work = ?, height = ? WHERE hash = ?",
            )
            .bind(work.map(|w| w.to_be_bytes().to_vec()))
            .bind(i64::from(undo.height))
            .bind(hash_bytes(&hash))
            .execute(&mut **tx)
            .await
            .map_err(sql("connect: activate share"))?;
        }
        for (op, _) in &undo.spent {
            delete_coin(tx, op, "connect: spend").await?;
        }
        for (op, coin) in &undo.created {
            insert_coin(tx, op, coin, "connect: create").await?;
        }
        sqlx::query("INSERT OR REPLACE INTO undo (hash, data) VALUES (?, ?)")
            .bind(hash_bytes(&hash))
            .bind(encode_undo(undo))
            .execute(&mut **tx)
            .await
            .map_err(sql("connect: write undo"))?;
        if let Some(p) = payout {
            let as_i64 = |v: u64| i64::try_from(v).map_err(|_| corrupt(OP, "payout value"));
            sqlx::query(
                "INSERT OR REPLACE INTO payouts \
                 (hash, q, n, outpoint, script, value, range_start) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(hash_bytes(&hash))
            .bind(as_i64(p.q)?)
            .bind(as_i64(p.n.to_units())?)
            .bind(outpoint_key(&p.outpoint).to_vec())
            .bind(p.script_pubkey.as_bytes().to_vec())
            .bind(as_i64(p.value.to_units())?)
            .bind(as_i64(p.start)?)
            .execute(&mut **tx)
            .await
            .map_err(sql("connect: payout"))?;
        }
        tip = Tip {
            hash,
            height: undo.height,
        };
    }
    write_tip(tx, &tip.hash, tip.height, OP).await
}

/// Disconnects the tip `hash` inside `tx` (see [`Store::disconnect`]).
pub(crate) async fn disconnect_in(
    tx: &mut SqlTx<'_, Sqlite>,
    hash: &ShareHash,
    undo: &ShareUndo,
) -> Result<(), StoreError> {
    const OP: &str = "disconnect";
    let tip = read_tip(tx, OP).await?;
    if tip.hash != *hash || undo.height != tip.height || tip.height == 0 {
        return Err(inconsistent(
            OP,
            format!(
                "cannot disconnect {hash} at height {}: the tip is {} at height {}",
                undo.height, tip.hash, tip.height
            ),
        ));
    }
    let prev: Option<Vec<u8>> = sqlx::query_scalar("SELECT prev FROM shares WHERE hash = ?")
        .bind(hash_bytes(hash))
        .fetch_optional(&mut **tx)
        .await
        .map_err(sql("disconnect: read share"))?;
    let Some(prev) = prev else {
        return Err(corrupt(OP, format!("tip share {hash} is not stored")));
    };
    let prev = hash_from(OP, &prev)?;
    for (op, _) in undo.created.iter().rev() {
        delete_coin(tx, op, "disconnect: remove created").await?;
    }
    for (op, coin) in undo.spent.iter().rev() {
        insert_coin(tx, op, coin, "disconnect: restore spent").await?;
    }
    sqlx::query("UPDATE shares SET on_active = 0 WHERE hash = ?")
        .bind(hash_bytes(hash))
        .execute(&mut **tx)
        .await
        .map_err(sql("disconnect: deactivate share"))?;
    sqlx::query("DELETE FROM undo WHERE hash = ?")
        .bind(hash_bytes(hash))
        .execute(&mut **tx)
        .await
        .map_err(sql("disconnect: drop undo"))?;
    write_tip(tx, &prev, tip.height - 1, OP).await
}

pub(crate) fn stored_share(
    row: &sqlx::sqlite::SqliteRow,
    op: &'static str,
) -> Result<StoredShare, StoreError> {
    let hash: Vec<u8> = row.try_get(0).map_err(sql(op))?;
    let hash = hash_from(op, &hash)?;
    let height = u32_col(op, row.try_get(1).map_err(sql(op))?)?;
    let head: Vec<u8> = row.try_get(2).map_err(sql(op))?;
    let body: Option<Vec<u8>> = row.try_get(3).map_err(sql(op))?;
    let work: Option<Vec<u8>> = row.try_get(4).map_err(sql(op))?;
    let on_active: bool = row.try_get(5).map_err(sql(op))?;
    let head_decoded = ShareHead::decode(&head).map_err(|e| corrupt(op, e))?;
    let txs = match body {
        Some(body) => {
            let mut full = head;
            full.extend_from_slice(&body);
            Some(Share::decode(&full).map_err(|e| corrupt(op, e))?.txs)
        }
        None => None,
    };
    let chain_work = match work {
        Some(w) => {
            let a: [u8; 32] = w
                .as_slice()
                .try_into()
                .map_err(|_| corrupt(op, format!("chain work of {} bytes", w.len())))?;
            Some(Work::from_be_bytes(a))
        }
        None => None,
    };
    Ok(StoredShare {
        hash,
        height,
        head: head_decoded,
        txs,
        chain_work,
        on_active,
    })
}

pub(crate) async fn read_tip(
    conn: &mut sqlx::SqliteConnection,
    op: &'static str,
) -> Result<Tip, StoreError> {
    let row = sqlx::query("SELECT hash, height FROM tip WHERE id = 0")
        .fetch_optional(&mut *conn)
        .await
        .map_err(sql(op))?;
    let Some(row) = row else {
        return Err(corrupt(op, "no tip row"));
    };
    let hash: Vec<u8> = row.try_get(0).map_err(sql(op))?;
    let height: i64 = row.try_get(1).map_err(sql(op))?;
    Ok(Tip {
        hash: hash_from(op, &hash)?,
        height: u32_col(op, height)?,
    })
}

pub(crate) async fn write_tip(
    tx: &mut SqlTx<'_, Sqlite>,
    hash: &ShareHash,
    height: u32,
    op: &'static str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE tip SET hash = ?, height = ? WHERE id = 0")
        .bind(hash_bytes(hash))
        .bind(i64::from(height))
        .execute(&mut **tx)
        .await
        .map_err(sql(op))?;
    Ok(())
}

pub(crate) async fn read_work(
    tx: &mut SqlTx<'_, Sqlite>,
    hash: &ShareHash,
    op: &'static str,
) -> Result<Option<Work>, StoreError> {
    let w: Option<Option<Vec<u8>>> =
        sqlx::query_scalar("SELECT chain_work FROM shares WHERE hash = ?")
            .bind(hash_bytes(hash))
            .fetch_optional(&mut **tx)
            .await
            .map_err(sql(op))?;
    Ok(w.flatten()
        .and_then(|w| <[u8; 32]>::try_from(w.as_slice()).ok())
        .map(Work::from_be_bytes))
}

pub(crate) async fn insert_share(
    tx: &mut SqlTx<'_, Sqlite>,
    share: &Share,
    height: u32,
    work: Option<Work>,
    on_active: bool,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT OR IGNORE INTO shares (hash, height, prev, head, body, chain_work, on_active) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(hash_bytes(&share.hash()))
    .bind(i64::from(height))
    .bind(hash_bytes(&share.head.header.prev_share))
    .bind(share.head.encode())
    .bind(body_bytes(share))
    .bind(work.map(|w| w.to_be_bytes().to_vec()))
    .bind(on_active)
    .execute(&mut **tx)
    .await
    .map_err(sql("insert share"))?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn insert_coin(
    tx: &mut SqlTx<'_, Sqlite>,
    op: &OutPoint,
    coin: &Coin,
    what: &'static str,
) -> Result<(), StoreError> {
    let value = i64::try_from(coin.output.value.to_sat())
        .map_err(|_| inconsistent(what, format!("value of {op} above i64")))?;
    sqlx::query(
        "INSERT INTO utxos (outpoint, value, script, height, is_sharebase) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(outpoint_key(op).to_vec())
    .bind(value)
    .bind(coin.output.script_pubkey.as_bytes())
    .bind(i64::from(coin.height))
    .bind(coin.is_sharebase)
    .execute(&mut **tx)
    .await
    .map_err(sql(what))?;
    Ok(())
}

pub(crate) async fn delete_coin(
    tx: &mut SqlTx<'_, Sqlite>,
    op: &OutPoint,
    what: &'static str,
) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM utxos WHERE outpoint = ?")
        .bind(outpoint_key(op).to_vec())
        .execute(&mut **tx)
        .await
        .map_err(sql(what))?;
    if done.rows_affected() != 1 {
        return Err(inconsistent(what, format!("coin {op} is not in the set")));
    }
    Ok(())
}
