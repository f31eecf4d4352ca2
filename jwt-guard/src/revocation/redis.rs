//! [`RedisStore`] (feature `redis`): revocations shared by every instance
//! through Redis or Redis Cluster, with a local replica so that access
//! tokens never wait on Redis.
//!
//! Layout, under a prefix (`jwt-guard` by default):
//!
//! - `<prefix>:{revocations}`, a stream: every revocation that concerns
//!   access tokens (a token, a subject's cut-off, a family), trimmed once
//!   no access token any entry may cover can still be valid (the longest
//!   such horizon seen is kept in `<prefix>:{revocations}:window`, in the
//!   same cluster slot). Each instance reads it
//!   at start into its replica and then follows it with a blocking `XREAD`.
//! - `<prefix>:{<sub>}:t:<jti>`, `<prefix>:{<sub>}:s` and
//!   `<prefix>:{<sub>}:f:<sid>`: a revoked refresh token, a subject's
//!   cut-off, and a family's current refresh token (or its revocation).
//!   Refresh tokens are checked against these, in one script; the hash tag
//!   puts every key of a subject in one cluster slot. Each key expires
//!   (`PXAT`) a minute after the last token it covers does (a margin for
//!   clocks that differ).

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, Client, Cmd, RedisFuture, RedisResult, Script, Value};

use super::{MemoryStore, Revocation, RevocationStore, Rotation, StoreFuture, Target, TokenStatus};
use crate::claims::unix_ms;
use crate::error::{ConfigError, StoreError};
use crate::kind::TokenKind;
use crate::token::Token;

/// The default bound on how stale the replica may be before guarded
/// requests are refused.
const DEFAULT_MAX_STALENESS: Duration = Duration::from_secs(1);
/// The bounds a configured staleness must lie within.
const STALENESS_RANGE: (Duration, Duration) = (Duration::from_millis(50), Duration::from_secs(60));
/// How many stream entries one read takes at most.
const BATCH: usize = 1000;
/// How long a stream entry is kept past the last access token it covers.
const STREAM_MARGIN: Duration = Duration::from_secs(60);
/// How long a key outlives what it covers: Redis's clock may run ahead of
/// the one the manager used.
const KEY_MARGIN: Duration = Duration::from_secs(60);
/// How long a command to Redis may take, and a connection attempt.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

/// Revocations shared by every instance through Redis or Redis Cluster
/// (feature `redis`).
///
/// Redis is the source of truth. Each instance keeps a **replica** of the
/// revocations that concern access tokens, loaded at start and kept current
/// by following a Redis stream, so a guarded request never waits on Redis;
/// refresh tokens (used only at the refresh endpoint) are checked, and
/// [rotated](crate::TokenManager::rotate), against Redis itself, atomically.
///
/// **Fail closed.** When the replica may be staler than
/// [`max_staleness`](RedisStoreBuilder::max_staleness) (1 s by default:
/// Redis is down, or the stream could not be read), guarded requests are
/// refused with 503 and `Retry-After`, and an error is logged; they pass
/// again as soon as the replica has caught up. A revocation attempted while
/// Redis is down returns an error: none is silently lost. It already holds
/// on the instance that attempted it (which refuses rather than forgets);
/// retry it to make it hold on every instance.
///
/// Give Redis persistence (`appendonly yes`) so that revocations survive a
/// Redis restart. The store reads Redis's time and the system clock; use
/// it with the manager's default clock.
///
/// ```no_run
/// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
/// use jwt_guard::{RedisStore, TokenManager};
///
/// let manager = TokenManager::builder()
///     .hs256(std::env::var("JWT_GUARD_SECRET")?)
///     .revocation_store(RedisStore::connect("redis://127.0.0.1/").await?)
///     .refresh_rotation(true)
///     .build()?;
/// # Ok(()) }
/// ```
///
/// The same URL works for a Redis Cluster: the store asks the server and
/// uses a cluster client when it is one (several seed nodes: see
/// [`RedisStore::builder`]).
#[derive(Clone)]
pub struct RedisStore {
    shared: Arc<Shared>,
    /// Stops the follower when the last clone is dropped.
    _follower: Arc<Follower>,
}

/// Settings of a [`RedisStore`]; finish with [`connect`](Self::connect).
#[derive(Clone)]
#[must_use = "a builder does nothing until `connect` is called"]
pub struct RedisStoreBuilder {
    nodes: Vec<String>,
    max_staleness: Duration,
    prefix: String,
}

/// What the store's handles and its follower share.
struct Shared {
    nodes: Vec<String>,
    /// The client of the first node: the server, or the cluster's seed
    /// asked whether it is one.
    first: Client,
    conn: OnceLock<Conn>,
    /// Revocations that concern access tokens.
    replica: MemoryStore,
    max_staleness: Duration,
    /// The follower's `XREAD` waits at most this long for a new entry.
    block: Duration,
    stream: String,
    /// The longest time an entry of the stream may be needed.
    window: String,
    prefix: String,
    epoch: Instant,
    /// When the replica was last known current, in nanoseconds since
    /// `epoch`; 0 before the first load.
    current_at: AtomicU64,
    /// Whether the follower is failing (it logs each change once).
    failing: AtomicBool,
}

struct Follower(tokio::task::AbortHandle);

impl Drop for Follower {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A connection for commands: one server, or a cluster.
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd),
            Self::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            Self::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(conn) => conn.get_db(),
            Self::Cluster(conn) => conn.get_db(),
        }
    }
}

/// The follower's own connection: its `XREAD` blocks, so it shares no
/// connection with commands.
enum Reader {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl Reader {
    async fn query(&mut self, cmd: &Cmd) -> RedisResult<Value> {
        match self {
            Self::Single(conn) => cmd.query_async(conn).await,
            Self::Cluster(conn) => cmd.query_async(conn).await,
        }
    }
}

/// Keeps the most of a key's current value and the one given (`max`), or
/// sets it; the key expires at the later of its expiry and `ARGV[2]`.
const UPSERT: &str = r"
local value = ARGV[1]
if ARGV[3] == 'max' then
  local current = redis.call('GET', KEYS[1])
  if current and tonumber(current) > tonumber(value) then value = current end
end
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('SET', KEYS[1], value, 'PXAT', ARGV[2])
else
  redis.call('SET', KEYS[1], value, 'KEEPTTL')
  redis.call('PEXPIREAT', KEYS[1], ARGV[2], 'GT')
end
return 1
";

/// The start of the scripts on a refresh token's keys (`KEYS[1]` its
/// revoked jti, `KEYS[2]` its subject's cut-off, `KEYS[3]` its family;
/// `ARGV[1]` its jti, `ARGV[2]` its issue time): answers `$answer` when the
/// token is revoked by its jti or its subject.
macro_rules! unless_revoked {
    ($answer:literal) => {
        concat!(
            "if redis.call('EXISTS', KEYS[1]) == 1 then return ",
            $answer,
            " end\n",
            "local cutoff = redis.call('GET', KEYS[2])\n",
            "if cutoff and tonumber(ARGV[2]) <= tonumber(cutoff) then return ",
            $answer,
            " end\n",
            "local family = redis.call('GET', KEYS[3])\n",
        )
    };
}

/// A refresh token's status: 0 valid, 1 revoked, 2 reused.
const STATUS: &str = concat!(
    unless_revoked!("1"),
    r"
if family == '!' then return 1 end
if family and family ~= '=' .. ARGV[1] then return 2 end
return 0
"
);

/// Consumes the family's current refresh token: 1 when it was `ARGV[1]`
/// (or the family has no record yet) and that token is not revoked, and
/// `ARGV[3]` becomes the current one until `ARGV[4]`; 0 otherwise.
const ROTATE: &str = concat!(
    unless_revoked!("0"),
    r"
if family == false or family == '=' .. ARGV[1] then
  redis.call('SET', KEYS[3], '=' .. ARGV[3], 'PXAT', ARGV[4])
  return 1
end
return 0
"
);

/// Appends a revocation to the stream and trims what no access token
/// needs any more: entries older than the longest horizon ever appended
/// (`KEYS[2]`), by Redis's own clock.
const APPEND: &str = r"
local window = tonumber(ARGV[1])
local longest = tonumber(redis.call('GET', KEYS[2]) or '0')
if longest > window then
  window = longest
else
  redis.call('SET', KEYS[2], ARGV[1])
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local oldest = string.format('%d', math.max(0, now - window))
return redis.call('XADD', KEYS[1], 'MINID', oldest, '*',
  'k', ARGV[2], 'v', ARGV[3], 'b', ARGV[4], 'u', ARGV[5])
";

/// The scripts, each loaded into Redis once (`EVALSHA`).
struct Scripts {
    upsert: Script,
    status: Script,
    rotate: Script,
    append: Script,
}

fn scripts() -> &'static Scripts {
    static SCRIPTS: OnceLock<Scripts> = OnceLock::new();
    SCRIPTS.get_or_init(|| Scripts {
        upsert: Script::new(UPSERT),
        status: Script::new(STATUS),
        rotate: Script::new(ROTATE),
        append: Script::new(APPEND),
    })
}

fn failed(what: &'static str) -> impl Fn(redis::RedisError) -> StoreError {
    move |error| StoreError::with_source(what, error)
}

/// A subject as a hash tag: `{`, `}` and `%` escaped, so the tag ends where
/// the subject does; the empty subject is `%`, as `{}` would not be a tag.
fn tag(sub: &str) -> String {
    if sub.is_empty() {
        return "%".to_owned();
    }
    let mut out = String::with_capacity(sub.len());
    for c in sub.chars() {
        match c {
            '%' => out.push_str("%25"),
            '{' => out.push_str("%7B"),
            '}' => out.push_str("%7D"),
            c => out.push(c),
        }
    }
    out
}

impl RedisStoreBuilder {
    /// How stale the replica may be before guarded requests are refused
    /// (503): 1 s by default, from 50 ms to 60 s. A revocation reaches
    /// every instance within this bound, or the instance refuses.
    pub fn max_staleness(mut self, bound: Duration) -> Self {
        self.max_staleness = bound;
        self
    }

    /// The prefix of every key (`jwt-guard` by default): managers with
    /// different keys or issuers sharing one Redis use different prefixes.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Checks every setting; the first node's client.
    fn check(&self, name: impl Fn(&'static str) -> &'static str) -> Result<Client, ConfigError> {
        let mut clients = self.nodes.iter().map(|url| {
            Client::open(url.as_str()).map_err(|_| {
                ConfigError::new(
                    name("url"),
                    "not a Redis URL; write e.g. `redis://127.0.0.1:6379/`",
                )
            })
        });
        let first = clients
            .next()
            .ok_or_else(|| ConfigError::new(name("url"), "no Redis URL given"))??;
        for client in clients {
            client?;
        }
        let (low, high) = STALENESS_RANGE;
        if !(low..=high).contains(&self.max_staleness) {
            return Err(ConfigError::new(
                name("max_staleness"),
                format!("must be from {low:?} to {high:?}"),
            ));
        }
        if self.prefix.is_empty() || self.prefix.contains(['{', '}']) {
            return Err(ConfigError::new(
                name("prefix"),
                "must be non-empty and hold no `{` or `}` (they select cluster slots)",
            ));
        }
        Ok(first)
    }

    fn shared(self, first: Client) -> Shared {
        Shared {
            first,
            conn: OnceLock::new(),
            replica: MemoryStore::new(),
            block: (self.max_staleness / 4).max(Duration::from_millis(10)),
            max_staleness: self.max_staleness,
            stream: format!("{}:{{revocations}}", self.prefix),
            window: format!("{}:{{revocations}}:window", self.prefix),
            prefix: self.prefix,
            nodes: self.nodes,
            epoch: Instant::now(),
            current_at: AtomicU64::new(0),
            failing: AtomicBool::new(false),
        }
    }

    /// Connects, loads the replica, and starts following revocations in
    /// the background (on the current tokio runtime). Returns once the
    /// replica is current.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the setting at fault (`url`,
    /// `max_staleness`, `prefix`), or `url` when Redis cannot be reached.
    pub async fn connect(self) -> Result<RedisStore, ConfigError> {
        let first = self.check(|setting| setting)?;
        let shared = Arc::new(self.shared(first));
        let (reader, last_id) = shared
            .open()
            .await
            .map_err(|e| ConfigError::new("url", format!("cannot reach Redis: {e}")))?;
        let follower = tokio::spawn(Arc::clone(&shared).follow(Some((reader, last_id))));
        Ok(RedisStore {
            shared,
            _follower: Arc::new(Follower(follower.abort_handle())),
        })
    }

    /// Like [`connect`](Self::connect), but returns at once: the store
    /// connects and loads its replica in the background, and refuses
    /// guarded requests (503) until it has. What
    /// [`TokenManager::from_env`](crate::TokenManager::from_env) does with
    /// `JWT_GUARD_REDIS_URL`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the setting at fault, or `url` outside a
    /// tokio runtime.
    pub fn connect_lazy(self) -> Result<RedisStore, ConfigError> {
        self.lazy(|setting| setting)
    }

    pub(crate) fn lazy(
        self,
        name: impl Fn(&'static str) -> &'static str,
    ) -> Result<RedisStore, ConfigError> {
        let first = self.check(&name)?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            ConfigError::new(
                name("url"),
                "the Redis store needs a tokio runtime: build the manager inside one",
            )
        })?;
        let shared = Arc::new(self.shared(first));
        let follower = runtime.spawn(Arc::clone(&shared).follow(None));
        Ok(RedisStore {
            shared,
            _follower: Arc::new(Follower(follower.abort_handle())),
        })
    }
}

impl Shared {
    fn elapsed_nanos(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// Whether the replica was current within the staleness bound.
    fn is_current(&self) -> bool {
        let at = self.current_at.load(Ordering::Acquire);
        at != 0
            && self.elapsed_nanos().saturating_sub(at)
                <= u64::try_from(self.max_staleness.as_nanos()).unwrap_or(u64::MAX)
    }

    fn conn(&self) -> Result<Conn, StoreError> {
        self.conn
            .get()
            .cloned()
            .ok_or_else(|| StoreError::new("not connected to Redis yet"))
    }

    fn key(&self, sub: &str, rest: &str) -> String {
        format!("{}:{{{}}}:{rest}", self.prefix, tag(sub))
    }

    /// The keys a refresh token is checked against, in one slot: its
    /// revoked `jti`, its subject's cut-off, its family.
    fn refresh_keys(&self, sub: &str, jti: &str, sid: &str) -> [String; 3] {
        [
            self.key(sub, &format!("t:{jti}")),
            self.key(sub, "s"),
            self.key(sub, &format!("f:{sid}")),
        ]
    }

    /// Connects (once: the command connection is kept, and reconnects by
    /// itself), opens the follower's connection, and reads the whole stream
    /// into the replica.
    async fn open(&self) -> RedisResult<(Reader, String)> {
        let cluster = self.ensure_conn().await?;
        let reader_timeout = self.block + COMMAND_TIMEOUT;
        let mut reader = if cluster {
            Reader::Cluster(self.cluster(reader_timeout)?.get_async_connection().await?)
        } else {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(COMMAND_TIMEOUT))
                .set_response_timeout(Some(reader_timeout));
            let mut conn = self
                .first
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            redis::cmd("CLIENT")
                .arg("SETNAME")
                .arg("jwt-guard-replica")
                .exec_async(&mut conn)
                .await?;
            Reader::Single(conn)
        };
        let mut last_id = "0-0".to_owned();
        while self.read(&mut reader, &mut last_id, None).await? {}
        Ok((reader, last_id))
    }

    /// The command connection, made on first use: to a cluster when the
    /// server says it is one. Whether it is.
    async fn ensure_conn(&self) -> RedisResult<bool> {
        if let Some(conn) = self.conn.get() {
            return Ok(matches!(conn, Conn::Cluster(_)));
        }
        // Any node that answers says whether this is a cluster.
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT));
        let mut last_error = None;
        let mut info = None;
        for url in &self.nodes {
            let probe = async {
                let mut conn = Client::open(url.as_str())?
                    .get_multiplexed_async_connection_with_config(&config)
                    .await?;
                redis::cmd("INFO")
                    .arg("cluster")
                    .query_async::<String>(&mut conn)
                    .await
            };
            match probe.await {
                Ok(answer) => {
                    info = Some(answer);
                    break;
                }
                Err(error) => last_error = Some(error),
            }
        }
        let info = match (info, last_error) {
            (Some(info), _) => info,
            (None, Some(error)) => return Err(error),
            (None, None) => return Err((redis::ErrorKind::Client, "no Redis node").into()),
        };
        let client = self.first.clone();
        let conn = if info.contains("cluster_enabled:1") {
            Conn::Cluster(
                self.cluster(COMMAND_TIMEOUT)?
                    .get_async_connection()
                    .await?,
            )
        } else {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(COMMAND_TIMEOUT))
                .set_response_timeout(Some(COMMAND_TIMEOUT))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_millis(200));
            Conn::Single(ConnectionManager::new_with_config(client, config).await?)
        };
        let cluster = matches!(conn, Conn::Cluster(_));
        // Only the follower connects: no other start can have won.
        let _ = self.conn.set(conn);
        Ok(cluster)
    }

    fn cluster(&self, response_timeout: Duration) -> RedisResult<ClusterClient> {
        ClusterClient::builder(self.nodes.iter().map(String::as_str))
            .connection_timeout(COMMAND_TIMEOUT)
            .response_timeout(response_timeout)
            .retries(1)
            .build()
    }

    /// Reads the stream past `last_id` into the replica, waiting up to
    /// `block` for an entry. Marks the replica current as of the moment
    /// the read was sent when it has read everything; `Ok(true)` when more
    /// entries wait.
    async fn read(
        &self,
        reader: &mut Reader,
        last_id: &mut String,
        block: Option<Duration>,
    ) -> RedisResult<bool> {
        let sent = self.elapsed_nanos();
        let mut cmd = redis::cmd("XREAD");
        cmd.arg("COUNT").arg(BATCH);
        if let Some(block) = block {
            cmd.arg("BLOCK")
                .arg(u64::try_from(block.as_millis()).unwrap_or(u64::MAX));
        }
        cmd.arg("STREAMS").arg(&self.stream).arg(last_id.as_str());
        let reply = reader.query(&cmd).await?;
        let read = self.apply(reply, last_id);
        if read < BATCH {
            self.current_at.fetch_max(sent, Ordering::AcqRel);
            return Ok(false);
        }
        Ok(true)
    }

    /// Applies an `XREAD` reply to the replica; returns how many entries
    /// it held.
    fn apply(&self, reply: Value, last_id: &mut String) -> usize {
        let now = SystemTime::now();
        // RESP2: an array of [name, entries]; RESP3: a map of name to
        // entries. Nil when nothing came.
        let lists: Vec<Value> = match reply {
            Value::Array(streams) => streams
                .into_iter()
                .filter_map(|stream| match stream {
                    Value::Array(mut pair) if pair.len() == 2 => pair.pop(),
                    _ => None,
                })
                .collect(),
            Value::Map(streams) => streams.into_iter().map(|(_, entries)| entries).collect(),
            _ => Vec::new(),
        };
        let mut count = 0;
        for entries in lists {
            let Value::Array(entries) = entries else {
                continue;
            };
            for entry in entries {
                let Value::Array(mut entry) = entry else {
                    continue;
                };
                if entry.len() != 2 {
                    continue;
                }
                let fields = entry.pop().unwrap_or(Value::Nil);
                let id = entry.pop().unwrap_or(Value::Nil);
                if let Some(id) = text(&id) {
                    last_id.clone_from(&id);
                }
                count += 1;
                if let Some(entry) = Entry::parse(fields) {
                    entry.apply(&self.replica, now);
                }
            }
        }
        count
    }

    /// Follows the stream until the store is dropped: reconnects after a
    /// failure and reads the stream again from its start (it holds only
    /// what access tokens may still need, and entries apply twice
    /// harmlessly; stream ids that went backwards in a failover lose
    /// nothing), logging once when it fails and once when it has caught up.
    async fn follow(self: Arc<Self>, mut open: Option<(Reader, String)>) {
        loop {
            let (mut reader, mut id) = match open.take() {
                Some(opened) => opened,
                None => match self.open().await {
                    Ok(opened) => opened,
                    Err(error) => {
                        self.report(&error);
                        tokio::time::sleep(self.block.min(Duration::from_millis(100))).await;
                        continue;
                    }
                },
            };
            if self.failing.swap(false, Ordering::AcqRel) {
                tracing::info!(target: "jwt_guard", "revocation replica caught up with Redis");
            }
            let error = loop {
                if let Err(error) = self.read(&mut reader, &mut id, Some(self.block)).await {
                    break error;
                }
            };
            self.report(&error);
        }
    }

    fn report(&self, error: &redis::RedisError) {
        if !self.failing.swap(true, Ordering::AcqRel) {
            tracing::error!(
                target: "jwt_guard",
                %error,
                max_staleness = ?self.max_staleness,
                "revocation replica lost Redis: guarded requests are refused (503) once it is \
                 staler than the bound, until it catches up"
            );
        }
    }

    async fn append(
        &self,
        kind: &str,
        value: &str,
        before: u64,
        revocation: &Revocation<'_>,
    ) -> Result<(), StoreError> {
        let window = revocation
            .access_until
            .duration_since(revocation.now)
            .unwrap_or_default()
            + STREAM_MARGIN;
        let mut conn = self.conn()?;
        let _: Value = scripts()
            .append
            .key(&self.stream)
            .key(&self.window)
            .arg(u64::try_from(window.as_millis()).unwrap_or(u64::MAX))
            .arg(kind)
            .arg(value)
            .arg(before)
            .arg(unix_ms(revocation.access_until))
            .invoke_async(&mut conn)
            .await
            .map_err(failed("cannot append to the revocation stream"))?;
        Ok(())
    }

    async fn upsert(
        &self,
        key: String,
        value: &str,
        until: SystemTime,
        max: bool,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let _: Value = scripts()
            .upsert
            .key(key)
            .arg(value)
            .arg(unix_ms(until + KEY_MARGIN))
            .arg(if max { "max" } else { "set" })
            .invoke_async(&mut conn)
            .await
            .map_err(failed("cannot write a revocation"))?;
        Ok(())
    }

    /// Keeps a revocation: in this instance's replica first (it refuses at
    /// once, even should Redis fail next), then in the stream (the other
    /// instances' replicas), then in the key refresh tokens are checked
    /// against. Each step is idempotent: a caller that gets an error and
    /// retries loses nothing.
    async fn revoke(&self, revocation: &Revocation<'_>) -> Result<(), StoreError> {
        let until = revocation.until;
        let for_access = revocation.access_until > revocation.now;
        if for_access {
            let local = Revocation {
                until: revocation.access_until,
                ..*revocation
            };
            self.replica.revoke_now(&local)?;
        }
        match revocation.target {
            Target::Token { jti, sub, kind } => {
                if for_access {
                    self.append("t", jti, 0, revocation).await?;
                }
                if kind == TokenKind::Refresh {
                    self.upsert(self.key(sub, &format!("t:{jti}")), "1", until, false)
                        .await?;
                }
            }
            Target::Subject { sub, issued_before } => {
                let before = unix_ms(issued_before);
                if for_access {
                    self.append("s", sub, before, revocation).await?;
                }
                self.upsert(self.key(sub, "s"), &before.to_string(), until, true)
                    .await?;
            }
            Target::Family { sid, sub } => {
                if for_access {
                    self.append("f", sid, 0, revocation).await?;
                }
                self.upsert(self.key(sub, &format!("f:{sid}")), "!", until, false)
                    .await?;
            }
        }
        Ok(())
    }

    async fn refresh_status(&self, token: &Token) -> Result<TokenStatus, StoreError> {
        let sub = token.sub();
        let family = token.family().unwrap_or(token.jti());
        let mut conn = self.conn()?;
        let status: i64 = scripts()
            .status
            .key(&self.refresh_keys(sub, token.jti(), family))
            .arg(token.jti())
            .arg(unix_ms(token.issued_at_precise()))
            .invoke_async(&mut conn)
            .await
            .map_err(failed("cannot read a refresh token's status"))?;
        Ok(match status {
            0 => TokenStatus::Valid,
            2 => TokenStatus::Reused,
            _ => TokenStatus::Revoked,
        })
    }

    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let rotated: i64 = scripts()
            .rotate
            .key(&self.refresh_keys(rotation.sub, rotation.presented, rotation.sid))
            .arg(rotation.presented)
            .arg(unix_ms(rotation.issued_at))
            .arg(rotation.next)
            .arg(unix_ms(rotation.until + KEY_MARGIN))
            .invoke_async(&mut conn)
            .await
            .map_err(failed("cannot rotate a refresh token"))?;
        Ok(rotated == 1)
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// One revocation read from the stream.
struct Entry {
    kind: String,
    value: String,
    before: u64,
    until: u64,
}

impl Entry {
    fn parse(fields: Value) -> Option<Self> {
        let Value::Array(fields) = fields else {
            return None;
        };
        let (mut kind, mut value, mut before, mut until) = (None, None, None, None);
        for pair in fields.chunks(2) {
            let [name, field] = pair else { continue };
            let field = text(field);
            match text(name).as_deref() {
                Some("k") => kind = field,
                Some("v") => value = field,
                Some("b") => before = field.and_then(|f| f.parse().ok()),
                Some("u") => until = field.and_then(|f| f.parse().ok()),
                _ => {}
            }
        }
        Some(Self {
            kind: kind?,
            value: value?,
            before: before?,
            until: until?,
        })
    }

    fn apply(&self, replica: &MemoryStore, now: SystemTime) {
        let until = UNIX_EPOCH + Duration::from_millis(self.until);
        if until < now {
            return;
        }
        let target = match self.kind.as_str() {
            "t" => Target::Token {
                jti: &self.value,
                sub: "",
                kind: TokenKind::Access,
            },
            "s" => Target::Subject {
                sub: &self.value,
                issued_before: UNIX_EPOCH + Duration::from_millis(self.before),
            },
            "f" => Target::Family {
                sid: &self.value,
                sub: "",
            },
            _ => return,
        };
        // The replica is in memory: the answer is ready, and it cannot fail
        // but for a poisoned lock, which a later entry cannot mend either.
        let _ = replica.revoke_now(&Revocation::new(target, until, until, now));
    }
}

impl RedisStore {
    /// Connects to the Redis (or Redis Cluster) at `url`, with every
    /// default; see [`RedisStoreBuilder::connect`].
    ///
    /// # Errors
    /// A [`ConfigError`] naming `url` when it is malformed or Redis cannot
    /// be reached.
    pub async fn connect(url: &str) -> Result<Self, ConfigError> {
        Self::builder([url]).connect().await
    }

    /// A builder: the URL of one Redis, or seed nodes of a Redis Cluster.
    pub fn builder<I, S>(urls: I) -> RedisStoreBuilder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RedisStoreBuilder {
            nodes: urls.into_iter().map(Into::into).collect(),
            max_staleness: DEFAULT_MAX_STALENESS,
            prefix: "jwt-guard".to_owned(),
        }
    }

    /// Whether the replica is current within the staleness bound: when
    /// not, guarded requests are refused (503). For health checks.
    #[must_use]
    pub fn is_current(&self) -> bool {
        self.shared.is_current()
    }

    /// How many revocations the replica holds, for monitoring.
    #[must_use]
    pub fn replica_len(&self) -> usize {
        self.shared.replica.len()
    }
}

impl RevocationStore for RedisStore {
    fn revoke<'a>(&'a self, revocation: &'a Revocation<'a>) -> StoreFuture<'a, ()> {
        StoreFuture::new(self.shared.revoke(revocation))
    }

    fn status<'a>(&'a self, token: &'a Token) -> StoreFuture<'a, TokenStatus> {
        if token.kind() == TokenKind::Refresh {
            return StoreFuture::new(self.shared.refresh_status(token));
        }
        if !self.shared.is_current() {
            return StoreFuture::ready(Err(StoreError::new(
                "the revocation replica may be stale: Redis is unreachable",
            )));
        }
        self.shared.replica.status(token)
    }

    fn rotate<'a>(&'a self, rotation: &'a Rotation<'a>) -> StoreFuture<'a, bool> {
        StoreFuture::new(self.shared.rotate(rotation))
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Node URLs may hold a password: only their count is shown.
        let shared = &*self.shared;
        f.debug_struct("RedisStore")
            .field("nodes", &shared.nodes.len())
            .field(
                "cluster",
                &matches!(shared.conn.get(), Some(Conn::Cluster(_))),
            )
            .field("prefix", &shared.prefix)
            .field("max_staleness", &shared.max_staleness)
            .field("current", &shared.is_current())
            .field("replica", &shared.replica.len())
            .finish()
    }
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("nodes", &self.nodes.len())
            .field("prefix", &self.prefix)
            .field("max_staleness", &self.max_staleness)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::tag;

    #[test]
    fn subjects_are_escaped_into_one_hash_tag() {
        assert_eq!(tag("alice"), "alice");
        assert_eq!(tag(""), "%");
        assert_eq!(tag("a}b{c%d"), "a%7Db%7Bc%25d");
        assert_ne!(tag("%"), tag(""));
    }
}
