import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors.ts';
import {
  type ControlMessage,
  type DecodedFrame,
  decodeFrame,
  encodeControlMessage,
  encodeRecordFrame,
  encodeRecordsFrame,
  FRAME_HEADER_BYTES,
  FRAME_LENGTH_BYTES,
  frameRefusal,
  MAX_FRAME_BYTES,
  MAX_FRAME_RECORDS,
  MAX_TEXT_LENGTH,
  parseControlMessage,
  recordsPerFrame,
  unreadableControl,
} from './frames.ts';

const transfer = 'AAAAAAAAAAAAAAAAAAAAAA';

describe('control messages', () => {
  const valid: ControlMessage[] = [
    { type: 'auth', mac: 'A'.repeat(43) },
    { type: 'offer', transfer, secret: 'B'.repeat(22), manifest: 'abc_-' },
    { type: 'answer', transfer, accept: false },
    { type: 'ack', transfer, file: 3, verified: 160 },
    { type: 'complete', transfer },
    { type: 'resume', transfer },
    { type: 'resume-at', transfer, files: [0, 160, 4294967295] },
    { type: 'cancel', transfer, code: 'ABORTED', message: 'Stopped.' },
    { type: 'text', text: 'hello <b>there</b>' },
    { type: 'pair-secret', secret: 'C'.repeat(43) },
    { type: 'pair-saved' },
    { type: 'code-commit', commit: 'D'.repeat(43) },
    { type: 'code-nonce', nonce: 'E'.repeat(43) },
    { type: 'pull', file: 2, from: 17, ticket: 'T'.repeat(43) },
    { type: 'pull-ack', file: 0, next: 64 },
    { type: 'pull-stop', file: 1 },
    { type: 'pull-refused', file: 0, code: 'SHARE_EXPIRED', message: 'The link has expired.' },
  ];

  it.each(valid)('round-trips $type', (message) => {
    expect(parseControlMessage(encodeControlMessage(message))).toEqual({ ok: true, message });
  });

  it.each([
    ['not JSON', '{'],
    ['unknown type', '{"type":"boom"}'],
    ['extra field', `{"type":"complete","transfer":"${transfer}","x":1}`],
    ['short secret', `{"type":"offer","transfer":"${transfer}","secret":"AA","manifest":"a"}`],
    ['negative count', `{"type":"ack","transfer":"${transfer}","file":0,"verified":-1}`],
    ['file index too large', `{"type":"ack","transfer":"${transfer}","file":100000,"verified":1}`],
    ['unknown error code', `{"type":"cancel","transfer":"${transfer}","code":"NOPE","message":""}`],
    ['empty text', '{"type":"text","text":""}'],
    ['resume-at without files', `{"type":"resume-at","transfer":"${transfer}","files":[]}`],
    ['resume-at with a fraction', `{"type":"resume-at","transfer":"${transfer}","files":[1.5]}`],
    ['resume-at with a negative count', `{"type":"resume-at","transfer":"${transfer}","files":[-1]}`],
    ['resume for a malformed transfer', '{"type":"resume","transfer":"short"}'],
    ['short code nonce', '{"type":"code-nonce","nonce":"AAAA"}'],
    ['short pairing secret', '{"type":"pair-secret","secret":"AAAA"}'],
    ['pairing secret that is not base64url', `{"type":"pair-secret","secret":"${'+'.repeat(43)}"}`],
    ['text too long', JSON.stringify({ type: 'text', text: 'x'.repeat(MAX_TEXT_LENGTH + 1) })],
    ['pull from a negative record', `{"type":"pull","file":0,"from":-1,"ticket":"${'T'.repeat(43)}"}`],
    ['pull without a file', `{"type":"pull","from":0,"ticket":"${'T'.repeat(43)}"}`],
    ['pull without a ticket', '{"type":"pull","file":0,"from":0}'],
    ['pull-ack with a fraction', '{"type":"pull-ack","file":0,"next":1.5}'],
    ['pull-refused with an unknown code', '{"type":"pull-refused","file":0,"code":"NOPE","message":""}'],
  ])('refuses %s', (_, text) => {
    expect(parseControlMessage(text).ok).toBe(false);
  });

  it('refuses to encode an invalid message', () => {
    expect(() => encodeControlMessage({ type: 'text', text: '' })).toThrow();
  });
});

/** The frame's records as plain arrays, or its error. */
function read(frame: Uint8Array<ArrayBuffer>): { file: number; first: number; records: number[][] } | string {
  const decoded = decodeFrame(frame);
  return decoded.ok
    ? { file: decoded.file, first: decoded.first, records: decoded.records.map((r) => [...r]) }
    : decoded.error;
}

/** A v2 frame's bytes written by hand: header, the given lengths, then `body`. */
function handMade(count: number, file: number, first: number, lengths: number[], body: number[]) {
  const frame = new Uint8Array(FRAME_HEADER_BYTES + FRAME_LENGTH_BYTES * lengths.length + body.length);
  const view = new DataView(frame.buffer);
  view.setUint8(0, 2);
  view.setUint8(1, count);
  view.setUint16(2, file);
  view.setUint32(4, first);
  lengths.forEach((length, i) => {
    view.setUint32(FRAME_HEADER_BYTES + FRAME_LENGTH_BYTES * i, length);
  });
  frame.set(body, FRAME_HEADER_BYTES + FRAME_LENGTH_BYTES * lengths.length);
  return frame;
}

describe('record frames, version 1 (one record)', () => {
  it('carries the file and record index before the record', () => {
    const sealed = new Uint8Array([9, 8, 7, 6, 5]);
    const frame = encodeRecordFrame(999, 0xfffffffe, sealed);
    expect(frame.length).toBe(FRAME_HEADER_BYTES + sealed.length);
    expect([...frame.subarray(0, 4)]).toEqual([1, 0, 0x03, 0xe7]);
    expect(read(frame)).toEqual({ file: 999, first: 0xfffffffe, records: [[9, 8, 7, 6, 5]] });
  });

  it('writes a frame into a reused buffer, the same bytes as a fresh one', () => {
    const into = new Uint8Array(FRAME_HEADER_BYTES + 8).fill(0xee);
    const first = encodeRecordFrame(3, 4, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), into);
    expect(first.buffer).toBe(into.buffer);
    const sealed = new Uint8Array([9, 9, 9]);
    const second = encodeRecordFrame(5, 6, sealed, into);
    expect([...second]).toEqual([...encodeRecordFrame(5, 6, sealed)]);
    expect(read(second)).toEqual({ file: 5, first: 6, records: [[9, 9, 9]] });
    expect(() => encodeRecordFrame(0, 0, new Uint8Array(9), into)).toThrow(RangeError);
  });

  it('reads a frame that is a view into a larger buffer', () => {
    const frame = encodeRecordFrame(1, 2, new Uint8Array([1]));
    const outer = new Uint8Array(frame.length + 4);
    outer.set(frame, 4);
    expect(read(outer.subarray(4))).toEqual({ file: 1, first: 2, records: [[1]] });
  });

  it('refuses short frames, a set reserved byte and bad indices', () => {
    const frame = encodeRecordFrame(0, 0, new Uint8Array([1]));
    frame[1] = 1;
    expect(read(frame)).toBe('a reserved byte is set');
    expect(read(new Uint8Array(FRAME_HEADER_BYTES - 1))).toBe('a 7-byte frame');
    expect(read(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]))).toBe('an empty record');
    expect(read(new Uint8Array([1, 0, 0x03, 0xe8, 0, 0, 0, 0, 7]))).toBe('file index 1000');
    expect(read(new Uint8Array([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 7]))).toBe('record 4294967295');
    expect(() => encodeRecordFrame(1000, 0, new Uint8Array(1))).toThrow(RangeError);
    expect(() => encodeRecordFrame(0, -1, new Uint8Array(1))).toThrow(RangeError);
  });
});

describe('record frames, version 2 (several records)', () => {
  it('carries consecutive records of one file with their lengths', () => {
    const frame = encodeRecordsFrame(7, 40, [new Uint8Array([1, 2, 3]), new Uint8Array([4]), new Uint8Array([5, 6])]);
    expect(frame.length).toBe(FRAME_HEADER_BYTES + 3 * FRAME_LENGTH_BYTES + 6);
    expect([...frame.subarray(0, FRAME_HEADER_BYTES)]).toEqual([2, 3, 0, 7, 0, 0, 0, 40]);
    expect(read(frame)).toEqual({ file: 7, first: 40, records: [[1, 2, 3], [4], [5, 6]] });
  });

  it('answers views into the frame, in order and back to back', () => {
    const frame = encodeRecordsFrame(0, 0, [new Uint8Array(5), new Uint8Array(9)]);
    const decoded = decodeFrame(frame);
    if (!decoded.ok) throw new Error(decoded.error);
    const [a, b] = decoded.records;
    expect(a?.buffer).toBe(frame.buffer);
    expect(b?.byteOffset).toBe((a?.byteOffset ?? 0) + 5);
    expect((b?.byteOffset ?? 0) + (b?.byteLength ?? 0)).toBe(frame.byteLength);
  });

  it('writes into a reused buffer the same bytes as a fresh frame', () => {
    const into = new Uint8Array(64).fill(0xee);
    const records = [new Uint8Array([1, 2]), new Uint8Array([3])];
    const frame = encodeRecordsFrame(2, 9, records, into);
    expect(frame.buffer).toBe(into.buffer);
    expect([...frame]).toEqual([...encodeRecordsFrame(2, 9, records)]);
    expect(() => encodeRecordsFrame(2, 9, [new Uint8Array(60)], into)).toThrow(RangeError);
  });

  it('takes a record as its parts (an AEAD’s ciphertext and tag): the same bytes as the record whole', () => {
    const whole = [new Uint8Array([1, 2, 3, 4]), new Uint8Array([5, 6])];
    const parts = [[new Uint8Array([1, 2]), new Uint8Array([3, 4])], [new Uint8Array([5, 6])]];
    expect([...encodeRecordsFrame(4, 8, parts)]).toEqual([...encodeRecordsFrame(4, 8, whole)]);
    expect([...encodeRecordFrame(4, 8, parts[0]!)]).toEqual([...encodeRecordFrame(4, 8, whole[0]!)]);
    expect(() => encodeRecordsFrame(0, 0, [[new Uint8Array(0)]])).toThrow(RangeError);
  });

  it('refuses to encode no records, too many, empty ones and bad indices', () => {
    const one = new Uint8Array(1);
    expect(() => encodeRecordsFrame(0, 0, [])).toThrow(RangeError);
    expect(() =>
      encodeRecordsFrame(
        0,
        0,
        Array.from({ length: MAX_FRAME_RECORDS + 1 }, () => one),
      ),
    ).toThrow(RangeError);
    expect(() => encodeRecordsFrame(0, 0, [one, new Uint8Array(0)])).toThrow(RangeError);
    expect(() => encodeRecordsFrame(1000, 0, [one])).toThrow(RangeError);
    expect(() => encodeRecordsFrame(0, 0xfffffffe, [one, one])).toThrow(RangeError);
    expect(
      encodeRecordsFrame(
        0,
        0,
        Array.from({ length: MAX_FRAME_RECORDS }, () => one),
      ).length,
    ).toBe(FRAME_HEADER_BYTES + MAX_FRAME_RECORDS * (FRAME_LENGTH_BYTES + 1));
  });

  it.each([
    ['no records', handMade(0, 0, 0, [], []), '0 records in a frame'],
    ['too many records', handMade(17, 0, 0, [], []), '17 records in a frame'],
    ['a header cut before its lengths', handMade(3, 0, 0, [1, 1], []), 'a 16-byte frame of 3 records'],
    ['an empty record', handMade(2, 0, 0, [1, 0], [9]), 'an empty record'],
    ['a length past the end', handMade(2, 0, 0, [1, 3], [9, 9]), 'record lengths past the end of the frame'],
    ['bytes after the last record', handMade(2, 0, 0, [1, 1], [9, 9, 9]), '1 bytes after the last record'],
    ['a file index of MAX_FILES', handMade(1, 1000, 0, [1], [9]), 'file index 1000'],
    ['records past MAX_RECORDS', handMade(2, 0, 0xfffffffe, [1, 1], [9, 9]), 'records 4294967294 to 4294967295'],
  ])('refuses %s', (_, frame, error) => {
    expect(read(frame)).toBe(error);
  });

  it('refuses a version it does not know, and says so', () => {
    const frame = encodeRecordsFrame(0, 0, [new Uint8Array(1)]);
    frame[0] = 3;
    const decoded = decodeFrame(frame);
    expect(decoded).toEqual({ ok: false, error: 'frame version 3', version: 3 });
    const refusal = frameRefusal(decoded as Extract<DecodedFrame, { ok: false }>);
    expect(refusal).toBeInstanceOf(FerryError);
    expect(refusal.code).toBe('INVALID_MESSAGE');
    expect(refusal.message).toMatch(/version of Ferry does not read \(frame version 3\)\. Reload Ferry/);
    const garbled = decodeFrame(new Uint8Array(3));
    expect(frameRefusal(garbled as Extract<DecodedFrame, { ok: false }>).message).toMatch(/not valid \(a 3-byte/);
  });

  it('refuses a text frame that is not a control message with INVALID_MESSAGE and what was wrong', () => {
    const parsed = parseControlMessage('{"type":"launch"}');
    expect(parsed.ok).toBe(false);
    const refusal = unreadableControl(parsed as Extract<typeof parsed, { ok: false }>);
    expect(refusal).toBeInstanceOf(FerryError);
    expect(refusal.code).toBe('INVALID_MESSAGE');
    expect(refusal.message).toMatch(/^The other device sent a message Ferry does not understand \(type: .+\)\.$/);
  });

  it('fits as many records as the smaller of maxMessageSize and MAX_FRAME_BYTES allows', () => {
    const sealed = 64 * 1024 + 16;
    // Chromium's 256 KiB: four 64 KiB records with their lengths are 88 bytes too many.
    expect(recordsPerFrame(sealed, 262_144)).toBe(3);
    expect(FRAME_HEADER_BYTES + 3 * (FRAME_LENGTH_BYTES + sealed)).toBeLessThanOrEqual(262_144);
    expect(recordsPerFrame(sealed, 1024 * 1024 * 1024)).toBe(Math.floor((MAX_FRAME_BYTES - 8) / (sealed + 4)));
    expect(recordsPerFrame(sealed, 65_536)).toBe(0);
    expect(recordsPerFrame(100, 1 << 20)).toBe(MAX_FRAME_RECORDS);
  });
});
