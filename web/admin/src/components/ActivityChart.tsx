import { Table } from './Table';

interface Day {
  date: string;
  entries: number;
  barriers: number;
}

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { top: 16, right: 16, bottom: 36, left: 40 };

/**
 * Journal entries (bars) and barriers (a line with square markers) per day. The two series differ by
 * shape, not only colour, and the same figures are in a table for anyone who cannot see the chart.
 */
export function ActivityChart({ days }: { days: Day[] }) {
  const max = Math.max(1, ...days.map((d) => Math.max(d.entries, d.barriers)));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, days.length);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const x = (i: number) => PAD.left + i * step + step / 2;
  const line = days
    .map((d, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(d.barriers).toFixed(1)}`)
    .join(' ');
  const totalEntries = days.reduce((n, d) => n + d.entries, 0);
  const totalBarriers = days.reduce((n, d) => n + d.barriers, 0);
  const first = days[0]?.date ?? '';
  const last = days.at(-1)?.date ?? '';
  const summary = `${String(totalEntries)} journal entries and ${String(totalBarriers)} barriers from ${first} to ${last}.`;

  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${String(WIDTH)} ${String(HEIGHT)}`} role="img" aria-label={`Chart: ${summary}`}>
        <line
          x1={PAD.left}
          y1={PAD.top + plotH}
          x2={WIDTH - PAD.right}
          y2={PAD.top + plotH}
          className="axis"
        />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={PAD.top + plotH} className="axis" />
        <text x={PAD.left - 6} y={PAD.top + 4} textAnchor="end" className="tick">
          {max}
        </text>
        <text x={PAD.left - 6} y={PAD.top + plotH} textAnchor="end" className="tick">
          0
        </text>
        {days.map((d, i) => (
          <rect
            key={d.date}
            x={x(i) - step * 0.35}
            y={y(d.entries)}
            width={step * 0.7}
            height={PAD.top + plotH - y(d.entries)}
            className="bar"
          />
        ))}
        <path d={line} className="line" fill="none" />
        {days.map((d, i) => (
          <rect
            key={`b-${d.date}`}
            x={x(i) - 3}
            y={y(d.barriers) - 3}
            width={6}
            height={6}
            className="marker"
          />
        ))}
        <text x={PAD.left} y={HEIGHT - 8} className="tick">
          {first}
        </text>
        <text x={WIDTH - PAD.right} y={HEIGHT - 8} textAnchor="end" className="tick">
          {last}
        </text>
      </svg>
      <figcaption>
        <span className="legend-bar" aria-hidden="true" /> Journal entries (bars) ·{' '}
        <span className="legend-marker" aria-hidden="true" /> Barriers (line with squares). {summary}
      </figcaption>
      <details>
        <summary>The figures as a table</summary>
        <Table label="Figures per day">
          <caption className="visually-hidden">Journal entries and barriers per day</caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Entries</th>
              <th scope="col">Barriers</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr key={d.date}>
                <th scope="row">{d.date}</th>
                <td>{d.entries}</td>
                <td>{d.barriers}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      </details>
    </figure>
  );
}
