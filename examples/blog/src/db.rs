//! The database: opening it (created and migrated on first run), and the
//! password hashes.

use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use crate::error::ApiError;

/// Opens (creating it if needed) and migrates the database at `url`, such
/// as `sqlite://blog.db` or `sqlite::memory:`.
pub async fn open(url: &str) -> Result<SqlitePool, Box<dyn std::error::Error>> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .foreign_keys(true);
    // An in-memory database lives in its one connection.
    let max = if url.contains(":memory:") { 1 } else { 4 };
    let pool = SqlitePoolOptions::new()
        .max_connections(max)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// Hashes a password with argon2id (off the async threads: it is slow on
/// purpose).
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// A hash that matches no password, checked for unknown users so that
/// "no such user" takes as long as "wrong password".
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$QyU/8+KYakQfCa3iMNYHHsUx4t/IjiUwkkvAVMHLzaU";

/// Whether `password` matches `hash` (or the decoy, when `hash` is `None`).
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, ApiError> {
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| DECOY.to_owned());
    let matches = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(known && matches)
}
