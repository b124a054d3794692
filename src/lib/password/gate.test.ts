import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { BUSY_MESSAGE, createHashGate } from './gate.js';

/** A unit of work that ends when the test says so. */
function held() {
  let end!: () => void;
  const done = new Promise<void>((resolve) => {
    end = resolve;
  });
  return { work: () => done, end };
}

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe('createHashGate', () => {
  it('runs at most `concurrency` at once, queues up to `queue` in arrival order, refuses the next with 503', async () => {
    const gate = createHashGate({ concurrency: 2, queue: 2, maxWaitMs: 60_000 });
    const a = held();
    const b = held();
    const c = held();
    const d = held();
    const order: string[] = [];
    const first = gate.run(a.work);
    const second = gate.run(b.work);
    const third = gate.run(() => {
      order.push('third');
      return c.work();
    });
    const fourth = gate.run(() => {
      order.push('fourth');
      return d.work();
    });
    expect(gate.state()).toEqual({ running: 2, waiting: 2 });

    const refused = await refusal(gate.run(async () => 'never'));
    expect(refused.status).toBe(503);
    expect(refused.code).toBe('service_unavailable');
    expect(refused.detail).toBe(BUSY_MESSAGE);
    expect(Number(refused.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);

    a.end();
    await first;
    // One slot came free: the first in the queue starts, the second still waits.
    expect(order).toEqual(['third']);
    expect(gate.state()).toEqual({ running: 2, waiting: 1 });
    b.end();
    await second;
    expect(order).toEqual(['third', 'fourth']);
    c.end();
    d.end();
    await Promise.all([third, fourth]);
    expect(gate.state()).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses a caller that waited `maxWaitMs` for its turn, and forgets it', async () => {
    const gate = createHashGate({ concurrency: 1, queue: 5, maxWaitMs: 50 });
    const a = held();
    const first = gate.run(a.work);
    const started = Date.now();
    const late = await refusal(gate.run(async () => 'never'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(late.status).toBe(503);
    expect(gate.state()).toEqual({ running: 1, waiting: 0 });
    a.end();
    await first;
    await expect(gate.run(async () => 'now')).resolves.toBe('now');
  });

  it('gives the slot back when the work fails', async () => {
    const gate = createHashGate({ concurrency: 1, queue: 0, maxWaitMs: 1000 });
    await expect(gate.run(() => Promise.reject(new Error('argon2 failed')))).rejects.toThrow('argon2 failed');
    await expect(gate.run(async () => 'next')).resolves.toBe('next');
  });

  it('reports the first refusal once and the return to idle once, with the number refused', async () => {
    const events: string[] = [];
    const gate = createHashGate(
      { concurrency: 1, queue: 0, maxWaitMs: 1000 },
      {
        onRefused: (reason) => events.push(`refused:${reason}`),
        onSaturated: () => events.push('saturated'),
        onIdle: (refused) => events.push(`idle:${refused}`),
      },
    );
    const a = held();
    const first = gate.run(a.work);
    await refusal(gate.run(async () => 1));
    await refusal(gate.run(async () => 1));
    a.end();
    await first;
    await gate.run(async () => 1);
    expect(events).toEqual(['saturated', 'refused:queue_full', 'refused:queue_full', 'idle:2']);
  });
});
