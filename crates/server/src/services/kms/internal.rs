//! KMS as the other coffer services use it: on their caller's behalf, as AWS services do.
//!
//! Secrets Manager and Parameter Store encrypt every value with a data key from KMS and
//! decrypt through KMS. The caller's own identity is authorized against the key policy
//! and grants, with `kms:ViaService` set to `<service>.<region>.amazonaws.com`, so a key
//! policy can allow or deny use through a service, a disabled key stops reads, and AWS
//! managed keys (`alias/aws/<service>`) work only through their service. Each KMS call is
//! recorded as its own audit event (`invokedBy` the service) next to the caller's event.

use super::crypto::{self, DataKey, Opened};
use super::keys::audit_key;
use super::store::KeyRecord;
use super::{KmsError, access, managed};
use crate::api::{AuditInfo, Call, InvokedCall, audit_object};
use coffer_kms::context::EncryptionContext;
use coffer_kms::ops::Operation;
use coffer_kms::spec::{EncryptionAlgorithm, KeyUsage};
use serde_json::json;
use zeroize::Zeroizing;

/// A service acting for the caller of `call`.
pub struct OnBehalf<'a> {
    pub call: &'a Call<'a>,
    /// The service's endpoint prefix: `secretsmanager`, `ssm`.
    pub service: &'static str,
}

/// A data key and what encrypted it.
pub struct ServiceDataKey {
    pub plaintext: Zeroizing<Vec<u8>>,
    pub ciphertext: Vec<u8>,
    pub key_arn: String,
}

impl OnBehalf<'_> {
    fn via(&self) -> String {
        // `concat`, not `format!`: one allocation of the right size for a string built on
        // every call a service makes through KMS.
        [
            self.service,
            ".",
            self.call.ctx.region.as_str(),
            ".amazonaws.com",
        ]
        .concat()
    }

    /// Runs `f` as a KMS call made through the service, and records it.
    fn invoke<T>(
        &self,
        event_name: Operation,
        parent: &mut AuditInfo,
        f: impl FnOnce(&Call<'_>, &mut AuditInfo) -> Result<T, KmsError>,
    ) -> Result<T, KmsError> {
        let via = self.via();
        let call = Call {
            state: self.call.state,
            ctx: self.call.ctx,
            key: self.call.key,
            via_service: Some(&via),
        };
        let mut audit = AuditInfo {
            event_name: event_name.as_str().to_owned(),
            read_only: event_name.read_only(),
            ..Default::default()
        };
        let result = f(&call, &mut audit);
        let error = result.as_ref().err().map(|e| {
            let wire = crate::api::errors::kms(e);
            (wire.code.to_string(), wire.message.clone())
        });
        parent.invoked.push(InvokedCall {
            event_source: "kms.amazonaws.com",
            invoked_by: [self.service, ".amazonaws.com"].concat(),
            info: audit,
            error,
        });
        result
    }

    /// The key a service names by `key_id`, or its AWS managed key (`alias/aws/<service>`,
    /// created on first use) when `key_id` is `None`.
    fn key_ref(&self, key_id: Option<&str>) -> Result<String, KmsError> {
        match key_id {
            Some(k) => Ok(k.to_owned()),
            None => {
                let c = self.call;
                let now = c.state.clock.now();
                let key = coffer_storage::write(c.state.store.as_ref(), |t| {
                    managed::managed_key(
                        t,
                        &c.state.barrier,
                        c.ctx.principal.account,
                        c.ctx.region.as_str(),
                        self.service,
                        now,
                    )
                })?;
                Ok(key.arn())
            }
        }
    }

    /// GenerateDataKey through the service: `len` random bytes and their ciphertext under
    /// the key (the service's managed key when `key_id` is `None`).
    pub fn generate_data_key(
        &self,
        key_id: Option<&str>,
        ctx: &EncryptionContext,
        len: usize,
        parent: &mut AuditInfo,
    ) -> Result<ServiceDataKey, KmsError> {
        let key_ref = self.key_ref(key_id)?;
        let op = Operation::GenerateDataKey;
        let dk: DataKey = self.invoke(op, parent, |call, audit| {
            audit.request_parameters = Some(audit_object([
                ("keyId", Some(json!(key_ref))),
                ("numberOfBytes", Some(json!(len))),
                ("encryptionContext", Some(json!(ctx))),
            ]));
            crypto::new_data_key(call, op, &key_ref, ctx, len, None, audit)
        })?;
        Ok(ServiceDataKey {
            key_arn: dk.key.arn(),
            plaintext: dk.plaintext,
            ciphertext: dk.ciphertext,
        })
    }

    /// Encrypt through the service, with the symmetric key named by `key_id` (the managed
    /// key when `None`). Parameter Store's standard SecureStrings are encrypted this way.
    pub fn encrypt(
        &self,
        key_id: Option<&str>,
        ctx: &EncryptionContext,
        plaintext: &[u8],
        parent: &mut AuditInfo,
    ) -> Result<(Vec<u8>, String), KmsError> {
        let key_ref = self.key_ref(key_id)?;
        let op = Operation::Encrypt;
        self.invoke(op, parent, |call, audit| {
            audit.request_parameters = Some(audit_object([
                ("keyId", Some(json!(key_ref))),
                ("encryptionContext", Some(json!(ctx))),
            ]));
            let req = access::Request {
                context: Some(ctx),
                conditions: Vec::new(),
            };
            let r = crypto::use_key(call, &key_ref, op, &req, audit)?;
            crypto::require_usage(&r.key, KeyUsage::EncryptDecrypt, op)?;
            if r.key.spec != coffer_kms::spec::KeySpec::SymmetricDefault {
                return Err(KmsError::InvalidKeyUsage(format!(
                    "{} is not a symmetric key.",
                    r.key.arn()
                )));
            }
            let alg = EncryptionAlgorithm::SymmetricDefault;
            let (ct, _) = crypto::encrypt_with(call, &r.key, alg, ctx, plaintext)?;
            Ok((ct, r.key.arn()))
        })
    }

    /// Decrypt through the service. The key comes from the ciphertext; `expected_key`, when
    /// given, must be the key that encrypted it (IncorrectKeyException otherwise).
    pub fn decrypt(
        &self,
        ciphertext: &[u8],
        ctx: &EncryptionContext,
        expected_key: Option<&str>,
        parent: &mut AuditInfo,
    ) -> Result<(Zeroizing<Vec<u8>>, String), KmsError> {
        let op = Operation::Decrypt;
        let o: Opened = self.invoke(op, parent, |call, audit| {
            audit.request_parameters = Some(audit_object([
                ("keyId", expected_key.map(|k| json!(k))),
                ("encryptionAlgorithm", Some(json!("SYMMETRIC_DEFAULT"))),
                ("encryptionContext", Some(json!(ctx))),
            ]));
            crypto::open_ciphertext(
                call,
                ciphertext,
                ctx,
                expected_key,
                None,
                op,
                op.action(),
                "Decrypt",
                None,
                audit,
            )
        })?;
        Ok((o.plaintext, o.key.arn()))
    }

    /// The key `key_id` names (any form KMS accepts), checked as DescribeKey would check
    /// it for the caller: services validate a customer key before storing its id.
    pub fn describe_key(
        &self,
        key_id: &str,
        parent: &mut AuditInfo,
    ) -> Result<KeyRecord, KmsError> {
        let op = Operation::DescribeKey;
        self.invoke(op, parent, |call, audit| {
            audit.request_parameters = Some(audit_object([("keyId", Some(json!(key_id)))]));
            let r = coffer_storage::read_each(call.state.store.as_ref(), |t| {
                let r = access::resolve_for_use(call, t, key_id, true)?;
                access::authorize(call, t, &r, op, &access::Request::default())?;
                Ok::<_, KmsError>(r)
            })?;
            audit_key(audit, &r.key);
            Ok(std::sync::Arc::unwrap_or_clone(r.key))
        })
    }
}
