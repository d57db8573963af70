// AES-256-GCM for credentials at rest. The key is derived from NOETL_SECRET_KEY with HKDF, so
// any sufficiently long string works; the credential's name is bound as associated data, so a
// ciphertext copied onto another credential's row fails to decrypt instead of leaking.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { NoetlError } from "../errors";

export interface Sealed {
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
}

export class SecretBox {
  readonly #key: Buffer;

  constructor(secretKey: string) {
    this.#key = Buffer.from(hkdfSync("sha256", secretKey, "noetl", "noetl credentials v1", 32));
  }

  seal(plaintext: string, associated: string): Sealed {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(associated, "utf8"));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return { ciphertext, iv, tag: cipher.getAuthTag() };
  }

  open(sealed: Sealed, associated: string): string {
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, sealed.iv);
      decipher.setAAD(Buffer.from(associated, "utf8"));
      decipher.setAuthTag(sealed.tag);
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString("utf8");
    } catch {
      throw new NoetlError(
        "CONFLICT",
        `credential "${associated}" cannot be decrypted: NOETL_SECRET_KEY differs from the key it was stored with`,
      );
    }
  }
}

/** The reason credentials cannot be stored, or undefined when they can. */
export function secretKeyProblem(secretKey: string | undefined): string | undefined {
  if (secretKey) return undefined;
  return "credentials are encrypted at rest and NOETL_SECRET_KEY is not set; set it (16+ characters) and restart the server";
}
