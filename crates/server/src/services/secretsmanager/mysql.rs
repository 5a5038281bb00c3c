//! A minimal MySQL/MariaDB client for the built-in rotators: the client/server protocol's
//! handshake (v10) with `mysql_native_password` (including an auth switch), `COM_QUERY`
//! for statements that answer OK, and `COM_QUIT`. Plain TCP: coffer's rotators reach the
//! database on a private network, as AWS's rotation Lambdas reach RDS in a VPC.
//!
//! `mysql_native_password` is SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))),
//! computed with coffer_crypto's legacy SHA-1.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;
use zeroize::Zeroizing;

const CLIENT_LONG_PASSWORD: u32 = 0x1;
const CLIENT_CONNECT_WITH_DB: u32 = 0x8;
const CLIENT_PROTOCOL_41: u32 = 0x200;
const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
const CLIENT_PLUGIN_AUTH: u32 = 0x80000;
const NATIVE: &str = "mysql_native_password";
const MAX_PACKET: usize = 16 * 1024 * 1024;

pub struct Conn {
    stream: TcpStream,
    seq: u8,
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
    pub fn connect(
        host: &str,
        port: u16,
        user: &str,
        password: &str,
        db: Option<&str>,
    ) -> Result<Self, String> {
        let addr = (host, port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .next()
            .ok_or_else(|| format!("cannot resolve {host}"))?;
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
            .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
        let t = Some(Duration::from_secs(30));
        stream.set_read_timeout(t).map_err(|e| e.to_string())?;
        stream.set_write_timeout(t).map_err(|e| e.to_string())?;
        let mut c = Conn { stream, seq: 0 };
        let hello = c.read_packet()?;
        let (scramble, plugin) = parse_handshake(&hello)?;
        let auth = if plugin == NATIVE || plugin.is_empty() {
            native_auth(password.as_bytes(), &scramble)
        } else {
            Zeroizing::new(Vec::new())
        };
        let mut caps = CLIENT_LONG_PASSWORD
            | CLIENT_PROTOCOL_41
            | CLIENT_SECURE_CONNECTION
            | CLIENT_PLUGIN_AUTH;
        if db.is_some() {
            caps |= CLIENT_CONNECT_WITH_DB;
        }
        let mut p = Zeroizing::new(Vec::new());
        p.extend_from_slice(&caps.to_le_bytes());
        p.extend_from_slice(&(MAX_PACKET as u32).to_le_bytes());
        p.push(33); // utf8_general_ci
        p.extend_from_slice(&[0u8; 23]);
        p.extend_from_slice(user.as_bytes());
        p.push(0);
        p.push(u8::try_from(auth.len()).map_err(|_| "auth too long")?);
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
            let rest = &reply[1..];
            let nul = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
            let plugin = String::from_utf8_lossy(&rest[..nul]).into_owned();
            if plugin != NATIVE {
                return Err(format!("unsupported authentication plugin {plugin}"));
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

/// The scramble (20 bytes) and plugin name of a v10 handshake.
fn parse_handshake(p: &[u8]) -> Result<(Vec<u8>, String), String> {
    if p.first() == Some(&0xff) {
        ok_or_err(p)?;
    }
    if p.first() != Some(&10) {
        return Err("unsupported handshake".into());
    }
    let bad = || "malformed handshake".to_owned();
    let ver_end = 1 + p
        .get(1..)
        .ok_or_else(bad)?
        .iter()
        .position(|b| *b == 0)
        .ok_or_else(bad)?;
    let mut i = ver_end + 1 + 4; // NUL, connection id
    let mut scramble = p.get(i..i + 8).ok_or_else(bad)?.to_vec();
    i += 8 + 1 + 2 + 1 + 2 + 2; // part 1, filler, caps low, charset, status, caps high
    let data_len = usize::from(*p.get(i).ok_or_else(bad)?);
    i += 1 + 10;
    let part2 = data_len.saturating_sub(8).max(13);
    let rest = p.get(i..i + part2).ok_or_else(bad)?;
    scramble.extend(rest.iter().copied().take_while(|b| *b != 0));
    i += part2;
    let plugin = p
        .get(i..)
        .map(|r| {
            let end = r.iter().position(|b| *b == 0).unwrap_or(r.len());
            String::from_utf8_lossy(&r[..end]).into_owned()
        })
        .unwrap_or_default();
    scramble.truncate(20);
    Ok((scramble, plugin))
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
}
