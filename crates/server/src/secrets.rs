//! Passwords, session and token secrets: how they are made and checked.
//!
//! Passwords are hashed with Argon2id (the `argon2` crate's defaults, OWASP's
//! recommended minimum: 19 MiB, 2 passes). Session and token secrets are 32
//! random bytes from the operating system; the store keeps their SHA-256
//! only, which is enough for secrets that cannot be guessed.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the operating system gave no random bytes: {0}")]
    Random(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 10;

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> Result<String, SecretError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| SecretError::Random(e.to_string()))?;
    Ok(hex::encode(bytes))
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

pub fn hash_password(password: &str) -> Result<String, SecretError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| SecretError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| SecretError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| SecretError::Hash(e.to_string()))
}

/// True if `password` matches the stored hash; a damaged hash matches nothing.
pub fn verify_password(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Argon2 off the async workers: each hash runs on tokio's blocking pool,
/// and at most one per core at a time, so that a burst of sign-ins queues
/// here instead of stalling every other request (`/health` included).
pub struct Hashing {
    permits: tokio::sync::Semaphore,
}

impl Default for Hashing {
    fn default() -> Hashing {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Hashing {
            permits: tokio::sync::Semaphore::new(cores),
        }
    }
}

impl Hashing {
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let _permit = self.permits.acquire().await.ok()?;
        tokio::task::spawn_blocking(work).await.ok()
    }

    /// [`verify_password`] on the blocking pool; false if it could not run.
    pub async fn verify(&self, password: &str, stored: &str) -> bool {
        let (password, stored) = (password.to_string(), stored.to_string());
        self.run(move || verify_password(&password, &stored))
            .await
            .unwrap_or(false)
    }

    /// [`verify_nothing`] on the blocking pool.
    pub async fn verify_nothing(&self, password: &str) {
        let password = password.to_string();
        self.run(move || verify_nothing(&password)).await;
    }

    /// [`hash_password`] on the blocking pool.
    pub async fn hash(&self, password: &str) -> Result<String, SecretError> {
        let password = password.to_string();
        self.run(move || hash_password(&password))
            .await
            .unwrap_or_else(|| Err(SecretError::Hash("the hashing pool is closed".into())))
    }
}

/// Spends the time a real check would, so that an unknown user name cannot
/// be told from a wrong password by the response time.
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default());
    let _ = verify_password(password, stored);
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a new password is refused, if it is.
pub fn password_problem(password: &str) -> Option<String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Some(format!(
            "a password needs at least {MIN_PASSWORD_LEN} characters"
        ));
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    /// On a runtime with one thread, a timer keeps ticking while hashes
    /// run: they are not on the async worker. (On the worker, the thread
    /// would be blocked for the whole of each hash and no tick would come.)
    #[tokio::test(flavor = "current_thread")]
    async fn hashing_leaves_the_async_worker_free() {
        let hashing = Hashing::default();
        let stored = hash_password("correct horse battery").unwrap();
        let ticks = std::sync::atomic::AtomicU32::new(0);
        let ticking = async {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                ticks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        };
        let hashes = async {
            for _ in 0..4 {
                assert!(hashing.verify("correct horse battery", &stored).await);
            }
        };
        tokio::select! {
            () = hashes => {}
            _ = ticking => unreachable!("the ticks never end"),
        }
        assert!(ticks.load(std::sync::atomic::Ordering::SeqCst) > 0);
    }

    #[test]
    fn secrets_compare() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert_eq!(random_hex(32).unwrap().len(), 64);
    }
}
