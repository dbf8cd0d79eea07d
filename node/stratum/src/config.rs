//! Server settings.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Settings of a [`crate::StratumServer`] (and of each [`crate::Session`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StratumConfig {
    /// Where to listen.
    pub bind: SocketAddr,
    /// Difficulty of a new connection until vardiff or a suggestion changes it.
    pub start_difficulty: f64,
    /// Lowest difficulty vardiff and suggestions may set (below 1 is fine).
    pub min_difficulty: f64,
    /// Highest difficulty vardiff and suggestions may set.
    pub max_difficulty: f64,
    /// Vardiff aims at one device share per this interval.
    pub share_interval: Duration,
    /// Longest line accepted; a longer one is answered with error 20, then the connection is
    /// closed.
    pub max_line_bytes: usize,
    /// A connection that sends no complete line for this long is closed.
    pub idle_timeout: Duration,
    /// A connection that has not subscribed and authorized within this long is closed.
    pub handshake_timeout: Duration,
    /// A write that does not finish in this long closes the connection.
    pub write_timeout: Duration,
    /// Most connections from one IP address; more are closed at once.
    pub max_per_ip: usize,
    /// Most connections in all; more are closed at once.
    pub max_connections: usize,
    /// Version bits devices may roll (BIP 310); the reply to `mining.configure` is this AND the
    /// device's mask.
    pub version_mask: u32,
    /// Bytes of extranonce2 each device rolls (extranonce1 is 4 bytes). NerdMiner takes only 2,
    /// 4 or 8; cgminer 2 to 16.
    pub extranonce2_size: usize,
}

impl Default for StratumConfig {
    /// Port 3333 on all interfaces; difficulty 1024 to start, clamps 1e-4 … 1e12; one share
    /// per 10 s; 8 KiB lines; idle timeout 10 min; handshake 60 s; 64 connections per IP,
    /// 10,000 in all; mask `1fffe000`; extranonce2 4 bytes.
    fn default() -> StratumConfig {
        StratumConfig {
            bind: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 3333)),
            start_difficulty: 1024.0,
            min_difficulty: 1e-4,
            max_difficulty: 1e12,
            share_interval: Duration::from_secs(10),
            max_line_bytes: 8 * 1024,
            idle_timeout: Duration::from_secs(600),
            handshake_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            max_per_ip: 64,
            max_connections: 10_000,
            version_mask: 0x1fff_e000,
            extranonce2_size: 4,
        }
    }
}

impl StratumConfig {
    /// For devnets and laptop tests: starts at difficulty 1e-4 (about 430,000 hashes a share,
    /// seconds for a Python/hashlib client at ~100 kH/s) and goes down to 1e-6.
    pub fn devnet() -> StratumConfig {
        StratumConfig {
            start_difficulty: 1e-4,
            min_difficulty: 1e-6,
            ..StratumConfig::default()
        }
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first setting out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.min_difficulty)
            || !positive(self.max_difficulty)
            || self.min_difficulty > self.max_difficulty
        {
            return Err(ConfigError::DifficultyClamps {
                min: self.min_difficulty,
                max: self.max_difficulty,
            });
        }
        if !(self.min_difficulty..=self.max_difficulty).contains(&self.start_difficulty) {
            return Err(ConfigError::StartDifficulty {
                start: self.start_difficulty,
                min: self.min_difficulty,
                max: self.max_difficulty,
            });
        }
        if !(1..=16).contains(&self.extranonce2_size) {
            return Err(ConfigError::Extranonce2Size(self.extranonce2_size));
        }
        if self.max_line_bytes < 256 {
            return Err(ConfigError::MaxLineBytes(self.max_line_bytes));
        }
        if self.share_interval.is_zero() {
            return Err(ConfigError::ShareInterval);
        }
        if self.max_per_ip == 0 || self.max_connections == 0 {
            return Err(ConfigError::ConnectionCaps);
        }
        Ok(())
    }
}

/// A setting out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The clamps are not positive numbers with min ≤ max.
    #[error(
        "stratum difficulty clamps must be positive with min <= max, not min {min}, max {max}"
    )]
    DifficultyClamps {
        /// The min given.
        min: f64,
        /// The max given.
        max: f64,
    },
    /// The start difficulty is outside the clamps.
    #[error("stratum start difficulty {start} is outside the clamps [{min}, {max}]")]
    StartDifficulty {
        /// The start difficulty given.
        start: f64,
        /// The min.
        min: f64,
        /// The max.
        max: f64,
    },
    /// extranonce2 size outside 1..=16.
    #[error("stratum extranonce2 size must be 1 to 16 bytes, not {0}")]
    Extranonce2Size(usize),
    /// Line cap below 256 bytes.
    #[error("stratum max line bytes must be at least 256, not {0}")]
    MaxLineBytes(usize),
    /// Zero share interval.
    #[error("stratum share interval must be more than zero")]
    ShareInterval,
    /// Zero connection caps.
    #[error("stratum connection caps (per IP and in all) must be at least 1")]
    ConnectionCaps,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_devnet_is_laptop_sized() {
        assert_eq!(StratumConfig::default().validate(), Ok(()));
        let d = StratumConfig::devnet();
        assert_eq!(d.validate(), Ok(()));
        assert!(d.min_difficulty <= 1e-4);
        // Expected hashes for one share at the start difficulty: under 10 s at 100 kH/s.
        assert!(d.start_difficulty * 4_294_967_296.0 < 1_000_000.0);
    }

    #[test]
    fn bad_settings_are_named() {
        let c = StratumConfig {
            start_difficulty: 0.5,
            min_difficulty: 1.0,
            ..StratumConfig::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("start difficulty 0.5"));
        let c = StratumConfig {
            extranonce2_size: 0,
            ..StratumConfig::default()
        };
        assert_eq!(c.validate(), Err(ConfigError::Extranonce2Size(0)));
    }
}
