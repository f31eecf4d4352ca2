//! Verification through aws-lc-rs, with the public key parsed once.

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ParsedPublicKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use crate::error::BoxError;

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

/// A signing key, parsed once.
pub(crate) enum Signer {
    Hmac(Box<hmac::Key>),
    Rsa(signature::RsaKeyPair, &'static dyn signature::RsaEncoding),
    Ecdsa(signature::EcdsaKeyPair),
    Ed(signature::Ed25519KeyPair),
}

impl Signer {
    pub(crate) fn new(alg: Algorithm, key: &EncodingKey) -> Result<Self, String> {
        let bytes = key.as_bytes();
        let rsa = |encoding: &'static dyn signature::RsaEncoding| {
            signature::RsaKeyPair::from_der(bytes)
                .map(|pair| Self::Rsa(pair, encoding))
                .map_err(|e| e.to_string())
        };
        let ecdsa = |alg: &'static signature::EcdsaSigningAlgorithm| {
            signature::EcdsaKeyPair::from_pkcs8(alg, bytes)
                .map(Self::Ecdsa)
                .map_err(|e| e.to_string())
        };
        let hmac = |alg| Ok(Self::Hmac(Box::new(hmac::Key::new(alg, bytes))));
        match alg {
            Algorithm::HS256 => hmac(hmac::HMAC_SHA256),
            Algorithm::HS384 => hmac(hmac::HMAC_SHA384),
            Algorithm::HS512 => hmac(hmac::HMAC_SHA512),
            Algorithm::RS256 => rsa(&signature::RSA_PKCS1_SHA256),
            Algorithm::RS384 => rsa(&signature::RSA_PKCS1_SHA384),
            Algorithm::RS512 => rsa(&signature::RSA_PKCS1_SHA512),
            Algorithm::PS256 => rsa(&signature::RSA_PSS_SHA256),
            Algorithm::PS384 => rsa(&signature::RSA_PSS_SHA384),
            Algorithm::PS512 => rsa(&signature::RSA_PSS_SHA512),
            Algorithm::ES256 => ecdsa(&signature::ECDSA_P256_SHA256_FIXED_SIGNING),
            Algorithm::ES384 => ecdsa(&signature::ECDSA_P384_SHA384_FIXED_SIGNING),
            Algorithm::EdDSA => signature::Ed25519KeyPair::from_pkcs8(bytes)
                .map(Self::Ed)
                .map_err(|e| e.to_string()),
            _ => Err("unsupported algorithm".into()),
        }
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, BoxError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match self {
            Self::Hmac(key) => Ok(hmac::sign(key, message).as_ref().to_vec()),
            Self::Rsa(pair, encoding) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(*encoding, &rng, message, &mut signature)?;
                Ok(signature)
            }
            Self::Ecdsa(pair) => Ok(pair.sign(&rng, message)?.as_ref().to_vec()),
            Self::Ed(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}
