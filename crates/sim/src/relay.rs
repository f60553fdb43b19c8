//! A TCP relay on loopback that can cut every connection at once, as a dead network or a server
//! that goes away does, and let connections through again afterwards: put between a client and
//! any server (PostgreSQL here) to test what the client does when the server disappears mid-work.

use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub struct Relay {
    pub port: u16,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    /// Relays `127.0.0.1:<port>` to `upstream` (`host:port`), a thread per direction and connection.
    pub fn start(upstream: String) -> std::io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let cut = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (c, o) = (cut.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                if c.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else { continue };
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else { continue };
                {
                    let mut list = o.lock().unwrap_or_else(|p| p.into_inner());
                    list.push(c2);
                    list.push(s2);
                }
                let (Ok(c3), Ok(s3)) = (client.try_clone(), server.try_clone()) else { continue };
                for (mut from, mut to) in [(c3, s3), (server, client)] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Ok(Relay { port, cut, open })
    }

    /// Cuts every open connection and refuses new ones until [`Relay::restore`].
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for s in self.open.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Lets new connections through again (the server is back).
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}
