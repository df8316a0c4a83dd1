//! HMAC-SHA256 signatures for the identity cookie and for CSRF tokens.
//!
//! Every signature is bound to a purpose label, so a value signed for one purpose can never
//! be replayed as another. Comparison is constant-time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::config::SecretKey;

type HmacSha256 = Hmac<Sha256>;

/// Signs and verifies values with the service's secret key.
#[derive(Clone)]
pub struct Signer {
    key: SecretKey,
}

impl Signer {
    pub fn new(key: SecretKey) -> Self {
        Self { key }
    }

    fn mac(&self, purpose: &str, value: &str) -> Vec<u8> {
        // unwrap: HMAC accepts keys of any length.
        let mut mac = HmacSha256::new_from_slice(self.key.expose()).expect("any key length");
        mac.update(purpose.as_bytes());
        mac.update(b"|");
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// `value.signature`, where the signature covers the purpose and the value.
    pub fn sign(&self, purpose: &str, value: &str) -> String {
        format!(
            "{value}.{}",
            URL_SAFE_NO_PAD.encode(self.mac(purpose, value))
        )
    }

    /// The value inside a signed string, or `None` when the signature does not match.
    pub fn verify<'a>(&self, purpose: &str, signed: &'a str) -> Option<&'a str> {
        let (value, signature) = signed.rsplit_once('.')?;
        let given = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let expected = self.mac(purpose, value);
        bool::from(given.ct_eq(&expected)).then_some(value)
    }

    /// The CSRF token of a user: stable for the user, unforgeable without the key.
    pub fn csrf_token(&self, user_id: u64) -> String {
        URL_SAFE_NO_PAD.encode(self.mac("csrf", &user_id.to_string()))
    }

    /// Whether `token` is the user's CSRF token.
    pub fn check_csrf(&self, user_id: u64, token: &str) -> bool {
        bool::from(self.csrf_token(user_id).as_bytes().ct_eq(token.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(byte: u8) -> Signer {
        Signer::new(SecretKey::new(vec![byte; 32]).unwrap())
    }

    #[test]
    fn a_signed_value_verifies() {
        let s = signer(7);
        let signed = s.sign("cookie", "12.abc");
        assert_eq!(s.verify("cookie", &signed), Some("12.abc"));
    }

    #[test]
    fn tampering_with_value_signature_purpose_or_key_is_detected() {
        let s = signer(7);
        let signed = s.sign("cookie", "12.abc");
        let tampered_value = signed.replacen("12", "13", 1);
        assert_eq!(s.verify("cookie", &tampered_value), None, "value changed");
        let mut tampered_sig = signed.clone();
        let last = tampered_sig.pop().unwrap();
        tampered_sig.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(s.verify("cookie", &tampered_sig), None, "signature changed");
        assert_eq!(s.verify("other", &signed), None, "other purpose");
        assert_eq!(signer(8).verify("cookie", &signed), None, "other key");
        assert_eq!(s.verify("cookie", "no-signature"), None, "unsigned");
        assert_eq!(s.verify("cookie", ""), None, "empty");
    }

    #[test]
    fn csrf_tokens_are_per_user() {
        let s = signer(1);
        let token = s.csrf_token(5);
        assert!(s.check_csrf(5, &token));
        assert!(!s.check_csrf(6, &token));
        assert!(!s.check_csrf(5, ""));
    }
}
