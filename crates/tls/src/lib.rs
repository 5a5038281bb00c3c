//! TLS for coffer: local CA and certificate generation, rustls config, TLS and plain HTTP on one port.
