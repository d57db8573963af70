// AES-256-GCM sealing of credentials and masking of secret values.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { maskValues, secretValues } from "../../src/crypto/mask";
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

describe("masking", () => {
  it("a credential's secrets are its values (4+ characters) under secret-named keys", () => {
    assert.deepEqual(secretValues({ db_password: "hunter22", user: "bob", api: { token: 12345, x: "y" } }), [
      "hunter22",
      "12345",
    ]);
    assert.deepEqual(secretValues({ host: "db.example", pin: "ab" }, true), ["db.example"]);
  });

  it("masks every occurrence of a known value, longest first, leaving other text alone", () => {
    const out = maskValues(
      { conn: "postgres://bob:hunter22@db/x", list: ["hunter2 and hunter22", 5, null], ok: "fine" },
      ["hunter2", "hunter22"],
    );
    assert.deepEqual(out, {
      conn: "postgres://bob:***@db/x",
      list: ["*** and ***", 5, null],
      ok: "fine",
    });
  });
});
