//! A minimal MySQL/MariaDB client for the built-in rotators: the client/server protocol's
//! handshake (v10) with `mysql_native_password` (including an auth switch), the
//! `SSLRequest` upgrade to TLS (rustls, verified against the system's CAs plus
//! `[secretsmanager] ca-file`), `COM_QUERY` for statements that answer OK, and `COM_QUIT`.
//!
//! TLS follows the secret's `ssl`, as AWS's rotation templates do (see `DbTls`): when it is
//! required and the server does not offer it (no `CLIENT_SSL` capability) or its
//! certificate is not trusted, the connection fails before any credential is sent.
//!
//! `mysql_native_password` is SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))),
//! computed with coffer_crypto's legacy SHA-1.

use super::builtin::DbTls;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

const CLIENT_LONG_PASSWORD: u32 = 0x1;
const CLIENT_CONNECT_WITH_DB: u32 = 0x8;
const CLIENT_PROTOCOL_41: u32 = 0x200;
const CLIENT_SSL: u32 = 0x800;
const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
const CLIENT_PLUGIN_AUTH: u32 = 0x80000;
const NATIVE: &str = "mysql_native_password";
const MAX_PACKET: usize = 16 * 1024 * 1024;
/// utf8_general_ci.
const CHARSET: u8 = 33;

/// The connection: plain TCP, or TLS after an `SSLRequest`.
enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
    /// Only while the plain stream is being upgraded.
    Closed,
}

fn closed() -> std::io::Error {
    std::io::Error::from(std::io::ErrorKind::NotConnected)
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
            Stream::Closed => Err(closed()),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
            Stream::Closed => Err(closed()),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
            Stream::Closed => Ok(()),
        }
    }
}

pub struct Conn {
    stream: Stream,
    seq: u8,
}

/// Why a connection attempt failed: TLS could not be set up (so a preferred TLS may fall
/// back to plain), or anything else (login refused, network).
#[derive(Debug)]
enum Failure {
    Tls(String),
    Other(String),
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure::Other(s)
    }
}

/// The `mysql_native_password` answer to `scramble` (empty for an empty password).
pub fn native_auth(password: &[u8], scramble: &[u8]) -> Zeroizing<Vec<u8>> {
    if password.is_empty() {
        return Zeroizing::new(Vec::new());
    }
    let h1 = Zeroizing::new(coffer_crypto::sha1_legacy(password));
    let h2 = coffer_crypto::sha1_legacy(h1.as_ref());
    let mut salted = scramble.to_vec();
    salted.extend_from_slice(&h2);
    let h3 = coffer_crypto::sha1_legacy(&salted);
    Zeroizing::new(h1.iter().zip(h3.iter()).map(|(a, b)| a ^ b).collect())
}

impl Conn {
    /// Connects and logs in; fails with the server's message when the login is refused.
    /// With `DbTls::Prefer`, a server that offers no TLS or whose TLS cannot be set up
    /// (an untrusted certificate) is reached over plain TCP instead, with a warning.
    pub fn connect(
        host: &str,
        port: u16,
        user: &str,
        password: &str,
        db: Option<&str>,
        tls: &DbTls,
    ) -> Result<Self, String> {
        match Self::connect_once(host, port, user, password, db, tls) {
            Ok(c) => Ok(c),
            Err(Failure::Tls(e)) if matches!(tls, DbTls::Prefer(_)) => {
                tracing::warn!(%host, port, error = %e, "TLS to the database failed; falling back to plain TCP (set \"ssl\": true in the secret to require TLS)");
                Self::connect_once(host, port, user, password, db, &DbTls::Disable).map_err(|e| {
                    match e {
                        Failure::Tls(e) | Failure::Other(e) => e,
                    }
                })
            }
            Err(Failure::Tls(e)) | Err(Failure::Other(e)) => Err(e),
        }
    }

    fn connect_once(
        host: &str,
        port: u16,
        user: &str,
        password: &str,
        db: Option<&str>,
        tls: &DbTls,
    ) -> Result<Self, Failure> {
        let addr = (host, port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .next()
            .ok_or_else(|| format!("cannot resolve {host}"))?;
        let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
            .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
        let t = Some(Duration::from_secs(30));
        tcp.set_read_timeout(t).map_err(|e| e.to_string())?;
        tcp.set_write_timeout(t).map_err(|e| e.to_string())?;
        let mut c = Conn {
            stream: Stream::Plain(tcp),
            seq: 0,
        };
        let hello = c.read_packet()?;
        let h = parse_handshake(&hello)?;
        let mut caps = CLIENT_LONG_PASSWORD
            | CLIENT_PROTOCOL_41
            | CLIENT_SECURE_CONNECTION
            | CLIENT_PLUGIN_AUTH;
        if db.is_some() {
            caps |= CLIENT_CONNECT_WITH_DB;
        }
        let config = match tls {
            DbTls::Disable => None,
            DbTls::Prefer(cfg) | DbTls::Require(cfg) => {
                if h.caps & CLIENT_SSL != 0 {
                    Some(cfg.clone())
                } else if matches!(tls, DbTls::Require(_)) {
                    return Err(Failure::Other(format!(
                        "the server at {host}:{port} does not offer TLS, and the secret requires it (\"ssl\": true)"
                    )));
                } else {
                    tracing::warn!(%host, port, "the database offers no TLS; logging in over plain TCP (set \"ssl\": true in the secret to require TLS)");
                    None
                }
            }
        };
        if let Some(cfg) = config {
            caps |= CLIENT_SSL;
            c.start_tls(host, cfg, caps).map_err(Failure::Tls)?;
        }
        let auth = if h.plugin == NATIVE || h.plugin.is_empty() {
            native_auth(password.as_bytes(), &h.scramble)
        } else {
            Zeroizing::new(Vec::new())
        };
        let mut p = Zeroizing::new(Vec::new());
        p.extend_from_slice(&caps.to_le_bytes());
        p.extend_from_slice(&(MAX_PACKET as u32).to_le_bytes());
        p.push(CHARSET);
        p.extend_from_slice(&[0u8; 23]);
        p.extend_from_slice(user.as_bytes());
        p.push(0);
        p.push(u8::try_from(auth.len()).map_err(|_| "auth too long".to_owned())?);
        p.extend_from_slice(&auth);
        if let Some(d) = db {
            p.extend_from_slice(d.as_bytes());
            p.push(0);
        }
        p.extend_from_slice(NATIVE.as_bytes());
        p.push(0);
        c.write_packet(&p)?;
        let mut reply = c.read_packet()?;
        if reply.first() == Some(&0xfe) {
            // Auth switch: the server names a plugin and a new scramble.
            let rest = reply.get(1..).unwrap_or(&[]);
            let nul = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
            let plugin = String::from_utf8_lossy(rest.get(..nul).unwrap_or(&[])).into_owned();
            if plugin != NATIVE {
                return Err(Failure::Other(format!(
                    "unsupported authentication plugin {plugin}"
                )));
            }
            let data = rest.get(nul + 1..).unwrap_or(&[]);
            let scramble: Vec<u8> = data
                .iter()
                .copied()
                .take_while(|b| *b != 0)
                .take(20)
                .collect();
            let answer = native_auth(password.as_bytes(), &scramble);
            c.write_packet(&answer)?;
            reply = c.read_packet()?;
        }
        ok_or_err(&reply)?;
        Ok(c)
    }

    /// Sends the `SSLRequest` (the handshake response's first 32 bytes, `CLIENT_SSL` set)
    /// and completes a TLS handshake on the same connection, verifying the server's
    /// certificate for `host`.
    fn start_tls(
        &mut self,
        host: &str,
        config: Arc<rustls::ClientConfig>,
        caps: u32,
    ) -> Result<(), String> {
        let mut p = Vec::with_capacity(32);
        p.extend_from_slice(&caps.to_le_bytes());
        p.extend_from_slice(&(MAX_PACKET as u32).to_le_bytes());
        p.push(CHARSET);
        p.extend_from_slice(&[0u8; 23]);
        self.write_packet(&p)?;
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| format!("{host} is not a valid TLS server name: {e}"))?;
        let mut conn = rustls::ClientConnection::new(config, name)
            .map_err(|e| format!("TLS setup failed: {e}"))?;
        let Stream::Plain(mut tcp) = std::mem::replace(&mut self.stream, Stream::Closed) else {
            return Err("TLS is already on".into());
        };
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)
                .map_err(|e| format!("TLS handshake with {host} failed: {e}"))?;
        }
        self.stream = Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp)));
        Ok(())
    }

    /// Runs a statement whose answer is OK (ALTER USER, CREATE USER, GRANT, DO ...).
    pub fn execute(&mut self, sql: &str) -> Result<(), String> {
        self.seq = 0;
        let mut p = Zeroizing::new(vec![0x03]);
        p.extend_from_slice(sql.as_bytes());
        self.write_packet(&p)?;
        let reply = self.read_packet()?;
        ok_or_err(&reply)
    }

    /// Runs a query and returns the first column of every row, as text.
    pub fn query_column(&mut self, sql: &str) -> Result<Vec<String>, String> {
        self.seq = 0;
        let mut p = vec![0x03];
        p.extend_from_slice(sql.as_bytes());
        self.write_packet(&p)?;
        let first = self.read_packet()?;
        if matches!(first.first(), Some(0x00) | Some(0xff)) {
            ok_or_err(&first)?;
            return Ok(Vec::new());
        }
        let columns = usize::from(first[0]);
        for _ in 0..columns {
            self.read_packet()?;
        }
        let eof = self.read_packet()?; // EOF after the column definitions
        if eof.first() != Some(&0xfe) {
            return Err("unexpected result set".into());
        }
        let mut values = Vec::new();
        loop {
            let row = self.read_packet()?;
            match row.first() {
                Some(0xfe) if row.len() < 9 => break,
                Some(0xff) => return ok_or_err(&row).map(|()| Vec::new()),
                _ => {
                    values.extend(lenenc_str(&row).map(|s| String::from_utf8_lossy(s).into_owned()))
                }
            }
        }
        Ok(values)
    }

    fn read_packet(&mut self) -> Result<Vec<u8>, String> {
        let mut head = [0u8; 4];
        self.stream
            .read_exact(&mut head)
            .map_err(|e| format!("read: {e}"))?;
        let len = usize::from(head[0]) | usize::from(head[1]) << 8 | usize::from(head[2]) << 16;
        self.seq = head[3].wrapping_add(1);
        let mut body = vec![0u8; len];
        self.stream
            .read_exact(&mut body)
            .map_err(|e| format!("read: {e}"))?;
        Ok(body)
    }

    fn write_packet(&mut self, body: &[u8]) -> Result<(), String> {
        let len = body.len();
        if len >= MAX_PACKET {
            return Err("packet too large".into());
        }
        let mut out = Zeroizing::new(Vec::with_capacity(len + 4));
        out.extend_from_slice(&[len as u8, (len >> 8) as u8, (len >> 16) as u8, self.seq]);
        out.extend_from_slice(body);
        self.seq = self.seq.wrapping_add(1);
        self.stream
            .write_all(&out)
            .map_err(|e| format!("write: {e}"))
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.seq = 0;
        let _ = self.write_packet(&[0x01]); // COM_QUIT
    }
}

/// What the client needs from a v10 handshake.
struct Handshake {
    /// 20 bytes.
    scramble: Vec<u8>,
    plugin: String,
    caps: u32,
}

/// Parses a v10 handshake: scramble, capability flags, plugin name.
fn parse_handshake(p: &[u8]) -> Result<Handshake, String> {
    if p.first() == Some(&0xff) {
        ok_or_err(p)?;
    }
    if p.first() != Some(&10) {
        return Err("unsupported handshake".into());
    }
    let bad = || "malformed handshake".to_owned();
    let byte = |i: usize| p.get(i).copied().ok_or_else(bad);
    let ver_end = 1 + p
        .get(1..)
        .ok_or_else(bad)?
        .iter()
        .position(|b| *b == 0)
        .ok_or_else(bad)?;
    let mut i = ver_end + 1 + 4; // NUL, connection id
    let mut scramble = p.get(i..i + 8).ok_or_else(bad)?.to_vec();
    i += 8 + 1; // part 1, filler
    let caps_low = u32::from(u16::from_le_bytes([byte(i)?, byte(i + 1)?]));
    i += 2 + 1 + 2; // caps low, charset, status
    let caps_high = u32::from(u16::from_le_bytes([byte(i)?, byte(i + 1)?]));
    i += 2;
    let data_len = usize::from(byte(i)?);
    i += 1 + 10;
    let part2 = data_len.saturating_sub(8).max(13);
    let rest = p.get(i..i + part2).ok_or_else(bad)?;
    scramble.extend(rest.iter().copied().take_while(|b| *b != 0));
    i += part2;
    let plugin = p
        .get(i..)
        .map(|r| {
            let end = r.iter().position(|b| *b == 0).unwrap_or(r.len());
            String::from_utf8_lossy(r.get(..end).unwrap_or(&[])).into_owned()
        })
        .unwrap_or_default();
    scramble.truncate(20);
    Ok(Handshake {
        scramble,
        plugin,
        caps: caps_low | caps_high << 16,
    })
}

fn ok_or_err(p: &[u8]) -> Result<(), String> {
    match p.first() {
        Some(0x00) => Ok(()),
        Some(0xff) => {
            let code = p
                .get(1..3)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .unwrap_or(0);
            // Skip the `#` and 5-character SQL state of protocol 4.1.
            let msg = p.get(9..).map(String::from_utf8_lossy).unwrap_or_default();
            Err(format!("server error {code}: {msg}"))
        }
        _ => Err("unexpected server answer".into()),
    }
}

fn lenenc_str(row: &[u8]) -> Option<&[u8]> {
    let first = *row.first()?;
    let (len, start) = match first {
        0xfb => return None,
        0xfc => (
            usize::from(u16::from_le_bytes([*row.get(1)?, *row.get(2)?])),
            3,
        ),
        n if n < 0xfb => (usize::from(n), 1),
        _ => return None,
    };
    row.get(start..start + len)
}

/// A MariaDB/MySQL string literal: backslashes and quotes escaped.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_password_answer() {
        // Known answer from an independent implementation (Python's hashlib) of the
        // definition, for scramble 0x01..0x14 and password "secret".
        let scramble: Vec<u8> = (1..=20).collect();
        let a = native_auth(b"secret", &scramble);
        let hex: String = a.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "b32bb3a583e1340c0a1108d58b1be49781ad8c2f");
        assert!(native_auth(b"", &scramble).is_empty());
        assert_eq!(quote("a'b\\c"), "'a\\'b\\\\c'");
    }

    fn packet(seq: u8, body: &[u8]) -> Vec<u8> {
        let n = body.len();
        let mut p = vec![n as u8, (n >> 8) as u8, (n >> 16) as u8, seq];
        p.extend_from_slice(body);
        p
    }

    fn read_packet(s: &mut impl Read) -> (u8, Vec<u8>) {
        let mut h = [0u8; 4];
        s.read_exact(&mut h).unwrap();
        let n = usize::from(h[0]) | usize::from(h[1]) << 8 | usize::from(h[2]) << 16;
        let mut b = vec![0u8; n];
        s.read_exact(&mut b).unwrap();
        (h[3], b)
    }

    /// A v10 handshake offering `caps`.
    fn hello(caps: u32) -> Vec<u8> {
        let mut p = vec![10];
        p.extend_from_slice(b"10.11-fake\0");
        p.extend_from_slice(&7u32.to_le_bytes());
        p.extend_from_slice(b"abcdefgh\0");
        p.extend_from_slice(&(caps as u16).to_le_bytes());
        p.push(33);
        p.extend_from_slice(&2u16.to_le_bytes());
        p.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
        p.push(21);
        p.extend_from_slice(&[0u8; 10]);
        p.extend_from_slice(b"ijklmnopqrst\0");
        p.extend_from_slice(b"mysql_native_password\0");
        p
    }

    const OK: [u8; 7] = [0, 0, 0, 2, 0, 0, 0];

    /// A fake server for one connection: handshake (offering TLS when `tls` is given),
    /// then OK to the login and to every query until COM_QUIT. Returns the user names it
    /// saw and whether the login arrived over TLS.
    fn fake_server(
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> (u16, std::thread::JoinHandle<Option<(String, bool)>>) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut tcp, _) = l.accept().ok()?;
            let base = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH;
            let caps = if tls.is_some() {
                base | CLIENT_SSL
            } else {
                base
            };
            tcp.write_all(&packet(0, &hello(caps))).ok()?;
            let (seq, first) = read_packet(&mut tcp);
            if first.len() < 4 {
                return None; // COM_QUIT: the client gave up
            }
            let client_caps = u32::from_le_bytes(first[..4].try_into().unwrap());
            let mut stream: Box<dyn ReadWrite> = if client_caps & CLIENT_SSL != 0 {
                assert_eq!((seq, first.len()), (1, 32), "SSLRequest");
                let conn = rustls::ServerConnection::new(tls?).unwrap();
                let mut s = rustls::StreamOwned::new(conn, tcp);
                while s.conn.is_handshaking() {
                    s.conn.complete_io(&mut s.sock).ok()?;
                }
                Box::new(s)
            } else {
                Box::new(Replay(packet(seq, &first).into(), tcp))
            };
            let (seq, login) = read_packet(&mut stream);
            let over_tls = client_caps & CLIENT_SSL != 0;
            assert_eq!(seq, if over_tls { 2 } else { 1 });
            let user: String = login[32..]
                .iter()
                .take_while(|b| **b != 0)
                .map(|b| *b as char)
                .collect();
            stream.write_all(&packet(seq + 1, &OK)).ok()?;
            loop {
                let (_, q) = read_packet(&mut stream);
                if q == [0x01] {
                    return Some((user, over_tls));
                }
                stream.write_all(&packet(1, &OK)).ok()?;
            }
        });
        (port, h)
    }

    trait ReadWrite: Read + Write {}
    impl<T: Read + Write> ReadWrite for T {}

    /// A plain stream whose first packet was already read, handed back once.
    struct Replay(std::collections::VecDeque<u8>, std::net::TcpStream);
    impl Read for Replay {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return self.1.read(buf);
            }
            let n = buf.len().min(self.0.len());
            for (b, v) in buf.iter_mut().zip(self.0.drain(..n)) {
                *b = v;
            }
            Ok(n)
        }
    }
    impl Write for Replay {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.1.write(b)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.1.flush()
        }
    }

    fn tls_material(dir: &std::path::Path) -> (Arc<rustls::ServerConfig>, std::path::PathBuf) {
        let now = time::macros::datetime!(2026-01-01 0:00 UTC);
        let m = crate::test_support::tls_material(dir, now);
        (
            coffer_tls::server_config(&m).unwrap(),
            m.ca_cert_path().unwrap().to_path_buf(),
        )
    }

    /// The SSLRequest upgrade against a fake server: the login goes over verified TLS; a
    /// certificate from another CA fails before the login; a server without TLS fails
    /// when TLS is required and is used in plain when it is only preferred.
    #[test]
    fn tls_upgrade() {
        let h = parse_handshake(&hello(CLIENT_SSL | CLIENT_PLUGIN_AUTH)).unwrap();
        assert_eq!(h.caps, CLIENT_SSL | CLIENT_PLUGIN_AUTH);
        assert_eq!(h.scramble, b"abcdefghijklmnopqrst");
        assert_eq!(h.plugin, NATIVE);
        let dir = tempfile::tempdir().unwrap();
        let (server, ca) = tls_material(&dir.path().join("a"));
        let trusted = coffer_tls::client_config(&ca).unwrap();
        let (port, h) = fake_server(Some(server.clone()));
        let mut c = Conn::connect(
            "127.0.0.1",
            port,
            "app",
            "pw",
            None,
            &DbTls::Require(trusted.clone()),
        )
        .unwrap();
        c.execute("DO 1").unwrap();
        drop(c);
        assert_eq!(h.join().unwrap(), Some(("app".into(), true)));

        let (_, other_ca) = tls_material(&dir.path().join("b"));
        let untrusted = coffer_tls::client_config(&other_ca).unwrap();
        let (port, h) = fake_server(Some(server));
        let e = Conn::connect(
            "127.0.0.1",
            port,
            "app",
            "pw",
            None,
            &DbTls::Require(untrusted),
        )
        .err()
        .unwrap();
        assert!(e.contains("certificate"), "{e}");
        assert_eq!(h.join().unwrap(), None, "no login was sent");

        let (port, h) = fake_server(None);
        let e = Conn::connect(
            "127.0.0.1",
            port,
            "app",
            "pw",
            None,
            &DbTls::Require(trusted.clone()),
        )
        .err()
        .unwrap();
        assert!(e.contains("does not offer TLS"), "{e}");
        assert_eq!(h.join().unwrap(), None, "no login was sent");
        let (port, h) = fake_server(None);
        let c = Conn::connect(
            "127.0.0.1",
            port,
            "app",
            "pw",
            None,
            &DbTls::Prefer(trusted),
        )
        .unwrap();
        drop(c);
        assert_eq!(h.join().unwrap(), Some(("app".into(), false)));
    }

    /// The local MariaDB (`have_ssl` DISABLED here): requiring TLS fails with that reason,
    /// preferring it logs in over plain TCP.
    #[test]
    fn local_mariadb_without_tls() {
        let cfg = coffer_tls::client_config_with_system_roots(None).unwrap();
        match Conn::connect(
            "127.0.0.1",
            3306,
            "root",
            "",
            None,
            &DbTls::Require(cfg.clone()),
        ) {
            Ok(mut c) => {
                // A server with TLS configured: the upgrade worked (verified by the
                // system store) and the session runs.
                c.execute("DO 1").unwrap();
            }
            Err(e) => assert!(
                e.contains("does not offer TLS") || e.contains("certificate"),
                "{e}"
            ),
        }
        let mut c =
            Conn::connect("127.0.0.1", 3306, "root", "", None, &DbTls::Prefer(cfg)).unwrap();
        c.execute("DO 1").unwrap();
    }
}
