/**
 * Known-answer vectors of the record format: a fixed link secret and nonce base, plaintext
 * → the exact ciphertext. They were produced by the format as shipped before the sealer
 * and opener moved to record-stream.ts, so links made before still open. The Node unit
 * test (record-vectors.test.ts) and Chromium (e2e/record-vectors.spec.ts, this module
 * bundled for the browser) both run `checkRecordVectors`.
 */
import { toHex } from './encoding.ts';
import { deriveFileKeyBytes, deriveShareKeys, importAesKey } from './keys.ts';
import { joinParts, type RecordAead, WEB_CRYPTO_AEAD } from './record-aead.ts';
import { RecordOpener, rangeSealer } from './record-stream.ts';
import { encryptedSize, type FileCipher } from './records.ts';

/** The link secret: bytes 00 01 … 0f. */
const SECRET = Uint8Array.from({ length: 16 }, (_, i) => i);
/** The file's nonce base: bytes a0 a1 … ab. */
const NONCE_BASE = Uint8Array.from({ length: 12 }, (_, i) => 0xa0 + i);
const RECORD_SIZE = 16;
/** HKDF(content key, "ferry/v1 file" || nonce base). */
const FILE_KEY = 'f5f785f2828650316cf0341a557f8d1a373a1e8ceaaf4209c78b3cc5d0739637';
const READER_TOKEN = 'j-Wd_nYt6uAYE2GlAm8keHfalUiYasFNwjh5itZZgXo';

/** UTF-8 plaintext → hex ciphertext, records of 16 bytes. */
export const RECORD_VECTORS: ReadonlyArray<{ plain: string; sealed: string }> = [
  { plain: '', sealed: 'daa7d76308d28de05310032835b01abc' },
  { plain: 'ferry', sealed: '572c0b596313e3ccc55c5be54354de97b99da912aa' },
  { plain: 'sixteen bytes!!!', sealed: '4220015f7f902d3b3e6fcce9ceffa6cce4ac1a0bf8035cb654f5fb37b4c83168' },
  {
    plain: 'A record stream: forty bytes, 3 records.',
    sealed:
      '70690b4e799a317f7c65ccfed8bfead79da2052c2c6ee47eab8eccdd698d61bbabf74a2f138aa55e30bd88f015f581e6f0c83373' +
      '1346665cc5653eaedba33e2639ddcd3404fec17ec43846800656024fd76c89a4f2fe6485',
  },
];

/**
 * Runs every vector through the range sealer and the opener over `aead` (WebCrypto unless
 * another is given); answers what differs (empty: all pass).
 */
export async function checkRecordVectors(aead: RecordAead = WEB_CRYPTO_AEAD): Promise<string[]> {
  const seal = rangeSealer(aead);
  const failures: string[] = [];
  const keys = await deriveShareKeys(new Uint8Array(SECRET));
  if (keys.readerToken !== READER_TOKEN) failures.push(`reader token ${keys.readerToken}`);
  const raw = await deriveFileKeyBytes(keys.contentKey, NONCE_BASE);
  if (toHex(raw) !== FILE_KEY) failures.push(`file key ${toHex(raw)}`);
  const key = await importAesKey(raw);
  for (const { plain, sealed } of RECORD_VECTORS) {
    const bytes = new TextEncoder().encode(plain);
    const file: FileCipher = { key, nonceBase: NONCE_BASE, size: bytes.length, recordSize: RECORD_SIZE, name: plain };
    const parts = await seal(file, bytes, 0, encryptedSize(file));
    const got = toHex(joinParts(parts));
    if (got !== sealed) failures.push(`sealing ${JSON.stringify(plain)} gave ${got}`);
    const opener = new RecordOpener(file, 0, aead);
    const opened = await opener.push(fromHex(sealed));
    opener.end();
    const text = new TextDecoder().decode(joinParts(opened.map((r) => r.plain)));
    if (text !== plain) failures.push(`opening ${JSON.stringify(plain)} gave ${JSON.stringify(text)}`);
  }
  return failures;
}

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}
