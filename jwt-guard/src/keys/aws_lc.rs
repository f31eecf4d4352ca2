//! Verification through aws-lc-rs, with the public key parsed once.

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ParsedPublicKey};
use jsonwebtoken::{Algorithm, DecodingKey};

pub(crate) enum Verifier {
    // Boxed: an HMAC key is over a kilobyte, a parsed public key a pointer.
    Hmac(Box<hmac::Key>),
    Public(ParsedPublicKey),
}

impl Verifier {
    pub(crate) fn new(alg: Algorithm, key: &DecodingKey) -> Result<Self, String> {
        let bytes = key.try_get_as_bytes().map_err(|e| e.to_string())?;
        let public = |alg: &'static dyn signature::VerificationAlgorithm| {
            ParsedPublicKey::new(alg, bytes)
                .map(Self::Public)
                .map_err(|e| e.to_string())
        };
        match alg {
            Algorithm::HS256 => Ok(Self::Hmac(Box::new(hmac::Key::new(
                hmac::HMAC_SHA256,
                bytes,
            )))),
            Algorithm::HS384 => Ok(Self::Hmac(Box::new(hmac::Key::new(
                hmac::HMAC_SHA384,
                bytes,
            )))),
            Algorithm::HS512 => Ok(Self::Hmac(Box::new(hmac::Key::new(
                hmac::HMAC_SHA512,
                bytes,
            )))),
            Algorithm::RS256 => public(&signature::RSA_PKCS1_2048_8192_SHA256),
            Algorithm::RS384 => public(&signature::RSA_PKCS1_2048_8192_SHA384),
            Algorithm::RS512 => public(&signature::RSA_PKCS1_2048_8192_SHA512),
            Algorithm::PS256 => public(&signature::RSA_PSS_2048_8192_SHA256),
            Algorithm::PS384 => public(&signature::RSA_PSS_2048_8192_SHA384),
            Algorithm::PS512 => public(&signature::RSA_PSS_2048_8192_SHA512),
            Algorithm::ES256 => public(&signature::ECDSA_P256_SHA256_FIXED),
            Algorithm::ES384 => public(&signature::ECDSA_P384_SHA384_FIXED),
            Algorithm::EdDSA => public(&signature::ED25519),
            _ => Err("unsupported algorithm".into()),
        }
    }

    /// Constant-time for HMAC.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
            Self::Public(key) => key.verify_sig(message, signature).is_ok(),
        }
    }
}
