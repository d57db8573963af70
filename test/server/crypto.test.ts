// AES-256-GCM sealing of credentials and masking of secret values.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { maskSecrets, secretValues } from "../../src/crypto/mask";
import { SecretBox } from "../../src/crypto/secret-box";
import { NoetlError } from "../../src/errors";

describe("SecretBox", () => {
  const box = new SecretBox("a-key-long-enough-for-tests");

  it("round-trips, with a fresh IV each time", () => {
    const a = box.seal("s3cret", "pg");
    const b = box.seal("s3cret", "pg");
    assert.notDeepEqual(a.iv, b.iv);
    assert.notDeepEqual(a.ciphertext, b.ciphertext);
    assert.equal(box.open(a, "pg"), "s3cret");
  });

  it("refuses a ciphertext moved to another name, a tampered one, or another key", () => {
    const s = box.seal("s3cret", "pg");
    const fails = (f: () => unknown) =>
      assert.throws(f, (e: unknown) => e instanceof NoetlError && /NOETL_SECRET_KEY/.test(e.message));
    fails(() => box.open(s, "other"));
    fails(() => box.open({ ...s, ciphertext: Buffer.from(s.ciphertext.map((x) => x ^ 1)) }, "pg"));
    fails(() => new SecretBox("another-key-entirely-xx").open(s, "pg"));
  });
});

describe("maskSecrets", () => {
  it("masks secret-named keys and known values (4+ characters) wherever they appear", () => {
    const secrets = secretValues({ db_password: "hunter22", user: "bob" });
    const out = maskSecrets(
      { conn: "postgres://bob:hunter22@db/x", password: "x", nested: [{ api_key: 5, ok: "fine" }] },
      secrets,
    );
    assert.deepEqual(out, {
      conn: "postgres://bob:***@db/x",
      password: "***",
      nested: [{ api_key: "***", ok: "fine" }],
    });
  });
});
