//! One BIP-39 seed, and the encrypted file that keeps it at rest.
//!
//! A wallet has exactly one [`Mnemonic`] (12–24 English words; new wallets get 24). Everything
//! else — share and BTC keys, per-swap keys, swap secrets — is derived from it (see
//! [`crate::keys`]), so the words alone restore a wallet.
//!
//! # The seed file, version 1
//!
//! All integers little-endian. The header (bytes `0..68`) is the AEAD's associated data, so a
//! changed parameter fails authentication like a changed ciphertext.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 15 | magic `p2share-wallet\0` |
//! | 15 | 1 | version, `1` |
//! | 16 | 4 | Argon2id memory cost, KiB |
//! | 20 | 4 | Argon2id iterations |
//! | 24 | 4 | Argon2id lanes |
//! | 28 | 16 | salt (random) |
//! | 44 | 24 | XChaCha20-Poly1305 nonce (random) |
//! | 68 | 57 | ciphertext of the 41-byte payload, then the 16-byte tag |
//!
//! The payload: entropy length (1 byte: 16, 20, 24, 28 or 32), the entropy padded with zeros to
//! 32 bytes (so the file does not tell 12 words from 24), the wallet's birthday (u64, unix
//! seconds: where a rescan may start). The key is Argon2id(NFKD(passphrase), salt, params), 32
//! bytes. Parameters are bounded ([`KdfParams::MIN_MEMORY_KIB`] …) before any work is done, so
//! a damaged file cannot make the reader allocate gigabytes or loop for hours.
//!
//! Secrets (entropy, the derived key, the decrypted payload, the normalised passphrase) live in
//! [`Zeroizing`] buffers and are wiped on drop; `Debug` never prints them.

use std::borrow::Cow;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use bip39::Language;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, Zeroizing};

/// Why a mnemonic could not be made or restored.
///
/// [`MnemonicError::UnknownWord`] carries a word the user typed: show it to the user, do not log
/// it (it is most likely one of their seed words, mistyped).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MnemonicError {
    /// Not 12, 15, 18, 21 or 24 words.
    #[error("a mnemonic has 12, 15, 18, 21 or 24 words, not {found}")]
    WordCount {
        /// The number of words found.
        found: usize,
    },
    /// A word is not in the BIP-39 English word list.
    #[error("word {position} ({word:?}) is not in the BIP-39 English word list")]
    UnknownWord {
        /// The word as normalised (lower case).
        word: String,
        /// Its position, counting from 1.
        position: usize,
    },
    /// Every word is known but the checksum does not match.
    #[error("the mnemonic's checksum does not match: a word is wrong or words are out of order")]
    Checksum,
    /// Entropy of a length BIP-39 has no mnemonic for.
    #[error("mnemonic entropy is 16, 20, 24, 28 or 32 bytes, not {len}")]
    EntropyLength {
        /// The length given.
        len: usize,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random(#[source] getrandom::Error),
}

/// A BIP-39 mnemonic: its entropy, wiped on drop.
#[derive(Clone)]
pub struct Mnemonic {
    /// The entropy, padded with zeros to 32 bytes.
    entropy: Zeroizing<[u8; 32]>,
    /// The number of entropy bytes: 16, 20, 24, 28 or 32.
    len: usize,
}

/// Word counts BIP-39 defines.
const WORD_COUNTS: [usize; 5] = [12, 15, 18, 21, 24];

impl Mnemonic {
    /// A new 24-word mnemonic from the operating system's random number generator.
    ///
    /// # Errors
    /// [`MnemonicError::Random`] if the generator fails.
    pub fn create() -> Result<Mnemonic, MnemonicError> {
        let mut entropy = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut entropy[..]).map_err(MnemonicError::Random)?;
        Ok(Mnemonic { entropy, len: 32 })
    }

    /// The mnemonic of `entropy` (16, 20, 24, 28 or 32 bytes).
    ///
    /// # Errors
    /// [`MnemonicError::EntropyLength`] for any other length.
    pub fn from_entropy(entropy: &[u8]) -> Result<Mnemonic, MnemonicError> {
        let len = entropy.len();
        if !(16..=32).contains(&len) || !len.is_multiple_of(4) {
            return Err(MnemonicError::EntropyLength { len });
        }
        let mut padded = Zeroizing::new([0u8; 32]);
        padded[..len].copy_from_slice(entropy);
        Ok(Mnemonic {
            entropy: padded,
            len,
        })
    }

    /// Restores a mnemonic from its words. Case and whitespace do not matter (`"  Abandon\n
    /// ABANDON …"` is fine); only the English word list is accepted.
    ///
    /// # Errors
    /// [`MnemonicError::WordCount`], then [`MnemonicError::UnknownWord`] naming the first unknown
    /// word and its position, then [`MnemonicError::Checksum`].
    pub fn restore(phrase: &str) -> Result<Mnemonic, MnemonicError> {
        let lower = Zeroizing::new(phrase.to_lowercase());
        let words: Vec<&str> = lower.split_whitespace().collect();
        if !WORD_COUNTS.contains(&words.len()) {
            return Err(MnemonicError::WordCount { found: words.len() });
        }
        for (i, word) in words.iter().enumerate() {
            if Language::English.find_word(word).is_none() {
                return Err(MnemonicError::UnknownWord {
                    word: (*word).to_owned(),
                    position: i + 1,
                });
            }
        }
        let joined = Zeroizing::new(words.join(" "));
        let parsed = match bip39::Mnemonic::parse_in_normalized(Language::English, &joined) {
            Ok(parsed) => parsed,
            Err(bip39::Error::InvalidChecksum) => return Err(MnemonicError::Checksum),
            Err(bip39::Error::BadWordCount(found)) => {
                return Err(MnemonicError::WordCount { found })
            }
            Err(bip39::Error::UnknownWord(i)) => {
                return Err(MnemonicError::UnknownWord {
                    word: words.get(i).map(|w| (*w).to_owned()).unwrap_or_default(),
                    position: i + 1,
                })
            }
            Err(_) => return Err(MnemonicError::Checksum),
        };
        let (mut array, len) = parsed.to_entropy_array();
        let result = Mnemonic::from_entropy(array.get(..len).unwrap_or_default());
        array.zeroize();
        result
    }

    /// The words, separated by single spaces. Show them once, to the user; never log them.
    pub fn phrase(&self) -> Zeroizing<String> {
        match bip39::Mnemonic::from_entropy_in(Language::English, self.entropy()) {
            Ok(m) => Zeroizing::new(m.words().collect::<Vec<_>>().join(" ")),
            // Unreachable: the length was checked when the mnemonic was made.
            Err(_) => Zeroizing::new(String::new()),
        }
    }

    /// The number of words: 12, 15, 18, 21 or 24.
    pub fn word_count(&self) -> usize {
        self.len * 3 / 4
    }

    /// The entropy the words encode.
    pub fn entropy(&self) -> &[u8] {
        self.entropy.get(..self.len).unwrap_or_default()
    }

    /// The 64-byte BIP-39 seed (PBKDF2-HMAC-SHA512 of the words, salt `"mnemonic"` +
    /// `bip39_passphrase`, NFKD-normalised). The wallet itself uses the empty passphrase.
    pub fn to_seed(&self, bip39_passphrase: &str) -> Zeroizing<[u8; 64]> {
        match bip39::Mnemonic::from_entropy_in(Language::English, self.entropy()) {
            Ok(m) => Zeroizing::new(m.to_seed(bip39_passphrase)),
            // Unreachable: the length was checked when the mnemonic was made.
            Err(_) => Zeroizing::new([0u8; 64]),
        }
    }
}

impl PartialEq for Mnemonic {
    fn eq(&self, other: &Mnemonic) -> bool {
        self.entropy() == other.entropy()
    }
}

impl Eq for Mnemonic {}

impl fmt::Debug for Mnemonic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mnemonic(<redacted>)")
    }
}

/// Argon2id cost parameters of a seed file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// The default: 64 MiB, 3 passes, 1 lane (about half a second on a desktop CPU).
    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };
    /// Light parameters for tests only: 8 KiB, 1 pass, 1 lane. Never for a real wallet.
    pub const TEST: KdfParams = KdfParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };
    /// The least memory a seed file may ask for (Argon2's own minimum for one lane).
    pub const MIN_MEMORY_KIB: u32 = 8;
    /// The most memory a seed file may ask for: 4 GiB.
    pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
    /// The most passes a seed file may ask for.
    pub const MAX_ITERATIONS: u32 = 64;
    /// The most lanes a seed file may ask for.
    pub const MAX_PARALLELISM: u32 = 16;

    /// The first parameter out of bounds: its name and its offset in the file.
    fn out_of_bounds(&self) -> Option<(&'static str, usize)> {
        if !(Self::MIN_MEMORY_KIB..=Self::MAX_MEMORY_KIB).contains(&self.memory_kib) {
            return Some(("argon2 memory cost out of bounds", OFFSET_MEMORY));
        }
        if !(1..=Self::MAX_ITERATIONS).contains(&self.iterations) {
            return Some(("argon2 iterations out of bounds", OFFSET_ITERATIONS));
        }
        if !(1..=Self::MAX_PARALLELISM).contains(&self.parallelism) {
            return Some(("argon2 lanes out of bounds", OFFSET_PARALLELISM));
        }
        if self.memory_kib < 8 * self.parallelism {
            return Some(("argon2 memory below 8 KiB per lane", OFFSET_MEMORY));
        }
        None
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams::DEFAULT
    }
}

/// Why a seed file could not be written, read or opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// Authentication failed: the passphrase is wrong (or the encrypted part was altered).
    #[error("wrong passphrase (or the seed file's encrypted part was altered)")]
    WrongPassphrase,
    /// The file is not a well-formed seed file.
    #[error("seed file is corrupt: {what} at byte {offset}")]
    Corrupt {
        /// What is wrong.
        what: &'static str,
        /// Where, in bytes from the start of the file.
        offset: usize,
    },
    /// A seed file of a version this build does not read.
    #[error("seed file version {0} is not supported (this build reads version 1)")]
    UnsupportedVersion(u8),
    /// Parameters given to [`SeedFile::encrypt`] that a reader would refuse.
    #[error("cannot encrypt with these parameters: {what}")]
    Params {
        /// The parameter out of bounds.
        what: &'static str,
    },
    /// Argon2 refused to run.
    #[error("argon2 key derivation failed")]
    Kdf(#[source] argon2::Error),
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random(#[source] getrandom::Error),
    /// Reading or writing the file failed.
    #[error("seed file {path}: {source}")]
    Io {
        /// The file (or its temporary sibling).
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

const MAGIC: &[u8; 15] = b"p2share-wallet\0";
const VERSION: u8 = 1;
const OFFSET_VERSION: usize = 15;
const OFFSET_MEMORY: usize = 16;
const OFFSET_ITERATIONS: usize = 20;
const OFFSET_PARALLELISM: usize = 24;
const OFFSET_SALT: usize = 28;
const OFFSET_NONCE: usize = 44;
const HEADER_LEN: usize = 68;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const PAYLOAD_LEN: usize = 1 + 32 + 8;
const TAG_LEN: usize = 16;

/// The seed file format: [`SeedFile::encrypt`] and [`SeedFile::decrypt`] (see the module docs).
#[derive(Debug)]
pub enum SeedFile {}

impl SeedFile {
    /// The magic bytes every seed file starts with.
    pub const MAGIC: &'static [u8; 15] = MAGIC;
    /// The version this build writes.
    pub const VERSION: u8 = VERSION;
    /// The length of a version-1 file.
    pub const LEN: usize = HEADER_LEN + PAYLOAD_LEN + TAG_LEN;

    /// Encrypts `mnemonic` and `birthday` (unix seconds) under `passphrase`, with a fresh random
    /// salt and nonce.
    ///
    /// The passphrase is NFKD-normalised first, so the same visible text typed on different
    /// keyboards opens the file. An empty passphrase is allowed (a user may rely on disk
    /// encryption) but then anyone with the file has the seed: the UI should ask for one.
    ///
    /// # Errors
    /// [`SeedError::Params`] if `params` are outside the bounds a reader accepts;
    /// [`SeedError::Random`], [`SeedError::Kdf`] if the system fails.
    pub fn encrypt(
        mnemonic: &Mnemonic,
        passphrase: &str,
        params: KdfParams,
        birthday: u64,
    ) -> Result<Vec<u8>, SeedError> {
        if let Some((what, _)) = params.out_of_bounds() {
            return Err(SeedError::Params { what });
        }
        let mut header = Vec::with_capacity(Self::LEN);
        header.extend_from_slice(MAGIC);
        header.push(VERSION);
        header.extend_from_slice(&params.memory_kib.to_le_bytes());
        header.extend_from_slice(&params.iterations.to_le_bytes());
        header.extend_from_slice(&params.parallelism.to_le_bytes());
        let mut random = [0u8; SALT_LEN + NONCE_LEN];
        getrandom::fill(&mut random).map_err(SeedError::Random)?;
        header.extend_from_slice(&random);
        let (salt, nonce) = random.split_at(SALT_LEN);

        let key = derive_key(passphrase, salt, params)?;
        let mut payload = Zeroizing::new(Vec::with_capacity(PAYLOAD_LEN + TAG_LEN));
        // The length is one of 16..=32: it fits a byte.
        payload.push(u8::try_from(mnemonic.len).unwrap_or(32));
        payload.extend_from_slice(&mnemonic.entropy[..]);
        payload.extend_from_slice(&birthday.to_le_bytes());
        let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&key[..]));
        cipher
            .encrypt_in_place(XNonce::from_slice(nonce), &header, &mut *payload)
            .map_err(|_| SeedError::Params {
                what: "payload too long for the cipher",
            })?;
        header.extend_from_slice(&payload);
        Ok(header)
    }

    /// The KDF parameters of a seed file, read without the passphrase (to tell the user how
    /// long opening it will take, or to re-encrypt with stronger ones).
    ///
    /// # Errors
    /// As [`SeedFile::decrypt`] for the header.
    pub fn params(bytes: &[u8]) -> Result<KdfParams, SeedError> {
        parse_header(bytes).map(|h| h.params)
    }

    /// Decrypts a seed file: the mnemonic and the birthday (unix seconds).
    ///
    /// # Errors
    /// [`SeedError::Corrupt`] (bad magic, wrong length, parameters out of bounds),
    /// [`SeedError::UnsupportedVersion`], [`SeedError::WrongPassphrase`] when authentication
    /// fails.
    pub fn decrypt(bytes: &[u8], passphrase: &str) -> Result<(Mnemonic, u64), SeedError> {
        let header = parse_header(bytes)?;
        let key = derive_key(passphrase, header.salt, header.params)?;
        let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&key[..]));
        let mut payload = Zeroizing::new(Vec::with_capacity(PAYLOAD_LEN + TAG_LEN));
        payload.extend_from_slice(bytes.get(HEADER_LEN..).unwrap_or_default());
        cipher
            .decrypt_in_place(
                XNonce::from_slice(header.nonce),
                bytes.get(..HEADER_LEN).unwrap_or_default(),
                &mut *payload,
            )
            .map_err(|_| SeedError::WrongPassphrase)?;
        // Authenticated from here on: only a writer holding the key could produce a bad payload.
        let bad = |what, at: usize| SeedError::Corrupt {
            what,
            offset: HEADER_LEN + at,
        };
        if payload.len() != PAYLOAD_LEN {
            return Err(bad("payload of the wrong length", 0));
        }
        let len = usize::from(payload[0]);
        let mnemonic = Mnemonic::from_entropy(payload.get(1..1 + len).unwrap_or_default())
            .map_err(|_| bad("entropy length", 0))?;
        if payload[1 + len..33].iter().any(|&b| b != 0) {
            return Err(bad("entropy padding is not zero", 1 + len));
        }
        let mut birthday = [0u8; 8];
        birthday.copy_from_slice(&payload[33..41]);
        Ok((mnemonic, u64::from_le_bytes(birthday)))
    }
}

/// A parsed, bounds-checked header.
struct Header<'a> {
    params: KdfParams,
    salt: &'a [u8],
    nonce: &'a [u8],
}

fn parse_header(bytes: &[u8]) -> Result<Header<'_>, SeedError> {
    let corrupt = |what, offset| SeedError::Corrupt { what, offset };
    let magic_len = MAGIC.len().min(bytes.len());
    if bytes.get(..magic_len) != MAGIC.get(..magic_len) {
        return Err(corrupt("not a p2share wallet seed file (bad magic)", 0));
    }
    if bytes.len() <= OFFSET_VERSION {
        return Err(corrupt("truncated", bytes.len()));
    }
    if bytes[OFFSET_VERSION] != VERSION {
        return Err(SeedError::UnsupportedVersion(bytes[OFFSET_VERSION]));
    }
    if bytes.len() < SeedFile::LEN {
        return Err(corrupt("truncated", bytes.len()));
    }
    if bytes.len() > SeedFile::LEN {
        return Err(corrupt("trailing bytes", SeedFile::LEN));
    }
    let u32_at = |at: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&bytes[at..at + 4]);
        u32::from_le_bytes(b)
    };
    let params = KdfParams {
        memory_kib: u32_at(OFFSET_MEMORY),
        iterations: u32_at(OFFSET_ITERATIONS),
        parallelism: u32_at(OFFSET_PARALLELISM),
    };
    if let Some((what, offset)) = params.out_of_bounds() {
        return Err(corrupt(what, offset));
    }
    Ok(Header {
        params,
        salt: &bytes[OFFSET_SALT..OFFSET_SALT + SALT_LEN],
        nonce: &bytes[OFFSET_NONCE..OFFSET_NONCE + NONCE_LEN],
    })
}

/// Argon2id(NFKD(passphrase), salt) → a 32-byte key, wiped on drop.
fn derive_key(
    passphrase: &str,
    salt: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<[u8; 32]>, SeedError> {
    let mut normalised = Cow::Borrowed(passphrase);
    bip39::Mnemonic::normalize_utf8_cow(&mut normalised);
    let normalised = Zeroizing::new(normalised.into_owned());
    let argon_params = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(32),
    )
    .map_err(SeedError::Kdf)?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params)
        .hash_password_into(normalised.as_bytes(), salt, &mut key[..])
        .map_err(SeedError::Kdf)?;
    Ok(key)
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory (mode 0600 on
/// unix), fsync, rename over `path`, fsync of the directory. A crash leaves either the old file
/// or the new one, never a mix.
///
/// # Errors
/// [`SeedError::Io`] naming the file that failed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SeedError> {
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| SeedError::Io { path: p, source }
    };
    let Some(name) = path.file_name() else {
        return Err(SeedError::Io {
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "no file name"),
        });
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&tmp)(e)),
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(&tmp)(e));
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(path)(e));
    }
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))?;
    Ok(())
}

/// Reads a seed file, refusing one longer than a seed file can be before reading it whole.
///
/// # Errors
/// [`SeedError::Io`]; [`SeedError::Corrupt`] for a file longer than [`SeedFile::LEN`].
pub fn read(path: &Path) -> Result<Vec<u8>, SeedError> {
    let io_err = |source| SeedError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let mut bytes = Vec::with_capacity(SeedFile::LEN + 1);
    // `LEN + 1` is far below u64::MAX.
    let limit = u64::try_from(SeedFile::LEN + 1).unwrap_or(u64::MAX);
    file.take(limit).read_to_end(&mut bytes).map_err(io_err)?;
    if bytes.len() > SeedFile::LEN {
        return Err(SeedError::Corrupt {
            what: "trailing bytes",
            offset: SeedFile::LEN,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Trezor's reference vectors (python-mnemonic `vectors.json`, English): entropy, words,
    /// seed with passphrase "TREZOR".
    const TREZOR: [(&str, &str, &str); 6] = [
        (
            "00000000000000000000000000000000",
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
            "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04",
        ),
        (
            "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
            "legal winner thank year wave sausage worth useful legal winner thank yellow",
            "2e8905819b8723fe2c1d161860e5ee1830318dbf49a83bd451cfb8440c28bd6fa457fe1296106559a3c80937a1c1069be3a3a5bd381ee6260e8d9739fce1f607",
        ),
        (
            "808080808080808080808080808080808080808080808080",
            "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter always",
            "107d7c02a5aa6f38c58083ff74f04c607c2d2c0ecc55501dadd72d025b751bc27fe913ffb796f841c49b1d33b610cf0e91d3aa239027f5e99fe4ce9e5088cd65",
        ),
        (
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote",
            "dd48c104698c30cfe2b6142103248622fb7bb0ff692eebb00089b32d22484e1613912f0a5b694407be899ffd31ed3992c456cdf60f5d4564b8ba3f05a69890ad",
        ),
        (
            "9e885d952ad362caeb4efe34a8e91bd2",
            "ozone drill grab fiber curtain grace pudding thank cruise elder eight picnic",
            "274ddc525802f7c828d8ef7ddbcdc5304e87ac3535913611fbbfa986d0c9e5476c91689f9c8a54fd55bd38606aa6a8595ad213d4c9c9f9aca3fb217069a41028",
        ),
        (
            "68a79eaca2324873eacc50cb9c6eca8cc68ea5d936f98787c60c7ebc74e6ce7c",
            "hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy gospel tennis maple dilemma loan word shrug inflict delay length",
            "64c87cde7e12ecf6704ab95bb1408bef047c22db4cc7491c4271d170a1b213d20b385bc1588d9c7b38f1b39d415665b8a9030c9ec653d75e65f847d8fc1fc440",
        ),
    ];

    #[test]
    fn trezor_vectors() {
        for (entropy, words, seed) in TREZOR {
            let m = Mnemonic::from_entropy(&hex(entropy)).unwrap();
            assert_eq!(m.phrase().as_str(), words);
            assert_eq!(m.to_seed("TREZOR")[..], hex(seed)[..], "{words}");
            let restored = Mnemonic::restore(words).unwrap();
            assert_eq!(restored, m);
            assert_eq!(restored.word_count(), words.split(' ').count());
        }
    }

    #[test]
    fn create_gives_24_words() {
        let m = Mnemonic::create().unwrap();
        assert_eq!(m.word_count(), 24);
        assert_eq!(m.phrase().split(' ').count(), 24);
        assert_eq!(Mnemonic::restore(&m.phrase()).unwrap(), m);
        assert_ne!(Mnemonic::create().unwrap(), m);
    }

    #[test]
    fn restore_normalises_case_and_whitespace() {
        let m = Mnemonic::restore(
            "  Legal WINNER thank\tyear wave sausage\n worth useful legal winner thank   yellow ",
        )
        .unwrap();
        assert_eq!(m.entropy(), &[0x7f; 16][..]);
    }

    #[test]
    fn restore_errors_are_precise() {
        let eleven = "legal winner thank year wave sausage worth useful legal winner thank";
        assert!(matches!(
            Mnemonic::restore(eleven),
            Err(MnemonicError::WordCount { found: 11 })
        ));
        assert!(matches!(
            Mnemonic::restore(""),
            Err(MnemonicError::WordCount { found: 0 })
        ));
        let typo = "legal winner thank year wave sausage worth usefull legal winner thank yellow";
        match Mnemonic::restore(typo) {
            Err(MnemonicError::UnknownWord { word, position }) => {
                assert_eq!((word.as_str(), position), ("usefull", 8));
            }
            other => panic!("{other:?}"),
        }
        let swapped = "winner legal thank year wave sausage worth useful legal winner thank yellow";
        assert!(matches!(
            Mnemonic::restore(swapped),
            Err(MnemonicError::Checksum)
        ));
        let err = Mnemonic::restore(typo).unwrap_err().to_string();
        assert!(err.contains("word 8") && err.contains("usefull"), "{err}");
    }

    #[test]
    fn entropy_lengths_are_checked() {
        for len in [0, 4, 12, 15, 17, 33, 36] {
            assert!(matches!(
                Mnemonic::from_entropy(&vec![1; len]),
                Err(MnemonicError::EntropyLength { .. })
            ));
        }
    }

    #[test]
    fn debug_never_prints_secrets() {
        let m = Mnemonic::from_entropy(&[0x7f; 16]).unwrap();
        let printed = format!("{m:?} {m:#?}");
        assert!(
            !printed.contains("legal") && !printed.contains("127"),
            "{printed}"
        );
        assert_eq!(format!("{m:?}"), "Mnemonic(<redacted>)");
    }

    fn sample() -> Mnemonic {
        Mnemonic::from_entropy(&hex(TREZOR[5].0)).unwrap()
    }

    #[test]
    fn round_trip() {
        let m = sample();
        let file = SeedFile::encrypt(&m, "correct horse", KdfParams::TEST, 1_700_000_000).unwrap();
        assert_eq!(file.len(), SeedFile::LEN);
        assert_eq!(&file[..15], b"p2share-wallet\0");
        assert_eq!(file[15], 1);
        assert_eq!(SeedFile::params(&file).unwrap(), KdfParams::TEST);
        let (back, birthday) = SeedFile::decrypt(&file, "correct horse").unwrap();
        assert_eq!((back, birthday), (m.clone(), 1_700_000_000));
        // A 12-word mnemonic gives a file of the same length.
        let short = Mnemonic::from_entropy(&[9; 16]).unwrap();
        let file2 = SeedFile::encrypt(&short, "", KdfParams::TEST, 0).unwrap();
        assert_eq!(file2.len(), SeedFile::LEN);
        assert_eq!(SeedFile::decrypt(&file2, "").unwrap(), (short, 0));
        // Fresh salt and nonce every time.
        let again = SeedFile::encrypt(&m, "correct horse", KdfParams::TEST, 1_700_000_000).unwrap();
        assert_ne!(again, file);
    }

    /// A version-1 file written once and kept (`tests/data/seed-v1.hex`): a change to the
    /// layout, the KDF or the cipher that would orphan users' files fails here.
    #[test]
    fn golden_file_still_opens() {
        let file = hex(include_str!("../tests/data/seed-v1.hex").trim());
        assert_eq!(file.len(), SeedFile::LEN);
        let (m, birthday) = SeedFile::decrypt(&file, "golden passphrase").unwrap();
        assert_eq!(
            m.phrase().as_str(),
            "legal winner thank year wave sausage worth useful legal winner thank yellow"
        );
        assert_eq!(birthday, 1_700_000_000);
        assert_eq!(SeedFile::params(&file).unwrap(), KdfParams::TEST);
    }

    #[test]
    fn passphrase_is_nfkd_normalised() {
        let m = sample();
        let composed = "caf\u{e9}";
        let decomposed = "cafe\u{301}";
        let file = SeedFile::encrypt(&m, composed, KdfParams::TEST, 1).unwrap();
        assert_eq!(SeedFile::decrypt(&file, decomposed).unwrap().0, m);
    }

    #[test]
    fn wrong_passphrase() {
        let file = SeedFile::encrypt(&sample(), "right", KdfParams::TEST, 1).unwrap();
        for wrong in ["wrong", "", "right ", "Right"] {
            assert!(matches!(
                SeedFile::decrypt(&file, wrong),
                Err(SeedError::WrongPassphrase)
            ));
        }
    }

    #[test]
    fn header_errors_are_distinct() {
        let file = SeedFile::encrypt(&sample(), "p", KdfParams::TEST, 1).unwrap();
        let mut v2 = file.clone();
        v2[15] = 2;
        assert!(matches!(
            SeedFile::decrypt(&v2, "p"),
            Err(SeedError::UnsupportedVersion(2))
        ));
        let mut magic = file.clone();
        magic[3] ^= 1;
        assert!(matches!(
            SeedFile::decrypt(&magic, "p"),
            Err(SeedError::Corrupt { offset: 0, .. })
        ));
        let mut huge = file.clone();
        huge[16..20].copy_from_slice(&(KdfParams::MAX_MEMORY_KIB + 1).to_le_bytes());
        assert!(matches!(
            SeedFile::decrypt(&huge, "p"),
            Err(SeedError::Corrupt { offset: 16, .. })
        ));
        let mut tiny = file.clone();
        tiny[16..20].copy_from_slice(&4u32.to_le_bytes());
        assert!(matches!(
            SeedFile::decrypt(&tiny, "p"),
            Err(SeedError::Corrupt { offset: 16, .. })
        ));
        let mut slow = file.clone();
        slow[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            SeedFile::decrypt(&slow, "p"),
            Err(SeedError::Corrupt { offset: 20, .. })
        ));
        let mut lanes = file.clone();
        lanes[24..28].copy_from_slice(&0u32.to_le_bytes());
        assert!(matches!(
            SeedFile::decrypt(&lanes, "p"),
            Err(SeedError::Corrupt { offset: 24, .. })
        ));
        let mut long = file.clone();
        long.push(0);
        assert!(matches!(
            SeedFile::decrypt(&long, "p"),
            Err(SeedError::Corrupt { offset: 125, .. })
        ));
        assert!(matches!(
            SeedFile::encrypt(
                &sample(),
                "p",
                KdfParams {
                    memory_kib: 1,
                    ..KdfParams::TEST
                },
                0
            ),
            Err(SeedError::Params { .. })
        ));
    }

    #[test]
    fn every_truncation_is_rejected() {
        let file = SeedFile::encrypt(&sample(), "p", KdfParams::TEST, 1).unwrap();
        for len in 0..file.len() {
            match SeedFile::decrypt(&file[..len], "p") {
                Err(SeedError::Corrupt { .. }) => {}
                other => panic!("truncated to {len}: {other:?}"),
            }
        }
    }

    /// Flipping any bit pattern in any single byte is refused, with an error, never a panic and
    /// never another mnemonic. Exhaustive over positions for three masks; proptest covers the
    /// rest of the byte values.
    #[test]
    fn every_single_byte_corruption_is_rejected() {
        let file = SeedFile::encrypt(&sample(), "p", KdfParams::TEST, 1).unwrap();
        for at in 0..file.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut bad = file.clone();
                bad[at] ^= mask;
                assert!(
                    SeedFile::decrypt(&bad, "p").is_err(),
                    "byte {at} ^ {mask:#x} accepted"
                );
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn single_byte_corruption(at in 0usize..SeedFile::LEN, value in any::<u8>()) {
            let file = SeedFile::encrypt(&sample(), "p", KdfParams::TEST, 1).unwrap();
            let mut bad = file.clone();
            bad[at] = value;
            let result = SeedFile::decrypt(&bad, "p");
            if value == file[at] {
                prop_assert!(result.is_ok());
            } else {
                prop_assert!(result.is_err());
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = SeedFile::decrypt(&bytes, "p");
        }

        #[test]
        fn entropy_round_trips(entropy in proptest::collection::vec(any::<u8>(), 32), words in 0usize..5) {
            let len = 16 + 4 * words;
            let m = Mnemonic::from_entropy(&entropy[..len]).unwrap();
            let restored = Mnemonic::restore(&m.phrase()).unwrap();
            prop_assert_eq!(restored.entropy(), &entropy[..len]);
        }
    }

    #[test]
    fn atomic_write_and_read() {
        let dir = std::env::temp_dir().join(format!("p2share-wallet-seed-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("wallet.seed");
        let m = sample();
        let bytes = SeedFile::encrypt(&m, "p", KdfParams::TEST, 7).unwrap();
        write_atomic(&path, &bytes).unwrap();
        // Overwriting works and leaves no temporary file behind.
        let bytes2 = SeedFile::encrypt(&m, "q", KdfParams::TEST, 8).unwrap();
        write_atomic(&path, &bytes2).unwrap();
        assert_eq!(read(&path).unwrap(), bytes2);
        assert_eq!(SeedFile::decrypt(&read(&path).unwrap(), "q").unwrap().1, 8);
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("wallet.seed")]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        }
        // A file too long to be a seed file is refused without reading it whole.
        let big = dir.join("big");
        fs::write(&big, vec![0u8; 4096]).unwrap();
        assert!(matches!(read(&big), Err(SeedError::Corrupt { .. })));
        assert!(matches!(
            read(&dir.join("missing")),
            Err(SeedError::Io { .. })
        ));
        fs::remove_dir_all(&dir).unwrap();
    }
}
