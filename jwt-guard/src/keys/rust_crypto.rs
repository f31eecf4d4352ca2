//! Verification through the pure-Rust RustCrypto crates, with the public key
//! parsed once.

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use p256::ecdsa::signature::Verifier as _;
use rsa::{Pkcs1v15Sign, Pss, RsaPublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::error::BoxError;

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
            | Algorithm::PS512 => Self::Rsa(alg, rsa_public_key(bytes).map_err(|x| e(&x))?),
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

/// A signing key, parsed once.
pub(crate) enum Signer {
    Hs256(Hmac<Sha256>),
    Hs384(Hmac<Sha384>),
    Hs512(Hmac<Sha512>),
    Rs256(rsa::pkcs1v15::SigningKey<Sha256>),
    Rs384(rsa::pkcs1v15::SigningKey<Sha384>),
    Rs512(rsa::pkcs1v15::SigningKey<Sha512>),
    Ps256(rsa::pss::BlindedSigningKey<Sha256>),
    Ps384(rsa::pss::BlindedSigningKey<Sha384>),
    Ps512(rsa::pss::BlindedSigningKey<Sha512>),
    Es256(p256::ecdsa::SigningKey),
    Es384(p384::ecdsa::SigningKey),
    Ed(ed25519_dalek::SigningKey),
}

impl Signer {
    pub(crate) fn new(alg: Algorithm, key: &EncodingKey) -> Result<Self, String> {
        use p256::pkcs8::DecodePrivateKey as _;
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        let bytes = key.as_bytes();
        let e = |e: &dyn std::fmt::Display| e.to_string();
        let rsa = || rsa::RsaPrivateKey::from_pkcs1_der(bytes).map_err(|x| e(&x));
        Ok(match alg {
            Algorithm::HS256 => Self::Hs256(Hmac::new_from_slice(bytes).map_err(|x| e(&x))?),
            Algorithm::HS384 => Self::Hs384(Hmac::new_from_slice(bytes).map_err(|x| e(&x))?),
            Algorithm::HS512 => Self::Hs512(Hmac::new_from_slice(bytes).map_err(|x| e(&x))?),
            Algorithm::RS256 => Self::Rs256(rsa::pkcs1v15::SigningKey::new(rsa()?)),
            Algorithm::RS384 => Self::Rs384(rsa::pkcs1v15::SigningKey::new(rsa()?)),
            Algorithm::RS512 => Self::Rs512(rsa::pkcs1v15::SigningKey::new(rsa()?)),
            Algorithm::PS256 => Self::Ps256(rsa::pss::BlindedSigningKey::new(rsa()?)),
            Algorithm::PS384 => Self::Ps384(rsa::pss::BlindedSigningKey::new(rsa()?)),
            Algorithm::PS512 => Self::Ps512(rsa::pss::BlindedSigningKey::new(rsa()?)),
            Algorithm::ES256 => {
                Self::Es256(p256::ecdsa::SigningKey::from_pkcs8_der(bytes).map_err(|x| e(&x))?)
            }
            Algorithm::ES384 => {
                Self::Es384(p384::ecdsa::SigningKey::from_pkcs8_der(bytes).map_err(|x| e(&x))?)
            }
            Algorithm::EdDSA => {
                Self::Ed(ed25519_dalek::SigningKey::from_pkcs8_der(bytes).map_err(|x| e(&x))?)
            }
            _ => return Err("unsupported algorithm".into()),
        })
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, BoxError> {
        use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _};
        fn mac<M: Mac + Clone>(key: &M, message: &[u8]) -> Vec<u8> {
            let mut mac = key.clone();
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        let mut rng = rand::thread_rng();
        Ok(match self {
            Self::Hs256(key) => mac(key, message),
            Self::Hs384(key) => mac(key, message),
            Self::Hs512(key) => mac(key, message),
            Self::Rs256(key) => key.try_sign_with_rng(&mut rng, message)?.to_vec(),
            Self::Rs384(key) => key.try_sign_with_rng(&mut rng, message)?.to_vec(),
            Self::Rs512(key) => key.try_sign_with_rng(&mut rng, message)?.to_vec(),
            Self::Ps256(key) => key.try_sign_with_rng(&mut rng, message)?.to_vec(),
            Self::Ps384(key) => key.try_sign_with_rng(&mut rng, message)?.to_vec(),
            Self::Ps512(key) => key.try_sign_with_rng(&mut rng, message)?.to_vec(),
            Self::Es256(key) => {
                let signature: p256::ecdsa::Signature = key.try_sign(message)?;
                signature.to_bytes().to_vec()
            }
            Self::Es384(key) => {
                let signature: p384::ecdsa::Signature = key.try_sign(message)?;
                signature.to_bytes().to_vec()
            }
            Self::Ed(key) => key.try_sign(message)?.to_bytes().to_vec(),
        })
    }
}

/// The largest RSA modulus accepted, in bits: the `rsa` crate's own
/// default stops at 4096, and keys of 8192 bits are in use.
const MAX_RSA_BITS: usize = 8192;

/// A PKCS#1 `RSAPublicKey`, with moduli up to [`MAX_RSA_BITS`].
fn rsa_public_key(der: &[u8]) -> Result<RsaPublicKey, Box<dyn std::error::Error>> {
    use rsa::pkcs1::der::Decode as _;
    let key = rsa::pkcs1::RsaPublicKey::from_der(der)?;
    let n = rsa::BigUint::from_bytes_be(key.modulus.as_bytes());
    let e = rsa::BigUint::from_bytes_be(key.public_exponent.as_bytes());
    Ok(RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS)?)
}
