//! Shared helpers: one client per test process.

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use pjrt::{Client, ClientOptions, LoadedExecutable, Plugin, Program};

/// The client of the plugin under test, with the plugin's own default options (4 devices on
/// the CPU plugins; created once; prints the plugin's version once).
pub fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let plugin = Plugin::load_default().expect("load the plugin under test");
        let c = Client::new(&plugin, &ClientOptions::new())
            .expect("create client of the plugin under test");
        // Written to stderr directly, past the test harness's capture, so it shows once.
        let _ = writeln!(
            std::io::stderr(),
            "plugin under test: {} (PJRT API {}, platform {} {})",
            c.plugin().path().display(),
            c.plugin().api_version(),
            c.platform_name(),
            c.platform_version()
        );
        c
    })
}

/// Held by the tests that count compile cache events and by the exercise that registers an
/// XLA transform: while a transform is registered, every compile of the process bypasses
/// the cache, which those counts would see.
pub fn cache_counting() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// The minor API version of the plugin under test.
pub fn minor() -> i32 {
    client().plugin().api_version().minor
}

/// A StableHLO module as a program.
pub fn mlir(text: &str) -> Program {
    Program::mlir_text(text)
}

/// Compiles a StableHLO module with default options.
pub fn compile(text: &str) -> LoadedExecutable {
    client().compile(&mlir(text)).expect("compile")
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives a future to completion on this thread (a minimal executor for tests).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park(),
        }
    }
}
