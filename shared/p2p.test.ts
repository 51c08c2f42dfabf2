import { describe, expect, it } from 'vitest';
import {
  type ControlMessage,
  decodeRecordFrame,
  encodeControlMessage,
  encodeRecordFrame,
  FRAME_HEADER_BYTES,
  MAX_TEXT_LENGTH,
  parseControlMessage,
} from './p2p.ts';

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

describe('record frames', () => {
  it('carries the file and record index before the record', () => {
    const sealed = new Uint8Array([9, 8, 7, 6, 5]);
    const frame = encodeRecordFrame(999, 0xfffffffe, sealed);
    expect(frame.length).toBe(FRAME_HEADER_BYTES + sealed.length);
    const decoded = decodeRecordFrame(frame);
    expect(decoded?.file).toBe(999);
    expect(decoded?.record).toBe(0xfffffffe);
    expect([...(decoded?.bytes ?? [])]).toEqual([...sealed]);
  });

  it('writes a frame into a reused buffer, the same bytes as a fresh one', () => {
    const into = new Uint8Array(FRAME_HEADER_BYTES + 8).fill(0xee);
    const first = encodeRecordFrame(3, 4, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), into);
    expect(first.buffer).toBe(into.buffer);
    const sealed = new Uint8Array([9, 9, 9]);
    const second = encodeRecordFrame(5, 6, sealed, into);
    expect([...second]).toEqual([...encodeRecordFrame(5, 6, sealed)]);
    expect(decodeRecordFrame(second)).toMatchObject({ file: 5, record: 6 });
    expect(() => encodeRecordFrame(0, 0, new Uint8Array(9), into)).toThrow(RangeError);
  });

  it('reads a frame that is a view into a larger buffer', () => {
    const frame = encodeRecordFrame(1, 2, new Uint8Array([1]));
    const outer = new Uint8Array(frame.length + 4);
    outer.set(frame, 4);
    expect(decodeRecordFrame(outer.subarray(4))).toMatchObject({ file: 1, record: 2 });
  });

  it('refuses other versions, short frames and bad indices', () => {
    const frame = encodeRecordFrame(0, 0, new Uint8Array([1]));
    frame[0] = 2;
    expect(decodeRecordFrame(frame)).toBeNull();
    expect(decodeRecordFrame(new Uint8Array(FRAME_HEADER_BYTES))).toBeNull();
    expect(() => encodeRecordFrame(1000, 0, new Uint8Array(1))).toThrow(RangeError);
    expect(() => encodeRecordFrame(0, -1, new Uint8Array(1))).toThrow(RangeError);
  });
});
