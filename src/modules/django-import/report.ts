/**
 * What a run did, table by table (docs/migrating-from-django.md#the-report): rows in the source, written
 * (new or changed since the last run), unchanged (already here), rejected (with the reason), and the
 * tables deliberately not carried. Problems name a table, a row id and a reason, never a value.
 */
export interface TableCounts {
  source: number;
  imported: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

export interface Problem {
  table: string;
  id: number | null;
  reason: string;
  /** `rejected`: the row is not here; `altered`: the row is here, with what the reason says changed. */
  kind: 'rejected' | 'altered';
}

export function createReport() {
  const tables = new Map<string, TableCounts>();
  const notCarried = new Map<string, { rows: number; why: string }>();
  const problems: Problem[] = [];
  const notes: string[] = [];
  const counts = (table: string) => {
    let c = tables.get(table);
    if (!c) {
      c = { source: 0, imported: 0, updated: 0, unchanged: 0, rejected: 0 };
      tables.set(table, c);
    }
    return c;
  };
  return {
    tables,
    notCarried,
    problems,
    notes,
    counts,
    reject(table: string, id: number | null, reason: string) {
      counts(table).rejected += 1;
      problems.push({ table, id, reason, kind: 'rejected' });
    },
    alter(table: string, id: number | null, reason: string) {
      problems.push({ table, id, reason, kind: 'altered' });
    },
    skip(table: string, rows: number, why: string) {
      notCarried.set(table, { rows, why });
    },
    note(line: string) {
      notes.push(line);
    },
    /** True when something was rejected or altered: the exit code says so unless told to accept it. */
    hasProblems: () => problems.length > 0,
    /** Counts for the audit entry: numbers only. */
    summary() {
      return Object.fromEntries([...tables].map(([t, c]) => [t, { ...c }])) as Record<string, TableCounts>;
    },
  };
}
export type ImportReport = ReturnType<typeof createReport>;

const pad = (s: string | number, n: number, right = false) =>
  right ? String(s).padStart(n) : String(s).padEnd(n);

/** The report as text: the summary table, then the problems, then what was not carried and why. */
export function formatReport(report: ImportReport, opts: { dryRun: boolean; maxProblems?: number }): string {
  const lines: string[] = [];
  const width = Math.max(28, ...[...report.tables.keys(), ...report.notCarried.keys()].map((t) => t.length));
  const verb = opts.dryRun ? 'would write' : 'written';
  lines.push(
    `${pad('source table', width)}  ${pad('source', 9, true)}  ${pad(verb, 11, true)}  ${pad('unchanged', 9, true)}  ${pad('rejected', 8, true)}`,
  );
  lines.push('-'.repeat(width + 47));
  for (const [table, c] of report.tables) {
    lines.push(
      `${pad(table, width)}  ${pad(c.source, 9, true)}  ${pad(c.imported + c.updated, 11, true)}  ${pad(c.unchanged, 9, true)}  ${pad(c.rejected, 8, true)}`,
    );
  }
  if (report.problems.length > 0) {
    const max = opts.maxProblems ?? 200;
    lines.push('', `problems (${String(report.problems.length)}):`);
    for (const p of report.problems.slice(0, max)) {
      lines.push(
        `  ${p.kind === 'rejected' ? 'REJECTED' : 'ALTERED '} ${p.table} ${p.id === null ? '-' : String(p.id)}: ${p.reason}`,
      );
    }
    if (report.problems.length > max)
      lines.push(`  … and ${String(report.problems.length - max)} more (--problems-file writes them all)`);
  }
  if (report.notCarried.size > 0) {
    lines.push('', 'not carried over, by design (docs/migrating-from-django.md#what-is-not-carried):');
    for (const [table, { rows, why }] of report.notCarried)
      lines.push(`  ${pad(table, width)} ${pad(rows, 7, true)} rows: ${why}`);
  }
  if (report.notes.length > 0) lines.push('', ...report.notes.map((n) => `note: ${n}`));
  return lines.join('\n');
}
