import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../shared/errors.ts';
import { PeerCoverage, REPORT_BYTES } from './peer-coverage.ts';

function recorder(fail?: (end: number) => FerryError | null) {
  const reports: [number, number][] = [];
  const report = async (start: number, end: number) => {
    reports.push([start, end]);
    const error = fail?.(end);
    if (error) throw error;
  };
  return { reports, report };
}

describe('PeerCoverage', () => {
  it('checks the ticket with an empty range, then reports every REPORT_BYTES and the rest at the end', async () => {
    const { reports, report } = recorder();
    const coverage = new PeerCoverage(report, 100);
    await coverage.check();
    coverage.sent(100 + REPORT_BYTES / 2);
    coverage.sent(100 + REPORT_BYTES);
    coverage.sent(100 + REPORT_BYTES + 10);
    await coverage.flush();
    expect(reports).toEqual([
      [100, 100],
      [100, 100 + REPORT_BYTES],
      [100, 100 + REPORT_BYTES + 10],
    ]);
    expect(coverage.refused).toBeNull();
  });

  it('keeps the server’s refusal for the pull to stop on', async () => {
    const lapsed = new FerryError('UNAUTHORIZED', 'The download ticket has lapsed.');
    const { report } = recorder((end) => (end > 0 ? lapsed : null));
    const coverage = new PeerCoverage(report, 0);
    await coverage.check();
    coverage.sent(REPORT_BYTES);
    await coverage.flush();
    expect(coverage.refused).toBe(lapsed);
  });

  it('throws a refused check before anything is sent', async () => {
    const { report } = recorder(() => new FerryError('FORBIDDEN', 'The ticket does not name file 0.'));
    await expect(new PeerCoverage(report, 0).check()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('reports nothing more when nothing more was sent', async () => {
    const { reports, report } = recorder();
    const coverage = new PeerCoverage(report, 0);
    await coverage.flush();
    expect(reports).toEqual([]);
  });
});
