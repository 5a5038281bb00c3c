//! AWS protocol knowledge: SigV4, awsJson1.1 and query codecs, wire errors.
