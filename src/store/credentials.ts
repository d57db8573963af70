// Credential rows. Only sealed (encrypted) data reaches this file; see src/crypto/secret-box.ts.
import { bytes, type Db, iso, type Row } from "./sql";
import type { CredentialInfo, SealedCredential } from "./types";

const INFO = "name, type, description, created_at, updated_at";

export async function putCredential(db: Db, c: SealedCredential): Promise<{ created: boolean }> {
  const [row] = await db.query<{ created: boolean }>(
    `INSERT INTO noetl.credential (name, type, description, ciphertext, iv, tag) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (name) DO UPDATE SET type = EXCLUDED.type, description = EXCLUDED.description,
       ciphertext = EXCLUDED.ciphertext, iv = EXCLUDED.iv, tag = EXCLUDED.tag, updated_at = now()
     RETURNING (xmax = 0) AS created`,
    [c.name, c.type, c.description, c.ciphertext, c.iv, c.tag],
  );
  return { created: Boolean(row?.created) };
}

export async function listCredentials(db: Db): Promise<CredentialInfo[]> {
  const rows = await db.query(`SELECT ${INFO} FROM noetl.credential ORDER BY name`);
  return rows.map(toInfo);
}

export async function getCredential(
  db: Db,
  name: string,
): Promise<(SealedCredential & CredentialInfo) | undefined> {
  const [r] = await db.query(`SELECT ${INFO}, ciphertext, iv, tag FROM noetl.credential WHERE name = $1`, [
    name,
  ]);
  if (!r) return undefined;
  return { ...toInfo(r), ciphertext: bytes(r.ciphertext), iv: bytes(r.iv), tag: bytes(r.tag) };
}

export async function deleteCredential(db: Db, name: string): Promise<boolean> {
  const rows = await db.query("DELETE FROM noetl.credential WHERE name = $1 RETURNING name", [name]);
  return rows.length > 0;
}

function toInfo(r: Row): CredentialInfo {
  return {
    name: String(r.name),
    type: String(r.type),
    description: (r.description as string | null) ?? null,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
  };
}
