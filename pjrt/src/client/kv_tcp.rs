//! A [`KeyValueStore`] shared by the processes of a distributed client over TCP: process 0
//! serves it ([`TcpKeyValueStore::serve`]), the others connect
//! ([`TcpKeyValueStore::connect`]).
//!
//! The protocol is this module's own, length-prefixed, little-endian. A request is
//! `op: u8, key_len: u32, key, value_len: u32, value`, where `op` is 1 (get; the value is
//! the timeout in milliseconds as a `u64`), 2 (try_get; no value) or 3 (put). A reply is
//! `code: u8, len: u32, payload`: code 0 (`PJRT_Error_Code` OK) with the value (empty for a
//! put), or an error code with its message. Everything read from a socket is checked before
//! it is used: lengths over [`TCP_KV_MAX_BYTES`] and unknown ops close the connection (a
//! `tracing` warning says why) before anything of the claimed size is allocated.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::client::kv_store::KeyValueStore;
use crate::error::{Error, ErrorCode, Result};

/// The largest key, and the largest value, a [`TcpKeyValueStore`] accepts or returns
/// (64 MiB). A frame claiming more closes its connection.
pub const TCP_KV_MAX_BYTES: usize = 64 << 20;

/// The most bytes (keys and values together) the served store holds (1 GiB); a put past
/// it fails with `ResourceExhausted`.
pub const TCP_KV_MAX_TOTAL_BYTES: usize = 1 << 30;

/// How long the server's accept loop sleeps between polls for a new connection or for the
/// store being dropped.
const ACCEPT_POLL: Duration = Duration::from_millis(20);
/// The longest a request other than a blocking get waits for the server's reply, and the
/// margin a blocking get waits past its own timeout.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a server write may block on a client that does not read.
const SERVER_WRITE_TIMEOUT: Duration = Duration::from_secs(10);

const OP_GET: u8 = 1;
const OP_TRY_GET: u8 = 2;
const OP_PUT: u8 = 3;

/// A reply: the value, or the error code and message the server sent.
type Reply = std::result::Result<Vec<u8>, (ErrorCode, String)>;

/// A [`KeyValueStore`] shared between processes over TCP, for the rendezvous of a
/// distributed client ([`Client::with_key_value_store`](crate::Client::with_key_value_store)
/// with the options `num_nodes` and `node_id`).
///
/// Process 0 calls [`serve`](Self::serve): the store lives in its memory, a server thread
/// answers the other processes, and the returned handle reads and writes it directly. Every
/// other process calls [`connect`](Self::connect) with the address process 0 bound (handed
/// to them by the launcher: a command-line flag, an environment variable, a shared file).
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
/// use pjrt::{Client, ClientOptions, Plugin, TcpKeyValueStore};
///
/// # fn main() -> pjrt::Result<()> {
/// let (node_id, num_nodes) = (0i64, 2i64);
/// let store = if node_id == 0 {
///     TcpKeyValueStore::serve("0.0.0.0:47000", 16)?
/// } else {
///     TcpKeyValueStore::connect("host0:47000", Duration::from_secs(60))?
/// };
/// let plugin = Plugin::load("/path/to/xla_cuda_plugin.so")?;
/// let options = ClientOptions::new()
///     .set("num_nodes", num_nodes)
///     .set("node_id", node_id);
/// let client = Client::with_key_value_store(&plugin, &options, Arc::new(store))?;
/// # Ok(()) }
/// ```
///
/// A connected handle opens one connection per call in flight from its threads (and keeps
/// up to 4 idle ones), so `max_connections` allows for the calls the processes make at once.
///
/// Limits: keys and values up to [`TCP_KV_MAX_BYTES`] each, [`TCP_KV_MAX_TOTAL_BYTES`] in
/// all, and the number of connections given to `serve`. Dropping the serving handle stops
/// the server (its thread ends and the port is released; connected processes get
/// `Unavailable` errors), so process 0 keeps it for as long as any process may use it: a
/// client made with it keeps it until the client is destroyed.
pub struct TcpKeyValueStore {
    inner: Inner,
}

enum Inner {
    Served(Server),
    Connected(Remote),
}

impl std::fmt::Debug for TcpKeyValueStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Inner::Served(s) => write!(f, "TcpKeyValueStore(serving on {})", s.addr),
            Inner::Connected(r) => write!(f, "TcpKeyValueStore(connected to {})", r.addr),
        }
    }
}

fn err(function: &'static str, code: ErrorCode, message: String) -> Error {
    Error::Pjrt {
        function,
        code,
        message,
    }
}

/// A key as text for messages (cut short when long).
fn show(key: &[u8]) -> String {
    let cut = &key[..key.len().min(200)];
    let more = if key.len() > cut.len() { "..." } else { "" };
    format!("{:?}{more}", String::from_utf8_lossy(cut))
}

fn check_len(function: &'static str, what: &str, n: usize) -> Result<()> {
    if n > TCP_KV_MAX_BYTES {
        return Err(err(
            function,
            ErrorCode::InvalidArgument,
            format!("{what} of {n} bytes is over the limit of {TCP_KV_MAX_BYTES} bytes"),
        ));
    }
    Ok(())
}

// ------------------------------------------------------------------------- the table

/// The served map: what process 0's handle and every connection thread share.
struct Table {
    state: Mutex<TableState>,
    changed: Condvar,
}

#[derive(Default)]
struct TableState {
    map: HashMap<Vec<u8>, Vec<u8>>,
    bytes: usize,
    closed: bool,
}

impl Table {
    fn lock(&self) -> MutexGuard<'_, TableState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, function: &'static str, key: &[u8], timeout: Duration) -> Result<Vec<u8>> {
        // A timeout past what `Instant` can hold waits until the store closes.
        let deadline = Instant::now().checked_add(timeout);
        let mut st = self.lock();
        loop {
            if let Some(v) = st.map.get(key) {
                return Ok(v.clone());
            }
            if st.closed {
                return Err(err(
                    function,
                    ErrorCode::Unavailable,
                    format!("the store closed while waiting for key {}", show(key)),
                ));
            }
            let wait = match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err(err(
                            function,
                            ErrorCode::DeadlineExceeded,
                            format!("key {} not set within {timeout:?}", show(key)),
                        ));
                    }
                    d - now
                }
                None => Duration::from_secs(3600),
            };
            st = self
                .changed
                .wait_timeout(st, wait)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    fn try_get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.lock().map.get(key).cloned()
    }

    fn put(&self, function: &'static str, key: &[u8], value: &[u8]) -> Result<()> {
        let mut st = self.lock();
        let old = st.map.get(key).map_or(0, |v| key.len() + v.len());
        let total = st.bytes - old + key.len() + value.len();
        if total > TCP_KV_MAX_TOTAL_BYTES {
            return Err(err(
                function,
                ErrorCode::ResourceExhausted,
                format!(
                    "putting {} bytes under key {} would make the store hold {total} bytes, \
                     over its limit of {TCP_KV_MAX_TOTAL_BYTES}",
                    value.len(),
                    show(key)
                ),
            ));
        }
        st.map.insert(key.to_vec(), value.to_vec());
        st.bytes = total;
        self.changed.notify_all();
        Ok(())
    }

    fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }
}

// ------------------------------------------------------------------------ the server

/// What the server side shares with its threads.
struct Shared {
    table: Table,
    stop: AtomicBool,
    /// The open connections, so that stopping can shut their sockets (which ends the reads
    /// their threads block in).
    conns: Mutex<HashMap<u64, TcpStream>>,
    next_id: AtomicU64,
    max_connections: usize,
}

impl Shared {
    fn conns(&self) -> MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct Server {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.table.close();
        // Reading ends (a connection thread blocked in a read sees the end of its stream),
        // writing does not: a request already read still gets its reply (a put applied just
        // now is acknowledged, a waiting get is told the store closed), bounded by the write
        // timeout.
        for s in self.shared.conns().values() {
            let _ = s.shutdown(Shutdown::Read);
        }
        if let Some(h) = self.accept.take() {
            // The accept loop sees `stop` within one poll, then joins its connection
            // threads, whose sockets were just shut for reading.
            let _ = h.join();
        }
        tracing::debug!(addr = %self.addr, "TcpKeyValueStore server stopped");
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stop.load(Ordering::SeqCst) {
        // Finished connection threads are let go as we go.
        threads.retain(|h| !h.is_finished());
        match listener.accept() {
            Ok((stream, peer)) => {
                admit(&shared, stream, peer, &mut threads);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(ACCEPT_POLL),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                // Per-connection failures (the peer gave up, no file descriptors left for
                // now): wait a poll and go on.
                tracing::warn!(error = %e, "TcpKeyValueStore server: accept failed");
                std::thread::sleep(ACCEPT_POLL);
            }
        }
    }
    for s in shared.conns().values() {
        let _ = s.shutdown(Shutdown::Read);
    }
    for h in threads {
        let _ = h.join();
    }
}

/// Starts a thread for a new connection, or closes it when the limit is reached or it
/// cannot be set up.
fn admit(
    shared: &Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    threads: &mut Vec<JoinHandle<()>>,
) {
    let open = shared.conns().len();
    if open >= shared.max_connections {
        tracing::warn!(
            %peer,
            open,
            limit = shared.max_connections,
            "TcpKeyValueStore server: too many connections, closing the new one"
        );
        let _ = stream.shutdown(Shutdown::Both);
        return;
    }
    let setup = stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_nodelay(true))
        .and_then(|()| stream.set_write_timeout(Some(SERVER_WRITE_TIMEOUT)))
        .and_then(|()| stream.try_clone());
    let registered = match setup {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(%peer, error = %e, "TcpKeyValueStore server: cannot set up a connection");
            return;
        }
    };
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    shared.conns().insert(id, registered);
    // Stopping may have begun between the loop's check and the insertion: this socket
    // would then miss the shutdown pass.
    if shared.stop.load(Ordering::SeqCst) {
        if let Some(s) = shared.conns().remove(&id) {
            let _ = s.shutdown(Shutdown::Both);
        }
        return;
    }
    let sh = shared.clone();
    let spawned = std::thread::Builder::new()
        .name("kv-tcp-conn".into())
        .spawn(move || {
            serve_connection(&sh, stream, peer);
            sh.conns().remove(&id);
        });
    match spawned {
        Ok(h) => {
            tracing::debug!(%peer, "TcpKeyValueStore server: connection opened");
            threads.push(h);
        }
        Err(e) => {
            tracing::warn!(%peer, error = %e, "TcpKeyValueStore server: cannot start a connection thread");
            if let Some(s) = shared.conns().remove(&id) {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }
}

/// Why a connection ends.
enum Close {
    /// The peer closed it between requests.
    Eof,
    /// An I/O error, or a frame cut short.
    Io(std::io::Error),
    /// A frame that breaks the protocol.
    Malformed(String),
}

impl From<std::io::Error> for Close {
    fn from(e: std::io::Error) -> Close {
        Close::Io(e)
    }
}

fn read_u32(r: &mut impl Read) -> std::io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

/// Reads a length-prefixed field, refusing a claimed length over the limit before reading
/// it; the buffer grows with the bytes that actually arrive.
fn read_field(r: &mut impl Read, what: &str) -> std::result::Result<Vec<u8>, Close> {
    let n = read_u32(r)? as usize;
    if n > TCP_KV_MAX_BYTES {
        return Err(Close::Malformed(format!(
            "{what} length {n} is over the limit of {TCP_KV_MAX_BYTES} bytes"
        )));
    }
    let mut v = Vec::new();
    (&mut *r).take(n as u64).read_to_end(&mut v)?;
    if v.len() != n {
        return Err(Close::Io(std::io::Error::new(
            ErrorKind::UnexpectedEof,
            format!("{what} cut short: {} of {n} bytes", v.len()),
        )));
    }
    Ok(v)
}

/// One request, or why the connection ends.
fn read_request(r: &mut impl Read) -> std::result::Result<(u8, Vec<u8>, Vec<u8>), Close> {
    let mut op = [0u8; 1];
    match r.read(&mut op) {
        Ok(0) => return Err(Close::Eof),
        Ok(_) => {}
        Err(e) => return Err(Close::Io(e)),
    }
    let op = op[0];
    if !matches!(op, OP_GET | OP_TRY_GET | OP_PUT) {
        return Err(Close::Malformed(format!("unknown op {op}")));
    }
    let key = read_field(r, "key")?;
    let value = read_field(r, "value")?;
    match (op, value.len()) {
        (OP_GET, 8) | (OP_TRY_GET, 0) | (OP_PUT, _) => Ok((op, key, value)),
        (_, n) => Err(Close::Malformed(format!(
            "op {op} with a value of {n} bytes (get takes 8, try_get none)"
        ))),
    }
}

fn write_reply(w: &mut impl Write, code: ErrorCode, payload: &[u8]) -> std::io::Result<()> {
    let n = u32::try_from(payload.len())
        .map_err(|_| std::io::Error::new(ErrorKind::InvalidData, "reply over 4 GiB"))?;
    let mut frame = Vec::with_capacity(5 + payload.len());
    frame.push(code.to_raw() as u8);
    frame.extend_from_slice(&n.to_le_bytes());
    frame.extend_from_slice(payload);
    w.write_all(&frame)?;
    w.flush()
}

fn serve_connection(shared: &Shared, mut stream: TcpStream, peer: SocketAddr) {
    let function = "TcpKeyValueStore server";
    loop {
        let (op, key, value) = match read_request(&mut stream) {
            Ok(r) => r,
            Err(Close::Eof) => {
                tracing::debug!(%peer, "TcpKeyValueStore server: connection closed by the peer");
                return;
            }
            Err(Close::Io(e)) => {
                if !shared.stop.load(Ordering::SeqCst) {
                    tracing::warn!(%peer, error = %e, "TcpKeyValueStore server: closing a connection");
                }
                return;
            }
            Err(Close::Malformed(why)) => {
                tracing::warn!(%peer, %why, "TcpKeyValueStore server: malformed frame, closing the connection");
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
        };
        let reply = match op {
            OP_GET => {
                let mut ms = [0u8; 8];
                ms.copy_from_slice(&value);
                let timeout = Duration::from_millis(u64::from_le_bytes(ms));
                shared.table.get(function, &key, timeout)
            }
            OP_TRY_GET => shared.table.try_get(&key).ok_or_else(|| {
                err(
                    function,
                    ErrorCode::NotFound,
                    format!("key {} not found", show(&key)),
                )
            }),
            _ => shared
                .table
                .put(function, &key, &value)
                .map(|()| Vec::new()),
        };
        let sent = match &reply {
            Ok(v) => write_reply(&mut stream, ErrorCode::Ok, v),
            Err(e) => {
                let code = e.code().unwrap_or(ErrorCode::Internal);
                let msg = match e {
                    Error::Pjrt { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                write_reply(&mut stream, code, msg.as_bytes())
            }
        };
        if let Err(e) = sent {
            if !shared.stop.load(Ordering::SeqCst) {
                tracing::warn!(%peer, error = %e, "TcpKeyValueStore server: cannot reply, closing the connection");
            }
            return;
        }
    }
}

// ------------------------------------------------------------------------ the client

/// The connections to process 0's server: a request takes an idle one (or opens one), so
/// that calls from several threads run side by side (a blocking get does not hold up a put
/// another thread makes meanwhile), and gives it back when the exchange went through.
struct Remote {
    addr: SocketAddr,
    idle: Mutex<Vec<TcpStream>>,
}

/// The most idle connections a connected handle keeps open.
const MAX_IDLE: usize = 4;

fn open(addr: SocketAddr, timeout: Duration) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, timeout.max(Duration::from_millis(1)))?;
    s.set_nodelay(true)?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(s)
}

impl Remote {
    fn idle(&self) -> MutexGuard<'_, Vec<TcpStream>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends one request and reads its reply, waiting at most `wait` for it. An I/O
    /// failure drops the connection (its state is unknown) and is `Unavailable`.
    fn request(
        &self,
        function: &'static str,
        op: u8,
        key: &[u8],
        value: &[u8],
        wait: Duration,
    ) -> Result<Reply> {
        check_len(function, "the key", key.len())?;
        check_len(function, "the value", value.len())?;
        let unavailable = |what: &str, e: &dyn std::fmt::Display| -> Error {
            err(
                function,
                ErrorCode::Unavailable,
                format!("{what} the key-value server at {}: {e}", self.addr),
            )
        };
        let taken = self.idle().pop();
        let mut s = match taken {
            Some(s) => s,
            None => open(self.addr, IO_TIMEOUT).map_err(|e| unavailable("cannot reach", &e))?,
        };
        // On any failure the connection is dropped here, not given back.
        match exchange(&mut s, op, key, value, wait) {
            Ok(Ok(r)) => {
                let mut idle = self.idle();
                if idle.len() < MAX_IDLE {
                    idle.push(s);
                }
                Ok(r)
            }
            Ok(Err(why)) => Err(err(
                function,
                ErrorCode::DataLoss,
                format!(
                    "the key-value server at {} sent a bad reply: {why}",
                    self.addr
                ),
            )),
            Err(e) => {
                let what = if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
                    "no reply in time from"
                } else {
                    "lost the connection to"
                };
                Err(unavailable(what, &e))
            }
        }
    }
}

/// Writes a request and reads the reply: `Ok(Err(_))` is a reply that breaks the protocol.
fn exchange(
    s: &mut TcpStream,
    op: u8,
    key: &[u8],
    value: &[u8],
    wait: Duration,
) -> std::io::Result<std::result::Result<Reply, String>> {
    // Lengths were checked against the cap, which fits a u32.
    let mut frame = Vec::with_capacity(9 + key.len() + value.len());
    frame.push(op);
    frame.extend_from_slice(&(key.len() as u32).to_le_bytes());
    frame.extend_from_slice(key);
    frame.extend_from_slice(&(value.len() as u32).to_le_bytes());
    frame.extend_from_slice(value);
    s.write_all(&frame)?;
    s.flush()?;
    s.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
    let mut code = [0u8; 1];
    s.read_exact(&mut code)?;
    let n = read_u32(s)? as usize;
    // The largest payload is a value; messages are short.
    if n > TCP_KV_MAX_BYTES + 4096 {
        return Ok(Err(format!("reply length {n} is over the limit")));
    }
    let mut payload = Vec::new();
    (&mut *s).take(n as u64).read_to_end(&mut payload)?;
    if payload.len() != n {
        return Err(std::io::Error::new(
            ErrorKind::UnexpectedEof,
            format!("reply cut short: {} of {n} bytes", payload.len()),
        ));
    }
    let code = ErrorCode::from_raw(i32::from(code[0]));
    Ok(Ok(if code == ErrorCode::Ok {
        Ok(payload)
    } else {
        Err((code, String::from_utf8_lossy(&payload).into_owned()))
    }))
}

// ---------------------------------------------------------------------- the public API

fn resolve(function: &'static str, addr: impl ToSocketAddrs) -> Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| {
            err(
                function,
                ErrorCode::InvalidArgument,
                format!("cannot resolve the address: {e}"),
            )
        })?
        .collect();
    if addrs.is_empty() {
        return Err(err(
            function,
            ErrorCode::InvalidArgument,
            "the address resolves to nothing".into(),
        ));
    }
    Ok(addrs)
}

impl TcpKeyValueStore {
    /// Serves a new, empty store on `addr` (process 0). Port 0 picks a free port:
    /// [`local_addr`](Self::local_addr) says which. At most `max_connections` connections
    /// are open at once (at least `num_nodes - 1`, more for calls made concurrently; a
    /// connection over the limit is closed at once). The returned handle reads and writes the store directly; dropping
    /// it stops the server.
    pub fn serve(addr: impl ToSocketAddrs, max_connections: usize) -> Result<TcpKeyValueStore> {
        let function = "TcpKeyValueStore::serve";
        if max_connections == 0 {
            return Err(err(
                function,
                ErrorCode::InvalidArgument,
                "max_connections is 0: no other process could connect".into(),
            ));
        }
        let addrs = resolve(function, addr)?;
        let listener = TcpListener::bind(&addrs[..]).map_err(|e| {
            err(
                function,
                ErrorCode::Unavailable,
                format!("cannot listen on {addrs:?}: {e}"),
            )
        })?;
        let io = |e: std::io::Error| {
            err(
                function,
                ErrorCode::Unavailable,
                format!("cannot set up the listener on {addrs:?}: {e}"),
            )
        };
        let local = listener.local_addr().map_err(io)?;
        listener.set_nonblocking(true).map_err(io)?;
        let shared = Arc::new(Shared {
            table: Table {
                state: Mutex::new(TableState::default()),
                changed: Condvar::new(),
            },
            stop: AtomicBool::new(false),
            conns: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            max_connections,
        });
        let sh = shared.clone();
        let accept = std::thread::Builder::new()
            .name("kv-tcp-accept".into())
            .spawn(move || accept_loop(listener, sh))
            .map_err(|e| {
                err(
                    function,
                    ErrorCode::ResourceExhausted,
                    format!("cannot start the server thread: {e}"),
                )
            })?;
        tracing::debug!(addr = %local, max_connections, "TcpKeyValueStore serving");
        Ok(TcpKeyValueStore {
            inner: Inner::Served(Server {
                shared,
                addr: local,
                accept: Some(accept),
            }),
        })
    }

    /// Connects to the store process 0 serves at `addr`, trying again until `timeout` has
    /// passed (process 0 may not be listening yet). `Unavailable` if it never answers.
    pub fn connect(addr: impl ToSocketAddrs, timeout: Duration) -> Result<TcpKeyValueStore> {
        let function = "TcpKeyValueStore::connect";
        let addrs = resolve(function, addr)?;
        let deadline = Instant::now().checked_add(timeout);
        let mut last = String::new();
        loop {
            for &a in &addrs {
                let left = deadline.map_or(IO_TIMEOUT, |d| {
                    d.saturating_duration_since(Instant::now()).min(IO_TIMEOUT)
                });
                match open(a, left) {
                    Ok(s) => {
                        tracing::debug!(addr = %a, "TcpKeyValueStore connected");
                        return Ok(TcpKeyValueStore {
                            inner: Inner::Connected(Remote {
                                addr: a,
                                idle: Mutex::new(vec![s]),
                            }),
                        });
                    }
                    Err(e) => last = format!("{a}: {e}"),
                }
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(err(
                    function,
                    ErrorCode::Unavailable,
                    format!("no key-value server answered within {timeout:?} ({last})"),
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The address this store is served on (process 0) or connected to (the others).
    pub fn local_addr(&self) -> SocketAddr {
        match &self.inner {
            Inner::Served(s) => s.addr,
            Inner::Connected(r) => r.addr,
        }
    }

    /// Whether this handle serves the store (process 0's).
    pub fn is_server(&self) -> bool {
        matches!(self.inner, Inner::Served(_))
    }
}

impl KeyValueStore for TcpKeyValueStore {
    /// The value of `key`, waiting up to `timeout` for another process to put it:
    /// `DeadlineExceeded` when none did, `Unavailable` when the server is gone.
    fn get(&self, key: &[u8], timeout: Duration) -> Result<Vec<u8>> {
        let function = "TcpKeyValueStore::get";
        check_len(function, "the key", key.len())?;
        match &self.inner {
            Inner::Served(s) => s.shared.table.get(function, key, timeout),
            Inner::Connected(r) => {
                let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
                let wait = timeout.saturating_add(IO_TIMEOUT);
                r.request(function, OP_GET, key, &ms.to_le_bytes(), wait)?
                    .map_err(|(code, msg)| err(function, code, msg))
            }
        }
    }

    fn try_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let function = "TcpKeyValueStore::try_get";
        check_len(function, "the key", key.len())?;
        match &self.inner {
            Inner::Served(s) => Ok(s.shared.table.try_get(key)),
            Inner::Connected(r) => match r.request(function, OP_TRY_GET, key, &[], IO_TIMEOUT)? {
                Ok(v) => Ok(Some(v)),
                Err((ErrorCode::NotFound, _)) => Ok(None),
                Err((code, msg)) => Err(err(function, code, msg)),
            },
        }
    }

    fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let function = "TcpKeyValueStore::put";
        check_len(function, "the key", key.len())?;
        check_len(function, "the value", value.len())?;
        match &self.inner {
            Inner::Served(s) => s.shared.table.put(function, key, value),
            Inner::Connected(r) => r
                .request(function, OP_PUT, key, value, IO_TIMEOUT)?
                .map(|_| ())
                .map_err(|(code, msg)| err(function, code, msg)),
        }
    }
}
