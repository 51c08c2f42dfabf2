import { describe, expect, it } from 'vitest';
import { cipherRange, encryptedSize } from '../records.ts';
import { PeerRecords, type PullChannel, type RecordSource } from './peer-records.ts';
import { ACK_EVERY_RECORDS } from './pull-window.ts';

// 40 records of 16 plaintext bytes: each sealed record is 32 bytes.
const layout = { size: 40 * 16, recordSize: 16 };
const ciphertext = Uint8Array.from({ length: encryptedSize(layout) }, (_, i) => i % 251);
const record = (i: number) => ciphertext.slice(...cipherRange(layout, i));

function setup(from = 0, stallMs = 60_000, rewind?: (next: number) => number) {
  const said: string[] = [];
  const sources: RecordSource[] = [];
  const serverOffsets: number[] = [];
  const channel: PullChannel = {
    pull: (n) => said.push(`pull ${n}`),
    ack: (n) => said.push(`ack ${n}`),
    stop: () => said.push('stop'),
  };
  const records = new PeerRecords({
    layout,
    from,
    channel,
    stallMs,
    rewind,
    onSource: (s) => sources.push(s),
    fromServer: async (offset) => {
      serverOffsets.push(offset);
      return new Blob([ciphertext.slice(offset)]).stream();
    },
  });
  return { records, said, sources, serverOffsets };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe('PeerRecords', () => {
  it('hands on the peer’s records in order and acknowledges every few', async () => {
    const { records, said, sources, serverOffsets } = setup(4);
    for (let i = 4; i < 40; i++) records.push(i, record(i));
    const bytes = await readAll(records.stream);
    expect(bytes).toEqual(ciphertext.slice(cipherRange(layout, 4)[0]));
    expect(said[0]).toBe('pull 4');
    expect(said).toContain(`ack ${4 + ACK_EVERY_RECORDS}`);
    expect(said.at(-1)).toBe('ack 40');
    expect(sources).toEqual(['peer']);
    expect(serverOffsets).toEqual([]);
  });

  it('continues from the server at the first record it lacks when the peer goes away', async () => {
    const { records, said, sources, serverOffsets } = setup();
    for (let i = 0; i < 10; i++) records.push(i, record(i));
    records.lost();
    records.push(10, record(10)); // late: ignored
    const bytes = await readAll(records.stream);
    expect(bytes).toEqual(ciphertext);
    expect(serverOffsets).toEqual([cipherRange(layout, 10)[0]]);
    expect(sources).toEqual(['peer', 'server']);
    expect(said).toContain('stop');
  });

  it('starts the server’s part earlier when asked to, and drops what it already handed on', async () => {
    const { records, serverOffsets } = setup(0, 60_000, (next) => next - 3);
    for (let i = 0; i < 10; i++) records.push(i, record(i));
    records.lost();
    expect(await readAll(records.stream)).toEqual(ciphertext);
    expect(serverOffsets).toEqual([cipherRange(layout, 7)[0]]);
  });

  it('treats a record out of order as a lost peer', async () => {
    const { records, serverOffsets } = setup();
    records.push(0, record(0));
    records.push(2, record(2));
    expect(await readAll(records.stream)).toEqual(ciphertext);
    expect(serverOffsets).toEqual([cipherRange(layout, 1)[0]]);
  });

  it('goes to the server when the peer sends nothing in time', async () => {
    const { records, sources } = setup(0, 10);
    expect(await readAll(records.stream)).toEqual(ciphertext);
    expect(sources).toEqual(['peer', 'server']);
  });

  it('tells the sender to stop when the reader cancels', async () => {
    const { records, said } = setup();
    await records.stream.cancel('no');
    expect(said).toEqual(['pull 0', 'stop']);
  });

  it('refuses a first record outside the file', () => {
    expect(() => setup(40)).toThrow(RangeError);
  });
});
