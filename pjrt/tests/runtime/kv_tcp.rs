//! `TcpKeyValueStore`: a server and clients in one process (waiting, timeouts, hostile
//! frames, the connection limit, shutdown), and two more processes of this test binary
//! exchanging keys through it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pjrt::{ErrorCode, KeyValueStore, TcpKeyValueStore, TCP_KV_MAX_BYTES};

fn serve() -> TcpKeyValueStore {
    TcpKeyValueStore::serve("127.0.0.1:0", 8).unwrap()
}

fn connect(server: &TcpKeyValueStore) -> TcpKeyValueStore {
    TcpKeyValueStore::connect(server.local_addr(), Duration::from_secs(5)).unwrap()
}

fn code<T: std::fmt::Debug>(r: pjrt::Result<T>) -> (ErrorCode, String) {
    let e = r.unwrap_err();
    (e.code().unwrap(), e.to_string())
}

#[test]
fn put_get_try_get_between_server_and_two_clients() {
    let s = serve();
    assert!(s.is_server());
    assert_eq!(s.local_addr().ip().to_string(), "127.0.0.1");
    assert_ne!(s.local_addr().port(), 0);
    let (a, b) = (connect(&s), connect(&s));
    assert!(!a.is_server());
    s.put(b"from_server", b"s").unwrap();
    a.put(b"from_a", b"alpha").unwrap();
    b.put(b"from_b", &[0u8, 255, 7]).unwrap();
    // Every handle sees every key.
    for h in [&s, &a, &b] {
        assert_eq!(h.get(b"from_server", Duration::ZERO).unwrap(), b"s");
        assert_eq!(
            h.try_get(b"from_a").unwrap().as_deref(),
            Some(&b"alpha"[..])
        );
        assert_eq!(
            h.get(b"from_b", Duration::from_secs(1)).unwrap(),
            [0u8, 255, 7]
        );
        assert_eq!(h.try_get(b"missing").unwrap(), None);
    }
    // Overwrites, empty keys and values, and a 1 MiB value.
    a.put(b"from_a", b"beta").unwrap();
    assert_eq!(b.try_get(b"from_a").unwrap().unwrap(), b"beta");
    b.put(b"", b"").unwrap();
    assert_eq!(s.try_get(b"").unwrap().unwrap(), b"");
    let big: Vec<u8> = (0..1 << 20).map(|i| (i * 7 % 251) as u8).collect();
    s.put(b"big", &big).unwrap();
    assert_eq!(a.get(b"big", Duration::from_secs(1)).unwrap(), big);
    // Over the cap: refused on the caller's side, naming the function and sizes.
    let huge = vec![0u8; TCP_KV_MAX_BYTES + 1];
    for h in [&s, &a] {
        let (c, m) = code(h.put(b"huge", &huge));
        assert_eq!(c, ErrorCode::InvalidArgument);
        assert!(
            m.contains("TcpKeyValueStore::put") && m.contains(&(TCP_KV_MAX_BYTES + 1).to_string()),
            "{m}"
        );
    }
    assert_eq!(b.try_get(b"huge").unwrap(), None);
}

#[test]
fn get_waits_for_a_later_put_from_another_thread() {
    let s = serve();
    let a = connect(&s);
    let b = Arc::new(connect(&s));
    let b2 = b.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        b2.put(b"late", b"here").unwrap();
    });
    let start = Instant::now();
    let v = a.get(b"late", Duration::from_secs(20)).unwrap();
    let waited = start.elapsed();
    t.join().unwrap();
    assert_eq!(v, b"here");
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    // One handle used from two threads: a put made while another thread's get waits on the
    // same handle goes through (each call in flight has its own connection).
    let a = Arc::new(a);
    let a2 = a.clone();
    let t = std::thread::spawn(move || a2.get(b"same_handle", Duration::from_secs(20)));
    std::thread::sleep(Duration::from_millis(200));
    a.put(b"same_handle", b"yes").unwrap();
    assert_eq!(t.join().unwrap().unwrap(), b"yes");
    // The server's own handle waits for a client's put alike.
    let b3 = b.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        b3.put(b"late2", b"too").unwrap();
    });
    assert_eq!(s.get(b"late2", Duration::from_secs(20)).unwrap(), b"too");
    t.join().unwrap();
}

#[test]
fn get_times_out_with_deadline_exceeded() {
    let s = serve();
    let a = connect(&s);
    for (h, who) in [(&s, "server"), (&a, "client")] {
        let start = Instant::now();
        let (c, m) = code(h.get(b"never", Duration::from_millis(300)));
        let took = start.elapsed();
        assert_eq!(c, ErrorCode::DeadlineExceeded, "{who}: {m}");
        assert!(
            m.contains("TcpKeyValueStore::get") && m.contains("never"),
            "{who}: {m}"
        );
        assert!(
            took >= Duration::from_millis(290) && took < Duration::from_secs(3),
            "{who}: {took:?}"
        );
    }
    // The connection is still good after a timeout.
    a.put(b"k", b"v").unwrap();
    assert_eq!(a.get(b"k", Duration::ZERO).unwrap(), b"v");
    // A timeout too large for the clock is a wait, not an overflow.
    s.put(b"now", b"1").unwrap();
    assert_eq!(a.get(b"now", Duration::MAX).unwrap(), b"1");
    assert_eq!(s.get(b"now", Duration::MAX).unwrap(), b"1");
}

/// Sends `bytes` on a raw connection and says whether the server closed it within 5 s
/// (reading end of stream or a reset) rather than answering.
fn server_closes_after(addr: SocketAddr, bytes: &[u8]) -> bool {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // The server may close before all of it is written (a reset then fails the write).
    let _ = c.write_all(bytes);
    let mut buf = [0u8; 16];
    match c.read(&mut buf) {
        Ok(n) => n == 0,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

fn frame(op: u8, key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut f = vec![op];
    f.extend_from_slice(&(key.len() as u32).to_le_bytes());
    f.extend_from_slice(key);
    f.extend_from_slice(&(value.len() as u32).to_le_bytes());
    f.extend_from_slice(value);
    f
}

#[test]
fn malformed_frames_close_their_connection_and_the_server_goes_on() {
    let s = serve();
    let a = connect(&s);
    a.put(b"before", b"1").unwrap();
    let addr = s.local_addr();
    // Random bytes (seeded): the first is no op.
    let mut x = 0x9e3779b97f4a7c15u64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .map(|v| if v < 4 { 200 } else { v })
        .collect();
    assert!(server_closes_after(addr, &noise), "random bytes");
    // A put op followed by the same noise: its key length (every byte >= 4) is over the cap.
    let mut put_noise = vec![3u8];
    put_noise.extend_from_slice(&noise);
    assert!(
        server_closes_after(addr, &put_noise),
        "put with random lengths"
    );
    // A key claimed at 4 GiB - 1, and a value one byte over the cap: refused from the
    // length alone (nothing that size is allocated or awaited).
    let mut claim = vec![3u8];
    claim.extend_from_slice(&u32::MAX.to_le_bytes());
    claim.extend_from_slice(b"abc");
    assert!(server_closes_after(addr, &claim), "4 GiB key");
    let mut over = vec![3u8];
    over.extend_from_slice(&1u32.to_le_bytes());
    over.push(b'k');
    over.extend_from_slice(&(TCP_KV_MAX_BYTES as u32 + 1).to_le_bytes());
    assert!(server_closes_after(addr, &over), "value over the cap");
    // A get whose timeout field is not 8 bytes, and a try_get with a value.
    assert!(
        server_closes_after(addr, &frame(1, b"k", b"abc")),
        "short timeout"
    );
    assert!(
        server_closes_after(addr, &frame(2, b"k", b"x")),
        "try_get value"
    );
    // A truncated frame, then the peer goes away.
    {
        let mut c = TcpStream::connect(addr).unwrap();
        let f = frame(3, b"truncated", b"value");
        c.write_all(&f[..f.len() - 2]).unwrap();
    }
    // A well-formed frame on a raw socket is answered: code 0, empty payload.
    {
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c.write_all(&frame(3, b"raw", b"ok")).unwrap();
        let mut reply = [9u8; 5];
        c.read_exact(&mut reply).unwrap();
        assert_eq!(reply, [0, 0, 0, 0, 0]);
        c.write_all(&frame(2, b"missing", b"")).unwrap();
        let mut head = [0u8; 5];
        c.read_exact(&mut head).unwrap();
        assert_eq!(i32::from(head[0]), ErrorCode::NotFound.to_raw());
        let n = u32::from_le_bytes(head[1..].try_into().unwrap()) as usize;
        let mut msg = vec![0u8; n];
        c.read_exact(&mut msg).unwrap();
        assert!(String::from_utf8_lossy(&msg).contains("missing"));
    }
    // The truncated put stored nothing; the server and the old and new clients work.
    assert_eq!(s.try_get(b"truncated").unwrap(), None);
    assert_eq!(a.try_get(b"raw").unwrap().unwrap(), b"ok");
    let b = connect(&s);
    b.put(b"after", b"2").unwrap();
    assert_eq!(a.get(b"after", Duration::from_secs(1)).unwrap(), b"2");
    assert_eq!(b.get(b"before", Duration::from_secs(1)).unwrap(), b"1");
}

#[test]
fn connections_over_the_limit_are_closed() {
    let s = TcpKeyValueStore::serve("127.0.0.1:0", 2).unwrap();
    let a = connect(&s);
    let b = connect(&s);
    a.put(b"a", b"1").unwrap();
    b.put(b"b", b"2").unwrap();
    // The third is accepted by the kernel, then closed by the server: its first request
    // fails as Unavailable.
    let c = connect(&s);
    let (code_, m) = code(c.put(b"c", b"3"));
    assert_eq!(code_, ErrorCode::Unavailable, "{m}");
    assert!(m.contains("TcpKeyValueStore::put"), "{m}");
    assert_eq!(s.try_get(b"c").unwrap(), None);
    // Once one closes, a new one gets its place (the server notices the close shortly).
    drop(a);
    let start = Instant::now();
    loop {
        if c.put(b"c", b"3").is_ok() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "no slot freed");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(s.try_get(b"c").unwrap().unwrap(), b"3");
    assert!(TcpKeyValueStore::serve("127.0.0.1:0", 0).is_err());
}

#[test]
fn dropping_the_server_releases_the_port_and_wakes_waiting_clients() {
    let s = serve();
    let addr = s.local_addr();
    let a = Arc::new(connect(&s));
    let a2 = a.clone();
    let waiter = std::thread::spawn(move || {
        let start = Instant::now();
        let r = a2.get(b"never", Duration::from_secs(60));
        (r.map_err(|e| e.code()), start.elapsed())
    });
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    drop(s);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let (r, waited) = waiter.join().unwrap();
    assert_eq!(r.unwrap_err(), Some(ErrorCode::Unavailable));
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    // The port is free again, and the client says the server is gone.
    drop(TcpListener::bind(addr).unwrap());
    let (c, m) = code(a.put(b"k", b"v"));
    assert_eq!(c, ErrorCode::Unavailable, "{m}");
    // Nothing listens: connect gives up after its timeout.
    let start = Instant::now();
    let (c, m) = code(TcpKeyValueStore::connect(addr, Duration::from_millis(300)));
    assert_eq!(c, ErrorCode::Unavailable, "{m}");
    assert!(m.contains("TcpKeyValueStore::connect"), "{m}");
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_cpu_client_takes_the_tcp_store() {
    // The CPU plugins accept a store and never call it; the client keeps it alive.
    let s = Arc::new(serve());
    let a = connect(&s);
    let c = pjrt::Client::with_key_value_store(
        super::common::client().plugin(),
        &pjrt::ClientOptions::new().cpu_device_count(1),
        s.clone(),
    )
    .unwrap();
    let out = c
        .compile(&pjrt::Program::mlir_text(
            "func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
               %0 = stablehlo.add %x, %x : tensor<2xf32>
               return %0 : tensor<2xf32>
             }",
        ))
        .unwrap()
        .run(&[&pjrt::Literal::vector(&[1f32, 2.5])])
        .unwrap();
    assert_eq!(out[0].to_vec::<f32>().unwrap(), [2.0, 5.0]);
    a.put(b"still", b"served").unwrap();
    assert_eq!(s.try_get(b"still").unwrap().unwrap(), b"served");
}

// ------------------------------------------------------------------ across processes

/// Tells a re-executed copy of this binary its role (`0` or `1`) in the two-process test.
const ROLE_VAR: &str = "PJRT_KV_TCP_ROLE";
/// The server's address, for process 1.
const ADDR_VAR: &str = "PJRT_KV_TCP_ADDR";
const CHILD_TEST: &str = "runtime::kv_tcp::kv_process";

/// One process of `two_processes_exchange_keys` (ignored in normal runs).
#[test]
#[ignore = "started by two_processes_exchange_keys"]
fn kv_process() {
    let Some(role) = std::env::var_os(ROLE_VAR) else {
        return;
    };
    let wait = Duration::from_secs(60);
    if role == "0" {
        let s = TcpKeyValueStore::serve("127.0.0.1:0", 4).unwrap();
        println!("kv-addr={}", s.local_addr());
        std::io::stdout().flush().unwrap();
        // Process 1's greeting, then a reply it is already waiting for.
        let hello = s.get(b"p1/hello", wait).unwrap();
        assert_eq!(hello, b"hello from 1");
        std::thread::sleep(Duration::from_millis(500));
        let mut reply = b"0 got: ".to_vec();
        reply.extend_from_slice(&hello);
        s.put(b"p0/reply", &reply).unwrap();
        // Keep serving until process 1 is done reading.
        assert_eq!(s.get(b"p1/done", wait).unwrap(), b"yes");
        println!("kv process 0: ok");
    } else {
        let addr = std::env::var(ADDR_VAR).unwrap();
        let c = TcpKeyValueStore::connect(addr.as_str(), Duration::from_secs(30)).unwrap();
        assert_eq!(c.try_get(b"p0/reply").unwrap(), None);
        c.put(b"p1/hello", b"hello from 1").unwrap();
        let start = Instant::now();
        let reply = c.get(b"p0/reply", wait).unwrap();
        let waited = start.elapsed();
        assert_eq!(reply, b"0 got: hello from 1");
        c.put(b"p1/done", b"yes").unwrap();
        println!(
            "kv process 1: ok, blocked {} ms for process 0's put",
            waited.as_millis()
        );
    }
}

/// Starts `kv_process` in a child with `role`, stdout piped.
fn spawn(role: &str, addr: Option<&str>) -> Child {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args([CHILD_TEST, "--exact", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(ROLE_VAR, role)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(a) = addr {
        cmd.env(ADDR_VAR, a);
    }
    cmd.spawn().unwrap()
}

/// Waits for a child for at most `limit`, killing it past that; returns its outputs.
fn finish(mut child: Child, limit: Duration) -> (bool, String) {
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut out);
    }
    (status.is_some_and(|s| s.success()), out)
}

#[test]
fn two_processes_exchange_keys() {
    // Process 0 serves on a free port and prints it; process 1 connects to it.
    let mut p0 = spawn("0", None);
    let mut lines = BufReader::new(p0.stdout.take().unwrap()).lines();
    let addr = loop {
        match lines.next() {
            Some(Ok(l)) => {
                // (libtest writes "test <name> ... " before the test's own output.)
                if let Some(i) = l.find("kv-addr=") {
                    break l[i + "kv-addr=".len()..].trim().to_string();
                }
            }
            _ => {
                let (_, err) = finish(p0, Duration::from_secs(5));
                panic!("process 0 printed no address:\n{err}");
            }
        }
    };
    let rest0 = std::thread::spawn(move || lines.map_while(|l| l.ok()).collect::<Vec<_>>());
    let mut p1 = spawn("1", Some(&addr));
    let mut out1 = String::new();
    let stdout1 = p1.stdout.take().unwrap();
    let rest1 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(stdout1).read_to_string(&mut s);
        s
    });
    let (ok1, err1) = finish(p1, Duration::from_secs(120));
    let (ok0, err0) = finish(p0, Duration::from_secs(120));
    out1.push_str(&rest1.join().unwrap());
    let out0 = rest0.join().unwrap().join("\n");
    assert!(
        ok0 && ok1,
        "process 0:\n{out0}\n{err0}\nprocess 1:\n{out1}\n{err1}"
    );
    assert!(out0.contains("kv process 0: ok"), "{out0}");
    let blocked: u64 = out1
        .split("blocked ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out1}"));
    // Process 0 waited 500 ms before its put: process 1's get blocked across processes.
    assert!((300..60_000).contains(&blocked), "{out1}");
    println!("two processes: process 1 blocked {blocked} ms on process 0's key");
}
