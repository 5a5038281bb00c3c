#!/usr/bin/env python3
"""Cross-checks coffer-envelope against the Python AWS Encryption SDK, both ways, with a raw
AES key: messages written by coffer decrypt with the ESDK and messages written by the ESDK
decrypt with coffer. A manual check (not run by CI): it needs

    pip install aws-encryption-sdk
    cargo build -p coffer-envelope --example raw_aes

and takes the example binary from $RAW_AES (default: $CARGO_TARGET_DIR or target, then
debug/examples/raw_aes).
"""
import os
import subprocess
import sys
import tempfile

import aws_encryption_sdk
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.identifiers import Algorithm, EncryptionKeyType, WrappingAlgorithm
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.raw import RawMasterKey

KEY = bytes(range(32))
NS, NAME = "interop-ns", "interop-key"
target = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(__file__), "..", "target"))
BIN = os.environ.get("RAW_AES", os.path.join(target, "debug", "examples", "raw_aes"))


def master_key():
    return RawMasterKey(
        provider_id=NS,
        key_id=NAME.encode(),
        wrapping_key=WrappingKey(
            wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
            wrapping_key=KEY,
            wrapping_key_type=EncryptionKeyType.SYMMETRIC,
        ),
    )


SUITES = {
    0x0578: (Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384, "require", CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT),
    0x0478: (Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY, "require", CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT),
    0x0378: (Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384, "forbid", CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT),
    0x0214: (Algorithm.AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256, "forbid", CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT),
    0x0178: (Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA256, "forbid", CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT),
    0x0014: (Algorithm.AES_128_GCM_IV12_TAG16, "forbid", CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT),
}


def coffer(op, src, dst, suite, policy, frame, ec):
    args = [BIN, op, NS, NAME, KEY.hex(), src, dst, "--policy", policy, "--frame", str(frame)]
    if op == "encrypt":
        args += ["--suite", hex(suite)]
    args += [f"{k}={v}" for k, v in ec.items()]
    subprocess.run(args, check=True)


def main():
    failures = 0
    checks = 0
    with tempfile.TemporaryDirectory() as d:
        p = lambda n: os.path.join(d, n)
        for suite, (alg, policy, py_policy) in SUITES.items():
            client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=py_policy)
            for size, frame in [(0, 4096), (1, 4096), (4096, 4096), (1536, 512), (100_000, 4096), (70_000, 1024)]:
                for ec in [{}, {"purpose": "interop", "é": "ü"}]:
                    data = os.urandom(size)
                    open(p("pt"), "wb").write(data)
                    label = f"suite {suite:#06x} size {size} frame {frame} ec {len(ec)}"
                    try:
                        coffer("encrypt", p("pt"), p("ct"), suite, policy, frame, ec)
                        ct = open(p("ct"), "rb").read()
                        out, header = client.decrypt(source=ct, key_provider=master_key())
                        assert out == data, "ESDK decrypted other bytes"
                        assert header.algorithm == alg, header.algorithm
                        for k, v in ec.items():
                            assert header.encryption_context[k] == v
                        checks += 1
                        py_ct, _ = client.encrypt(source=data, key_provider=master_key(), encryption_context=ec, algorithm=alg, frame_length=frame)
                        open(p("pyct"), "wb").write(py_ct)
                        coffer("decrypt", p("pyct"), p("out"), suite, policy, frame, {})
                        assert open(p("out"), "rb").read() == data, "coffer decrypted other bytes"
                        # Same layout (frames, empty final frame on exact multiples); only
                        # DER signature lengths vary by a byte or two.
                        if alg.signing_algorithm_info is None:
                            assert len(py_ct) == len(ct), f"sizes differ: ESDK {len(py_ct)} coffer {len(ct)}"
                        checks += 1
                    except Exception as e:  # report every case, then fail
                        failures += 1
                        print(f"FAIL {label}: {e!r}")
    print(f"{checks} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
