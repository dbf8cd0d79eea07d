//! Credentials and Bitcoin Core-style cookie files.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;

/// The user name Bitcoin Core writes into cookie files.
pub const COOKIE_USER: &str = "__cookie__";

/// Why credentials could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No randomness for the cookie.
    #[error("cannot draw random bytes for the cookie: {0}")]
    Random(String),
    /// The cookie file could not be written.
    #[error("cannot write cookie file {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A user and password that requests must present (HTTP Basic).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    user: String,
    password: String,
    expected_header: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Credentials for `user` and `password`.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Credentials {
        let user = user.into();
        let password = password.into();
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Credentials {
            expected_header: format!("Basic {token}"),
            user,
            password,
        }
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// Whether an `Authorization` header value carries these credentials (compared in constant
    /// time).
    pub fn accepts(&self, header: Option<&str>) -> bool {
        let Some(header) = header else { return false };
        let a = header.trim().as_bytes();
        let b = self.expected_header.as_bytes();
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// A cookie file: random credentials written where clients look for them, removed on drop (as
/// Bitcoin Core removes its `.cookie` at shutdown).
#[derive(Debug)]
pub struct CookieFile {
    path: PathBuf,
    credentials: Credentials,
}

impl CookieFile {
    /// Draws a fresh 32-byte password and writes `__cookie__:<hex>` to `path` (mode 0600 on
    /// Unix), replacing any previous cookie.
    ///
    /// # Errors
    /// [`AuthError`] if randomness or the write fails.
    pub fn create(path: &Path) -> Result<CookieFile, AuthError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| AuthError::Random(e.to_string()))?;
        let password: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        let write_err = |source| AuthError::Write {
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("tmp");
        {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&tmp).map_err(write_err)?;
            file.write_all(format!("{COOKIE_USER}:{password}").as_bytes())
                .map_err(write_err)?;
            file.sync_all().map_err(write_err)?;
        }
        std::fs::rename(&tmp, path).map_err(write_err)?;
        Ok(CookieFile {
            path: path.to_path_buf(),
            credentials: Credentials::new(COOKIE_USER, password),
        })
    }

    /// Where the cookie is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The credentials it holds.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }
}

impl Drop for CookieFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_headers_are_checked() {
        let c = Credentials::new("user", "pass");
        assert!(c.accepts(Some("Basic dXNlcjpwYXNz")));
        assert!(!c.accepts(Some("Basic dXNlcjpwYXNa")));
        assert!(!c.accepts(Some("Bearer x")));
        assert!(!c.accepts(None));
        assert!(
            !format!("{c:?}").contains("pass"),
            "no secrets in debug output"
        );
    }

    #[test]
    fn cookies_are_fresh_private_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".cookie");
        let a = CookieFile::create(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("__cookie__:{}", a.credentials().password()));
        assert_eq!(a.credentials().password().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let b = CookieFile::create(&dir.path().join(".cookie2")).unwrap();
        assert_ne!(a.credentials(), b.credentials());
        drop(a);
        assert!(!path.exists());
    }
}
