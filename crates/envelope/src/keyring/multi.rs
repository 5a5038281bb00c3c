//! The multi-keyring: a generator and children. On encrypt the generator makes the data
//! key and every keyring wraps it; on decrypt the first keyring that succeeds wins.

use super::Keyring;
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use crate::{Error, Result};
use std::sync::Arc;

/// Combines keyrings: every one wraps the data key, any one can unwrap it.
#[derive(Clone)]
pub struct MultiKeyring {
    generator: Option<Arc<dyn Keyring>>,
    children: Vec<Arc<dyn Keyring>>,
}

impl std::fmt::Debug for MultiKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MultiKeyring(generator: {}, children: {})",
            self.generator.is_some(),
            self.children.len()
        )
    }
}

impl MultiKeyring {
    /// `generator` produces the data key; without one, encryption needs materials that
    /// already carry a data key (e.g. from an outer multi-keyring).
    pub fn new(
        generator: Option<Arc<dyn Keyring>>,
        children: Vec<Arc<dyn Keyring>>,
    ) -> Result<Self> {
        if generator.is_none() && children.is_empty() {
            return Err(Error::Config(
                "a multi-keyring needs a generator or a child".into(),
            ));
        }
        Ok(Self {
            generator,
            children,
        })
    }
}

impl Keyring for MultiKeyring {
    fn on_encrypt(&self, mut m: EncryptionMaterials) -> Result<EncryptionMaterials> {
        match &self.generator {
            Some(g) => {
                if m.data_key.is_some() {
                    return Err(Error::Keyring(
                        "a multi-keyring generator got materials that already have a data key"
                            .into(),
                    ));
                }
                m = g.on_encrypt(m)?;
                if m.data_key.is_none() {
                    return Err(Error::Keyring("the generator produced no data key".into()));
                }
            }
            None if m.data_key.is_none() => {
                return Err(Error::Keyring(
                    "a multi-keyring without a generator needs a data key".into(),
                ));
            }
            None => {}
        }
        for child in &self.children {
            m = child.on_encrypt(m)?;
        }
        Ok(m)
    }

    fn on_decrypt(
        &self,
        m: DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        if m.data_key.is_some() {
            return Ok(m);
        }
        let mut failures = Vec::new();
        for k in self.generator.iter().chain(self.children.iter()) {
            // A keyring takes the materials by value: each try gets a copy (without a data
            // key, as checked above).
            match k.on_decrypt(m.clone(), edks) {
                Ok(done) if done.data_key.is_some() => return Ok(done),
                Ok(_) => failures.push("a keyring returned no data key".to_string()),
                Err(e) => failures.push(e.to_string()),
            }
        }
        Err(Error::NoDecryptableDataKey(failures.join("; ")))
    }
}
