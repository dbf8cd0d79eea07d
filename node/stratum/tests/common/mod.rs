//! Test support: a work source with a real-looking coinbase, a solution collector, and a
//! device-side Stratum client that builds headers from notify fields the way devices do and
//! grinds nonces. The client's header math is written independently of the crate's, so the two
//! check each other.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    missing_docs
)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bitcoin::absolute::LockTime;
use bitcoin::address::NetworkUnchecked;
use bitcoin::consensus::serialize;
use bitcoin::hashes::{sha256d, Hash};
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::transaction::Version;
use bitcoin::{
    Address, Amount, BlockHash, Network, OutPoint, ScriptBuf, Sequence, Target, Transaction, TxIn,
    TxMerkleNode, TxOut, Witness,
};
use p2share_stratum::header::difficulty_to_target;
use p2share_stratum::{
    AddressParser, Solution, SolutionHandler, StratumConfig, StratumServer, Work, WorkSource,
};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::watch;

pub const MARKER: [u8; 8] = [0xfe, 0xed, 0xfa, 0xce, 0xfe, 0xed, 0xfa, 0xce];
pub const TIME: u32 = 1_700_000_000;

/// A real regtest address (P2WSH of a fixed script) and its script.
pub fn address(tag: &str) -> (String, ScriptBuf) {
    let script = ScriptBuf::new_p2wsh(&bitcoin::WScriptHash::hash(tag.as_bytes()));
    let addr = Address::from_script(&script, Network::Regtest).unwrap();
    (addr.to_string(), script)
}

/// Parses regtest addresses with the bitcoin crate.
pub fn address_parser() -> AddressParser {
    Arc::new(|a: &str| {
        let parsed = Address::<NetworkUnchecked>::from_str(a).map_err(|e| e.to_string())?;
        let checked = parsed
            .require_network(Network::Regtest)
            .map_err(|e| e.to_string())?;
        Ok(checked.script_pubkey())
    })
}

/// One generation of work: every payout gets a coinbase paying it, cut around the extranonce.
pub struct TestSource {
    pub generation: u64,
    pub clean: bool,
    pub time: u32,
    pub share_target: Target,
    pub bitcoin_target: Target,
    pub branch_len: usize,
    cache: Mutex<HashMap<ScriptBuf, Arc<Work>>>,
    pub calls: Mutex<u64>,
}

impl TestSource {
    pub fn new(
        generation: u64,
        clean: bool,
        share_target: Target,
        bitcoin_target: Target,
    ) -> TestSource {
        TestSource {
            generation,
            clean,
            time: TIME,
            share_target,
            bitcoin_target,
            branch_len: 3,
            cache: Mutex::new(HashMap::new()),
            calls: Mutex::new(0),
        }
    }

    /// Every device share at difficulty ≥ `d` is a solution; none is a Bitcoin block.
    pub fn at(generation: u64, clean: bool, d: f64) -> Arc<dyn WorkSource> {
        Arc::new(TestSource::new(
            generation,
            clean,
            difficulty_to_target(d),
            Target::ZERO,
        ))
    }

    pub fn build(&self, payout: &ScriptBuf) -> Work {
        let sig = Builder::new()
            .push_int(700_000 + self.generation as i64)
            .push_slice(PushBytesBuf::from(MARKER))
            .push_slice(b"/p2share-test/")
            .into_script();
        let tx = Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::null(),
                script_sig: sig,
                sequence: Sequence::MAX,
                witness: Witness::new(),
            }],
            output: vec![
                TxOut {
                    value: Amount::from_sat(312_500_000),
                    script_pubkey: payout.clone(),
                },
                TxOut {
                    value: Amount::ZERO,
                    script_pubkey: ScriptBuf::from_bytes(
                        [&[0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed][..], &[0x5a; 32]].concat(),
                    ),
                },
            ],
        };
        let bytes = serialize(&tx);
        let at = bytes.windows(8).position(|w| w == MARKER).unwrap();
        Work {
            prev_hash: BlockHash::hash(&self.generation.to_le_bytes()),
            coinb1: bytes[..at].to_vec(),
            coinb2: bytes[at + 8..].to_vec(),
            merkle_branch: (0..self.branch_len)
                .map(|i| TxMerkleNode::hash(&[i as u8, self.generation as u8]))
                .collect(),
            version: 0x2000_0000,
            version_mask: 0x1fff_e000,
            bits: 0x207f_ffff,
            time: self.time,
            share_target: self.share_target,
            bitcoin_target: self.bitcoin_target,
            payload: Arc::new(self.generation),
        }
    }
}

impl WorkSource for TestSource {
    fn work_for(&self, payout: &ScriptBuf) -> Result<Arc<Work>, String> {
        *self.calls.lock().unwrap() += 1;
        let mut cache = self.cache.lock().unwrap();
        Ok(cache
            .entry(payout.clone())
            .or_insert_with(|| Arc::new(self.build(payout)))
            .clone())
    }
    fn clean(&self) -> bool {
        self.clean
    }
}

/// Keeps every solution.
#[derive(Default)]
pub struct Collector {
    pub solutions: Mutex<Vec<Solution>>,
}

impl SolutionHandler for Collector {
    fn solution(&self, s: Solution) {
        self.solutions.lock().unwrap().push(s);
    }
}

impl Collector {
    pub fn count(&self) -> usize {
        self.solutions.lock().unwrap().len()
    }
}

/// Settings for tests: loopback, a free port, difficulties from 1e-6 (about 4,300 hashes a
/// share) to 4e-6.
pub fn test_config() -> StratumConfig {
    StratumConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        start_difficulty: 1e-6,
        min_difficulty: 1e-6,
        max_difficulty: 4e-6,
        ..StratumConfig::default()
    }
}

pub struct Harness {
    pub server: StratumServer,
    pub work: watch::Sender<Option<Arc<dyn WorkSource>>>,
    pub handler: Arc<Collector>,
    pub addr: SocketAddr,
}

/// A server with work at difficulty 1e-6 shares (every accepted device share is a solution).
pub fn start(config: StratumConfig) -> Harness {
    let (work, rx) = watch::channel(Some(TestSource::at(1, true, 1e-6)));
    let handler = Arc::new(Collector::default());
    let server = StratumServer::start(config, rx, handler.clone(), address_parser()).unwrap();
    let addr = server.local_addr();
    Harness {
        server,
        work,
        handler,
        addr,
    }
}

/// A job as a device keeps it from `mining.notify`.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub prevhash: String,
    pub coinb1: Vec<u8>,
    pub coinb2: Vec<u8>,
    pub branch: Vec<[u8; 32]>,
    pub version: u32,
    pub bits: u32,
    pub time: u32,
    pub clean: bool,
    /// The difficulty in effect when the notify came (devices apply set_difficulty at the
    /// next notify).
    pub difficulty: f64,
}

/// A share found by the client.
#[derive(Debug, Clone)]
pub struct Found {
    pub job_id: String,
    pub en2: Vec<u8>,
    pub ntime: u32,
    pub nonce: u32,
    pub version_bits: u32,
    pub difficulty: f64,
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The difficulty of a header hash, computed the long way: 0xFFFF·2^208 / hash (LE number).
pub fn difficulty_of(hash: &[u8; 32]) -> f64 {
    let mut v = 0.0f64;
    for b in hash.iter().rev() {
        v = v * 256.0 + f64::from(*b);
    }
    65535.0 * 2f64.powi(208) / v
}

impl Job {
    pub fn from_notify(params: &Value, difficulty: f64) -> Job {
        let s = |i: usize| params[i].as_str().unwrap().to_owned();
        let u = |i: usize| u32::from_str_radix(params[i].as_str().unwrap(), 16).unwrap();
        Job {
            id: s(0),
            prevhash: s(1),
            coinb1: unhex(&s(2)),
            coinb2: unhex(&s(3)),
            branch: params[4]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| unhex(b.as_str().unwrap()).try_into().unwrap())
                .collect(),
            version: u(5),
            bits: u(6),
            time: u(7),
            clean: params[8].as_bool().unwrap(),
            difficulty,
        }
    }

    /// The 80-byte header as a device builds it.
    pub fn header(&self, en1: &[u8], en2: &[u8], ntime: u32, nonce: u32, version: u32) -> [u8; 80] {
        let coinbase = [&self.coinb1[..], en1, en2, &self.coinb2[..]].concat();
        let mut root = sha256d::Hash::hash(&coinbase).to_byte_array();
        for b in &self.branch {
            root = sha256d::Hash::hash(&[&root[..], &b[..]].concat()).to_byte_array();
        }
        // The notify prevhash is 8 words with bytes swapped inside each word.
        let p = unhex(&self.prevhash);
        let mut prev = [0u8; 32];
        for w in 0..8 {
            for k in 0..4 {
                prev[w * 4 + k] = p[w * 4 + 3 - k];
            }
        }
        let mut h = [0u8; 80];
        h[0..4].copy_from_slice(&version.to_le_bytes());
        h[4..36].copy_from_slice(&prev);
        h[36..68].copy_from_slice(&root);
        h[68..72].copy_from_slice(&ntime.to_le_bytes());
        h[72..76].copy_from_slice(&self.bits.to_le_bytes());
        h[76..80].copy_from_slice(&nonce.to_le_bytes());
        h
    }

    /// Grinds nonces from `start` until a header meets `difficulty` (with a margin so float
    /// rounding cannot disagree), or (`want_low`) until one does NOT meet it.
    pub fn grind(
        &self,
        en1: &[u8],
        en2: &[u8],
        version_bits: u32,
        start: u32,
        want_low: bool,
    ) -> Found {
        let version = self.version | version_bits;
        let ntime = self.time;
        let mut h = self.header(en1, en2, ntime, 0, version);
        let mut nonce = start;
        loop {
            h[76..80].copy_from_slice(&nonce.to_le_bytes());
            let hash = sha256d::Hash::hash(&h).to_byte_array();
            let d = difficulty_of(&hash);
            let ok = if want_low {
                d < self.difficulty * 0.99
            } else {
                d >= self.difficulty * 1.0001
            };
            if ok {
                return Found {
                    job_id: self.id.clone(),
                    en2: en2.to_vec(),
                    ntime,
                    nonce,
                    version_bits,
                    difficulty: d,
                };
            }
            nonce = nonce.wrapping_add(1);
            assert_ne!(nonce, start, "no share in 2^32 nonces");
        }
    }
}

/// A device-side client.
pub struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    pub en1: Vec<u8>,
    pub en2_size: usize,
    pub difficulty: f64,
    pub jobs: Vec<Job>,
    /// Every line received, parsed.
    pub log: Vec<Value>,
    en2_counter: u32,
}

pub const READ_TIMEOUT: Duration = Duration::from_secs(20);

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (r, w) = stream.into_split();
        Client {
            reader: BufReader::new(r),
            writer: w,
            en1: Vec::new(),
            en2_size: 4,
            difficulty: 1.0,
            jobs: Vec::new(),
            log: Vec::new(),
            en2_counter: 0,
        }
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
    }

    pub async fn send(&mut self, v: Value) {
        let mut l = v.to_string();
        l.push('\n');
        self.send_raw(l.as_bytes()).await;
    }

    /// The next raw line; `None` at EOF (or a reset); panics after the timeout.
    pub async fn raw_line(&mut self) -> Option<String> {
        let mut l = String::new();
        match tokio::time::timeout(READ_TIMEOUT, self.reader.read_line(&mut l)).await {
            Err(_) => panic!("no line within {READ_TIMEOUT:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => None,
            Ok(Ok(_)) => Some(l),
        }
    }

    /// The next line, parsed and absorbed (set_difficulty, notify).
    pub async fn line(&mut self) -> Value {
        let l = self
            .raw_line()
            .await
            .expect("connection closed while waiting for a line");
        assert!(l.ends_with('\n'));
        let v: Value = serde_json::from_str(&l).unwrap();
        self.absorb(&v);
        self.log.push(v.clone());
        v
    }

    fn absorb(&mut self, v: &Value) {
        match v["method"].as_str() {
            Some("mining.set_difficulty") => self.difficulty = v["params"][0].as_f64().unwrap(),
            Some("mining.notify") => {
                let job = Job::from_notify(&v["params"], self.difficulty);
                if job.clean {
                    self.jobs.clear();
                }
                if let Some(last) = self.jobs.last() {
                    let a = u64::from_str_radix(&last.id, 16).unwrap();
                    let b = u64::from_str_radix(&job.id, 16).unwrap();
                    assert!(b > a, "job ids must increase: {} then {}", last.id, job.id);
                }
                self.jobs.push(job);
            }
            _ => {}
        }
    }

    /// Reads (absorbing notifications) until the reply to `id`.
    pub async fn reply(&mut self, id: Value) -> Value {
        loop {
            let v = self.line().await;
            if v.get("method").is_none() {
                assert_eq!(v["id"], id, "a reply to another id: {v}");
                return v;
            }
        }
    }

    /// Reads until EOF, returning the lines; panics if the connection stays open.
    pub async fn until_closed(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        while let Some(l) = self.raw_line().await {
            lines.push(l);
        }
        lines
    }

    pub fn take_subscribe(&mut self, reply: &Value) {
        let r = &reply["result"];
        assert_eq!(r[0][1][0], "mining.notify", "{reply}");
        self.en1 = unhex(r[1].as_str().unwrap());
        assert_eq!(self.en1.len(), 4);
        self.en2_size = r[2].as_u64().unwrap() as usize;
    }

    pub fn job(&self) -> &Job {
        self.jobs.last().expect("no job yet")
    }

    pub fn next_en2(&mut self) -> Vec<u8> {
        self.en2_counter += 1;
        let mut e = self.en2_counter.to_le_bytes().to_vec();
        e.resize(self.en2_size, 0);
        e
    }

    /// Mines one share on the newest job.
    pub fn mine(&mut self, version_bits: u32) -> Found {
        let en2 = self.next_en2();
        self.job().grind(&self.en1, &en2, version_bits, 0, false)
    }

    /// The submit params for a found share: 5 (no rolling) or 6; the nonce unpadded or not.
    pub fn submit_msg(id: Value, worker: &str, f: &Found, six: bool, pad_nonce: bool) -> Value {
        let nonce = if pad_nonce {
            format!("{:08x}", f.nonce)
        } else {
            format!("{:x}", f.nonce)
        };
        let mut p = vec![
            json!(worker),
            json!(f.job_id),
            json!(hexs(&f.en2)),
            json!(format!("{:08x}", f.ntime)),
            json!(nonce),
        ];
        if six {
            p.push(json!(format!("{:08x}", f.version_bits)));
        }
        json!({"id": id, "method": "mining.submit", "params": p})
    }

    /// subscribe + authorize one at a time (cgminer style) and wait for the first notify.
    pub async fn handshake(&mut self, worker: &str) {
        self.send(json!({"id": 1, "method": "mining.subscribe", "params": ["test-miner/1.0"]}))
            .await;
        let r = self.reply(json!(1)).await;
        self.take_subscribe(&r);
        self.send(json!({"id": 2, "method": "mining.authorize", "params": [worker, "x"]}))
            .await;
        let r = self.reply(json!(2)).await;
        assert_eq!(r["result"], true, "{r}");
        while self.jobs.is_empty() {
            self.line().await;
        }
    }

    /// Mines and submits `n` shares (5 params, padded nonce), asserting each is accepted.
    pub async fn mine_accepted(&mut self, worker: &str, n: usize, first_id: u64) {
        while self.jobs.is_empty() {
            self.line().await;
        }
        for i in 0..n {
            let f = self.mine(0);
            let id = json!(first_id + i as u64);
            self.send(Client::submit_msg(id.clone(), worker, &f, false, true))
                .await;
            let r = self.reply(id).await;
            assert_eq!(r["result"], true, "share {i} not accepted: {r}");
        }
    }
}
