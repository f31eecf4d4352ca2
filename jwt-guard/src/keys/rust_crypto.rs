//! Verification through the pure-Rust RustCrypto crates, with the public key
//! parsed once.

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey};
use p256::ecdsa::signature::Verifier as _;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::{Pkcs1v15Sign, Pss, RsaPublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};

pub(crate) enum Verifier {
    Hs256(Hmac<Sha256>),
    Hs384(Hmac<Sha384>),
    Hs512(Hmac<Sha512>),
    Rsa(Algorithm, RsaPublicKey),
    Es256(p256::ecdsa::VerifyingKey),
    Es384(p384::ecdsa::VerifyingKey),
    Ed(ed25519_dalek::VerifyingKey),
}

impl Verifier {
    pub(crate) fn new(alg: Algorithm, key: &DecodingKey) -> Result<Self, String> {
        let bytes = key.try_get_as_bytes().map_err(|e| e.to_string())?;
        let e = |e: &dyn std::fmt::Display| e.to_string();
        Ok(match alg {
            Algorithm::HS256 => Self::Hs256(Hmac::new_from_slice(bytes).map_err(|x| e(&x))?),
            Algorithm::HS384 => Self::Hs384(Hmac::new_from_slice(bytes).map_err(|x| e(&x))?),
            Algorithm::HS512 => Self::Hs512(Hmac::new_from_slice(bytes).map_err(|x| e(&x))?),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => {
                Self::Rsa(alg, RsaPublicKey::from_pkcs1_der(bytes).map_err(|x| e(&x))?)
            }
            Algorithm::ES256 => {
                Self::Es256(p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(|x| e(&x))?)
            }
            Algorithm::ES384 => {
                Self::Es384(p384::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(|x| e(&x))?)
            }
            Algorithm::EdDSA => {
                let raw: &[u8; 32] = bytes
                    .try_into()
                    .map_err(|_| "an Ed25519 public key is 32 bytes".to_owned())?;
                Self::Ed(ed25519_dalek::VerifyingKey::from_bytes(raw).map_err(|x| e(&x))?)
            }
            _ => return Err("unsupported algorithm".into()),
        })
    }

    /// Constant-time for HMAC.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        fn mac<M: Mac + Clone>(key: &M, message: &[u8], signature: &[u8]) -> bool {
            let mut mac = key.clone();
            mac.update(message);
            mac.verify_slice(signature).is_ok()
        }
        match self {
            Self::Hs256(key) => mac(key, message, signature),
            Self::Hs384(key) => mac(key, message, signature),
            Self::Hs512(key) => mac(key, message, signature),
            Self::Rsa(alg, key) => {
                let result = match alg {
                    Algorithm::RS256 => key.verify(
                        Pkcs1v15Sign::new::<Sha256>(),
                        &Sha256::digest(message),
                        signature,
                    ),
                    Algorithm::RS384 => key.verify(
                        Pkcs1v15Sign::new::<Sha384>(),
                        &Sha384::digest(message),
                        signature,
                    ),
                    Algorithm::RS512 => key.verify(
                        Pkcs1v15Sign::new::<Sha512>(),
                        &Sha512::digest(message),
                        signature,
                    ),
                    Algorithm::PS256 => {
                        key.verify(Pss::new::<Sha256>(), &Sha256::digest(message), signature)
                    }
                    Algorithm::PS384 => {
                        key.verify(Pss::new::<Sha384>(), &Sha384::digest(message), signature)
                    }
                    Algorithm::PS512 => {
                        key.verify(Pss::new::<Sha512>(), &Sha512::digest(message), signature)
                    }
                    _ => return false,
                };
                result.is_ok()
            }
            Self::Es256(key) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok()),
            Self::Es384(key) => p384::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok()),
            Self::Ed(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify_strict(message, &sig).is_ok()),
        }
    }
}
