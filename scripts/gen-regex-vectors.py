#!/usr/bin/env python3
"""Writes crates/wire/models/regex-vectors.json: what java.util.regex says about every
model pattern against a fixed set of sample strings.

AWS applies model patterns with Java's Pattern.matches; coffer rewrites them for the Rust
`regex` crate (crates/wire/src/model/java_regex.rs). The vectors let the unit tests check
the rewrite against real Java answers without needing a JVM: run this script (it needs
`java` 11+ on PATH) after scripts/gen-models.py and commit the output.
"""

import json
import os
import subprocess
import tempfile

ROOT = os.path.join(os.path.dirname(__file__), "..")
MODELS = os.path.join(ROOT, "crates", "wire", "models")
SERVICES = ["kms", "secretsmanager", "ssm"]

# Strings chosen to hit the places where Java and Rust regexes differ (ASCII-only \w \d \s,
# Java's line terminators for `.`, non-ASCII letters and spaces) plus plausible values of
# the models' identifiers.
SAMPLES = [
    "", " ", "  \t", "\t", "\n", "a\n", "\r", "\u000b", "\u000c", "\u0085", "a\u2028b",
    "\u00a0", "\u2003", "x", "A", "Z9", "_", "-", "a b", "a_b", "a-b", "a.b", "a/b", "a:b",
    "a=b", "a+b", "a@b", "a,b", "a!b", "é", "日本語", "😀", "٣", "ａ", "abc", "ABC123",
    "alias/my-key", "alias/aws/ebs", "arn:aws:kms:us-east-1:111122223333:key/1234abcd",
    "arn:aws:iam::123456789012:role/x", "arn:aws-cn:iam::123456789012:role/a/b",
    "123456789012", "12345678901", "1234567890123", "all", "ALL", "All", "$LATEST",
    "$DEFAULT", "$ALL", "0", "1", "5", "05", "1440", "1441", "50%", "5%", "100%", "0%",
    "1.2", "1.2.3", "1.2.3.4", "i-12345678", "i-0123456789abcdef0", "mi-0123456789abcdef0",
    "mi-0123456789ABCDEF0", "eks_c:cluster_0123456789abcdef0", "ou-ab12-abcd1234",
    "oi-0123456789ab", "mw-0123456789abcdef0", "12345678-1234-1234-1234-123456789012",
    "abcdefab-1234-abcd-1234-abcdefabcdef", "ABCDEFAB-1234-ABCD-1234-ABCDEFABCDEF",
    "2020-01-01T00:00:00Z", "2020-13-01T00:00:00Z", "Custom:Foo", "AWS:Bar", "aws:ec2",
    "https://example.com", "https://bucket.s3.amazonaws.com/key",
    "https://bucket.s3.us-east-1.amazonaws.com/key", "s3://bucket/key", "range", "count",
    "ranges", "tag:Name", "Name", "KeyId", "us-east-1", "eu-central-1",
    "com.amazonaws.vpce.us-east-1.vpce-svc-0123abcd", "/kms/xks/v1", "/a/b/kms/xks/v12",
    "ABCDEFGH234567", "abcdefgh", "deadbeef", "cluster-abcdefghijk", "cluster-abc", "1h",
    "24h", "h", "cron(0 12 * * ? *)", "rate(1 day)", "!tag", "!", "tag!",
    "arn:aws:ssm:us-east-1:123456789012:opsitem/oi-1",
    "arn:aws:ssm:us-east-1:123456789012:opsmetadata/x/y",
    "resource-groups:Name", "resource-groups:ResourceTypeFilters", "/a/b.c-d:e",
    "AWS-RunShellScript", "a\u00e9b", "x" * 256, "x" * 257,
]

JAVA = r"""
import java.nio.file.*;
import java.util.*;
import java.util.regex.*;

public class Vectors {
    // Input: first line the sample count n, then n samples, then patterns, one per line,
    // every line with \\ and \n escaped. Output: one line of 0/1 per pattern.
    static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') { char n = s.charAt(++i); b.append(n == 'n' ? '\n' : n == 'r' ? '\r' : n); }
            else b.append(c);
        }
        return b.toString();
    }
    public static void main(String[] args) throws Exception {
        List<String> lines = Files.readAllLines(Paths.get(args[0]));
        int n = Integer.parseInt(lines.get(0));
        List<String> samples = new ArrayList<>();
        for (int i = 1; i <= n; i++) samples.add(unescape(lines.get(i)));
        StringBuilder out = new StringBuilder();
        for (int i = n + 1; i < lines.size(); i++) {
            Pattern p = Pattern.compile(unescape(lines.get(i)));
            for (String s : samples) out.append(p.matcher(s).matches() ? '1' : '0');
            out.append('\n');
        }
        Files.write(Paths.get(args[1]), out.toString().getBytes("UTF-8"));
    }
}
"""


def escape(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def model_patterns():
    found = set()
    for service in SERVICES:
        with open(os.path.join(MODELS, f"{service}.json"), encoding="utf-8") as f:
            shapes = json.load(f)["shapes"]
        found.update(s["pattern"] for s in shapes.values() if "pattern" in s)
    return sorted(found)


def java_answers(patterns):
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "Vectors.java")
        with open(source, "w", encoding="utf-8") as f:
            f.write(JAVA)
        lines = [str(len(SAMPLES))] + [escape(s) for s in SAMPLES + patterns]
        given, answers = os.path.join(tmp, "in.txt"), os.path.join(tmp, "out.txt")
        with open(given, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run(["java", source, given, answers], check=True)
        with open(answers, encoding="utf-8") as f:
            return f.read().split()


def main():
    patterns = model_patterns()
    answers = java_answers(patterns)
    version = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    out = {
        "_source": {
            "generatedBy": "scripts/gen-regex-vectors.py",
            "java": version.splitlines()[0] if version else "unknown",
            "meaning": "per pattern, one 0/1 per sample: java.util.regex Pattern.matches",
        },
        "samples": SAMPLES,
        "matches": dict(zip(patterns, answers)),
    }
    path = os.path.join(MODELS, "regex-vectors.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{path}: {len(patterns)} patterns x {len(SAMPLES)} samples")


if __name__ == "__main__":
    main()
