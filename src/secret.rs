//! The secret key: taken from `WEWATCH_SECRET_KEY`, or read from the key file, which is
//! generated once with 64 random bytes (hex) and readable by its owner only.
//!
//! The key's bytes are never logged; only where it came from is.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use rand::RngCore;

use crate::config::{ConfigError, IdentitySettings, SecretKey};

/// Resolves the key from the environment or the key file, creating the file when missing.
pub fn resolve(identity: &IdentitySettings) -> Result<SecretKey, ConfigError> {
    if let Ok(value) = std::env::var("WEWATCH_SECRET_KEY") {
        return SecretKey::new(value.into_bytes());
    }
    let path = &identity.secret_key_file;
    match std::fs::read_to_string(path) {
        Ok(text) => SecretKey::new(text.trim().as_bytes().to_vec()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 64];
            rand::rng().fill_bytes(&mut bytes);
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|source| ConfigError::Read {
                    path: dir.to_owned(),
                    source,
                })?;
            }
            let write = || -> std::io::Result<()> {
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)?;
                file.write_all(hex.as_bytes())?;
                file.write_all(b"\n")
            };
            write().map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            tracing::info!(path = %path.display(), "generated a new secret key file");
            SecretKey::new(hex.into_bytes())
        }
        Err(source) => Err(ConfigError::Read {
            path: path.clone(),
            source,
        }),
    }
}
