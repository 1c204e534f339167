//! Login tokens: HS256 JWTs with an expiry, the user's token version and the session's CSRF
//! token in the claims.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What a token says.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// The user's token version when issued; a password change bumps it.
    pub ver: i64,
    /// The CSRF token that cookie-authenticated requests must echo.
    pub csrf: String,
    pub iat: u64,
    pub exp: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("invalid token")]
    Invalid,
}

/// Signing and verification keys from one secret.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// The same secret, for [`Keys::tag`].
    secret: Vec<u8>,
}

impl Keys {
    pub fn new(secret: &[u8]) -> Keys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            secret: secret.to_vec(),
        }
    }

    /// HMAC-SHA256 of `data` under the secret, separated by `purpose`: unforgeable
    /// capabilities that need no storage (web seed keys).
    pub fn tag(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// Signs `claims`.
    pub fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        self.sign_any(claims)
    }

    /// Checks signature, algorithm and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        self.verify_any(token)
    }

    /// Signs claims of another kind (they must carry `sub` and `exp`). Kinds differ in their
    /// required fields, so a token of one kind never verifies as another.
    pub fn sign_any<C: Serialize>(&self, claims: &C) -> Result<String, TokenError> {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding).map_err(|e| {
            tracing::error!("cannot sign a token: {e}");
            TokenError::Invalid
        })
    }

    /// [`Self::verify`] for claims of another kind.
    pub fn verify_any<C: DeserializeOwned>(&self, token: &str) -> Result<C, TokenError> {
        decode::<C>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> Claims {
        Claims {
            sub: "1".into(),
            ver: 0,
            csrf: "c".into(),
            iat: 0,
            exp,
        }
    }

    #[test]
    fn round_trip_expiry_and_forgery() {
        let keys = Keys::new(b"0123456789abcdef0123456789abcdef");
        let now = jsonwebtoken::get_current_timestamp();
        let good = keys.sign(&claims(now + 60)).unwrap();
        assert_eq!(keys.verify(&good).unwrap(), claims(now + 60));
        let old = keys.sign(&claims(now - 60)).unwrap();
        assert_eq!(keys.verify(&old), Err(TokenError::Expired));
        let other = Keys::new(b"another secret that is long enough!!");
        assert_eq!(other.verify(&good), Err(TokenError::Invalid));
        assert_eq!(keys.verify("not.a.token"), Err(TokenError::Invalid));
    }
}
