/**
 * ZIP64, end to end: the real "Download all" builder (zipStream → client-zip) writes an
 * archive of just over 4 GiB to a temporary file, and Python's zipfile, a reader that shares
 * no code with it, opens the archive and checks every entry's CRC-32 (`testzip`). The archive
 * has (a) one entry larger than 0xFFFFFFFF bytes and (b) entries whose local headers start
 * past 4 GiB; the raw central directory must carry ZIP64 extra fields (APPNOTE 6.3.10
 * §4.5.3) exactly where a 32-bit field overflowed, and the end of the archive a ZIP64 end of
 * central directory record and locator (§4.3.14, §4.3.15).
 *
 * Cost: every byte passes through client-zip's CRC-32 (JavaScript, about 400 MB/s of one
 * core here), which no test input can avoid. The big entry is zeros apart from its first
 * and last chunk, and the file written is sparse where those zero chunks go (same bytes when
 * read back), so storage sees a few MiB and Python's CRC pass over 4 GiB of zeros is quick.
 * Measured on a 2-core machine: 14 s of CPU for the archive, 2 s for Python's checks.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, closeSync, constants, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ManifestFile } from '../../../../shared/manifest.ts';
import { zipLength, zipStream } from './zip.ts';

const MiB = 1024 * 1024;
const MAX32 = 0xffff_ffff;
const CHUNK = 4 * MiB;
/** Never written to: a chunk that is a view of it is zeros, and becomes a hole in the file. */
const ZERO = new Uint8Array(CHUNK);

interface Source {
  file: ManifestFile;
  /** Zeros in every chunk but the first and last; otherwise patterned bytes throughout. */
  zeroMiddle: boolean;
}

const sources: Source[] = [
  { file: manifestFile('first/α.txt', 300_001), zeroMiddle: false },
  { file: manifestFile('big/zeros.bin', 2 ** 32 + 3 * MiB + 7), zeroMiddle: true },
  { file: manifestFile('after/c.txt', 1_234_567), zeroMiddle: false },
  { file: manifestFile('after/empty', 0), zeroMiddle: false },
  { file: manifestFile('after/C.txt', 65_536), zeroMiddle: false },
];
const files = sources.map((s) => s.file);
/** What the entries must be called: the repeat of "after/c.txt" (up to case) is renamed. */
const NAMES = ['first/α.txt', 'big/zeros.bin', 'after/c.txt', 'after/empty', 'after/C (2).txt'];

function manifestFile(name: string, size: number): ManifestFile {
  return { name, size, type: '', modified: Date.UTC(2024, 5, 1), recordSize: 65536, nonce: '', blake3: null };
}

/** Deterministic bytes (xorshift32) for chunk `n` of file `seed`. */
function pattern(seed: number, n: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 0x9e3779b1 + n * 0x85ebca6b + 1) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** File `index`'s bytes, chunk by chunk, and their CRC-32 as computed by zlib. */
function source(index: number): { stream: ReadableStream<Uint8Array>; crc: () => number } {
  const picked = sources[index];
  if (!picked) throw new RangeError(`no file ${index}`);
  const { file, zeroMiddle } = picked;
  const chunks = Math.ceil(file.size / CHUNK);
  let n = 0;
  let crc = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (n === chunks) {
        controller.close();
        return;
      }
      const length = Math.min(CHUNK, file.size - n * CHUNK);
      const zero = zeroMiddle && n > 0 && n < chunks - 1;
      const chunk = zero ? ZERO.subarray(0, length) : pattern(index, n, length);
      crc = crc32(chunk, crc);
      n++;
      controller.enqueue(chunk);
    },
  });
  return { stream, crc: () => crc };
}

/**
 * Where the archive goes: tmpfs when there is one, because reading a hole there copies zeros
 * without filling the page cache; on a disk file system Python's pass over the big entry
 * would first have the kernel allocate and zero 4 GiB of cache (3 to 10 s of system time).
 */
function scratchDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/** Writes the archive to `path`, leaving holes where zero chunks go; answers its length. */
async function writeSparse(archive: ReadableStream<Uint8Array>, path: string): Promise<number> {
  const fd = openSync(path, 'w');
  let position = 0;
  try {
    for await (const chunk of archive) {
      if (chunk.buffer !== ZERO.buffer) writeSync(fd, chunk, 0, chunk.length, position);
      position += chunk.length;
    }
    ftruncateSync(fd, position);
  } finally {
    closeSync(fd);
  }
  return position;
}

interface CentralEntry {
  name: string;
  size32: number;
  offset32: number;
  /** [header id, data length] of each extra field. */
  extra: [number, number][];
  /** The data descriptor after the entry's data: signature, CRC, sizes (8 bytes each with ZIP64). */
  descriptor: { signature: number; crc: number; size: number };
}

interface Report {
  bad: string | null;
  entries: { name: string; size: number; compressed: number; crc: number; offset: number; method: number }[];
  central: CentralEntry[];
  eocd: number[];
  locator: number[];
  zip64: number[];
}

/**
 * testzip reads each entry 1 MiB at a time into a new bytes object; glibc would map and
 * unmap (and the kernel zero) each one, 6 s of system time for 4 GiB. Keeping such blocks on
 * the heap makes that 0.7 s. Other C libraries ignore these variables.
 */
const PYTHON_ENV = {
  ...process.env,
  MALLOC_MMAP_THRESHOLD_: String(8 * MiB),
  MALLOC_TRIM_THRESHOLD_: String(256 * MiB),
};

/** zipfile for the entries and CRCs; struct for the raw fields zipfile hides. */
const PYTHON_CHECK = `
import json, struct, sys, zipfile
path = sys.argv[1]
with zipfile.ZipFile(path) as z:
    bad = z.testzip()
    entries = [dict(name=i.filename, size=i.file_size, compressed=i.compress_size, crc=i.CRC,
                    offset=i.header_offset, method=i.compress_type) for i in z.infolist()]
with open(path, 'rb') as f:
    f.seek(-98, 2)
    tail = f.read()
    zip64 = struct.unpack_from('<IQHHIIQQQQ', tail, 0)
    locator = struct.unpack_from('<IIQI', tail, 56)
    eocd = struct.unpack_from('<IHHHHIIH', tail, 76)
    f.seek(zip64[9])
    central = []
    for e in entries:
        fixed = f.read(46)
        sig, size32, name_len, extra_len, comment_len, offset32 = (struct.unpack_from('<I', fixed, 0)[0],
            struct.unpack_from('<I', fixed, 24)[0], *struct.unpack_from('<HHH', fixed, 28), struct.unpack_from('<I', fixed, 42)[0])
        assert sig == 0x02014b50, 'central directory entry signature'
        name = f.read(name_len).decode('utf-8')
        extra_bytes = f.read(extra_len)
        f.read(comment_len)
        extra, p = [], 0
        while p + 4 <= len(extra_bytes):
            tag, length = struct.unpack_from('<HH', extra_bytes, p)
            extra.append([tag, length])
            p += 4 + length
        central.append(dict(name=name, size32=size32, offset32=offset32, extra=extra, at=f.tell()))
    for c, e in zip(central, entries):
        f.seek(e['offset'])
        local = f.read(30)
        assert struct.unpack_from('<I', local, 0)[0] == 0x04034b50, 'local header signature'
        f.seek(e['offset'] + 30 + sum(struct.unpack_from('<HH', local, 26)) + e['compressed'])
        wide = any(tag == 1 and length >= 16 for tag, length in c['extra'])
        raw = f.read(24 if wide else 16)
        signature, crc = struct.unpack_from('<II', raw, 0)
        size = struct.unpack_from('<Q' if wide else '<I', raw, 8)[0]
        c['descriptor'] = dict(signature=signature, crc=crc, size=size)
        del c['at']
print(json.dumps(dict(bad=bad, entries=entries, central=central, eocd=eocd, locator=locator, zip64=zip64)))
`;

describe('Download all past 4 GiB (ZIP64)', () => {
  it('writes an archive that Python’s zipfile reads, with ZIP64 fields where 32 bits overflow', async () => {
    const dir = mkdtempSync(join(scratchDir(), 'ferry-zip64-'));
    const path = join(dir, 'all.zip');
    try {
      const crcs: (() => number)[] = [];
      const verified: number[] = [];
      const archive = zipStream(
        files,
        async (i) => {
          const { stream, crc } = source(i);
          crcs[i] = crc;
          return { stream, result: Promise.resolve() };
        },
        { onStart() {}, onVerified: (i) => verified.push(i), onFailed() {} },
      );
      const length = await writeSparse(archive, path);
      expect(length).toBe(zipLength(files));
      expect(length).toBeGreaterThan(2 ** 32);
      expect(verified).toEqual([0, 1, 2, 3, 4]);

      const report = JSON.parse(
        execFileSync('python3', ['-c', PYTHON_CHECK, path], { encoding: 'utf8', maxBuffer: MiB, env: PYTHON_ENV }),
      ) as Report;
      expect(report.bad, 'first entry whose CRC-32 does not match its data').toBeNull();

      // Every entry by name, size and CRC, at the offset the stream put it.
      let offset = 0;
      const expected = NAMES.map((name, i) => {
        const size = files[i]?.size ?? 0;
        const entry = { name, size, compressed: size, crc: crcs[i]?.() ?? -1, offset, method: 0 };
        offset += 30 + Buffer.byteLength(name) + size + (size >= MAX32 ? 24 : 16);
        return entry;
      });
      expect(report.entries).toEqual(expected);
      expect(report.entries[1]?.size).toBeGreaterThan(MAX32);
      for (const after of report.entries.slice(2)) expect(after.offset).toBeGreaterThan(MAX32);

      // Raw central directory: 32-bit fields saturate exactly where they overflow, and a
      // ZIP64 extra (id 1) then carries the sizes (16 bytes) and the offset (8 bytes). For the
      // big entry client-zip adds the offset although its 32-bit field did not overflow,
      // which §4.5.3 does not ask for; readers take the fields in order and ignore the rest.
      const [first, big, ...after] = report.central;
      expect(first).toMatchObject({ name: NAMES[0], size32: files[0]?.size, offset32: 0, extra: [] });
      expect(big).toMatchObject({ name: NAMES[1], size32: MAX32, extra: [[1, 24]] });
      expect(big?.offset32).toBeLessThan(MAX32);
      for (const entry of after) {
        expect(entry.offset32, entry.name).toBe(MAX32);
        expect(entry.extra, entry.name).toEqual([[1, 8]]);
      }
      // Data descriptors (what a streaming reader uses): 8-byte sizes only for the big entry.
      report.central.forEach((entry, i) => {
        expect(entry.descriptor, entry.name).toEqual({
          signature: 0x08074b50,
          crc: expected[i]?.crc,
          size: expected[i]?.size,
        });
      });

      // End records: EOCD fields saturated, ZIP64 EOCD + locator with the real values.
      const [signature64, , , , , , entriesOnDisk, entries, centralSize, centralOffset] = report.zip64;
      expect(signature64).toBe(0x06064b50);
      expect([entriesOnDisk, entries]).toEqual([5, 5]);
      expect(centralOffset).toBe(offset);
      expect(report.locator).toEqual([0x07064b50, 0, length - 98, 1]);
      expect(report.eocd).toEqual([0x06054b50, 0, 0, 5, 5, centralSize, MAX32, 0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
