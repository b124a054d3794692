/** The table printed at the end and the markdown section for docs/PERFORMANCE.md. */
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import type { Row } from './measure.js';

const ms = (v: number) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms` : '–');
const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toString() : '–');
const one = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');

function errors(row: Row, ok: number[]): string {
  if (row.errors === 0) return '0';
  const odd = [...row.statuses].filter(([status]) => !ok.includes(status));
  return `${row.errors} (${odd.map(([s, n]) => `${s === 0 ? 'network' : s}×${n}`).join(', ')})`;
}

function okStatuses(row: Row): number[] {
  return row.key.startsWith('journal-create') ? [201] : [200];
}

function markdownTable(header: string[], lines: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [fmt(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...lines.map(fmt)].join('\n');
}

export function mainTable(rows: Row[], ceiling: number): string {
  return markdownTable(
    ['phase', 'conns', 'req/s', 'p50', 'p99', 'CPU µs/req', 'stmts/req', 'errors', 'of node:http'],
    rows.map((r) => [
      r.label,
      String(r.connections),
      int(r.rps),
      ms(r.p50),
      ms(r.p99),
      int(r.cpuPerRequest),
      one(r.statementsPerRequest),
      errors(r, okStatuses(r)),
      Number.isFinite(ceiling) && ceiling > 0 ? `${((r.rps / ceiling) * 100).toFixed(1)} %` : '–',
    ]),
  );
}

/** Each read on the small and on the large data set, side by side. */
export function scaleTable(small: Row[], large: Row[]): string {
  return markdownTable(
    ['read', 'req/s small', 'req/s large', 'p50 small', 'p50 large', 'p99 small', 'p99 large', 'stmts/req'],
    large.map((l) => {
      const s = small.find((r) => r.key === l.key);
      return [
        l.label,
        int(s?.rps ?? Number.NaN),
        int(l.rps),
        ms(s?.p50 ?? Number.NaN),
        ms(l.p50),
        ms(s?.p99 ?? Number.NaN),
        ms(l.p99),
        `${one(s?.statementsPerRequest ?? Number.NaN)} / ${one(l.statementsPerRequest)}`,
      ];
    }),
  );
}

export interface Section {
  title: string;
  command: string;
  setting: string[];
  table: string;
  notes: string[];
  scale?: string | undefined;
  explain?: string | undefined;
}

export function sectionMarkdown(s: Section): string {
  const parts = [
    `## ${s.title}`,
    '',
    `\`${s.command}\``,
    '',
    ...s.setting.map((line) => `- ${line}`),
    '',
    s.table,
    '',
    ...s.notes.map((line) => `- ${line}`),
  ];
  if (s.scale) parts.push('', '### Small and large data set', '', s.scale);
  if (s.explain) {
    parts.push('', '<details><summary>EXPLAIN (ANALYZE, BUFFERS) of the SQL each route sends</summary>', '');
    parts.push(s.explain, '</details>');
  }
  return `${parts.join('\n')}\n`;
}

/** Appends the section and formats the page as `npm run format:check` expects. */
export function appendToPerformance(markdown: string): void {
  appendFileSync('docs/PERFORMANCE.md', `\n${markdown}`);
  execFileSync(
    process.execPath,
    ['node_modules/prettier/bin/prettier.cjs', '--write', 'docs/PERFORMANCE.md'],
    {
      stdio: 'ignore',
    },
  );
}
