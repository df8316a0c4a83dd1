//! The threads that read joined viewers: each owns its share of the sockets and waits on
//! them with one `epoll` set, reads whatever is ready into one scratch buffer and acts on
//! each message as it is parsed — no task, wake-up or allocation per viewer or frame, so
//! that the generator takes as little of the machine as it can from the server it
//! measures. Commands a controlling viewer sends and the closing of a crowd reach a
//! thread through its mailbox.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::probe::{lock, Clock, Order, Probe, Tally};
use crate::viewer;
use crate::wire::{self, Event, Inbox};

/// What one `read` takes at most; a shorter read means the socket was drained.
const SCRATCH: usize = 64 << 10;
const WAKE: Token = Token(usize::MAX);
/// Readiness events taken per wait.
const EVENTS: usize = 1024;

/// Identifies connections to their reader, and crowds.
static NEXT_ID: AtomicUsize = AtomicUsize::new(0);
static NEXT_CROWD: AtomicU64 = AtomicU64::new(0);
static POOL: OnceLock<Result<Pool, String>> = OnceLock::new();

pub fn next_crowd() -> u64 {
    NEXT_CROWD.fetch_add(1, Ordering::Relaxed)
}

/// Starts `threads` readers (once; later calls return the same pool).
pub fn start(threads: usize) -> Result<&'static Pool, String> {
    POOL.get_or_init(|| Pool::start(threads.max(1)))
        .as_ref()
        .map_err(Clone::clone)
}

/// The readers, once started.
pub fn pool() -> &'static Pool {
    match POOL.get() {
        Some(Ok(pool)) => pool,
        _ => panic!("reader::start must succeed before viewers join"),
    }
}

pub struct Pool {
    mailboxes: Vec<Arc<Mailbox>>,
    turn: AtomicUsize,
}

impl Pool {
    fn start(threads: usize) -> Result<Self, String> {
        let mut mailboxes = Vec::with_capacity(threads);
        for i in 0..threads {
            let poll = Poll::new().map_err(|e| format!("reader: {e}"))?;
            let waker = Waker::new(poll.registry(), WAKE).map_err(|e| format!("reader: {e}"))?;
            let mailbox = Arc::new(Mailbox {
                mail: Mutex::new(Vec::new()),
                waker,
            });
            let mut reader = Reader {
                poll,
                mailbox: mailbox.clone(),
                conns: HashMap::new(),
            };
            std::thread::Builder::new()
                .name(format!("reader-{i}"))
                .spawn(move || reader.run())
                .map_err(|e| format!("reader: {e}"))?;
            mailboxes.push(mailbox);
        }
        Ok(Self {
            mailboxes,
            turn: AtomicUsize::new(0),
        })
    }

    /// Hands a joined viewer to the next reader in turn.
    pub fn adopt(&self, joined: viewer::Joined, watch: Watch, remote: Option<&Remote>) {
        let turn = self.turn.fetch_add(1, Ordering::Relaxed) % self.mailboxes.len();
        let mailbox = &self.mailboxes[turn];
        let id = match remote {
            Some(remote) => {
                // The remote's mailbox is set before the connection arrives there, so a
                // command sent once the join is over always finds it.
                let _ = remote.0.mailbox.set(mailbox.clone());
                remote.0.id
            }
            None => NEXT_ID.fetch_add(1, Ordering::Relaxed),
        };
        mailbox.post(Mail::Adopt(
            Box::new(Conn {
                stream: TcpStream::from_std(joined.stream),
                inbox: joined.inbox,
                out: Vec::new(),
                watch,
            }),
            id,
        ));
    }

    /// Closes every connection of `crowd`.
    pub fn close(&self, crowd: u64) {
        for mailbox in &self.mailboxes {
            mailbox.post(Mail::Close(crowd));
        }
    }
}

/// What a connection records, and where.
pub struct Watch {
    pub crowd: u64,
    pub probe: Arc<Probe>,
    pub tally: Option<Arc<Tally>>,
    pub clock: Clock,
}

/// The way commands reach a controlling viewer: the reader that owns its socket sends
/// them, so that only one thread ever writes to it.
#[derive(Clone)]
pub struct Remote(Arc<RemoteSlot>);

struct RemoteSlot {
    id: usize,
    mailbox: OnceLock<Arc<Mailbox>>,
}

impl Default for Remote {
    fn default() -> Self {
        Self(Arc::new(RemoteSlot {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            mailbox: OnceLock::new(),
        }))
    }
}

impl Remote {
    /// Sends command `n`; false when the viewer never joined.
    pub fn send(&self, n: u64, order: Order) -> bool {
        match self.0.mailbox.get() {
            Some(mailbox) => {
                mailbox.post(Mail::Order(self.0.id, n, order));
                true
            }
            None => false,
        }
    }
}

enum Mail {
    Adopt(Box<Conn>, usize),
    Order(usize, u64, Order),
    Close(u64),
}

struct Mailbox {
    mail: Mutex<Vec<Mail>>,
    waker: Waker,
}

impl Mailbox {
    fn post(&self, mail: Mail) {
        let mut queue = lock(&self.mail);
        let was_empty = queue.is_empty();
        queue.push(mail);
        drop(queue);
        // A non-empty mailbox has a wake-up pending already.
        if was_empty {
            let _ = self.waker.wake();
        }
    }
}

struct Reader {
    poll: Poll,
    mailbox: Arc<Mailbox>,
    conns: HashMap<usize, Conn>,
}

impl Reader {
    fn run(&mut self) {
        let mut events = Events::with_capacity(EVENTS);
        let mut scratch = vec![0u8; SCRATCH];
        loop {
            if let Err(err) = self.poll.poll(&mut events, None) {
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                eprintln!("wewatch-load: a reader stopped: {err}");
                // Back off rather than spin; the scenarios see its viewers go quiet.
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
            for event in events.iter() {
                if event.token() == WAKE {
                    self.take_mail();
                    continue;
                }
                let id = event.token().0;
                let Some(conn) = self.conns.get_mut(&id) else {
                    continue;
                };
                let mut ending = None;
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    ending = conn.read(&mut scratch);
                }
                if ending.is_none() && event.is_writable() {
                    ending = conn.flush();
                }
                if let Some(why) = ending {
                    self.end(id, why);
                }
            }
        }
    }

    fn take_mail(&mut self) {
        let mail = std::mem::take(&mut *lock(&self.mailbox.mail));
        for mail in mail {
            match mail {
                Mail::Adopt(mut conn, id) => {
                    let interest = Interest::READABLE | Interest::WRITABLE;
                    if let Err(err) =
                        self.poll
                            .registry()
                            .register(&mut conn.stream, Token(id), interest)
                    {
                        conn.watch.finish(format!("error: {}", err.kind()));
                        continue;
                    }
                    self.conns.insert(id, *conn);
                }
                Mail::Order(id, n, order) => {
                    let Some(conn) = self.conns.get_mut(&id) else {
                        continue;
                    };
                    let at = conn.watch.clock.now();
                    lock(&conn.watch.probe.sent).push((n, at));
                    if let Some(why) =
                        conn.send(&wire::client_frame(wire::OP_TEXT, order.frame().as_bytes()))
                    {
                        self.end(id, why);
                    }
                }
                Mail::Close(crowd) => {
                    let gone: Vec<usize> = self
                        .conns
                        .iter()
                        .filter(|(_, c)| c.watch.crowd == crowd)
                        .map(|(&id, _)| id)
                        .collect();
                    for id in gone {
                        if let Some(mut conn) = self.conns.remove(&id) {
                            let _ = self.poll.registry().deregister(&mut conn.stream);
                        }
                    }
                    if self.conns.capacity() > 4 * self.conns.len().max(64) {
                        self.conns.shrink_to_fit();
                    }
                }
            }
        }
    }

    fn end(&mut self, id: usize, why: String) {
        if let Some(mut conn) = self.conns.remove(&id) {
            let _ = self.poll.registry().deregister(&mut conn.stream);
            conn.watch.finish(why);
        }
    }
}

impl Watch {
    fn finish(&self, why: String) {
        *lock(&self.probe.ending) = Some(why);
        self.probe.closed.store(true, Ordering::Release);
    }
}

/// One joined viewer's socket.
struct Conn {
    stream: TcpStream,
    inbox: Inbox,
    /// What the socket did not take yet (pongs and commands; tiny, and nearly always empty).
    out: Vec<u8>,
    watch: Watch,
}

impl Conn {
    /// Reads until the socket is drained; why the connection ended, if it did.
    fn read(&mut self, scratch: &mut [u8]) -> Option<String> {
        loop {
            match self.stream.read(scratch) {
                Ok(0) => return Some("connection ended".into()),
                Ok(n) => {
                    let mut pongs = Vec::new();
                    let mut ending = None;
                    let watch = &self.watch;
                    let fed = self.inbox.feed(&scratch[..n], &mut |event| match event {
                        Event::Text(text) => viewer::on_text(text, watch),
                        Event::Ping(payload) => {
                            pongs.push(wire::client_frame(wire::OP_PONG, payload))
                        }
                        Event::Close(why) => ending = Some(why),
                    });
                    if let Err(err) = fed {
                        return Some(format!("error: {err}"));
                    }
                    for pong in pongs {
                        if let Some(why) = self.send(&pong) {
                            return Some(why);
                        }
                    }
                    if ending.is_some() {
                        return ending;
                    }
                    if n < scratch.len() {
                        return None;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return None,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Some(format!("error: {}", err.kind())),
            }
        }
    }

    /// Writes `bytes` after anything still waiting.
    fn send(&mut self, bytes: &[u8]) -> Option<String> {
        if self.out.is_empty() {
            match write_some(&mut self.stream, bytes) {
                Ok(n) => self.out.extend_from_slice(&bytes[n..]),
                Err(err) => return Some(format!("error sending: {}", err.kind())),
            }
            None
        } else {
            self.out.extend_from_slice(bytes);
            self.flush()
        }
    }

    fn flush(&mut self) -> Option<String> {
        if self.out.is_empty() {
            return None;
        }
        match write_some(&mut self.stream, &self.out) {
            Ok(n) => {
                self.out.drain(..n);
                None
            }
            Err(err) => Some(format!("error sending: {}", err.kind())),
        }
    }
}

/// Writes what the socket takes now.
fn write_some(stream: &mut TcpStream, mut bytes: &[u8]) -> io::Result<usize> {
    let mut written = 0;
    while !bytes.is_empty() {
        match stream.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                written += n;
                bytes = &bytes[n..];
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(written)
}
