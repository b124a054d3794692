import type { Dependency } from './unavailable.js';

/**
 * Knows whether a dependency (PostgreSQL, Redis) is reachable, without a query per request
 * (docs/operations.md#dependency-outages). A request that meets a connection failure calls `suspect()`: one probe
 * runs (never several at once); if it fails the dependency is down and is probed every
 * `probeIntervalMs` until it answers, so the service serves again within a fraction of a second of
 * its return, without a restart. Each outage is reported once when it starts and once when it ends.
 */
export interface DependencyMonitor {
  readonly name: Dependency;
  isDown(): boolean;
  /** A failure that may mean an outage was seen: probe now (single flight; nothing while down). */
  suspect(): void;
  /** Probes now and reports whether the dependency answered (readiness). */
  check(): Promise<boolean>;
  close(): void;
}

export interface OutageEvents {
  onDown(name: Dependency): void;
  onUp(name: Dependency, downForMs: number): void;
}

export function createDependencyMonitor(opts: {
  name: Dependency;
  /** Resolves when the dependency answers; must give up within its own timeout. */
  probe: () => Promise<void>;
  events: OutageEvents;
  probeIntervalMs?: number;
  now?: () => number;
}): DependencyMonitor {
  const { name, probe, events } = opts;
  const interval = opts.probeIntervalMs ?? 250;
  const now = opts.now ?? Date.now;
  let downSince: number | null = null;
  let inFlight: Promise<boolean> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const runProbe = (): Promise<boolean> => {
    inFlight ??= probe()
      .then(
        () => true,
        () => false,
      )
      .then((ok) => {
        inFlight = null;
        if (ok && downSince !== null) {
          const since = downSince;
          downSince = null;
          events.onUp(name, now() - since);
        } else if (!ok && downSince === null) {
          downSince = now();
          events.onDown(name);
        }
        if (!ok) schedule();
        return ok;
      });
    return inFlight;
  };

  // While down, probe again and again until it answers (unref'd: never keeps the process alive).
  function schedule() {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = null;
      if (downSince !== null) void runProbe();
    }, interval);
    timer.unref();
  }

  return {
    name,
    isDown: () => downSince !== null,
    suspect: () => {
      // While down, the scheduled probes already run: a failing request adds none.
      if (!closed && downSince === null) void runProbe();
    },
    check: runProbe,
    close: () => {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
