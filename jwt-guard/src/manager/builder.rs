//! [`TokenManagerBuilder`]: every setting of a [`TokenManager`], checked once
//! at build time, from code or from `JWT_GUARD_*` environment variables.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use jsonwebtoken::Algorithm;

use super::{Clock, SystemClock, TokenManager};
use crate::cache::SignatureCache;
use crate::claims::MAX_TTL;
use crate::error::{AuthError, ConfigError};
use crate::keys::{KeySpec, Keys, Material, VerifyingKey};
use crate::revocation::RevocationStore;
use crate::transport::{CookieNames, Location};

/// The longest leeway accepted: RFC 8725 asks for a small one.
const MAX_LEEWAY: Duration = Duration::from_secs(5 * 60);

pub(crate) type ErrorHandler = Arc<dyn Fn(&AuthError) -> Response + Send + Sync>;

/// Builds a [`TokenManager`]. Start from [`TokenManager::builder`].
///
/// Every setting is checked by [`build`](Self::build), so a bad
/// configuration stops the program at start-up with an error naming the
/// setting, never at the first request.
///
/// ```
/// use std::time::Duration;
/// use jwt_guard::{Location, TokenManager};
///
/// let manager = TokenManager::builder()
///     .issuer("my-api")
///     .hs256("a secret of at least thirty-two bytes!!")
///     .access_ttl(Duration::from_secs(600))
///     .locations([Location::Header, Location::Cookie])
///     .build()?;
/// # Ok::<(), jwt_guard::ConfigError>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct TokenManagerBuilder {
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Option<String>,
    pub(crate) key: Option<KeySpec>,
    /// A second key setting, refused at build.
    pub(crate) conflict: Option<&'static str>,
    pub(crate) kid: Option<String>,
    /// Keys that only verify.
    pub(crate) verify_keys: Vec<KeySpec>,
    pub(crate) signature_cache: usize,
    #[cfg(feature = "remote")]
    pub(crate) issuers: Vec<crate::Issuer>,
    pub(crate) access_ttl: Duration,
    pub(crate) refresh_ttl: Duration,
    pub(crate) leeway: Duration,
    pub(crate) locations: Vec<Location>,
    pub(crate) cookie_names: CookieNames,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) realm: Option<String>,
    pub(crate) max_token_bytes: usize,
    pub(crate) allow_weak_secret: bool,
    pub(crate) store: Option<Arc<dyn RevocationStore>>,
    pub(crate) refresh_rotation: bool,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) error_handler: Option<ErrorHandler>,
}

impl Default for TokenManagerBuilder {
    fn default() -> Self {
        Self {
            issuer: None,
            audience: None,
            key: None,
            conflict: None,
            kid: None,
            verify_keys: Vec::new(),
            signature_cache: crate::cache::DEFAULT_CAPACITY,
            #[cfg(feature = "remote")]
            issuers: Vec::new(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            leeway: Duration::from_secs(30),
            locations: vec![Location::Header],
            cookie_names: CookieNames::default(),
            allowed_origins: Vec::new(),
            realm: None,
            max_token_bytes: 8 * 1024,
            allow_weak_secret: false,
            store: None,
            refresh_rotation: false,
            clock: Arc::new(SystemClock),
            error_handler: None,
        }
    }
}

macro_rules! hmac_setters {
    ($($name:ident => $alg:ident, $min:literal),* $(,)?) => {$(
        #[doc = concat!(
            "Signs and verifies with ", stringify!($alg), " and this secret.\n\n",
            "The secret must be at least ", $min, " bytes, the size of the hash (RFC 7518 §3.2); ",
            "[`generate_secret`](crate::generate_secret) makes one long enough for every HMAC algorithm.",
        )]
        pub fn $name(self, secret: impl AsRef<[u8]>) -> Self {
            self.set_key(stringify!($name), Algorithm::$alg, Material::Secret(secret.as_ref().to_vec()))
        }
    )*};
}

macro_rules! pem_setters {
    ($($name:ident => $alg:ident, $what:literal),* $(,)?) => {$(
        #[doc = concat!(
            "Signs with the ", $what, " private key and verifies with its public key, both PEM, with ",
            stringify!($alg), ".\n\nThe pair is checked at build: a key of another family, size or ",
            "curve, or a public key that is not the private key's, is a [`ConfigError`].",
        )]
        pub fn $name(self, private_pem: impl AsRef<[u8]>, public_pem: impl AsRef<[u8]>) -> Self {
            self.set_key(stringify!($name), Algorithm::$alg, Material::Pem {
                private: private_pem.as_ref().to_vec(),
                public: public_pem.as_ref().to_vec(),
            })
        }
    )*};
}

impl TokenManagerBuilder {
    fn set_key(mut self, setting: &'static str, alg: Algorithm, material: Material) -> Self {
        if self.key.is_some() {
            self.conflict.get_or_insert(setting);
        } else {
            self.key = Some(KeySpec {
                setting,
                kid: None,
                alg,
                material,
            });
        }
        self
    }

    hmac_setters!(hs256 => HS256, "32", hs384 => HS384, "48", hs512 => HS512, "64");
    pem_setters!(
        rs256_pem => RS256, "RSA (2048 bits or more)",
        rs384_pem => RS384, "RSA (2048 bits or more)",
        rs512_pem => RS512, "RSA (2048 bits or more)",
        ps256_pem => PS256, "RSA (2048 bits or more)",
        ps384_pem => PS384, "RSA (2048 bits or more)",
        ps512_pem => PS512, "RSA (2048 bits or more)",
        es256_pem => ES256, "P-256",
        es384_pem => ES384, "P-384",
        ed25519_pem => EdDSA, "Ed25519",
    );

    /// Whether a key has been set (by a key method or the environment).
    #[must_use]
    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// The signing key's id, set as `kid` in every token's header and in
    /// its [JWK](crate::TokenManager::jwks). A token whose `kid` names no
    /// key of the manager is refused. Defaults to none; required when other
    /// keys verify ([`verify_key_pem`](Self::verify_key_pem)).
    pub fn key_id(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Also verifies tokens signed by another key: the public key (PEM) of
    /// `alg` whose id is `kid`. A token is verified by the one key its
    /// header's `kid` names, with that key's algorithm; no other key is
    /// tried.
    ///
    /// This is how keys rotate: sign with the new key (with its own
    /// [`key_id`](Self::key_id)) and keep the old one here until the last
    /// token it signed has expired; then remove it (or
    /// [`retire_key`](crate::TokenManager::retire_key) it at once). A
    /// manager with keys that verify and no signing key only verifies.
    ///
    /// ```
    /// use jsonwebtoken::Algorithm;
    /// use jwt_guard::TokenManager;
    ///
    /// let manager = TokenManager::builder()
    ///     .es256_pem(
    ///         include_bytes!("../../../tests/keys/ec256-private.pem"),
    ///         include_bytes!("../../../tests/keys/ec256-public.pem"),
    ///     )
    ///     .key_id("2026-11")
    ///     .verify_key_pem("2026-05", Algorithm::ES256, include_bytes!("../../../tests/keys/ec256b-public.pem"))
    ///     .build()?;
    /// assert_eq!(manager.jwks()["keys"].as_array().unwrap().len(), 2);
    /// # Ok::<(), jwt_guard::ConfigError>(())
    /// ```
    pub fn verify_key_pem(
        self,
        kid: impl Into<String>,
        alg: Algorithm,
        public_pem: impl AsRef<[u8]>,
    ) -> Self {
        let material = Material::Public(public_pem.as_ref().to_vec());
        self.verify_key("verify_key_pem", kid.into(), alg, material)
    }

    /// Also verifies tokens signed with another HMAC secret, whose id is
    /// `kid`: [`verify_key_pem`](Self::verify_key_pem) for a rotated secret.
    /// Never published.
    pub fn verify_key_secret(
        self,
        kid: impl Into<String>,
        alg: Algorithm,
        secret: impl AsRef<[u8]>,
    ) -> Self {
        let material = Material::Secret(secret.as_ref().to_vec());
        self.verify_key("verify_key_secret", kid.into(), alg, material)
    }

    fn verify_key(
        mut self,
        setting: &'static str,
        kid: String,
        alg: Algorithm,
        material: Material,
    ) -> Self {
        self.verify_keys.push(KeySpec {
            setting,
            kid: Some(kid),
            alg,
            material,
        });
        self
    }

    /// Accepts the tokens of another issuer, whose keys are fetched from
    /// its OIDC discovery document or JWK Set URL (feature `remote`). An
    /// [`audience`](Self::audience) is then required. A manager that
    /// trusts issuers needs no key of its own: without one it only
    /// verifies. Several issuers may be trusted; each token's `iss`
    /// chooses one, and only its keys verify the token.
    ///
    /// Nothing is fetched here: keys are fetched when a token of the
    /// issuer first arrives (that request waits at most one fetch's
    /// [`timeout`](crate::Issuer::timeout)), then refreshed in the
    /// background.
    #[cfg(feature = "remote")]
    pub fn trust_issuer(mut self, issuer: crate::Issuer) -> Self {
        self.issuers.push(issuer);
        self
    }

    /// How many verified signatures of asymmetric keys (RSA, ECDSA,
    /// Ed25519) to remember, so that a token presented again skips its
    /// signature check; `0` turns the cache off. Defaults to 10 000
    /// tokens (each entry holds the token and its parsed claims: about
    /// 2 KiB for a token of 1 KiB, 20 MiB when full). Every other check still runs on every request;
    /// a token is forgotten at its `exp`, and every token when a key is
    /// retired or rotated out.
    pub fn signature_cache(mut self, tokens: usize) -> Self {
        self.signature_cache = tokens;
        self
    }

    /// The `iss` set on every token and required on verification. Defaults
    /// to none (no `iss` issued or checked).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The `aud` set on every token and required on verification. Defaults
    /// to none, in which case a token that carries an `aud` is refused
    /// (RFC 7519 §4.1.3).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Lifetime of access tokens, and the longest an access token may be
    /// given with [`TokenBuilder::ttl`](crate::TokenBuilder::ttl). Defaults
    /// to 15 minutes; at most 366 days.
    pub fn access_ttl(mut self, ttl: Duration) -> Self {
        self.access_ttl = ttl;
        self
    }

    /// Lifetime of refresh tokens, and the longest a refresh token may be
    /// given with [`TokenBuilder::ttl`](crate::TokenBuilder::ttl). Defaults
    /// to 30 days; at most 366 days.
    pub fn refresh_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_ttl = ttl;
        self
    }

    /// Clock skew allowed on `exp`, `nbf` and `iat`. Defaults to 30 seconds;
    /// at most 5 minutes.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Where tokens are read, in order: the first location that holds one
    /// wins. Defaults to the `Authorization` header only.
    pub fn locations(mut self, locations: impl IntoIterator<Item = Location>) -> Self {
        self.locations = locations.into_iter().collect();
        self
    }

    /// The names of the cookies of cookie transport. Defaults to
    /// [`CookieNames::default`]: `__Host-access_token`,
    /// `__Host-refresh_token`, `__Host-csrf_access_token`,
    /// `__Host-csrf_refresh_token`.
    pub fn cookie_names(mut self, names: CookieNames) -> Self {
        self.cookie_names = names;
        self
    }

    /// Origins, besides the request's own, whose pages may send a
    /// cookie-borne token on an unsafe method or a WebSocket upgrade: a
    /// front end served from another host, written as browsers send it in
    /// `Origin`, `scheme://host[:port]`. Tokens in the `Authorization`
    /// header or the query string are not affected.
    ///
    /// By default only the request's own origin is allowed: the host in
    /// its `Host` header. Each call adds to the list.
    ///
    /// ```
    /// use jwt_guard::{Location, TokenManager};
    ///
    /// let manager = TokenManager::builder()
    ///     .hs256(jwt_guard::generate_secret())
    ///     .locations([Location::Cookie])
    ///     .allowed_origins(["https://app.example.com", "http://localhost:5173"])
    ///     .build()?;
    ///
    /// let err = TokenManager::builder()
    ///     .hs256(jwt_guard::generate_secret())
    ///     .allowed_origins(["https://app.example.com/login"])
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.setting(), "allowed_origins");
    /// # Ok::<(), jwt_guard::ConfigError>(())
    /// ```
    pub fn allowed_origins<I>(mut self, origins: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.allowed_origins
            .extend(origins.into_iter().map(Into::into));
        self
    }

    /// The `realm` of `WWW-Authenticate` challenges. Defaults to the issuer,
    /// or `"api"` when no issuer is set.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// The longest token accepted, in bytes; longer ones are refused before
    /// any decoding. Defaults to 8 KiB; between 256 bytes and 64 KiB.
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        self.max_token_bytes = bytes;
        self
    }

    /// Accept HMAC secrets shorter than their hash (32, 48 or 64 bytes).
    /// For tests only; never in production. Defaults to `false`.
    pub fn allow_weak_secret(mut self, allow: bool) -> Self {
        self.allow_weak_secret = allow;
        self
    }

    /// Where revocations are kept. Defaults to a [`MemoryStore`](crate::MemoryStore).
    pub fn revocation_store(mut self, store: impl RevocationStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Single-use refresh tokens with reuse detection (RFC 9700 §4.14.2).
    /// Off by default. When on, [`TokenManager::rotate`] consumes the
    /// refresh token it is given, and presenting a consumed one again
    /// revokes its whole family (the login session: its refresh token and
    /// the access tokens issued with it) and is refused.
    pub fn refresh_rotation(mut self, on: bool) -> Self {
        self.refresh_rotation = on;
        self
    }

    /// The clock used to issue and verify. Defaults to the system clock;
    /// tests can supply their own.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Replaces the response of every refusal. The handler gets the
    /// [`AuthError`], whose [`status`](AuthError::status),
    /// [`code`](AuthError::code) and [`message`](AuthError::message) say
    /// what was wrong. A response with the refusal's status, or any 401,
    /// keeps the refusal's RFC 6750 `WWW-Authenticate` challenge unless the
    /// handler sets one of its own; a response with another status (a
    /// redirect to a login page, say) is sent as the handler built it.
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// use jwt_guard::TokenManager;
    ///
    /// let manager = TokenManager::builder()
    ///     .hs256("a secret of at least thirty-two bytes!!")
    ///     .error_handler(|err| (err.status(), err.message().into_owned()).into_response())
    ///     .build()?;
    /// # Ok::<(), jwt_guard::ConfigError>(())
    /// ```
    pub fn error_handler(
        mut self,
        handler: impl Fn(&AuthError) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.error_handler = Some(Arc::new(handler));
        self
    }

    /// Checks every setting and prepares keys and validation once.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first setting at fault.
    pub fn build(self) -> Result<TokenManager, ConfigError> {
        #[cfg(feature = "remote")]
        let trusts = !self.issuers.is_empty();
        #[cfg(not(feature = "remote"))]
        let trusts = false;
        if self.key.is_none() && self.verify_keys.is_empty() && !trusts {
            return Err(ConfigError::new(
                "key",
                "no signing key: call `hs256(secret)` or another key method \
                 (or set JWT_GUARD_SECRET)",
            ));
        }
        if let (Some(key), Some(second)) = (&self.key, self.conflict) {
            return Err(ConfigError::new(
                second,
                format!("a key is already set by `{}`; set one key", key.setting),
            ));
        }
        self.check_values(|setting| setting)?;
        let signing = self.key.clone().map(|key| KeySpec {
            kid: self.kid.clone(),
            ..key
        });
        let keys = Keys::build(signing.as_ref(), &self.verify_keys, self.allow_weak_secret)?;
        if signing.is_none() {
            // Said once, in case a key setting was meant but mistyped.
            tracing::info!(target: "jwt_guard", "no signing key: this manager only verifies tokens");
        }
        let costly = keys.verifying().iter().any(VerifyingKey::is_asymmetric) || trusts;
        let cache = (self.signature_cache > 0 && costly)
            .then(|| Arc::new(SignatureCache::new(self.signature_cache)));
        #[cfg(feature = "remote")]
        let remote = if trusts {
            Some(crate::remote::Remote::new(
                self.issuers.clone(),
                self.audience.as_deref(),
                self.issuer.as_deref(),
                self.leeway.as_secs(),
                cache.clone(),
            )?)
        } else {
            None
        };
        Ok(TokenManager::from_builder(
            self,
            keys,
            cache,
            #[cfg(feature = "remote")]
            remote,
        ))
    }

    /// Checks every value but the key, reporting a mistake under the name
    /// `name` gives its setting: the builder method's, or the variable's
    /// for values read by [`from_env_with`](Self::from_env_with).
    fn check_values(&self, name: impl Fn(&'static str) -> &'static str) -> Result<(), ConfigError> {
        for (setting, ttl) in [
            ("access_ttl", self.access_ttl),
            ("refresh_ttl", self.refresh_ttl),
        ] {
            if ttl.is_zero() {
                return Err(ConfigError::new(name(setting), "must be longer than zero"));
            }
            if ttl > MAX_TTL {
                return Err(ConfigError::new(name(setting), "must be at most 366 days"));
            }
        }
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::new(
                name("leeway"),
                "must be at most 5 minutes",
            ));
        }
        if self.locations.is_empty() {
            return Err(ConfigError::new(
                name("locations"),
                "name at least one location",
            ));
        }
        for (i, location) in self.locations.iter().enumerate() {
            if self.locations.iter().take(i).any(|l| l == location) {
                return Err(ConfigError::new(
                    name("locations"),
                    format!("`{location:?}` is listed twice"),
                ));
            }
        }
        if !(256..=64 * 1024).contains(&self.max_token_bytes) {
            return Err(ConfigError::new(
                name("max_token_bytes"),
                "must be between 256 and 65536",
            ));
        }
        for (setting, value) in [
            ("issuer", &self.issuer),
            ("audience", &self.audience),
            ("realm", &self.realm),
        ] {
            if value.as_deref().is_some_and(str::is_empty) {
                return Err(ConfigError::new(name(setting), "must not be empty"));
            }
        }
        for origin in &self.allowed_origins {
            if crate::transport::parse_origin(origin).is_none() {
                return Err(ConfigError::new(
                    name("allowed_origins"),
                    format!(
                        "`{}` is not an origin: write `scheme://host[:port]` with `http` or \
                         `https` and nothing after the host or port, such as \
                         `https://app.example.com`",
                        origin.escape_debug()
                    ),
                ));
            }
        }
        let names = self.cookie_names.all();
        for (i, (field, cookie)) in names.iter().enumerate() {
            // RFC 6265 §4.1.1: a cookie name is an RFC 7230 token.
            let is_token = !cookie.is_empty()
                && cookie
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !is_token {
                return Err(ConfigError::new(
                    name("cookie_names"),
                    format!("`{field}` is not a cookie name: use letters, digits and `-_.`"),
                ));
            }
            if names.iter().take(i).any(|(_, other)| other == cookie) {
                return Err(ConfigError::new(
                    name("cookie_names"),
                    format!("`{field}` repeats the name `{cookie}`: give each cookie its own"),
                ));
            }
        }
        let kids = std::iter::once((name("key_id"), self.kid.as_deref())).chain(
            self.verify_keys
                .iter()
                .map(|k| (k.setting, k.kid.as_deref())),
        );
        for (setting, kid) in kids {
            let Some(kid) = kid else { continue };
            if kid.is_empty() {
                return Err(ConfigError::new(setting, "a key id must not be empty"));
            }
            if kid.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
                return Err(ConfigError::new(
                    setting,
                    format!(
                        "key id `{}` must not contain quotes, backslashes or control characters: \
                         it travels unescaped in token headers and JWKS",
                        kid.escape_debug()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Applies the `JWT_GUARD_*` settings found by `lookup` (a variable
    /// name in, its value out); settings whose variable is unset keep their
    /// value. [`from_env`](Self::from_env) reads the process environment.
    ///
    /// | variable | setting |
    /// |---|---|
    /// | `JWT_GUARD_ALGORITHM` | `HS256` (default), `HS384`, `HS512`, `RS256`…`PS512`, `ES256`, `ES384`, `EdDSA` |
    /// | `JWT_GUARD_SECRET` | the HMAC secret |
    /// | `JWT_GUARD_PRIVATE_KEY_FILE`, `JWT_GUARD_PUBLIC_KEY_FILE` | PEM files, for the other algorithms |
    /// | `JWT_GUARD_KEY_ID` | [`key_id`](Self::key_id) |
    /// | `JWT_GUARD_VERIFY_KEYS` | [`verify_key_pem`](Self::verify_key_pem): a directory of public keys (`*.pem`), or PEM files separated by commas, of `JWT_GUARD_ALGORITHM`; each file's name without `.pem` is its `kid`. Without a key pair, the manager only verifies. |
    /// | `JWT_GUARD_TRUSTED_ISSUERS` | issuers whose tokens are accepted (feature `remote`), separated by commas or spaces, each found through `<issuer>/.well-known/openid-configuration` ([`Issuer::discover`](crate::Issuer::discover)); needs `JWT_GUARD_AUDIENCE`. Without a key of its own, the manager only verifies. |
    /// | `JWT_GUARD_SIGNATURE_CACHE` | [`signature_cache`](Self::signature_cache): tokens remembered, `0` for none |
    /// | `JWT_GUARD_ISSUER`, `JWT_GUARD_AUDIENCE` | [`issuer`](Self::issuer), [`audience`](Self::audience) |
    /// | `JWT_GUARD_ACCESS_TTL`, `JWT_GUARD_REFRESH_TTL`, `JWT_GUARD_LEEWAY` | durations: `90`, `90s`, `15m`, `12h`, `30d` |
    /// | `JWT_GUARD_LOCATIONS` | `header,cookie,query`, in order |
    /// | `JWT_GUARD_ALLOWED_ORIGINS` | [`allowed_origins`](Self::allowed_origins), separated by commas or spaces |
    /// | `JWT_GUARD_REALM`, `JWT_GUARD_MAX_TOKEN_BYTES` | [`realm`](Self::realm), [`max_token_bytes`](Self::max_token_bytes) |
    /// | `JWT_GUARD_REFRESH_ROTATION` | `true` or `false`: [`refresh_rotation`](Self::refresh_rotation) |
    /// | `JWT_GUARD_REDIS_URL` | a [`RedisStore`](crate::RedisStore) (feature `redis`): the URL of one Redis, or seed nodes of a cluster separated by commas; it connects in the background, and guarded requests are refused (503) until its replica is loaded. Needs a tokio runtime. |
    /// | `JWT_GUARD_REDIS_MAX_STALENESS` | the Redis store's [`max_staleness`](crate::RedisStoreBuilder::max_staleness): `1s` (default), `250ms` |
    ///
    /// ```
    /// use jwt_guard::TokenManagerBuilder;
    /// let env = |name: &str| match name {
    ///     "JWT_GUARD_SECRET" => Some("a secret of at least thirty-two bytes!!".to_owned()),
    ///     "JWT_GUARD_ACCESS_TTL" => Some("5m".to_owned()),
    ///     _ => None,
    /// };
    /// let manager = TokenManagerBuilder::from_env_with(env)?.build()?;
    /// # Ok::<(), jwt_guard::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable at fault.
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut builder = Self::default();
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let algorithm = match var("JWT_GUARD_ALGORITHM") {
            Some(name) => name.trim().parse::<Algorithm>().map_err(|_| {
                ConfigError::new(
                    "JWT_GUARD_ALGORITHM",
                    format!("unknown algorithm `{name}`; expected HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA"),
                )
            })?,
            None => Algorithm::HS256,
        };
        let is_hmac = matches!(
            algorithm,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        );
        if is_hmac {
            if let Some(secret) = var("JWT_GUARD_SECRET") {
                builder.key = Some(KeySpec {
                    setting: "JWT_GUARD_SECRET",
                    kid: None,
                    alg: algorithm,
                    material: Material::Secret(secret.into_bytes()),
                });
            }
        } else {
            let read = |name: &'static str, path: &str| -> Result<Vec<u8>, ConfigError> {
                std::fs::read(path)
                    .map_err(|e| ConfigError::new(name, format!("cannot read `{path}`: {e}")))
            };
            let (private, public) = (
                var("JWT_GUARD_PRIVATE_KEY_FILE"),
                var("JWT_GUARD_PUBLIC_KEY_FILE"),
            );
            // Without a pair, a manager with keys that verify only verifies.
            if private.is_some() || public.is_some() || var("JWT_GUARD_VERIFY_KEYS").is_none() {
                let required = |name: &'static str, value: Option<String>| {
                    value.ok_or_else(|| {
                        ConfigError::new(name, format!("required for {algorithm:?}"))
                    })
                };
                let private = required("JWT_GUARD_PRIVATE_KEY_FILE", private)?;
                let public = required("JWT_GUARD_PUBLIC_KEY_FILE", public)?;
                builder.key = Some(KeySpec {
                    setting: "JWT_GUARD_PRIVATE_KEY_FILE",
                    kid: None,
                    alg: algorithm,
                    material: Material::Pem {
                        private: read("JWT_GUARD_PRIVATE_KEY_FILE", &private)?,
                        public: read("JWT_GUARD_PUBLIC_KEY_FILE", &public)?,
                    },
                });
            }
        }
        if let Some(list) = var("JWT_GUARD_VERIFY_KEYS") {
            builder.verify_keys = verify_keys_from(&list, algorithm)?;
        }
        if let Some(kid) = var("JWT_GUARD_KEY_ID") {
            builder.kid = Some(kid);
        }
        if let Some(issuer) = var("JWT_GUARD_ISSUER") {
            builder.issuer = Some(issuer);
        }
        if let Some(audience) = var("JWT_GUARD_AUDIENCE") {
            builder.audience = Some(audience);
        }
        if let Some(realm) = var("JWT_GUARD_REALM") {
            builder.realm = Some(realm);
        }
        for (name, slot) in [
            ("JWT_GUARD_ACCESS_TTL", &mut builder.access_ttl),
            ("JWT_GUARD_REFRESH_TTL", &mut builder.refresh_ttl),
            ("JWT_GUARD_LEEWAY", &mut builder.leeway),
        ] {
            if let Some(value) = var(name) {
                *slot = parse_duration(&value).ok_or_else(|| {
                    ConfigError::new(
                        name,
                        format!("`{value}` is not a duration; write e.g. `90`, `90s`, `15m`, `12h` or `30d`"),
                    )
                })?;
            }
        }
        if let Some(list) = var("JWT_GUARD_LOCATIONS") {
            builder.locations = list
                .split(',')
                .map(|name| name.trim().parse::<Location>())
                .collect::<Result<_, _>>()
                .map_err(|e| ConfigError::new("JWT_GUARD_LOCATIONS", e.to_string()))?;
        }
        if let Some(list) = var("JWT_GUARD_ALLOWED_ORIGINS") {
            builder.allowed_origins = list
                .split([',', ' '])
                .filter(|origin| !origin.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(tokens) = var("JWT_GUARD_SIGNATURE_CACHE") {
            builder.signature_cache = tokens.trim().parse().map_err(|_| {
                ConfigError::new(
                    "JWT_GUARD_SIGNATURE_CACHE",
                    "must be a whole number of tokens (0 turns the cache off)",
                )
            })?;
        }
        if let Some(bytes) = var("JWT_GUARD_MAX_TOKEN_BYTES") {
            builder.max_token_bytes = bytes.trim().parse().map_err(|_| {
                ConfigError::new(
                    "JWT_GUARD_MAX_TOKEN_BYTES",
                    "must be a whole number of bytes",
                )
            })?;
        }
        if let Some(on) = var("JWT_GUARD_REFRESH_ROTATION") {
            builder.refresh_rotation = match on.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => {
                    return Err(ConfigError::new(
                        "JWT_GUARD_REFRESH_ROTATION",
                        format!("`{on}` is not a boolean; write `true` or `false`"),
                    ));
                }
            };
        }
        // A value out of range is the variable's mistake, named as such.
        builder.check_values(|setting| {
            ENV_VARS
                .iter()
                .find(|(s, _)| *s == setting)
                .map_or(setting, |(_, var)| var)
        })?;
        builder.issuers_from_env(&var)?;
        // Last: the store starts connecting once every other value is right.
        builder.store_from_env(&var)?;
        Ok(builder)
    }

    /// [`from_env_with`](Self::from_env_with) over the process environment.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable at fault.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }
}

impl TokenManagerBuilder {
    /// `JWT_GUARD_TRUSTED_ISSUERS`: issuers trusted through discovery.
    fn issuers_from_env(
        &mut self,
        var: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        const NAME: &str = "JWT_GUARD_TRUSTED_ISSUERS";
        let Some(list) = var(NAME) else {
            return Ok(());
        };
        #[cfg(feature = "remote")]
        {
            self.issuers = list
                .split([',', ' '])
                .map(str::trim)
                .filter(|issuer| !issuer.is_empty())
                .map(crate::Issuer::discover)
                .collect();
            // The issuers' own checks, under the variable's name.
            let audience = self.audience.as_deref().ok_or_else(|| {
                ConfigError::new(
                    "JWT_GUARD_AUDIENCE",
                    "required with JWT_GUARD_TRUSTED_ISSUERS: another issuer's token is \
                     accepted only when its `aud` names this API",
                )
            })?;
            crate::remote::Remote::new(
                self.issuers.clone(),
                Some(audience),
                self.issuer.as_deref(),
                0,
                None,
            )
            .map_err(|e| ConfigError::new(NAME, e.reason().to_owned()))?;
            Ok(())
        }
        #[cfg(not(feature = "remote"))]
        {
            let _ = list;
            Err(ConfigError::new(
                NAME,
                "jwt-guard was built without its `remote` feature: enable it to trust other issuers",
            ))
        }
    }

    /// `JWT_GUARD_REDIS_URL` and `JWT_GUARD_REDIS_MAX_STALENESS`: a Redis
    /// store, connecting in the background.
    #[cfg(feature = "redis")]
    fn store_from_env(&mut self, var: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let staleness = var("JWT_GUARD_REDIS_MAX_STALENESS");
        let Some(urls) = var("JWT_GUARD_REDIS_URL") else {
            return match staleness {
                Some(_) => Err(ConfigError::new(
                    "JWT_GUARD_REDIS_MAX_STALENESS",
                    "applies to the Redis store: set JWT_GUARD_REDIS_URL too",
                )),
                None => Ok(()),
            };
        };
        let mut store = crate::RedisStore::builder(
            urls.split([',', ' '])
                .map(str::trim)
                .filter(|u| !u.is_empty()),
        );
        if let Some(value) = staleness {
            store = store.max_staleness(parse_duration(&value).ok_or_else(|| {
                ConfigError::new(
                    "JWT_GUARD_REDIS_MAX_STALENESS",
                    format!("`{value}` is not a duration; write e.g. `1s` or `250ms`"),
                )
            })?);
        }
        let store = store.lazy(|setting| match setting {
            "max_staleness" => "JWT_GUARD_REDIS_MAX_STALENESS",
            _ => "JWT_GUARD_REDIS_URL",
        })?;
        self.store = Some(Arc::new(store));
        Ok(())
    }

    /// Without the `redis` feature, a Redis URL is a mistake to report,
    /// not a setting to ignore.
    #[cfg(not(feature = "redis"))]
    fn store_from_env(&mut self, var: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for name in ["JWT_GUARD_REDIS_URL", "JWT_GUARD_REDIS_MAX_STALENESS"] {
            if var(name).is_some() {
                return Err(ConfigError::new(
                    name,
                    "jwt-guard was built without its `redis` feature: enable it to use Redis",
                ));
            }
        }
        Ok(())
    }
}

/// Each setting [`TokenManagerBuilder::from_env_with`] reads, and its variable.
const ENV_VARS: &[(&str, &str)] = &[
    ("access_ttl", "JWT_GUARD_ACCESS_TTL"),
    ("refresh_ttl", "JWT_GUARD_REFRESH_TTL"),
    ("leeway", "JWT_GUARD_LEEWAY"),
    ("locations", "JWT_GUARD_LOCATIONS"),
    ("allowed_origins", "JWT_GUARD_ALLOWED_ORIGINS"),
    ("max_token_bytes", "JWT_GUARD_MAX_TOKEN_BYTES"),
    ("issuer", "JWT_GUARD_ISSUER"),
    ("audience", "JWT_GUARD_AUDIENCE"),
    ("key_id", "JWT_GUARD_KEY_ID"),
    ("realm", "JWT_GUARD_REALM"),
];

/// `JWT_GUARD_VERIFY_KEYS`: a directory (its `*.pem` files, in name
/// order) or a list of PEM files separated by commas; each is a public key
/// of `alg` (an HMAC algorithm takes none), whose `kid` is its file name
/// without `.pem`.
fn verify_keys_from(list: &str, alg: Algorithm) -> Result<Vec<KeySpec>, ConfigError> {
    const NAME: &str = "JWT_GUARD_VERIFY_KEYS";
    let bad = |reason: String| ConfigError::new(NAME, reason);
    if crate::keys::is_hmac(alg) {
        return Err(bad(format!(
            "holds public keys, which {} does not take; verify with JWT_GUARD_ALGORITHM of a key pair",
            crate::keys::alg_name(alg)
        )));
    }
    let list = list.trim();
    let mut paths: Vec<std::path::PathBuf> = if std::path::Path::new(list).is_dir() {
        std::fs::read_dir(list)
            .map_err(|e| bad(format!("cannot read the directory `{list}`: {e}")))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "pem"))
            .collect()
    } else {
        list.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(Into::into)
            .collect()
    };
    paths.sort();
    if paths.is_empty() {
        return Err(bad(format!("`{list}` holds no `.pem` file")));
    }
    paths
        .iter()
        .map(|path| {
            let shown = path.display();
            let kid = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .ok_or_else(|| bad(format!("`{shown}` has no file name to take as its kid")))?;
            let pem =
                std::fs::read(path).map_err(|e| bad(format!("cannot read `{shown}`: {e}")))?;
            Ok(KeySpec {
                setting: NAME,
                kid: Some(kid.to_owned()),
                alg,
                material: Material::Public(pem),
            })
        })
        .collect()
}

/// `90`, `90s`, `15m`, `12h`, `30d`, and `500ms`.
fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    let (digits, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => value.split_at(at),
        None => (value, "s"),
    };
    let n: u64 = digits.parse().ok()?;
    if unit == "ms" {
        return Some(Duration::from_millis(n));
    }
    let seconds = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

impl fmt::Debug for TokenManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManagerBuilder")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("key", &self.key.as_ref().map(|k| k.setting))
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("leeway", &self.leeway)
            .field("locations", &self.locations)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("250us"), None);
        assert_eq!(parse_duration("1w"), None);
        assert_eq!(parse_duration("-1"), None);
        assert_eq!(parse_duration("m"), None);
    }
}
