/**
 * GET /metrics on a real server: the text parses as Prometheus exposition, and the ferry_*
 * series move with what the server does (a tus upload, a ticketed download, a refusal, a
 * relay fallback, signaling, a sweep). Two servers run in this one process, each with its
 * own registry.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tokenHash } from '../shared/keys.ts';
import { SignalClient } from './signaling/test-client.ts';
import {
  api,
  createTestShare,
  errorCode,
  FAKE_MANIFEST,
  fetchFile,
  serverForFile,
  ticketFor,
  tusUpload,
  uploadAndComplete,
} from './test-support.ts';

const ferry = serverForFile();
const TOKEN = 'operator-metrics-token-1234';
const guarded = serverForFile({ metricsToken: TOKEN });

/** One sample: `name{label="value",…} number`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (0.0.4): comments and blank lines skipped, every sample checked. */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g)) {
      labels[pair[1]!] = pair[2]!;
    }
    const value = parseValue(match[3]!);
    if (value === undefined) throw new Error(`not a number: ${line}`);
    samples.push({ name: match[1]!, labels, value });
  }
  return { samples, types };
}

/** A sample value: a Go float, or NaN / +Inf / -Inf in any case (prom-client writes `Nan`). */
function parseValue(text: string): number | undefined {
  const special = { nan: Number.NaN, '+inf': Number.POSITIVE_INFINITY, '-inf': Number.NEGATIVE_INFINITY }[
    text.toLowerCase()
  ];
  if (special !== undefined) return special;
  const n = Number(text);
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) && !Number.isNaN(n) ? n : undefined;
}

async function scrape(base = ferry().url, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const parsed = parsePrometheus(await res.text());
  /** The value of one series; throws when it is missing (a metric that never appears cannot pass). */
  const value = (name: string, labels: Record<string, string> = {}): number => {
    const sample = parsed.samples.find(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
    if (!sample) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
    return sample.value;
  };
  /** A counter that has not been incremented yet (no sample for the label) counts as 0. */
  const count = (name: string, labels: Record<string, string> = {}): number => {
    try {
      return value(name, labels);
    } catch {
      return 0;
    }
  };
  return { ...parsed, value, count };
}

describe('GET /metrics', () => {
  it('reports process metrics and every ferry_* series with its type', async () => {
    const { types, value } = await scrape();
    expect(value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(Object.fromEntries([...types].filter(([name]) => name.startsWith('ferry_')))).toEqual({
      ferry_uploaded_bytes_total: 'counter',
      ferry_downloaded_bytes_total: 'counter',
      ferry_uploads_in_flight: 'gauge',
      ferry_downloads_in_flight: 'gauge',
      ferry_relay_fallbacks_total: 'counter',
      ferry_signaling_relayed_messages_total: 'counter',
      ferry_sweeper_runs_total: 'counter',
      ferry_sweeper_failures_total: 'counter',
      ferry_refusals_total: 'counter',
      ferry_live_shares: 'gauge',
      ferry_stored_bytes: 'gauge',
      ferry_download_tickets: 'gauge',
      ferry_free_bytes: 'gauge',
      ferry_signaling_connections: 'gauge',
      ferry_signaling_rooms: 'gauge',
    });
    expect(value('ferry_free_bytes')).toBeGreaterThan(0);
  });

  it('counts an upload and a download by their exact bytes', async () => {
    const base = ferry().url;
    const before = await scrape();
    const bytes = randomBytes(300_000);
    const share = await createTestShare(base, [{ size: bytes.length }]);
    await uploadAndComplete(base, share, [bytes]);
    const ticket = await ticketFor(base, share, [0]);
    expect(ticket.status).toBe(201);
    const file = await fetchFile(base, share, 0, (ticket.json as { ticket: string }).ticket);
    expect(file.bytes.equals(bytes)).toBe(true);

    const after = await scrape();
    const delta = (name: string) => after.value(name) - before.value(name);
    expect(delta('ferry_uploaded_bytes_total')).toBe(bytes.length);
    expect(delta('ferry_downloaded_bytes_total')).toBe(bytes.length);
    expect(after.value('ferry_uploads_in_flight')).toBe(0);
    expect(after.value('ferry_downloads_in_flight')).toBe(0);
    expect(delta('ferry_live_shares')).toBe(1);
    expect(delta('ferry_stored_bytes')).toBe(bytes.length);
    expect(after.value('ferry_download_tickets', { state: 'done' })).toBe(
      before.value('ferry_download_tickets', { state: 'done' }) + 1,
    );
  });

  it('counts an upload in flight while its body is arriving, and none once it ended', async () => {
    const base = ferry().url;
    const share = await createTestShare(base, [{ size: 2048 }]);
    const created = await fetch(`${base}/files/`, {
      method: 'POST',
      headers: {
        'Tus-Resumable': '1.0.0',
        Authorization: `Bearer ${share.uploadToken}`,
        'Upload-Length': '2048',
        'Upload-Metadata': `share ${Buffer.from(share.id).toString('base64')},index ${Buffer.from('0').toString('base64')}`,
      },
    });
    expect(created.status).toBe(201);
    let finish!: () => void;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(1024));
        finish = () => {
          controller.enqueue(new Uint8Array(1024));
          controller.close();
        };
      },
    });
    const patch = fetch(new URL(created.headers.get('location')!, base), {
      method: 'PATCH',
      headers: {
        'Tus-Resumable': '1.0.0',
        Authorization: `Bearer ${share.uploadToken}`,
        'Upload-Offset': '0',
        'Content-Type': 'application/offset+octet-stream',
      },
      body,
      duplex: 'half',
    } as RequestInit);
    await expect.poll(async () => (await scrape()).value('ferry_uploads_in_flight')).toBe(1);
    finish();
    expect((await patch).status).toBe(204);
    await expect.poll(async () => (await scrape()).value('ferry_uploads_in_flight')).toBe(0);
  });

  it('counts a download in flight until it is cut, and only the bytes handed out', async () => {
    const base = ferry().url;
    // Larger than loopback socket buffers can hold, so a reader that stops leaves the rest unsent.
    const bytes = randomBytes(32 * 1024 * 1024);
    const share = await createTestShare(base, [{ size: bytes.length }]);
    await uploadAndComplete(base, share, [bytes]);
    const ticket = (await ticketFor(base, share, [0])).json as { ticket: string };
    const before = (await scrape()).value('ferry_downloaded_bytes_total');
    const abort = new AbortController();
    const res = await fetch(`${base}/api/shares/${share.id}/files/0`, {
      headers: { Authorization: `Bearer ${share.readerToken}`, 'Ferry-Ticket': ticket.ticket },
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    // The client stops reading: the server's writes stall on a full socket, still in flight.
    expect((await scrape()).value('ferry_downloads_in_flight')).toBe(1);
    abort.abort();
    await reader.cancel().catch(() => undefined);
    await expect.poll(async () => (await scrape()).value('ferry_downloads_in_flight')).toBe(0);
    const sent = (await scrape()).value('ferry_downloaded_bytes_total') - before;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(bytes.length);
  });

  it('counts refusals by error code: a 404, and a tus request without its token', async () => {
    const base = ferry().url;
    const before = await scrape();
    expect(errorCode(await api(base, 'GET', '/api/nothing-here'))).toBe('NOT_FOUND');
    expect(errorCode(await api(base, 'GET', '/api/shares/AAAAAAAAAAAAAAAA'))).toBe('SHARE_NOT_FOUND');
    const tus = await fetch(`${base}/files/unknownupload`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(tus.status).toBe(404);
    const after = await scrape();
    const delta = (code: string) =>
      after.count('ferry_refusals_total', { code }) - before.count('ferry_refusals_total', { code });
    expect(delta('NOT_FOUND')).toBe(2);
    expect(delta('SHARE_NOT_FOUND')).toBe(1);
  });

  it('counts a relay fallback share once, not its repeat after a lost answer', async () => {
    const base = ferry().url;
    const before = (await scrape()).value('ferry_relay_fallbacks_total');
    const body = {
      id: randomBytes(12).toString('base64url'),
      readerHash: await tokenHash(randomBytes(32).toString('base64url')),
      ownerHash: await tokenHash(randomBytes(32).toString('base64url')),
      uploadHash: await tokenHash(randomBytes(32).toString('base64url')),
      expiresInSeconds: 3600,
      maxDownloads: null,
      password: null,
      manifest: FAKE_MANIFEST,
      files: [{ size: 1040 }],
    };
    expect((await api(base, 'POST', '/api/shares', { body })).status).toBe(201);
    expect((await api(base, 'POST', '/api/shares', { body })).status).toBe(200);
    await createTestShare(base, [{ size: 100 }]);
    expect((await scrape()).value('ferry_relay_fallbacks_total')).toBe(before + 1);
  });

  it('counts signaling connections, rooms, relayed messages and signaling refusals', async () => {
    const base = ferry().url;
    const before = await scrape();
    const a = await SignalClient.connect(base);
    const b = await SignalClient.connect(base);
    try {
      b.send({ type: 'relay', to: a.id, kind: 'signal', data: { sdp: 'x' } });
      await a.next('relay');
      b.send({ type: 'relay', to: 'AAAAAAAAAAAAAAAA', kind: 'signal', data: {} });
      expect(await b.next('error')).toMatchObject({ code: 'PEER_NOT_REACHABLE' });
      const during = await scrape();
      expect(during.value('ferry_signaling_connections')).toBe(2);
      expect(during.value('ferry_signaling_rooms', { kind: 'network' })).toBe(1);
      expect(during.value('ferry_signaling_relayed_messages_total')).toBe(
        before.value('ferry_signaling_relayed_messages_total') + 1,
      );
      expect(during.count('ferry_refusals_total', { code: 'PEER_NOT_REACHABLE' })).toBe(
        before.count('ferry_refusals_total', { code: 'PEER_NOT_REACHABLE' }) + 1,
      );
    } finally {
      a.close();
      b.close();
    }
    await expect.poll(async () => (await scrape()).value('ferry_signaling_connections')).toBe(0);
    expect((await scrape()).value('ferry_signaling_rooms', { kind: 'network' })).toBe(0);
  });

  it('counts sweeper passes', async () => {
    const before = (await scrape()).value('ferry_sweeper_runs_total');
    await ferry().sweeper.sweep();
    const after = await scrape();
    expect(after.value('ferry_sweeper_runs_total')).toBe(before + 1);
    expect(after.value('ferry_sweeper_failures_total')).toBe(0);
  });

  it('needs the operator token when FERRY_METRICS_TOKEN is set', async () => {
    const base = guarded().url;
    for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const answer = await api(base, 'GET', '/metrics', {
        headers: authorization ? { Authorization: authorization } : {},
      });
      expect(answer.status).toBe(401);
      expect(errorCode(answer)).toBe('UNAUTHORIZED');
    }
    const { value } = await scrape(base, { Authorization: `Bearer ${TOKEN}` });
    // The refusals above are this server's own: the two servers share no registry.
    expect(value('ferry_refusals_total', { code: 'UNAUTHORIZED' })).toBe(4);
  });
});

describe('tus uploads in the metrics', () => {
  it('counts the bytes of an upload sent in several PATCH requests', async () => {
    const base = ferry().url;
    const before = (await scrape()).value('ferry_uploaded_bytes_total');
    const bytes = randomBytes(100_000);
    const share = await createTestShare(base, [{ size: bytes.length }]);
    await tusUpload(base, share, 0, bytes, { chunkSize: 30_000 }).promise;
    expect((await scrape()).value('ferry_uploaded_bytes_total')).toBe(before + bytes.length);
  });
});
