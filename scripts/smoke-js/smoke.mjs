// The AWS SDK for JavaScript v3 against a real coffer server (run by scripts/smoke-js.sh).
// Region, endpoint and credentials come from the environment the server's printed export
// lines set up, as a user's would; SMOKE_ACCOUNT is the admin account, SMOKE_HTTPS the
// server's https:// address (its CA in NODE_EXTRA_CA_CERTS).
import { createVerify } from "node:crypto";
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import {
  CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import {
  CreateAliasCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, DisableKeyCommand,
  EncryptCommand, GenerateDataKeyCommand, GetPublicKeyCommand, KMSClient,
  ScheduleKeyDeletionCommand, SignCommand, VerifyCommand,
} from "@aws-sdk/client-kms";
import {
  BatchGetSecretValueCommand, CreateSecretCommand, GetSecretValueCommand,
  PutSecretValueCommand, SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import {
  GetParameterCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient,
} from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

const account = process.env.SMOKE_ACCOUNT;
let pass = 0;
let fail = 0;
const text = (s) => new TextEncoder().encode(s);
const str = (b) => new TextDecoder().decode(b);

// check NAME, async () => condition-or-throw
async function check(name, f) {
  try {
    const r = await f();
    if (r === false) throw new Error("condition false");
    console.log(`ok   - ${name}`);
    pass++;
  } catch (e) {
    console.log(`FAIL - ${name}\n       ${e.name}: ${e.message}`);
    fail++;
  }
}

// refuse NAME, CODE, async () => call that must fail with the AWS error CODE
async function refuse(name, code, f) {
  try {
    await f();
    console.log(`FAIL - ${name} (succeeded)`);
    fail++;
  } catch (e) {
    if (e.name === code) {
      console.log(`ok   - ${name}`);
      pass++;
    } else {
      console.log(`FAIL - ${name}\n       want ${code}, got ${e.name}: ${e.message}`);
      fail++;
    }
  }
}

const sts = new STSClient({});
const kms = new KMSClient({});
const sm = new SecretsManagerClient({});
const ssm = new SSMClient({});
const iam = new IAMClient({});

await check("sts GetCallerIdentity from the printed exports", async () =>
  (await sts.send(new GetCallerIdentityCommand({}))).Account === account);
await check("sts over https with the generated CA", async () => {
  const tls = new STSClient({ endpoint: process.env.SMOKE_HTTPS });
  return (await tls.send(new GetCallerIdentityCommand({}))).Account === account;
});

// KMS: symmetric round trip, context binding, data keys, signatures checked by node:crypto.
const { KeyMetadata: key } = await kms.send(new CreateKeyCommand({ Description: "smoke-js" }));
await kms.send(new CreateAliasCommand({ AliasName: "alias/smoke-js", TargetKeyId: key.KeyId }));
const ctx = { purpose: "smoke" };
const enc = await kms.send(new EncryptCommand({
  KeyId: "alias/smoke-js", Plaintext: text("hello from js"), EncryptionContext: ctx,
}));
await check("kms Encrypt through an alias answers the key ARN", async () => enc.KeyId === key.Arn);
await check("kms Decrypt returns the plaintext", async () => {
  const d = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx }));
  return str(d.Plaintext) === "hello from js" && d.KeyId === key.Arn;
});
await refuse("kms Decrypt with another context", "InvalidCiphertextException", () =>
  kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { purpose: "x" } })));
await check("kms GenerateDataKey: 32 bytes, and its blob decrypts to them", async () => {
  const g = await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: "AES_256" }));
  const d = await kms.send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob }));
  return g.Plaintext.length === 32 && Buffer.from(d.Plaintext).equals(Buffer.from(g.Plaintext));
});
const { KeyMetadata: signer } = await kms.send(new CreateKeyCommand({
  KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY",
}));
const message = text("signed by coffer");
const { Signature: signature } = await kms.send(new SignCommand({
  KeyId: signer.KeyId, Message: message, SigningAlgorithm: "ECDSA_SHA_256",
}));
await check("kms Sign: node:crypto verifies it with GetPublicKey's key", async () => {
  const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: signer.KeyId }));
  const v = createVerify("sha256");
  v.update(message);
  return v.verify({ key: Buffer.from(PublicKey), format: "der", type: "spki" }, Buffer.from(signature));
});
await check("kms Verify", async () => (await kms.send(new VerifyCommand({
  KeyId: signer.KeyId, Message: message, Signature: signature, SigningAlgorithm: "ECDSA_SHA_256",
}))).SignatureValid === true);
await refuse("kms Verify of another message", "KMSInvalidSignatureException", () =>
  kms.send(new VerifyCommand({
    KeyId: signer.KeyId, Message: text("other"), Signature: signature, SigningAlgorithm: "ECDSA_SHA_256",
  })));
await refuse("kms DescribeKey of an unknown alias", "NotFoundException", () =>
  kms.send(new DescribeKeyCommand({ KeyId: "alias/smoke-js-none" })));
await refuse("kms ScheduleKeyDeletion with a 3-day window", "ValidationException", () =>
  kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 3 })));
await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
await refuse("kms Encrypt under a disabled key", "DisabledException", () =>
  kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: text("x") })));

// Secrets Manager: versions and labels.
await sm.send(new CreateSecretCommand({ Name: "smoke-js/db", SecretString: "first" }));
await sm.send(new PutSecretValueCommand({ SecretId: "smoke-js/db", SecretString: "second" }));
await check("secretsmanager GetSecretValue: AWSCURRENT and AWSPREVIOUS", async () => {
  const cur = await sm.send(new GetSecretValueCommand({ SecretId: "smoke-js/db" }));
  const prev = await sm.send(new GetSecretValueCommand({ SecretId: "smoke-js/db", VersionStage: "AWSPREVIOUS" }));
  return cur.SecretString === "second" && prev.SecretString === "first" && cur.CreatedDate instanceof Date;
});
await check("secretsmanager BatchGetSecretValue", async () => {
  const b = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ["smoke-js/db"] }));
  return b.SecretValues.length === 1 && b.SecretValues[0].SecretString === "second";
});
await refuse("secretsmanager CreateSecret of an existing name", "ResourceExistsException", () =>
  sm.send(new CreateSecretCommand({ Name: "smoke-js/db", SecretString: "again" })));
await refuse("secretsmanager GetSecretValue of an unknown secret", "ResourceNotFoundException", () =>
  sm.send(new GetSecretValueCommand({ SecretId: "smoke-js/none" })));

// Parameter Store: SecureString with and without decryption.
await ssm.send(new PutParameterCommand({ Name: "/smoke-js/app/token", Value: "s3cret", Type: "SecureString" }));
await check("ssm GetParameter: ciphertext without WithDecryption, the value with it", async () => {
  const sealed = await ssm.send(new GetParameterCommand({ Name: "/smoke-js/app/token" }));
  const open = await ssm.send(new GetParameterCommand({ Name: "/smoke-js/app/token", WithDecryption: true }));
  return sealed.Parameter.Value !== "s3cret" && open.Parameter.Value === "s3cret";
});
await check("ssm GetParametersByPath, recursive, decrypted", async () => {
  const p = await ssm.send(new GetParametersByPathCommand({ Path: "/smoke-js", Recursive: true, WithDecryption: true }));
  return p.Parameters.length === 1 && p.Parameters[0].Value === "s3cret";
});
await refuse("ssm GetParameter of an unknown name", "ParameterNotFound", () =>
  ssm.send(new GetParameterCommand({ Name: "/smoke-js/none" })));
await refuse("ssm PutParameter over an existing one", "ParameterAlreadyExists", () =>
  ssm.send(new PutParameterCommand({ Name: "/smoke-js/app/token", Value: "x", Type: "String" })));

// IAM and SigV4: a user's own keys, denied until a policy allows, a wrong secret refused.
await iam.send(new CreateUserCommand({ UserName: "smoke-js" }));
await refuse("iam CreateUser of an existing name", "EntityAlreadyExistsException", () =>
  iam.send(new CreateUserCommand({ UserName: "smoke-js" })));
const { AccessKey: ak } = await iam.send(new CreateAccessKeyCommand({ UserName: "smoke-js" }));
const as = (Client, secret = ak.SecretAccessKey) =>
  new Client({ credentials: { accessKeyId: ak.AccessKeyId, secretAccessKey: secret } });
await check("sts GetCallerIdentity with the user's own key", async () =>
  (await as(STSClient).send(new GetCallerIdentityCommand({}))).Arn.endsWith(":user/smoke-js"));
await refuse("kms CreateKey as the user without a policy", "AccessDeniedException", () =>
  as(KMSClient).send(new CreateKeyCommand({})));
await iam.send(new PutUserPolicyCommand({
  UserName: "smoke-js", PolicyName: "kms",
  PolicyDocument: JSON.stringify({
    Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:CreateKey", Resource: "*" }],
  }),
}));
await check("kms CreateKey as the user once a policy allows it", async () =>
  (await as(KMSClient).send(new CreateKeyCommand({}))).KeyMetadata.KeyState === "Enabled");
await refuse("sts with a wrong secret (query protocol)", "SignatureDoesNotMatch", () =>
  as(STSClient, "wrong").send(new GetCallerIdentityCommand({})));
await refuse("kms with a wrong secret (JSON protocol)", "InvalidSignatureException", () =>
  as(KMSClient, "wrong").send(new CreateKeyCommand({})));

await check("cloudtrail LookupEvents finds the refused CreateKey", async () => {
  const ct = new CloudTrailClient({});
  const r = await ct.send(new LookupEventsCommand({
    LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "CreateKey" }],
  }));
  return r.Events.some((e) => {
    const event = JSON.parse(e.CloudTrailEvent);
    return event.userIdentity.userName === "smoke-js" && /^AccessDenied/.test(event.errorCode);
  });
});

console.log(`smoke-js: ${pass} passed, ${fail} failed`);
process.exit(fail === 0 ? 0 : 1);
