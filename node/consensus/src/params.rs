//! Chain parameters: every network is data.
//!
//! Four networks are built in (`main`, `testnet4`, `signet`, `regtest`); any other is loaded from
//! a TOML file ([`ChainParams::from_toml`]). Everything validation reads comes from here or from
//! the chain itself — no node-local setting feeds consensus.

use std::path::Path;

use bitcoin::ScriptBuf;
use serde::Deserialize;

use crate::amount::ShareAmount;
use crate::pow::{decode_compact, encode_compact, AsertParams};

/// The Bitcoin network a sharechain mines on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MainchainNetwork {
    /// Bitcoin mainnet.
    Bitcoin,
    /// Bitcoin testnet4.
    Testnet4,
    /// Bitcoin's default signet.
    Signet,
    /// A Bitcoin regtest chain (the embedded devnet mainchain).
    Regtest,
}

/// One output of the genesis allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisOutput {
    /// Script that controls the shares.
    pub script_pubkey: ScriptBuf,
    /// Amount allocated.
    pub value: ShareAmount,
}

/// The consensus parameters of one sharechain network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainParams {
    /// Network name (`main`, `testnet4`, `signet`, `regtest`, or a custom name).
    pub name: String,
    /// Four magic bytes: in the share commitment and in P2P framing.
    pub magic: [u8; 4],
    /// The Bitcoin network this sharechain mines on.
    pub mainchain: MainchainNetwork,
    /// Genesis share time (Unix seconds); also the ASERT anchor time.
    pub genesis_time: u32,
    /// Compact encoding of the easiest share target allowed.
    pub pow_limit_bits: u32,
    /// Compact target carried by genesis and used as the ASERT anchor: the difficulty the chain
    /// starts at. At most as easy as the pow limit; a harder value spares a new network the
    /// ramp-up during which early shares are cheap.
    pub genesis_bits: u32,
    /// Target seconds between shares.
    pub target_spacing: u32,
    /// ASERT half-life in seconds.
    pub asert_half_life: u32,
    /// Sharebase subsidy at height 1, before halvings.
    pub initial_subsidy: ShareAmount,
    /// Shares between subsidy halvings.
    pub halving_interval: u32,
    /// Confirmations before sharebase outputs may be spent and become eligible for payouts.
    pub maturity: u32,
    /// How far past the validating node's clock a share time may be, in seconds.
    pub max_future_time: u32,
    /// Maximum total weight of a share's transactions.
    pub max_share_weight: u64,
    /// Maximum total sigop cost of a share's transactions.
    pub max_share_sigops_cost: u64,
    /// Outputs of the genesis sharebase; mature from the start.
    pub genesis_allocation: Vec<GenesisOutput>,
}

/// Why chain parameters were rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParamsError {
    /// No built-in network has this name.
    #[error("unknown network {0:?}: expected main, testnet4, signet, regtest, or a path to a network TOML file")]
    UnknownNetwork(String),
    /// The file could not be read.
    #[error("cannot read network file {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown or missing fields.
    #[error("invalid network file {path}: {message}")]
    Toml {
        /// The path (or `<string>`).
        path: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A field has an invalid value.
    #[error("invalid network parameter `{field}`: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamsFile {
    name: String,
    magic: String,
    mainchain: MainchainNetwork,
    genesis_time: u32,
    pow_limit_bits: String,
    #[serde(default)]
    genesis_bits: Option<String>,
    target_spacing: u32,
    asert_half_life: u32,
    #[serde(default = "default_subsidy")]
    initial_subsidy: u64,
    #[serde(default = "default_halving")]
    halving_interval: u32,
    #[serde(default = "default_maturity")]
    maturity: u32,
    #[serde(default = "default_future")]
    max_future_time: u32,
    #[serde(default = "default_weight")]
    max_share_weight: u64,
    #[serde(default = "default_sigops")]
    max_share_sigops_cost: u64,
    #[serde(default)]
    genesis_allocation: Vec<AllocationFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllocationFile {
    script_pubkey: String,
    value: u64,
}

fn default_subsidy() -> u64 {
    50 * ShareAmount::UNITS_PER_SHARE
}
fn default_halving() -> u32 {
    210_000
}
fn default_maturity() -> u32 {
    100
}
fn default_future() -> u32 {
    7_200
}
fn default_weight() -> u64 {
    4_000_000
}
fn default_sigops() -> u64 {
    80_000
}

/// The largest share weight a network may allow (the decoder's size bound, in weight units).
pub const MAX_SHARE_WEIGHT_LIMIT: u64 = 4_000_000;

impl ChainParams {
    /// Defaults shared by the built-in networks; each overrides what differs.
    fn builtin(name: &str, magic: [u8; 4], mainchain: MainchainNetwork) -> ChainParams {
        ChainParams {
            name: name.to_string(),
            magic,
            mainchain,
            genesis_time: 1_767_225_600,
            pow_limit_bits: 0x1d00_ffff,
            genesis_bits: 0x1d00_ffff,
            target_spacing: 30,
            asert_half_life: 3_600,
            initial_subsidy: ShareAmount::from_units(default_subsidy()).unwrap_or_default(),
            halving_interval: default_halving(),
            maturity: default_maturity(),
            max_future_time: 600,
            max_share_weight: default_weight(),
            max_share_sigops_cost: default_sigops(),
            genesis_allocation: Vec::new(),
        }
    }

    /// `main`: mines on Bitcoin mainnet, one share per 600 s as in the design thread, ASERT
    /// half-life two days.
    pub fn main() -> ChainParams {
        ChainParams {
            target_spacing: 600,
            asert_half_life: 172_800,
            max_future_time: 7_200,
            ..Self::builtin("main", *b"p2sm", MainchainNetwork::Bitcoin)
        }
    }

    /// `testnet4`: mines on Bitcoin testnet4, one share per 30 s, half-life one hour.
    pub fn testnet4() -> ChainParams {
        Self::builtin("testnet4", *b"p2s4", MainchainNetwork::Testnet4)
    }

    /// `signet`: mines on Bitcoin's default signet, one share per 30 s, half-life one hour.
    pub fn signet() -> ChainParams {
        ChainParams {
            pow_limit_bits: 0x1e03_77ae,
            genesis_bits: 0x1e03_77ae,
            ..Self::builtin("signet", *b"p2ss", MainchainNetwork::Signet)
        }
    }

    /// `regtest`: the embedded devnet — a Bitcoin regtest mainchain, one share per 2 s, a
    /// regtest-easy pow limit so CPUs mine it and tests find shares in a few hashes.
    pub fn regtest() -> ChainParams {
        ChainParams {
            pow_limit_bits: 0x207f_ffff,
            genesis_bits: 0x207f_ffff,
            target_spacing: 2,
            asert_half_life: 120,
            max_future_time: 120,
            ..Self::builtin("regtest", *b"p2sr", MainchainNetwork::Regtest)
        }
    }

    /// A devnet: the `regtest` rules (Bitcoin regtest mainchain, regtest pow limit) on a chain
    /// of its own whose genesis is made when the devnet is first started, so that ASERT — anchored
    /// at genesis — starts on schedule instead of months behind it (where the built-in `regtest`,
    /// born 2026-01-01, sits at the pow limit). `genesis_bits` is fitted to the founder's hashers.
    /// One share a second, half-life one minute, maturity 20, so payouts start within a minute.
    /// The name, `devnet-<genesis_time>`, keeps different devnets apart on the wire.
    pub fn devnet(genesis_time: u32, genesis_bits: u32) -> ChainParams {
        ChainParams {
            name: format!("devnet-{genesis_time}"),
            genesis_time,
            genesis_bits,
            target_spacing: 1,
            asert_half_life: 60,
            maturity: 20,
            ..Self::builtin("devnet", *b"p2sd", MainchainNetwork::Regtest)
        }
        .with_regtest_limits()
    }

    fn with_regtest_limits(mut self) -> ChainParams {
        let regtest = Self::regtest();
        self.pow_limit_bits = regtest.pow_limit_bits;
        self.max_future_time = regtest.max_future_time;
        self
    }

    /// The network as a network file ([`ChainParams::from_toml`] reads it back unchanged).
    pub fn to_toml(&self) -> String {
        use bitcoin::hex::DisplayHex;
        use std::fmt::Write as _;
        let mainchain = match self.mainchain {
            MainchainNetwork::Bitcoin => "bitcoin",
            MainchainNetwork::Testnet4 => "testnet4",
            MainchainNetwork::Signet => "signet",
            MainchainNetwork::Regtest => "regtest",
        };
        let mut out = format!(
            "name = \"{}\"\nmagic = \"{}\"\nmainchain = \"{mainchain}\"\ngenesis_time = {}\n\
             pow_limit_bits = \"0x{:08x}\"\ngenesis_bits = \"0x{:08x}\"\ntarget_spacing = {}\n\
             asert_half_life = {}\ninitial_subsidy = {}\nhalving_interval = {}\nmaturity = {}\n\
             max_future_time = {}\nmax_share_weight = {}\nmax_share_sigops_cost = {}\n",
            self.name,
            self.magic.to_lower_hex_string(),
            self.genesis_time,
            self.pow_limit_bits,
            self.genesis_bits,
            self.target_spacing,
            self.asert_half_life,
            self.initial_subsidy.to_units(),
            self.halving_interval,
            self.maturity,
            self.max_future_time,
            self.max_share_weight,
            self.max_share_sigops_cost,
        );
        out.push_str("genesis_allocation = [");
        for (i, o) in self.genesis_allocation.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(
                out,
                "{sep}\n  {{ script_pubkey = \"{}\", value = {} }}",
                o.script_pubkey.as_bytes().to_lower_hex_string(),
                o.value.to_units()
            );
        }
        out.push_str(if self.genesis_allocation.is_empty() {
            "]\n"
        } else {
            "\n]\n"
        });
        out
    }

    /// A built-in network by name.
    ///
    /// # Errors
    /// [`ParamsError::UnknownNetwork`] for any other name.
    pub fn by_name(name: &str) -> Result<ChainParams, ParamsError> {
        match name {
            "main" | "mainnet" | "bitcoin" => Ok(Self::main()),
            "testnet4" => Ok(Self::testnet4()),
            "signet" => Ok(Self::signet()),
            "regtest" => Ok(Self::regtest()),
            other => Err(ParamsError::UnknownNetwork(other.to_string())),
        }
    }

    /// A built-in network by name, or a custom network from a TOML file if `name_or_path`
    /// ends in `.toml` or names an existing file.
    ///
    /// # Errors
    /// [`ParamsError`] for an unknown name, an unreadable file, or an invalid file.
    pub fn resolve(name_or_path: &str) -> Result<ChainParams, ParamsError> {
        let path = Path::new(name_or_path);
        if name_or_path.ends_with(".toml") || path.is_file() {
            let text = std::fs::read_to_string(path).map_err(|source| ParamsError::Io {
                path: name_or_path.to_string(),
                source,
            })?;
            Self::from_toml_named(&text, name_or_path)
        } else {
            Self::by_name(name_or_path)
        }
    }

    /// Parses and validates a custom network from TOML text.
    ///
    /// # Errors
    /// [`ParamsError::Toml`] for syntax errors, unknown or missing fields;
    /// [`ParamsError::Invalid`] for out-of-range values.
    pub fn from_toml(text: &str) -> Result<ChainParams, ParamsError> {
        Self::from_toml_named(text, "<string>")
    }

    fn from_toml_named(text: &str, path: &str) -> Result<ChainParams, ParamsError> {
        let file: ParamsFile = toml::from_str(text).map_err(|e| ParamsError::Toml {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        let invalid = |field: &'static str, reason: String| ParamsError::Invalid { field, reason };
        let magic_text = file.magic.strip_prefix("0x").unwrap_or(&file.magic);
        let magic_bytes = hex_decode(magic_text).map_err(|r| invalid("magic", r))?;
        let magic: [u8; 4] = magic_bytes
            .try_into()
            .map_err(|_| invalid("magic", "must be exactly 4 bytes (8 hex digits)".into()))?;
        let pow_limit_bits = parse_bits("pow_limit_bits", &file.pow_limit_bits)?;
        let genesis_bits = match &file.genesis_bits {
            Some(text) => parse_bits("genesis_bits", text)?,
            None => pow_limit_bits,
        };
        let initial_subsidy = ShareAmount::from_units(file.initial_subsidy)
            .map_err(|e| invalid("initial_subsidy", e.to_string()))?;
        let mut genesis_allocation = Vec::with_capacity(file.genesis_allocation.len());
        for (i, out) in file.genesis_allocation.iter().enumerate() {
            let script = hex_decode(&out.script_pubkey).map_err(|r| {
                invalid(
                    "genesis_allocation",
                    format!("entry {i}: script_pubkey: {r}"),
                )
            })?;
            let value = ShareAmount::from_units(out.value)
                .map_err(|e| invalid("genesis_allocation", format!("entry {i}: {e}")))?;
            genesis_allocation.push(GenesisOutput {
                script_pubkey: ScriptBuf::from_bytes(script),
                value,
            });
        }
        let params = ChainParams {
            name: file.name,
            magic,
            mainchain: file.mainchain,
            genesis_time: file.genesis_time,
            pow_limit_bits,
            genesis_bits,
            target_spacing: file.target_spacing,
            asert_half_life: file.asert_half_life,
            initial_subsidy,
            halving_interval: file.halving_interval,
            maturity: file.maturity,
            max_future_time: file.max_future_time,
            max_share_weight: file.max_share_weight,
            max_share_sigops_cost: file.max_share_sigops_cost,
            genesis_allocation,
        };
        params.validate()?;
        Ok(params)
    }

    /// Checks that the parameters are internally consistent.
    ///
    /// # Errors
    /// [`ParamsError::Invalid`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ParamsError> {
        let invalid = |field: &'static str, reason: &str| {
            Err(ParamsError::Invalid {
                field,
                reason: reason.to_string(),
            })
        };
        if self.name.is_empty()
            || self.name.len() > 32
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return invalid("name", "must be 1–32 characters of [A-Za-z0-9_-]");
        }
        match decode_compact(self.pow_limit_bits) {
            Err(e) => {
                return Err(ParamsError::Invalid {
                    field: "pow_limit_bits",
                    reason: e.to_string(),
                })
            }
            // Share 1 carries ASERT's canonical encoding; genesis must carry the same form.
            Ok(t) if encode_compact(t) != self.pow_limit_bits => {
                return invalid(
                    "pow_limit_bits",
                    "not the canonical compact encoding of its target",
                );
            }
            Ok(_) => {}
        }
        let limit = decode_compact(self.pow_limit_bits).ok();
        match decode_compact(self.genesis_bits) {
            Err(e) => {
                return Err(ParamsError::Invalid {
                    field: "genesis_bits",
                    reason: e.to_string(),
                })
            }
            Ok(t) if encode_compact(t) != self.genesis_bits => {
                return invalid(
                    "genesis_bits",
                    "not the canonical compact encoding of its target",
                );
            }
            Ok(t) if limit.is_some_and(|l| t > l) => {
                return invalid("genesis_bits", "easier than the pow limit");
            }
            Ok(_) => {}
        }
        // Bitcoin's witness commitment is `OP_RETURN PUSH36 aa21a9ed …`: with this magic it would
        // read as a second share commitment and no segwit Bitcoin block could carry a share.
        if self.magic == [0xaa, 0x21, 0xa9, 0xed] {
            return invalid("magic", "aa21a9ed is Bitcoin's witness commitment header");
        }
        if self.target_spacing == 0 {
            return invalid("target_spacing", "must be at least 1 second");
        }
        if self.asert_half_life == 0 {
            return invalid("asert_half_life", "must be at least 1 second");
        }
        if self.halving_interval == 0 {
            return invalid("halving_interval", "must be at least 1");
        }
        if self.maturity == 0 {
            return invalid("maturity", "must be at least 1");
        }
        if self.max_share_weight < 4_000 || self.max_share_weight > MAX_SHARE_WEIGHT_LIMIT {
            return invalid("max_share_weight", "must be between 4000 and 4000000");
        }
        if self.max_share_sigops_cost == 0 {
            return invalid("max_share_sigops_cost", "must be at least 1");
        }
        if self.genesis_allocation.len() > 10_000 {
            return invalid("genesis_allocation", "at most 10000 outputs");
        }
        if self
            .genesis_allocation
            .iter()
            .any(|o| o.script_pubkey.len() > 10_000)
        {
            return invalid(
                "genesis_allocation",
                "a script_pubkey is longer than 10000 bytes",
            );
        }
        if self.max_supply().is_none() {
            return invalid(
                "initial_subsidy",
                "genesis allocation plus all subsidies would exceed 1e17 units",
            );
        }
        Ok(())
    }

    /// The total supply the parameters can ever create (allocation plus every subsidy), or `None`
    /// if it exceeds [`ShareAmount::MAX`].
    pub fn max_supply(&self) -> Option<ShareAmount> {
        let mut total = ShareAmount::ZERO;
        for out in &self.genesis_allocation {
            total = total.checked_add(out.value)?;
        }
        let mut subsidy = self.initial_subsidy.to_units();
        while subsidy > 0 {
            let era = subsidy.checked_mul(u64::from(self.halving_interval))?;
            total = total.checked_add(ShareAmount::from_units(era).ok()?)?;
            subsidy >>= 1;
        }
        Some(total)
    }

    /// The sharebase subsidy at `height` (zero at genesis, which carries the allocation instead).
    pub fn subsidy(&self, height: u32) -> ShareAmount {
        if height == 0 {
            return ShareAmount::ZERO;
        }
        let halvings = (height - 1) / self.halving_interval;
        if halvings >= 64 {
            return ShareAmount::ZERO;
        }
        ShareAmount::from_units(self.initial_subsidy.to_units() >> halvings).unwrap_or_default()
    }

    /// The ASERT parameters of this network.
    ///
    /// # Errors
    /// [`ParamsError::Invalid`] if the pow limit does not decode (already excluded by
    /// [`ChainParams::validate`]).
    pub fn asert(&self) -> Result<AsertParams, ParamsError> {
        let limit = decode_compact(self.pow_limit_bits).map_err(|e| ParamsError::Invalid {
            field: "pow_limit_bits",
            reason: e.to_string(),
        })?;
        let anchor = decode_compact(self.genesis_bits).map_err(|e| ParamsError::Invalid {
            field: "genesis_bits",
            reason: e.to_string(),
        })?;
        Ok(AsertParams {
            anchor_target: anchor,
            pow_limit: limit,
            anchor_time: i64::from(self.genesis_time),
            target_spacing: i64::from(self.target_spacing),
            half_life: i64::from(self.asert_half_life),
        })
    }
}

/// Parses a compact target written as 1–8 hex digits with an optional `0x`.
fn parse_bits(field: &'static str, text: &str) -> Result<u32, ParamsError> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ParamsError::Invalid {
            field,
            reason: format!("{text:?} is not 1–8 hex digits"),
        });
    }
    u32::from_str_radix(digits, 16).map_err(|e| ParamsError::Invalid {
        field,
        reason: format!("not a hex u32: {e}"),
    })
}

/// Decodes lower- or upper-case hex (through `hex-conservative`, as re-exported by `bitcoin`).
///
/// # Errors
/// A message naming the first bad character or an odd length.
pub fn hex_decode(s: &str) -> Result<Vec<u8>, String> {
    use bitcoin::hex::FromHex;
    Vec::<u8>::from_hex(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "mynet"
magic = "7032730a"
mainchain = "regtest"
genesis_time = 1767225600
pow_limit_bits = "0x207fffff"
target_spacing = 5
asert_half_life = 300
maturity = 10
genesis_allocation = [ { script_pubkey = "0014000102030405060708090a0b0c0d0e0f10111213", value = 100000000 } ]
"#;

    #[test]
    fn network_files_round_trip() {
        let mut custom = ChainParams::from_toml(GOOD).unwrap();
        assert_eq!(ChainParams::from_toml(&custom.to_toml()).unwrap(), custom);
        custom.genesis_allocation.clear();
        assert_eq!(ChainParams::from_toml(&custom.to_toml()).unwrap(), custom);
        for p in [
            ChainParams::main(),
            ChainParams::signet(),
            ChainParams::devnet(1_780_000_000, 0x1e00_ffff),
        ] {
            p.validate().unwrap();
            assert_eq!(
                ChainParams::from_toml(&p.to_toml()).unwrap(),
                p,
                "{}",
                p.to_toml()
            );
        }
    }

    #[test]
    fn devnets_are_apart_by_genesis() {
        let a = ChainParams::devnet(1_780_000_000, 0x1e00_ffff);
        let b = ChainParams::devnet(1_780_000_001, 0x1e00_ffff);
        assert_ne!(a.name, b.name);
        assert_ne!(
            crate::builder::genesis_share(&a).hash(),
            crate::builder::genesis_share(&b).hash()
        );
        assert_eq!(a.pow_limit_bits, ChainParams::regtest().pow_limit_bits);
    }

    #[test]
    fn builtins_validate() {
        for p in [
            ChainParams::main(),
            ChainParams::testnet4(),
            ChainParams::signet(),
            ChainParams::regtest(),
        ] {
            p.validate()
                .map_err(|e| format!("{}: {e}", p.name))
                .unwrap();
            assert_eq!(ChainParams::by_name(&p.name).unwrap(), p);
        }
    }

    #[test]
    fn custom_network_loads() {
        let p = ChainParams::from_toml(GOOD).unwrap();
        assert_eq!(p.name, "mynet");
        assert_eq!(p.magic, [0x70, 0x32, 0x73, 0x0a]);
        assert_eq!(p.maturity, 10);
        assert_eq!(p.halving_interval, 210_000);
        assert_eq!(p.genesis_allocation.len(), 1);
        assert_eq!(p.genesis_allocation[0].value.to_units(), 100_000_000);
    }

    #[test]
    fn bad_files_are_rejected_with_the_field() {
        let cases = [
            (GOOD.replace("7032730a", "7032"), "magic"),
            (GOOD.replace("7032730a", "0x0x7032730a"), "magic"),
            (GOOD.replace("7032730a", "aa21a9ed"), "magic"),
            (GOOD.replace("0x207fffff", "+207fffff"), "pow_limit_bits"),
            (GOOD.replace("0x207fffff", "0x03000080"), "pow_limit_bits"),
            (
                GOOD.replace(
                    "target_spacing = 5",
                    "target_spacing = 5\ngenesis_bits = \"0x2100ffff\"",
                ),
                "genesis_bits",
            ),
            (
                GOOD.replace(
                    "target_spacing = 5",
                    "target_spacing = 5\ngenesis_bits = \"0x1d00fff\"",
                ),
                "genesis_bits",
            ),
            (GOOD.replace("7032730a", "zz32730a"), "magic"),
            (GOOD.replace("0x207fffff", "0x04923456"), "pow_limit_bits"),
            (
                GOOD.replace("target_spacing = 5", "target_spacing = 0"),
                "target_spacing",
            ),
            (GOOD.replace("maturity = 10", "maturity = 0"), "maturity"),
            (
                GOOD.replace("value = 100000000", "value = 100000000000000001"),
                "genesis_allocation",
            ),
            (
                GOOD.replace("name = \"mynet\"", "name = \"my net\""),
                "name",
            ),
        ];
        for (text, field) in cases {
            match ChainParams::from_toml(&text) {
                Err(ParamsError::Invalid { field: f, .. }) => assert_eq!(f, field, "{text}"),
                other => panic!("expected invalid {field}, got {other:?}"),
            }
        }
        // Unknown fields and syntax errors carry the parser's position.
        let err = ChainParams::from_toml(&format!("{GOOD}\nmaturty = 3\n")).unwrap_err();
        assert!(err.to_string().contains("maturty"), "{err}");
        let err = ChainParams::from_toml("name = ").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        // Supply overflow.
        let huge = GOOD.replace(
            "maturity = 10",
            "maturity = 10\ninitial_subsidy = 500000000000000",
        );
        assert!(matches!(
            ChainParams::from_toml(&huge),
            Err(ParamsError::Invalid {
                field: "initial_subsidy",
                ..
            })
        ));
    }

    #[test]
    fn subsidy_halves() {
        let p = ChainParams::main();
        assert_eq!(p.subsidy(0), ShareAmount::ZERO);
        assert_eq!(p.subsidy(1).to_units(), 5_000_000_000);
        assert_eq!(p.subsidy(210_000).to_units(), 5_000_000_000);
        assert_eq!(p.subsidy(210_001).to_units(), 2_500_000_000);
        assert_eq!(p.subsidy(u32::MAX), ShareAmount::ZERO);
        assert_eq!(p.max_supply().unwrap().to_units(), 2_099_999_997_690_000);
    }
}

#[cfg(test)]
mod example_file_tests {
    use super::*;

    /// The example shipped in `docs/examples` stays loadable.
    #[test]
    fn the_documented_example_loads() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/examples/custom-network.toml"
        );
        let p = ChainParams::resolve(path).unwrap();
        assert_eq!(p.name, "example-net");
        assert_eq!(p.genesis_allocation.len(), 1);
        assert!(ChainParams::resolve("/nonexistent/dir/net.toml")
            .unwrap_err()
            .to_string()
            .contains("cannot read network file"));
    }
}
