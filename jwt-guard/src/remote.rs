//! Tokens of other issuers (feature `remote`): an identity provider, or
//! another service's [`TokenManager`](crate::TokenManager), trusted by its
//! OIDC discovery document or its JWK Set URL ([`Issuer`]).
//!
//! A token's `iss` chooses the issuer, and only that issuer's keys verify
//! it. Keys are fetched on first use, refreshed in the background before
//! their `Cache-Control` lifetime ends, and fetched again for an unknown
//! `kid` at most once per [`refetch_interval`](Issuer::refetch_interval),
//! one fetch for all the requests that wait on it. While the issuer is
//! down, the keys fetched last keep serving.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Url;
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::cache::SignatureCache;
use crate::claims::{Claims, Validation};
use crate::error::{AuthError, ConfigError, InvalidToken};
use crate::keys::{self, VerifyingKey, jwk};

/// The largest discovery document or JWK Set read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// The most keys taken from one set.
const MAX_KEYS: usize = 64;
/// When keys are refreshed without a `max-age` from the issuer.
const DEFAULT_REFRESH: Duration = Duration::from_secs(3600);
/// The longest keys go unrefreshed, whatever the issuer says.
const MAX_REFRESH: Duration = Duration::from_secs(24 * 3600);

/// An issuer whose tokens a [`TokenManager`](crate::TokenManager) accepts,
/// given to [`trust_issuer`](crate::TokenManagerBuilder::trust_issuer).
///
/// Its tokens must carry its `iss` exactly, the manager's
/// [`audience`](crate::TokenManagerBuilder::audience) in `aud`, a `sub`,
/// an `iat` and an `exp`. They are access tokens (never fresh); their
/// `scope` (a space-delimited string or an array) or `scp` is the scope
/// `#[require_token(scope(..))]` checks. URLs must be `https://`, except on
/// loopback addresses.
///
/// ```
/// use jwt_guard::{Issuer, TokenManager};
///
/// let manager = TokenManager::builder()
///     .trust_issuer(Issuer::discover("https://idp.example.com/realms/acme"))
///     .trust_issuer(Issuer::jwks(
///         "https://tenant.example/",
///         "https://tenant.example/.well-known/jwks.json",
///     ))
///     .audience("my-api")
///     .build()?;
/// # Ok::<(), jwt_guard::ConfigError>(())
/// ```
#[derive(Clone)]
#[must_use = "an issuer is trusted once given to `trust_issuer`"]
pub struct Issuer {
    issuer: String,
    /// The JWK Set's URL; `None` to discover it.
    jwks_url: Option<String>,
    refetch_interval: Duration,
    timeout: Duration,
    max_lifetime: Duration,
}

impl Issuer {
    /// The issuer at `issuer`, whose keys are found through its OpenID
    /// Connect discovery document, `<issuer>/.well-known/openid-configuration`
    /// (the document's `issuer` must be `issuer` exactly).
    pub fn discover(issuer: impl Into<String>) -> Self {
        Self::new(issuer.into(), None)
    }

    /// The issuer whose tokens carry `iss` = `issuer`, with its JWK Set at
    /// `jwks_url` (another jwt-guard service serves it at
    /// [`JWKS_PATH`](crate::JWKS_PATH)).
    pub fn jwks(issuer: impl Into<String>, jwks_url: impl Into<String>) -> Self {
        Self::new(issuer.into(), Some(jwks_url.into()))
    }

    fn new(issuer: String, jwks_url: Option<String>) -> Self {
        Self {
            issuer,
            jwks_url,
            refetch_interval: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            max_lifetime: Duration::from_secs(24 * 3600),
        }
    }

    /// The least time between two fetches of the keys for a `kid` they do
    /// not hold (a key the issuer has just rotated in); tokens naming other
    /// unknown `kid`s in between are refused without a fetch. Defaults to
    /// 30 seconds; at least 100 ms.
    pub fn refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    /// How long one fetch may take, connecting included; no request waits
    /// longer for keys. Defaults to 5 seconds; from 100 ms to 60 seconds.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest lifetime (`exp` − `iat`) accepted of this issuer's
    /// tokens; revocations of its tokens are kept that long. Defaults to
    /// 24 hours; at most 366 days.
    pub fn max_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_lifetime = lifetime;
        self
    }

    /// The `iss` of this issuer's tokens.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issuer")
            .field("issuer", &self.issuer)
            .field("jwks_url", &self.jwks_url)
            .field("refetch_interval", &self.refetch_interval)
            .field("timeout", &self.timeout)
            .field("max_lifetime", &self.max_lifetime)
            .finish()
    }
}

/// An `https://` URL, or an `http://` one on a loopback address.
fn check_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        // (A URL of a special scheme always has a host.)
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        _ => Err(format!(
            "`{url}` must be an https:// URL (http:// only on loopback addresses)"
        )),
    }
}

/// Every trusted issuer of a manager, and the client that fetches their
/// keys.
pub(crate) struct Remote {
    issuers: Vec<Arc<State>>,
}

/// One issuer's keys and fetching state.
struct State {
    config: Issuer,
    validation: Validation,
    client: reqwest::Client,
    /// Where the JWK Set is: configured, or read from discovery.
    jwks_url: Mutex<Option<Url>>,
    keys: RwLock<Arc<Vec<VerifyingKey>>>,
    /// Whether any fetch has succeeded.
    loaded: AtomicBool,
    /// Counts fetches, failed ones included: a request that waited on
    /// another's fetch uses its result instead of fetching again.
    fetches: AtomicU64,
    /// One fetch at a time.
    flight: Arc<tokio::sync::Mutex<()>>,
    /// When the last fetch started.
    last_fetch: Mutex<Option<Instant>>,
    /// When the keys are to be refreshed next.
    due: Mutex<Option<Instant>>,
    refresher: AtomicBool,
    cache: Option<Arc<SignatureCache>>,
}

impl Remote {
    /// Checks every issuer's settings; nothing is fetched yet.
    pub(crate) fn new(
        issuers: Vec<Issuer>,
        audience: Option<&str>,
        own_issuer: Option<&str>,
        leeway: u64,
        cache: Option<Arc<SignatureCache>>,
    ) -> Result<Self, ConfigError> {
        let bad = |reason: String| ConfigError::new("trust_issuer", reason);
        let Some(audience) = audience else {
            return Err(ConfigError::new(
                "audience",
                "required with trusted issuers: another issuer's token is accepted only when \
                 its `aud` names this API",
            ));
        };
        let mut states = Vec::with_capacity(issuers.len());
        for config in issuers {
            if config.issuer.is_empty() {
                return Err(bad("an issuer must not be empty".into()));
            }
            let discovery = discovery_url(&config.issuer);
            check_url(config.jwks_url.as_deref().unwrap_or(&discovery)).map_err(bad)?;
            if config.jwks_url.is_none() {
                check_url(&config.issuer).map_err(bad)?;
            }
            if own_issuer == Some(config.issuer.as_str()) {
                return Err(bad(format!(
                    "`{}` is this manager's own issuer; its keys are the manager's",
                    config.issuer
                )));
            }
            if states
                .iter()
                .any(|s: &Arc<State>| s.config.issuer == config.issuer)
            {
                return Err(bad(format!("`{}` is trusted twice", config.issuer)));
            }
            if !(Duration::from_millis(100)..=Duration::from_secs(3600))
                .contains(&config.refetch_interval)
            {
                return Err(bad(
                    "refetch_interval must be between 100 ms and 1 hour".into()
                ));
            }
            if !(Duration::from_millis(100)..=Duration::from_secs(60)).contains(&config.timeout) {
                return Err(bad("timeout must be between 100 ms and 60 s".into()));
            }
            if config.max_lifetime.is_zero() || config.max_lifetime > crate::claims::MAX_TTL {
                return Err(bad(
                    "max_token_lifetime must be between 1 s and 366 days".into()
                ));
            }
            let client = reqwest::Client::builder()
                .connect_timeout(config.timeout)
                .timeout(config.timeout)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("jwt-guard/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| bad(format!("cannot make an HTTP client: {e}")))?;
            let lifetime = config.max_lifetime.as_secs();
            states.push(Arc::new(State {
                validation: Validation {
                    issuer: Some(config.issuer.clone()),
                    audience: Some(audience.to_owned()),
                    leeway,
                    access_ttl: lifetime,
                    refresh_ttl: lifetime,
                },
                jwks_url: Mutex::new(config.jwks_url.as_deref().and_then(|u| Url::parse(u).ok())),
                config,
                client,
                keys: RwLock::default(),
                loaded: AtomicBool::new(false),
                fetches: AtomicU64::new(0),
                flight: Arc::default(),
                last_fetch: Mutex::new(None),
                due: Mutex::new(None),
                refresher: AtomicBool::new(false),
                cache: cache.clone(),
            }));
        }
        Ok(Self { issuers: states })
    }

    /// The longest lifetime of any trusted issuer's tokens, in seconds.
    pub(crate) fn longest_lifetime(&self) -> u64 {
        self.issuers
            .iter()
            .map(|s| s.validation.access_ttl)
            .max()
            .unwrap_or(0)
    }

    /// The checks of the issuer that verified a token.
    pub(crate) fn validation(&self, origin: usize) -> Option<&Validation> {
        self.issuers.get(origin).map(|s| &s.validation)
    }

    /// The trusted issuer a token names in its (not yet verified) `iss`.
    pub(crate) fn issuer_of(&self, token: &str) -> Option<usize> {
        let (_, payload, _) = keys::split(token).ok()?;
        let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
        #[derive(serde::Deserialize)]
        struct Iss {
            iss: Option<String>,
        }
        let Iss { iss } = serde_json::from_slice(&json).ok()?;
        let iss = iss?;
        self.issuers.iter().position(|s| s.config.issuer == iss)
    }

    /// Verifies a token of the issuer `origin` with its keys, fetching them
    /// when it has none yet or none with the token's `kid`.
    pub(crate) async fn verify(&self, origin: usize, token: &str) -> Result<Claims, AuthError> {
        let state = self.issuers.get(origin).ok_or(InvalidToken::Issuer)?;
        let seen = state.fetches.load(Ordering::Acquire);
        let keys = state.current();
        match keys::verify(&keys, token) {
            Ok((payload, _)) => return Ok(Claims::from_remote_payload(payload, origin)?),
            // Keys are only looked for when the token names one we lack.
            Err(InvalidToken::UnknownKey) => {}
            Err(other) => return Err(other.into()),
        }
        state.fetch_for_unknown_kid(seen).await;
        if !state.loaded.load(Ordering::Acquire) {
            return Err(AuthError::IssuerUnavailable);
        }
        let keys = state.current();
        let (payload, _) = keys::verify(&keys, token)?;
        Ok(Claims::from_remote_payload(payload, origin)?)
    }
}

/// The `jwks_uri` of `issuer`'s discovery document, checked as a
/// configured URL is; plain HTTP only from an issuer on plain HTTP
/// (loopback): an https issuer's document never downgrades its keys.
fn discovered_jwks_url(issuer: &str, jwks_uri: &str) -> Result<Url, String> {
    let url = check_url(jwks_uri)?;
    if url.scheme() != "https" && !discovery_url(issuer).starts_with("http://") {
        return Err(format!(
            "the discovery document's jwks_uri `{jwks_uri}` is not https://"
        ));
    }
    Ok(url)
}

fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

impl State {
    fn current(&self) -> Arc<Vec<VerifyingKey>> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Fetches the keys again for a token whose `kid` they lack, unless
    /// another request fetched them since `seen` (its result stands) or
    /// the last fetch is more recent than the refetch interval.
    ///
    /// The request waits at most one fetch timeout in all: for the fetch in
    /// progress, or for its own.
    async fn fetch_for_unknown_kid(self: &Arc<Self>, seen: u64) {
        let deadline = Instant::now() + self.config.timeout;
        let flight = match Arc::clone(&self.flight).try_lock_owned() {
            Ok(idle) => idle,
            // A fetch is in progress: its result is what this request needs.
            Err(_) => {
                let busy = Arc::clone(&self.flight).lock_owned();
                let Ok(guard) = tokio::time::timeout_at(deadline, busy).await else {
                    return;
                };
                guard
            }
        };
        if self.fetches.load(Ordering::Acquire) != seen {
            return;
        }
        let recent = self
            .last_fetch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() < self.config.refetch_interval);
        if recent {
            return;
        }
        // On a task of its own: a request dropped meanwhile (its client
        // gone, a timeout layer) does not leave the keys half fetched
        // while the interval forbids another fetch.
        let state = Arc::clone(self);
        let fetch = tokio::spawn(async move {
            let _flight = flight;
            state.fetch().await;
        });
        let _ = tokio::time::timeout_at(deadline, fetch).await;
    }

    /// One fetch (the caller holds `flight`), which also sets when the
    /// keys are to be refreshed next.
    async fn fetch(self: &Arc<Self>) {
        let started = Instant::now();
        *self
            .last_fetch
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(started);
        let result = tokio::time::timeout(self.config.timeout, self.fetch_keys())
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "no keys within the timeout of {:?}",
                    self.config.timeout
                ))
            });
        self.fetches.fetch_add(1, Ordering::AcqRel);
        let next = match result {
            Ok((keys, max_age)) => {
                self.install(keys);
                self.start_refresher();
                // Refreshed well before the issuer says they may change.
                max_age
                    .map_or(DEFAULT_REFRESH, |age| age / 4 * 3)
                    .clamp(self.config.refetch_interval, MAX_REFRESH)
            }
            Err(error) => {
                tracing::warn!(
                    target: "jwt_guard::remote",
                    issuer = %self.config.issuer,
                    %error,
                    "cannot fetch the issuer's keys; the keys fetched before keep serving"
                );
                self.config.refetch_interval
            }
        };
        *self.due.lock().unwrap_or_else(PoisonError::into_inner) = Some(started + next);
    }

    /// Replaces the keys; a key gone or changed empties the cache.
    fn install(&self, keys: Vec<VerifyingKey>) {
        let mut current = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        let kept = |old: &VerifyingKey| {
            keys.iter()
                .any(|new| new.kid() == old.kid() && new.jwk() == old.jwk())
        };
        let dropped = current.iter().any(|old| !kept(old));
        *current = Arc::new(keys);
        drop(current);
        self.loaded.store(true, Ordering::Release);
        if dropped && let Some(cache) = &self.cache {
            cache.clear();
        }
    }

    /// Refreshes the keys in the background from the first fetch on, for
    /// as long as the manager lives.
    fn start_refresher(self: &Arc<Self>) {
        if self.refresher.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.refresher.store(false, Ordering::Release);
            return;
        };
        let weak: Weak<Self> = Arc::downgrade(self);
        runtime.spawn(async move {
            loop {
                // Wakes at least once per refetch interval, so that a fetch
                // made for a request moves the schedule either way.
                let pause = {
                    let Some(state) = weak.upgrade() else { return };
                    state.until_due().min(state.config.refetch_interval)
                };
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                    continue;
                }
                let Some(state) = weak.upgrade() else { return };
                let _flight = state.flight.lock().await;
                if state.until_due().is_zero() {
                    state.fetch().await;
                }
            }
        });
    }

    /// How long until the keys are to be refreshed.
    fn until_due(&self) -> Duration {
        self.due
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map_or(Duration::ZERO, |due| {
                due.saturating_duration_since(Instant::now())
            })
    }

    /// Fetches the discovery document (once it is known, no more) and the
    /// JWK Set; returns the usable keys and the set's `max-age`.
    async fn fetch_keys(&self) -> Result<(Vec<VerifyingKey>, Option<Duration>), String> {
        let configured = self
            .jwks_url
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let url = match configured {
            Some(url) => url,
            None => {
                let (document, _) = self.get_json(&discovery_url(&self.config.issuer)).await?;
                if document.get("issuer").and_then(Value::as_str) != Some(&self.config.issuer) {
                    return Err(format!(
                        "the discovery document names another issuer than `{}`",
                        self.config.issuer
                    ));
                }
                let jwks_uri = document
                    .get("jwks_uri")
                    .and_then(Value::as_str)
                    .ok_or("the discovery document has no `jwks_uri`")?;
                let url = discovered_jwks_url(&self.config.issuer, jwks_uri)?;
                *self.jwks_url.lock().unwrap_or_else(PoisonError::into_inner) = Some(url.clone());
                url
            }
        };
        let (set, max_age) = self.get_json(url.as_str()).await?;
        let members = set
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("the JWK Set has no `keys` array")?;
        let mut keys = Vec::new();
        for member in members.iter().take(MAX_KEYS) {
            let kid = member
                .get("kid")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let key = member
                .as_object()
                .ok_or_else(|| "not a JSON object".to_owned())
                .and_then(read_key)
                .and_then(
                    |key| match keys.iter().any(|k: &VerifyingKey| k.kid() == key.kid()) {
                        true => Err("its kid is taken by an earlier key".to_owned()),
                        false => Ok(key),
                    },
                );
            match key {
                Ok(key) => keys.push(key),
                Err(reason) => tracing::warn!(
                    target: "jwt_guard::remote",
                    issuer = %self.config.issuer,
                    kid,
                    %reason,
                    "key of a trusted issuer skipped"
                ),
            }
        }
        Ok((keys, max_age))
    }

    /// GETs a JSON document of at most [`MAX_DOCUMENT_BYTES`], and the
    /// `max-age` of its `Cache-Control`.
    async fn get_json(&self, url: &str) -> Result<(Value, Option<Duration>), String> {
        let mut response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(format!("GET {url}: status {}", response.status()));
        }
        if response
            .content_length()
            .is_some_and(|len| len > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(format!("GET {url}: larger than {MAX_DOCUMENT_BYTES} bytes"));
        }
        let max_age = max_age(response.headers());
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(format!("GET {url}: larger than {MAX_DOCUMENT_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        let json =
            serde_json::from_slice(&body).map_err(|e| format!("GET {url}: not JSON: {e}"))?;
        Ok((json, max_age))
    }
}

/// A key of a JWK Set, ready to verify.
fn read_key(member: &Map<String, Value>) -> Result<VerifyingKey, String> {
    let (kid, alg, decoding) = jwk::from_jwk(member)?;
    VerifyingKey::new(Some(kid), alg, &decoding)
}

/// The `max-age` of a `Cache-Control` header; `no-cache` and `no-store`
/// count as zero.
fn max_age(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::CACHE_CONTROL)?.to_str().ok()?;
    value.split(',').map(str::trim).find_map(|directive| {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return Some(Duration::ZERO);
        }
        let secs = lower
            .strip_prefix("max-age=")?
            .trim_matches('"')
            .parse()
            .ok()?;
        Some(Duration::from_secs(secs))
    })
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.issuers.iter().map(|s| &s.config.issuer))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use reqwest::header::{CACHE_CONTROL, HeaderMap, HeaderValue};

    use super::{discovered_jwks_url, max_age};

    #[test]
    fn max_age_is_read_from_cache_control() {
        let of = |value: Option<&'static str>| {
            let mut headers = HeaderMap::new();
            if let Some(value) = value {
                headers.insert(CACHE_CONTROL, HeaderValue::from_static(value));
            }
            max_age(&headers)
        };
        let secs = |n| Some(Duration::from_secs(n));
        assert_eq!(of(Some("public, max-age=3600")), secs(3600));
        assert_eq!(of(Some("Max-Age=\"60\", must-revalidate")), secs(60));
        assert_eq!(of(Some("no-cache")), secs(0));
        assert_eq!(of(Some("no-store, max-age=60")), secs(0));
        assert_eq!(of(Some("public")), None);
        assert_eq!(of(Some("max-age=soon")), None);
        assert_eq!(of(None), None);
    }

    #[test]
    fn an_https_issuer_keeps_its_keys_on_https() {
        let https = "https://idp.example/realms/a";
        assert!(discovered_jwks_url(https, "https://keys.idp.example/certs").is_ok());
        let err = discovered_jwks_url(https, "http://127.0.0.1/certs").unwrap_err();
        assert!(err.contains("is not https://"), "{err}");
        assert!(discovered_jwks_url(https, "http://keys.idp.example/certs").is_err());
        // An issuer on loopback, over plain HTTP (tests), may keep its keys there.
        assert!(
            discovered_jwks_url("http://127.0.0.1:8080/a", "http://127.0.0.1:8080/a/keys").is_ok()
        );
    }
}
