//! A minimal SMTP server on loopback that keeps what it receives, for tests of e-mail delivery.
//!
//! It speaks plain SMTP (no TLS): greeting, EHLO/HELO advertising `AUTH PLAIN LOGIN`, AUTH PLAIN and
//! AUTH LOGIN checked against one configured user and password (535 on a mismatch; 530 when a
//! message is sent without authenticating), MAIL FROM, RCPT TO, DATA (dot-stuffing undone), RSET,
//! NOOP and QUIT. It can be told to refuse the next message with a given reply.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let sink = backoffice_sim::smtp::SmtpSink::start("mailer", "made-up-password").await?;
//! println!("{}", sink.addr());
//! let mails = sink.wait_for(1, std::time::Duration::from_secs(5)).await;
//! sink.shutdown().await;
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

/// Longest command line accepted (RFC 5321 allows 512; AUTH lines can be longer).
const MAX_LINE: usize = 4096;
/// Largest message accepted.
const MAX_MESSAGE: usize = 10 * 1024 * 1024;

/// One message as the sink received it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`), without the angle brackets.
    pub from: String,
    /// The envelope recipients (`RCPT TO`), without the angle brackets.
    pub to: Vec<String>,
    /// The message as sent after DATA, dot-stuffing undone, CRLF line ends.
    pub data: String,
    /// The user that authenticated on this session, if any.
    pub auth_user: Option<String>,
}

impl ReceivedMail {
    /// The value of the first header named `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let mut found: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with(' ') || line.starts_with('\t') {
                if let Some(v) = found.as_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                continue;
            }
            if found.is_some() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.trim().eq_ignore_ascii_case(name) {
                    found = Some(v.trim().to_string());
                }
            }
        }
        found
    }

    /// The body (everything after the first empty line).
    pub fn body(&self) -> &str {
        self.data.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("")
    }

    /// The header `name` with RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`) decoded,
    /// as a mail program would show it.
    pub fn decoded_header(&self, name: &str) -> Option<String> {
        let raw = self.header(name)?;
        let mut out = String::new();
        let mut rest = raw.as_str();
        let mut last_was_word = false;
        while let Some(start) = rest.find("=?") {
            let before = &rest[..start];
            // Whitespace between two encoded words is not part of the text.
            if !(last_was_word && before.trim().is_empty()) {
                out.push_str(before);
            }
            let word = &rest[start + 2..];
            let parts: Vec<&str> = word.splitn(3, '?').collect();
            let (Some(enc), Some(tail)) = (parts.get(1), parts.get(2)) else {
                out.push_str(&rest[start..]);
                return Some(out);
            };
            let Some(end) = tail.find("?=") else {
                out.push_str(&rest[start..]);
                return Some(out);
            };
            let text = &tail[..end];
            let bytes = if enc.eq_ignore_ascii_case("b") {
                base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default()
            } else {
                quoted_printable(&text.replace('_', " "))
            };
            out.push_str(&String::from_utf8_lossy(&bytes));
            rest = &tail[end + 2..];
            last_was_word = true;
        }
        out.push_str(rest);
        Some(out)
    }

    /// The body as text: its Content-Transfer-Encoding (base64 or quoted-printable) undone.
    pub fn text_body(&self) -> String {
        let encoding = self.header("Content-Transfer-Encoding").unwrap_or_default().to_ascii_lowercase();
        let body = self.body();
        let bytes = match encoding.as_str() {
            "base64" => base64::engine::general_purpose::STANDARD
                .decode(body.split_whitespace().collect::<String>())
                .unwrap_or_default(),
            "quoted-printable" => quoted_printable(body),
            _ => body.as_bytes().to_vec(),
        };
        String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
    }
}

/// Undoes quoted-printable: soft line breaks (`=` at a line's end) and `=XX` bytes.
fn quoted_printable(text: &str) -> Vec<u8> {
    let text = text.replace("=\r\n", "").replace("=\n", "");
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<ReceivedMail>>,
    fail_next: Mutex<Option<(u16, String)>>,
    arrived: Notify,
}

/// The running sink. Cheap to query from any thread.
pub struct SmtpSink {
    addr: SocketAddr,
    state: Arc<State>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink").field("addr", &self.addr).finish()
    }
}

impl SmtpSink {
    /// Listens on an ephemeral port of 127.0.0.1 and accepts `user` / `password` only.
    pub async fn start(user: &str, password: &str) -> std::io::Result<SmtpSink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        let (stop, mut stopped) = watch::channel(false);
        let creds = Arc::new((user.to_string(), password.to_string()));
        let st = state.clone();
        let task = tokio::spawn(async move {
            let mut sessions = JoinSet::new();
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    accepted = listener.accept() => {
                        if let Ok((sock, _)) = accepted {
                            let st = st.clone();
                            let creds = creds.clone();
                            let mut stop_session = stopped.clone();
                            sessions.spawn(async move {
                                tokio::select! {
                                    _ = stop_session.changed() => {}
                                    _ = session(sock, st, creds) => {}
                                }
                            });
                        }
                    }
                }
            }
            sessions.shutdown().await;
        });
        Ok(SmtpSink { addr, state, stop, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every message received so far, oldest first.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.state.received.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// `{"addr": "127.0.0.1:PORT", "received": [...]}`, for a test that reads the sink as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "addr": self.addr.to_string(), "received": self.received() })
    }

    /// The next message (at the end of its DATA) is refused with `code` and `text`, e.g. 451.
    pub fn fail_next(&self, code: u16, text: &str) {
        *self.state.fail_next.lock().unwrap_or_else(|p| p.into_inner()) = Some((code, text.to_string()));
    }

    /// Waits until at least `n` messages arrived or `timeout` passed; returns what arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.state.arrived.notified();
            let got = self.received();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            let _ = tokio::time::timeout_at(deadline, arrived).await;
        }
    }

    /// Stops accepting, closes open sessions and waits for the server to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Reads one line ending in LF (CRLF expected), at most `max` bytes. `None` at end of stream or
/// when the line is too long.
async fn read_line<R: AsyncRead + Unpin>(r: &mut BufReader<R>, max: usize) -> Option<String> {
    let mut buf = Vec::new();
    let n = (&mut *r).take(max as u64 + 1).read_until(b'\n', &mut buf).await.ok()?;
    if n == 0 || n > max {
        return None;
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

fn b64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s.trim()).ok()
}

/// `<a@b>` (with optional parameters after it) → `a@b`.
fn path_arg(rest: &str) -> Option<String> {
    let rest = rest.trim();
    let start = rest.find('<')?;
    let end = rest[start..].find('>')? + start;
    Some(rest[start + 1..end].to_string())
}

async fn session(sock: TcpStream, st: Arc<State>, creds: Arc<(String, String)>) {
    let (rd, mut wr) = sock.into_split();
    let mut rd = BufReader::new(rd);
    macro_rules! say {
        ($($t:tt)*) => {
            if wr.write_all(format!("{}\r\n", format_args!($($t)*)).as_bytes()).await.is_err() {
                return;
            }
        };
    }
    say!("220 sink.backoffice.test ESMTP BackOffice test sink");
    let mut auth_user: Option<String> = None;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = vec![];
    let check = |user: &str, pass: &str| user == creds.0 && pass == creds.1;
    while let Some(line) = read_line(&mut rd, MAX_LINE).await {
        let (verb, rest) = match line.split_once(' ') {
            Some((v, r)) => (v.to_ascii_uppercase(), r.to_string()),
            None => (line.to_ascii_uppercase(), String::new()),
        };
        match verb.as_str() {
            "EHLO" => {
                from = None;
                to.clear();
                say!("250-sink.backoffice.test greets {}", rest.trim());
                say!("250-AUTH PLAIN LOGIN");
                say!("250 8BITMIME");
            }
            "HELO" => {
                from = None;
                to.clear();
                say!("250 sink.backoffice.test");
            }
            "AUTH" => {
                if auth_user.is_some() {
                    say!("503 5.5.1 Already authenticated");
                    continue;
                }
                let mut parts = rest.split_whitespace();
                let mech = parts.next().unwrap_or("").to_ascii_uppercase();
                let initial = parts.next().map(str::to_string);
                let ok_user = match mech.as_str() {
                    "PLAIN" => {
                        let payload = match initial {
                            Some(p) => p,
                            None => {
                                say!("334 ");
                                match read_line(&mut rd, MAX_LINE).await {
                                    Some(l) => l,
                                    None => return,
                                }
                            }
                        };
                        let decoded = b64(&payload).unwrap_or_default();
                        let fields: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
                        match fields.as_slice() {
                            [_authz, user, pass] => {
                                let (u, p) = (String::from_utf8_lossy(user), String::from_utf8_lossy(pass));
                                check(&u, &p).then(|| u.into_owned())
                            }
                            _ => None,
                        }
                    }
                    "LOGIN" => {
                        let user = match initial {
                            Some(u) => u,
                            None => {
                                say!("334 VXNlcm5hbWU6");
                                match read_line(&mut rd, MAX_LINE).await {
                                    Some(l) => l,
                                    None => return,
                                }
                            }
                        };
                        say!("334 UGFzc3dvcmQ6");
                        let pass = match read_line(&mut rd, MAX_LINE).await {
                            Some(l) => l,
                            None => return,
                        };
                        let u = String::from_utf8_lossy(&b64(&user).unwrap_or_default()).into_owned();
                        let p = String::from_utf8_lossy(&b64(&pass).unwrap_or_default()).into_owned();
                        check(&u, &p).then_some(u)
                    }
                    _ => {
                        say!("504 5.5.4 Unrecognized authentication type");
                        continue;
                    }
                };
                match ok_user {
                    Some(u) => {
                        auth_user = Some(u);
                        say!("235 2.7.0 Authentication successful");
                    }
                    None => say!("535 5.7.8 Authentication credentials invalid"),
                }
            }
            "MAIL" => {
                if auth_user.is_none() {
                    say!("530 5.7.0 Authentication required");
                    continue;
                }
                match rest.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("FROM")) {
                    Some((_, p)) => match path_arg(p) {
                        Some(addr) => {
                            from = Some(addr);
                            to.clear();
                            say!("250 2.1.0 Ok");
                        }
                        None => say!("501 5.1.7 Bad sender address syntax"),
                    },
                    None => say!("501 5.5.4 Syntax: MAIL FROM:<address>"),
                }
            }
            "RCPT" => {
                if from.is_none() {
                    say!("503 5.5.1 Need MAIL before RCPT");
                    continue;
                }
                match rest.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("TO")) {
                    Some((_, p)) => match path_arg(p) {
                        Some(addr) => {
                            to.push(addr);
                            say!("250 2.1.5 Ok");
                        }
                        None => say!("501 5.1.3 Bad recipient address syntax"),
                    },
                    None => say!("501 5.5.4 Syntax: RCPT TO:<address>"),
                }
            }
            "DATA" => {
                if from.is_none() || to.is_empty() {
                    say!("503 5.5.1 Need MAIL and RCPT before DATA");
                    continue;
                }
                say!("354 End data with <CR><LF>.<CR><LF>");
                let mut data = String::new();
                loop {
                    let Some(l) = read_line(&mut rd, MAX_LINE * 4).await else { return };
                    if l == "." {
                        break;
                    }
                    let l = l.strip_prefix('.').unwrap_or(&l);
                    data.push_str(l);
                    data.push_str("\r\n");
                    if data.len() > MAX_MESSAGE {
                        say!("552 5.3.4 Message too big");
                        return;
                    }
                }
                let fail = st.fail_next.lock().unwrap_or_else(|p| p.into_inner()).take();
                match fail {
                    Some((code, text)) => say!("{code} {text}"),
                    None => {
                        let mail = ReceivedMail {
                            from: from.take().unwrap_or_default(),
                            to: std::mem::take(&mut to),
                            data,
                            auth_user: auth_user.clone(),
                        };
                        st.received.lock().unwrap_or_else(|p| p.into_inner()).push(mail);
                        st.arrived.notify_waiters();
                        say!("250 2.0.0 Ok: queued");
                    }
                }
                from = None;
                to.clear();
            }
            "RSET" => {
                from = None;
                to.clear();
                say!("250 2.0.0 Ok");
            }
            "NOOP" => say!("250 2.0.0 Ok"),
            "QUIT" => {
                say!("221 2.0.0 Bye");
                return;
            }
            _ => say!("502 5.5.2 Command not recognized"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_headers_and_bodies_read_as_text() {
        let subject = format!(
            "=?utf-8?b?{}?= =?utf-8?q?_falhou=3A_Matriz?=",
            base64::engine::general_purpose::STANDARD.encode("Teste de conexão")
        );
        let mail = ReceivedMail {
            from: "a@example.test".into(),
            to: vec![],
            data: format!(
                "Subject: {subject}\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nO Omie recusou a chave=\r\n ou o segredo =E2=80=9CMatriz=E2=80=9D."
            ),
            auth_user: None,
        };
        assert_eq!(mail.decoded_header("Subject").as_deref(), Some("Teste de conexão falhou: Matriz"));
        assert_eq!(mail.text_body(), "O Omie recusou a chave ou o segredo “Matriz”.");
    }

    async fn expect(rd: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, code: &str) -> String {
        loop {
            let mut l = String::new();
            rd.read_line(&mut l).await.unwrap();
            assert!(l.starts_with(code), "expected {code}, got {l:?}");
            if l.as_bytes().get(3) != Some(&b'-') {
                return l;
            }
        }
    }

    #[tokio::test]
    async fn plain_smtp_dialogue_is_recorded_with_dots_unstuffed() {
        let sink = SmtpSink::start("u1", "p1").await.unwrap();
        let (rd, mut wr) = TcpStream::connect(sink.addr()).await.unwrap().into_split();
        let mut rd = BufReader::new(rd);
        expect(&mut rd, "220").await;
        wr.write_all(b"EHLO test\r\n").await.unwrap();
        expect(&mut rd, "250").await;
        wr.write_all(b"MAIL FROM:<a@x.test>\r\n").await.unwrap();
        expect(&mut rd, "530").await;
        let bad = base64::engine::general_purpose::STANDARD.encode("\0u1\0nope");
        wr.write_all(format!("AUTH PLAIN {bad}\r\n").as_bytes()).await.unwrap();
        expect(&mut rd, "535").await;
        wr.write_all(b"AUTH LOGIN\r\n").await.unwrap();
        expect(&mut rd, "334").await;
        wr.write_all(b"dTE=\r\n").await.unwrap();
        expect(&mut rd, "334").await;
        wr.write_all(b"cDE=\r\n").await.unwrap();
        expect(&mut rd, "235").await;
        wr.write_all(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n").await.unwrap();
        expect(&mut rd, "250").await;
        expect(&mut rd, "250").await;
        expect(&mut rd, "354").await;
        wr.write_all(b"Subject: hi\r\n\r\n..leading dot\r\nend\r\n.\r\n").await.unwrap();
        expect(&mut rd, "250").await;
        sink.fail_next(451, "4.3.0 try later");
        wr.write_all(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\nx\r\n.\r\n").await.unwrap();
        expect(&mut rd, "250").await;
        expect(&mut rd, "250").await;
        expect(&mut rd, "354").await;
        expect(&mut rd, "451").await;
        wr.write_all(b"QUIT\r\n").await.unwrap();
        expect(&mut rd, "221").await;
        let got = sink.received();
        assert_eq!(got.len(), 1, "the refused message is not kept");
        assert_eq!(got[0].from, "a@x.test");
        assert_eq!(got[0].to, vec!["b@y.test".to_string()]);
        assert_eq!(got[0].auth_user.as_deref(), Some("u1"));
        assert_eq!(got[0].header("subject").as_deref(), Some("hi"));
        assert_eq!(got[0].body(), ".leading dot\r\nend\r\n");
        sink.shutdown().await;
    }
}
