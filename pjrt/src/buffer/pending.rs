//! Buffers whose data must be delivered by the caller (a transfer manager's buffers, alias
//! buffers, donations with a control dependency), and the refusal of blocking reads that
//! could never return.
//!
//! Such a buffer becomes ready only when the caller delivers its data (the last transfer, a
//! fulfilled alias, a ready dependency). A blocking read of it on the thread that holds the
//! deliverer would wait forever: the plugin blocks inside `PJRT_Event_Await` with no timeout.
//! So each buffer remembers the sources it waits for ([`Pending`]); execution outputs and
//! copies inherit the sources of their inputs; and a blocking host read of a buffer with an
//! undelivered source is refused with [`Error::WouldBlock`]. A reader on another thread
//! waits on [`Buffer::ready_event`](crate::Buffer::ready_event) (or
//! [`Event::wait_timeout`](crate::Event::wait_timeout)) first, and then reads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

/// One source of data that the caller has not delivered yet.
#[derive(Debug)]
pub(crate) struct Pending {
    /// What delivers it, for errors: "buffer 2 of an AsyncTransferManager".
    what: String,
    delivered: AtomicBool,
}

impl Pending {
    pub(crate) fn new(what: String) -> Arc<Pending> {
        Arc::new(Pending {
            what,
            delivered: AtomicBool::new(false),
        })
    }

    /// The data (or an error in its place) was handed to the plugin: reads may wait now.
    pub(crate) fn deliver(&self) {
        self.delivered.store(true, Ordering::Release);
    }

    pub(crate) fn is_delivered(&self) -> bool {
        self.delivered.load(Ordering::Acquire)
    }
}

/// The undelivered sources a buffer's data waits for (empty for almost every buffer).
#[derive(Debug, Default, Clone)]
pub(crate) struct PendingSet(Vec<Arc<Pending>>);

impl PendingSet {
    pub(crate) fn one(p: Arc<Pending>) -> PendingSet {
        PendingSet(vec![p])
    }

    /// The sources of several sets still undelivered, each once.
    pub(crate) fn union<'a>(sets: impl IntoIterator<Item = &'a PendingSet>) -> PendingSet {
        let mut out: Vec<Arc<Pending>> = Vec::new();
        for s in sets {
            for p in &s.0 {
                if !p.is_delivered() && !out.iter().any(|q| Arc::ptr_eq(p, q)) {
                    out.push(p.clone());
                }
            }
        }
        PendingSet(out)
    }

    /// Refuses a blocking read (`op`) while a source is undelivered.
    pub(crate) fn check_read(&self, op: &'static str) -> Result<()> {
        match self.0.iter().find(|p| !p.is_delivered()) {
            None => Ok(()),
            Some(p) => Err(Error::WouldBlock {
                op,
                reason: format!(
                    "the buffer's data comes from {} and has not been delivered, so this read \
                     would wait forever on this thread; deliver it first, or wait on the \
                     buffer's ready_event() (e.g. with a timeout) on another thread",
                    p.what
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wait_for_every_source() {
        let a = Pending::new("source a".into());
        let b = Pending::new("source b".into());
        let s = PendingSet::union([&PendingSet::one(a.clone()), &PendingSet::one(b.clone())]);
        let e = s.check_read("read").unwrap_err();
        assert!(e.to_string().contains("source a"), "{e}");
        a.deliver();
        let e = s.check_read("read").unwrap_err();
        assert!(e.to_string().contains("source b"), "{e}");
        b.deliver();
        assert!(s.check_read("read").is_ok());
        // A union drops delivered sources.
        assert!(PendingSet::union([&s]).0.is_empty());
    }
}
