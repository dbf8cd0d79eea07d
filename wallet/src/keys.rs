//! BIP-86 keys that serve both chains.
//!
//! Shares on the sharechain and BTC on the mainchain are locked by the same scripts, so one
//! address is good on both: a sharechain address is a Bitcoin address of the network's Bitcoin
//! chain (the devnet's is regtest: `bcrt1p…`). A payout to a share's script is therefore BTC the
//! same keys spend.
//!
//! Paths (coin type 0 on mainnet, 1 on every other network, as BIP-44 says):
//!
//! | path | what |
//! |---|---|
//! | `m/86'/coin'/0'/0/i` | receiving addresses (BIP-86, key-path only P2TR) |
//! | `m/86'/coin'/0'/1/i` | change addresses |
//! | `m/86'/coin'/1'/s'` | the key of swap `s` (HTLC signatures) and, through HMAC, its secret |
//!
//! Swap keys live under their own hardened account so that they are never handed out as
//! receiving addresses, never scanned for by a descriptor wallet (`/0/*`, `/1/*` never match a
//! hardened last step), and a leaked swap key (they sign HTLC spends with plain ECDSA) says
//! nothing about the account's xpub or its siblings. The swap secret is derived too, so a wallet
//! restored from its words can still claim or recognise every swap it started.

use core::fmt;

use bitcoin::bip32::{self, ChildNumber, DerivationPath, Fingerprint, Xpriv, Xpub};
use bitcoin::hashes::{hmac, sha256, Hash, HashEngine};
use bitcoin::key::{Keypair, TapTweak, TweakedKeypair};
use bitcoin::secp256k1::{All, Secp256k1};
use bitcoin::{Address, Network, Script, ScriptBuf};
use zeroize::Zeroizing;

use crate::seed::Mnemonic;

/// Which chain of addresses: receiving or change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Keychain {
    /// Receiving addresses, `…/0/i`.
    External,
    /// Change addresses, `…/1/i`.
    Internal,
}

impl Keychain {
    /// Both keychains, external first.
    pub const ALL: [Keychain; 2] = [Keychain::External, Keychain::Internal];

    /// The BIP-44 `change` level: 0 or 1.
    pub fn index(self) -> u32 {
        match self {
            Keychain::External => 0,
            Keychain::Internal => 1,
        }
    }
}

/// Why a key could not be derived.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// An address or swap index at or above 2³¹ (BIP-32's range for one level).
    #[error("index {index} is out of range (must be below 2^31)")]
    IndexOutOfRange {
        /// The index given.
        index: u32,
    },
    /// BIP-32 derivation failed (for one seed in 2¹²⁷).
    #[error("bip32 derivation of {path} failed")]
    Bip32 {
        /// The path being derived.
        path: String,
        /// The library's error.
        #[source]
        source: bip32::Error,
    },
}

/// The tag of swap-secret derivation (the HMAC message).
const SWAP_SECRET_TAG: &[u8] = b"p2share/swap-secret/v1";

/// A wallet's keys: the BIP-86 account of one network, its two keychains and its swap keys.
pub struct WalletKeys {
    secp: Secp256k1<All>,
    network: Network,
    fingerprint: Fingerprint,
    coin: u32,
    account: Xpriv,
    account_xpub: Xpub,
    chains: [Xpriv; 2],
    swap_root: Xpriv,
}

impl WalletKeys {
    /// The keys of `mnemonic` (with the empty BIP-39 passphrase) on `network`.
    ///
    /// # Errors
    /// [`KeyError::Bip32`] in the negligible case that a derived key is invalid.
    pub fn from_mnemonic(mnemonic: &Mnemonic, network: Network) -> Result<WalletKeys, KeyError> {
        let seed = mnemonic.to_seed("");
        let mut master =
            Xpriv::new_master(network, &seed[..]).map_err(|source| KeyError::Bip32 {
                path: "m".into(),
                source,
            })?;
        let secp = Secp256k1::new();
        let coin = if network == Network::Bitcoin { 0 } else { 1 };
        let derive = |from: &Xpriv, path: &[ChildNumber], name: String| {
            from.derive_priv(&secp, &path)
                .map_err(|source| KeyError::Bip32 { path: name, source })
        };
        let account = derive(
            &master,
            &[hardened(86)?, hardened(coin)?, hardened(0)?],
            format!("m/86'/{coin}'/0'"),
        )?;
        let swap_root = derive(
            &master,
            &[hardened(86)?, hardened(coin)?, hardened(1)?],
            format!("m/86'/{coin}'/1'"),
        )?;
        let fingerprint = master.fingerprint(&secp);
        master.private_key.non_secure_erase();
        let external = derive(&account, &[normal(0)?], format!("m/86'/{coin}'/0'/0"))?;
        let internal = derive(&account, &[normal(1)?], format!("m/86'/{coin}'/0'/1"))?;
        let account_xpub = Xpub::from_priv(&secp, &account);
        Ok(WalletKeys {
            secp,
            network,
            fingerprint,
            coin,
            account,
            account_xpub,
            chains: [external, internal],
            swap_root,
        })
    }

    /// The network the addresses are for.
    pub fn network(&self) -> Network {
        self.network
    }

    /// The master key's fingerprint (the descriptors' key origin).
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The account's extended public key, `m/86'/coin'/0'`.
    pub fn account_xpub(&self) -> Xpub {
        self.account_xpub
    }

    /// The watch-only descriptor of `keychain` with its BIP-380 checksum, e.g.
    /// `tr([73c5da0a/86'/1'/0']tpubDC…/0/*)#…`: the form `bdk_wallet` takes.
    pub fn descriptor(&self, keychain: Keychain) -> String {
        self.with_checksum(&self.account_xpub.to_string(), keychain)
    }

    /// The spending descriptor of `keychain` (`tr([…]tprv…/0/*)#…`), wiped on drop. It holds
    /// the account's private key: hand it only to the BTC wallet, never to logs or the UI.
    pub fn secret_descriptor(&self, keychain: Keychain) -> Zeroizing<String> {
        let xprv = Zeroizing::new(self.account.to_string());
        Zeroizing::new(self.with_checksum(&xprv, keychain))
    }

    fn with_checksum(&self, key: &str, keychain: Keychain) -> String {
        let body = Zeroizing::new(format!(
            "tr([{}/86'/{}'/0']{}/{}/*)",
            self.fingerprint,
            self.coin,
            key,
            keychain.index()
        ));
        // Every character of the body is in the checksum's character set.
        let checksum = descriptor_checksum(&body).unwrap_or_default();
        format!("{}#{checksum}", body.as_str())
    }

    fn child(&self, keychain: Keychain, index: u32) -> Result<Xpriv, KeyError> {
        let chain = match keychain {
            Keychain::External => &self.chains[0],
            Keychain::Internal => &self.chains[1],
        };
        chain
            .derive_priv(&self.secp, &[normal(index)?])
            .map_err(|source| KeyError::Bip32 {
                path: format!("m/86'/{}'/0'/{}/{index}", self.coin, keychain.index()),
                source,
            })
    }

    /// The P2TR script and address of `keychain`/`index` (BIP-86: the internal key tweaked with
    /// an empty script tree).
    ///
    /// # Errors
    /// [`KeyError::IndexOutOfRange`] for `index ≥ 2³¹`.
    pub fn address(
        &self,
        keychain: Keychain,
        index: u32,
    ) -> Result<(ScriptBuf, Address), KeyError> {
        let mut child = self.child(keychain, index)?;
        let (internal, _) = child.private_key.x_only_public_key(&self.secp);
        child.private_key.non_secure_erase();
        let address = Address::p2tr(&self.secp, internal, None, self.network);
        Ok((address.script_pubkey(), address))
    }

    /// The tweaked keypair that signs key-path spends of `keychain`/`index` (BIP-86: tweak with
    /// an empty merkle root).
    ///
    /// # Errors
    /// [`KeyError::IndexOutOfRange`] for `index ≥ 2³¹`.
    pub fn keypair(&self, keychain: Keychain, index: u32) -> Result<TweakedKeypair, KeyError> {
        let mut child = self.child(keychain, index)?;
        let keypair = Keypair::from_secret_key(&self.secp, &child.private_key);
        child.private_key.non_secure_erase();
        Ok(keypair.tap_tweak(&self.secp, None))
    }

    /// Which of our addresses `script` is, looking at indexes `0..lookahead` of both keychains.
    pub fn find_script(&self, script: &Script, lookahead: u32) -> Option<(Keychain, u32)> {
        if !script.is_p2tr() {
            return None;
        }
        for keychain in Keychain::ALL {
            for index in 0..lookahead.min(1 << 31) {
                if let Ok((candidate, _)) = self.address(keychain, index) {
                    if candidate.as_script() == script {
                        return Some((keychain, index));
                    }
                }
            }
        }
        None
    }

    fn swap_child(&self, swap_index: u32) -> Result<Xpriv, KeyError> {
        self.swap_root
            .derive_priv(&self.secp, &[hardened(swap_index)?])
            .map_err(|source| KeyError::Bip32 {
                path: format!("m/86'/{}'/1'/{swap_index}'", self.coin),
                source,
            })
    }

    /// The key of swap `swap_index`: `m/86'/coin'/1'/swap_index'`. It signs the swap's HTLC
    /// claim or refund; its public key goes into the HTLC.
    ///
    /// # Errors
    /// [`KeyError::IndexOutOfRange`] for `swap_index ≥ 2³¹`.
    pub fn swap_key(&self, swap_index: u32) -> Result<Keypair, KeyError> {
        let mut child = self.swap_child(swap_index)?;
        let keypair = Keypair::from_secret_key(&self.secp, &child.private_key);
        child.private_key.non_secure_erase();
        Ok(keypair)
    }

    /// The secret (HTLC preimage) of swap `swap_index`, when this wallet is the one that makes
    /// it: HMAC-SHA256(key = the private key of `m/86'/coin'/1'/swap_index'`, message =
    /// `"p2share/swap-secret/v1"`). Deterministic, so a restored wallet finds it again; the HMAC
    /// keeps it independent of the key's signatures.
    ///
    /// # Errors
    /// [`KeyError::IndexOutOfRange`] for `swap_index ≥ 2³¹`.
    pub fn swap_secret(&self, swap_index: u32) -> Result<Zeroizing<[u8; 32]>, KeyError> {
        let mut child = self.swap_child(swap_index)?;
        let mut key = Zeroizing::new(child.private_key.secret_bytes());
        child.private_key.non_secure_erase();
        let mut engine = hmac::HmacEngine::<sha256::Hash>::new(&key[..]);
        engine.input(SWAP_SECRET_TAG);
        let secret = Zeroizing::new(hmac::Hmac::from_engine(engine).to_byte_array());
        zeroize::Zeroize::zeroize(&mut *key);
        Ok(secret)
    }

    /// The payment hash of swap `swap_index`: SHA-256 of [`WalletKeys::swap_secret`].
    ///
    /// # Errors
    /// As [`WalletKeys::swap_secret`].
    pub fn swap_hash(&self, swap_index: u32) -> Result<[u8; 32], KeyError> {
        Ok(sha256::Hash::hash(&self.swap_secret(swap_index)?[..]).to_byte_array())
    }

    /// The derivation path of swap keys, for display: `m/86'/coin'/1'/swap_index'`.
    pub fn swap_path(&self, swap_index: u32) -> Result<DerivationPath, KeyError> {
        Ok(DerivationPath::from(vec![
            hardened(86)?,
            hardened(self.coin)?,
            hardened(1)?,
            hardened(swap_index)?,
        ]))
    }
}

impl Drop for WalletKeys {
    /// Best effort: overwrites the private keys this value holds. (Keys handed out by
    /// [`WalletKeys::keypair`] and [`WalletKeys::swap_key`] are the caller's to drop.)
    fn drop(&mut self) {
        self.account.private_key.non_secure_erase();
        self.swap_root.private_key.non_secure_erase();
        for chain in &mut self.chains {
            chain.private_key.non_secure_erase();
        }
    }
}

impl fmt::Debug for WalletKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalletKeys")
            .field("network", &self.network)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

fn hardened(index: u32) -> Result<ChildNumber, KeyError> {
    ChildNumber::from_hardened_idx(index).map_err(|_| KeyError::IndexOutOfRange { index })
}

fn normal(index: u32) -> Result<ChildNumber, KeyError> {
    ChildNumber::from_normal_idx(index).map_err(|_| KeyError::IndexOutOfRange { index })
}

/// The BIP-380 checksum of a descriptor (8 characters), or `None` if it has a character outside
/// the descriptor character set.
pub fn descriptor_checksum(descriptor: &str) -> Option<String> {
    const INPUT: &str = "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
    const CHECKSUM: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    const GENERATOR: [u64; 5] = [
        0xf5_dee5_1989,
        0xa9_fdca_3312,
        0x1b_ab10_e32d,
        0x37_06b1_677a,
        0x64_4d62_6ffd,
    ];
    fn polymod(c: u64, value: u64) -> u64 {
        let top = c >> 35;
        let mut c = ((c & 0x7_ffff_ffff) << 5) ^ value;
        for (i, g) in GENERATOR.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                c ^= g;
            }
        }
        c
    }
    let mut c = 1u64;
    let mut class = 0u64;
    let mut count = 0;
    for ch in descriptor.chars() {
        let pos = u64::try_from(INPUT.find(ch)?).ok()?;
        c = polymod(c, pos & 31);
        class = class * 3 + (pos >> 5);
        count += 1;
        if count == 3 {
            c = polymod(c, class);
            class = 0;
            count = 0;
        }
    }
    if count > 0 {
        c = polymod(c, class);
    }
    for _ in 0..8 {
        c = polymod(c, 0);
    }
    c ^= 1;
    let mut out = String::with_capacity(8);
    for i in 0..8 {
        let index = usize::try_from((c >> (5 * (7 - i))) & 31).ok()?;
        out.push(char::from(*CHECKSUM.get(index)?));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::key::Secp256k1;
    use std::str::FromStr;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn keys(network: Network) -> WalletKeys {
        WalletKeys::from_mnemonic(&Mnemonic::restore(ABANDON).unwrap(), network).unwrap()
    }

    /// BIP-86's own test vectors.
    #[test]
    fn bip86_vectors() {
        let k = keys(Network::Bitcoin);
        assert_eq!(
            k.account.to_string(),
            "xprv9xgqHN7yz9MwCkxsBPN5qetuNdQSUttZNKw1dcYTV4mkaAFiBVGQziHs3NRSWMkCzvgjEe3n9xV8oYywvM8at9yRqyaZVz6TYYhX98VjsUk"
        );
        assert_eq!(
            k.account_xpub().to_string(),
            "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ"
        );
        assert_eq!(k.fingerprint().to_string(), "73c5da0a");
        let cases = [
            (
                Keychain::External,
                0,
                "cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115",
                "a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c",
                "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr",
            ),
            (
                Keychain::External,
                1,
                "83dfe85a3151d2517290da461fe2815591ef69f2b18a2ce63f01697a8b313145",
                "a82f29944d65b86ae6b5e5cc75e294ead6c59391a1edc5e016e3498c67fc7bbb",
                "bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh",
            ),
            (
                Keychain::Internal,
                0,
                "399f1b2f4393f29a18c937859c5dd8a77350103157eb880f02e8c08214277cef",
                "882d74e5d0572d5a816cef0041a96b6c1de832f6f9676d9605c44d5e9a97d3dc",
                "bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7",
            ),
        ];
        let secp = Secp256k1::new();
        for (keychain, index, internal, output, address) in cases {
            let (script, addr) = k.address(keychain, index).unwrap();
            assert_eq!(addr.to_string(), address);
            assert_eq!(script.to_hex_string(), format!("5120{output}"));
            let child = k.child(keychain, index).unwrap();
            assert_eq!(
                child.private_key.x_only_public_key(&secp).0.to_string(),
                internal
            );
            let tweaked = k.keypair(keychain, index).unwrap();
            assert_eq!(
                tweaked.to_keypair().x_only_public_key().0.to_string(),
                output
            );
            assert_eq!(k.find_script(&script, 5), Some((keychain, index)));
        }
    }

    #[test]
    fn regtest_uses_coin_type_one_and_bcrt() {
        let k = keys(Network::Regtest);
        let (_, addr) = k.address(Keychain::External, 0).unwrap();
        assert!(addr.to_string().starts_with("bcrt1p"), "{addr}");
        let public = k.descriptor(Keychain::External);
        assert!(
            public.starts_with("tr([73c5da0a/86'/1'/0']tpub"),
            "{public}"
        );
        assert!(public.contains("/0/*)#"), "{public}");
        let secret = k.secret_descriptor(Keychain::Internal);
        assert!(secret.starts_with("tr([73c5da0a/86'/1'/0']tprv"));
        assert!(secret.contains("/1/*)#"));
        // Differs from mainnet's first address.
        assert_ne!(
            k.address(Keychain::External, 0).unwrap().0,
            keys(Network::Bitcoin)
                .address(Keychain::External, 0)
                .unwrap()
                .0
        );
    }

    #[test]
    fn checksum_vectors() {
        // BIP-380's example.
        assert_eq!(descriptor_checksum("raw(deadbeef)").unwrap(), "89f8spxm");
        // Bitcoin Core's descriptor_tests.
        assert_eq!(
            descriptor_checksum("sh(multi(2,[00000000/111'/222]xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7iAxn8L39njGVyuoseXzU6rcxFLJ8HFsTjSyQbLYnMpCqE2VbFWc,xprv9uPDJpEQgRQfDcW7BkF7eTya6RPxXeJCqCJGHuCJ4GiRVLzkTXBAJMu2qaMWPrS7AANYqdq6vcBcBUdJCVVFceUvJFjaPdGZ2y9WACViL4L/0))").unwrap(),
            "ggrsrxfy"
        );
        assert_eq!(descriptor_checksum("raw(\u{dc})"), None);
    }

    /// The descriptors are accepted by bdk_wallet (which checks the checksum) and derive the
    /// same addresses as [`WalletKeys::address`].
    #[test]
    fn bdk_wallet_accepts_the_descriptors() {
        use bdk_wallet::{KeychainKind, Wallet};
        let k = keys(Network::Regtest);
        for (external, internal) in [
            (
                k.descriptor(Keychain::External),
                k.descriptor(Keychain::Internal),
            ),
            (
                k.secret_descriptor(Keychain::External).to_string(),
                k.secret_descriptor(Keychain::Internal).to_string(),
            ),
        ] {
            let wallet = Wallet::create(external, internal)
                .network(Network::Regtest)
                .create_wallet_no_persist()
                .unwrap();
            for index in 0..3 {
                assert_eq!(
                    wallet.peek_address(KeychainKind::External, index).address,
                    k.address(Keychain::External, index).unwrap().1
                );
                assert_eq!(
                    wallet.peek_address(KeychainKind::Internal, index).address,
                    k.address(Keychain::Internal, index).unwrap().1
                );
            }
        }
        // A damaged checksum is refused, so the one we write is checked.
        let mut bad = k.descriptor(Keychain::External);
        let last = bad.pop().unwrap();
        bad.push(if last == 'q' { 'p' } else { 'q' });
        assert!(Wallet::create(bad, k.descriptor(Keychain::Internal))
            .network(Network::Regtest)
            .create_wallet_no_persist()
            .is_err());
    }

    #[test]
    fn find_script_respects_lookahead() {
        let k = keys(Network::Regtest);
        let (script, _) = k.address(Keychain::Internal, 7).unwrap();
        assert_eq!(k.find_script(&script, 7), None);
        assert_eq!(k.find_script(&script, 8), Some((Keychain::Internal, 7)));
        let other = ScriptBuf::from_hex("0014751e76e8199196d454941c45d1b3a323f1433bd6").unwrap();
        assert_eq!(k.find_script(&other, 8), None);
    }

    #[test]
    fn indexes_are_bounded() {
        let k = keys(Network::Regtest);
        assert!(matches!(
            k.address(Keychain::External, 1 << 31),
            Err(KeyError::IndexOutOfRange { .. })
        ));
        assert!(matches!(
            k.swap_key(u32::MAX),
            Err(KeyError::IndexOutOfRange { .. })
        ));
    }

    #[test]
    fn swap_keys_and_secrets_are_deterministic_and_distinct() {
        let k = keys(Network::Regtest);
        let again = keys(Network::Regtest);
        assert_eq!(k.swap_key(3).unwrap(), again.swap_key(3).unwrap());
        assert_eq!(*k.swap_secret(3).unwrap(), *again.swap_secret(3).unwrap());
        assert_ne!(k.swap_key(3).unwrap(), k.swap_key(4).unwrap());
        assert_ne!(*k.swap_secret(3).unwrap(), *k.swap_secret(4).unwrap());
        assert_ne!(
            k.swap_secret(3).unwrap()[..],
            k.swap_key(3).unwrap().secret_bytes()[..]
        );
        assert_eq!(
            k.swap_hash(3).unwrap(),
            sha256::Hash::hash(&k.swap_secret(3).unwrap()[..]).to_byte_array()
        );
        // The path is the documented hardened one, and matches an independent derivation.
        let path = k.swap_path(3).unwrap();
        assert_eq!(path, DerivationPath::from_str("m/86'/1'/1'/3'").unwrap());
        let secp = Secp256k1::new();
        let seed = Mnemonic::restore(ABANDON).unwrap().to_seed("");
        let master = Xpriv::new_master(Network::Regtest, &seed[..]).unwrap();
        let child = master.derive_priv(&secp, &path).unwrap();
        assert_eq!(k.swap_key(3).unwrap().secret_key(), child.private_key);
        // Never one of the receiving or change keys.
        let (xonly, _) = k.swap_key(3).unwrap().x_only_public_key();
        for keychain in Keychain::ALL {
            for index in 0..10 {
                let child = k.child(keychain, index).unwrap();
                assert_ne!(child.private_key.x_only_public_key(&secp).0, xonly);
            }
        }
    }

    #[test]
    fn debug_hides_keys() {
        let k = keys(Network::Regtest);
        let printed = format!("{k:?}");
        assert!(
            !printed.contains("prv") && !printed.contains("pub"),
            "{printed}"
        );
        assert!(printed.contains("73c5da0a"));
    }
}
