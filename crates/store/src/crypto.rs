//! Personal data at rest (个人信息保护法, 等保 2.0): 身份证号, phone numbers and logins are
//! stored encrypted (XChaCha20-Poly1305) with an HMAC-SHA256 beside them for exact
//! look-up. Both keys derive from one secret given in configuration.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
    mac_key: [u8; 32],
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

fn derive(secret: &[u8], label: &str) -> [u8; 32] {
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

impl Sealer {
    /// Builds the sealer from the configured secret (at least 32 bytes of entropy).
    pub fn new(secret: &[u8]) -> Self {
        let enc_key = derive(secret, "pingxuan/seal/v1");
        Sealer {
            cipher: XChaCha20Poly1305::new(&enc_key.into()),
            mac_key: derive(secret, "pingxuan/lookup/v1"),
        }
    }

    /// Encrypts `plain` with a fresh random nonce; the result is text for the database.
    pub fn seal(&self, plain: &str) -> String {
        let nonce_bytes: [u8; 24] = rand::random();
        let nonce = XNonce::from(nonce_bytes);
        let ct = self
            .cipher
            .encrypt(&nonce, plain.as_bytes())
            .expect("encryption of short text cannot fail");
        let mut out = nonce_bytes.to_vec();
        out.extend(ct);
        format!("v1:{}", B64.encode(out))
    }

    /// Decrypts a value made by `seal`; `None` when it was tampered with or sealed with
    /// another key.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let raw = B64.decode(sealed.strip_prefix("v1:")?).ok()?;
        if raw.len() < 24 {
            return None;
        }
        let (nonce, ct) = raw.split_at(24);
        let nonce = XNonce::try_from(nonce).ok()?;
        let plain = self.cipher.decrypt(&nonce, ct).ok()?;
        String::from_utf8(plain).ok()
    }

    /// A keyed digest for exact look-up of a normalised value.
    pub fn lookup(&self, value: &str) -> String {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.mac_key).expect("32-byte key");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// SHA-256 of a random token, hex: what the database keeps of session ids, API tokens
/// and reset links, so a database leak does not hand out live credentials.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random token for URLs and cookies (256 bits, URL-safe).
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A random initial password that meets the policy: 12 characters of four kinds, from
/// letters and digits that cannot be mistaken for one another when read out.
pub fn new_password() -> String {
    use rand::seq::IndexedRandom;
    const LOWER: &[u8] = b"abcdefghjkmnpqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"!#%+-=?@";
    let pattern = [
        UPPER, LOWER, LOWER, LOWER, DIGIT, DIGIT, SYMBOL, LOWER, UPPER, LOWER, DIGIT, LOWER,
    ];
    let mut rng = rand::rng();
    pattern
        .iter()
        .map(|set| char::from(*set.choose(&mut rng).expect("non-empty set")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_meet_the_policy() {
        for _ in 0..50 {
            let p = new_password();
            assert_eq!(p.len(), 12);
            assert_eq!(
                pingxuan_rules::password::check_strength(&p, "someone"),
                Ok(())
            );
        }
    }

    #[test]
    fn seal_open_and_lookup() {
        let s = Sealer::new(b"0123456789abcdef0123456789abcdef");
        let a = s.seal("11010519491231002X");
        let b = s.seal("11010519491231002X");
        assert_ne!(a, b, "fresh nonce each time");
        assert!(!a.contains("1101"));
        assert_eq!(s.open(&a).as_deref(), Some("11010519491231002X"));
        assert_eq!(s.lookup("x"), s.lookup("x"));
        let other = Sealer::new(b"another secret, another key.....");
        assert_eq!(other.open(&a), None);
        assert_ne!(other.lookup("x"), s.lookup("x"));
        let mut tampered = a.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(s.open(&tampered), None);
    }
}
