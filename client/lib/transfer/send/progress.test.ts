import { describe, expect, it } from 'vitest';
import { formatDuration, formatSpeed, SpeedMeter, secondsLeft } from './progress.ts';

describe('SpeedMeter', () => {
  it('measures over the sliding window only', () => {
    const meter = new SpeedMeter(5000);
    // 10 MB/s for 10 s, then 1 MB/s for 10 s.
    for (let t = 0; t <= 10_000; t += 500) meter.sample(t, t * 10_000);
    expect(meter.bytesPerSecond()).toBeCloseTo(10e6, -3);
    for (let t = 10_500; t <= 20_000; t += 500) meter.sample(t, 100e6 + (t - 10_000) * 1000);
    expect(meter.bytesPerSecond()).toBeCloseTo(1e6, -4);
  });

  it('is 0 until it has a span to measure', () => {
    const meter = new SpeedMeter();
    meter.sample(0, 0);
    expect(meter.bytesPerSecond()).toBe(0);
  });
});

describe('time left', () => {
  it('divides and rounds up, unknown at zero speed', () => {
    expect(secondsLeft(10e6, 3e6)).toBe(4);
    expect(secondsLeft(10, 0)).toBeNull();
    expect(secondsLeft(0, 0)).toBe(0);
  });

  it('formats', () => {
    expect(formatSpeed(12.34e6)).toBe('12 MB/s');
    expect(formatSpeed(2.5e6)).toBe('2.5 MB/s');
    expect(formatDuration(75)).toBe('1 min 15 s left');
    expect(formatDuration(null)).toBe('calculating…');
  });
});
