/** One HTTP/1.1 request over a keep-alive agent: status and body text (the load generator's primitive). */
import http from 'node:http';

export interface Reply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  token?: string | undefined;
  body?: unknown;
}

const defaultAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export function send(port: number, spec: RequestSpec, agent: http.Agent = defaultAgent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const headers: http.OutgoingHttpHeaders = {};
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    if (spec.token) headers.authorization = `Bearer ${spec.token}`;
    const req = http.request(
      { host: '127.0.0.1', port, method: spec.method, path: spec.path, agent, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            headers: res.headers,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** GET of a full URL (readiness checks, /metrics). */
export function get(url: string): Promise<Reply> {
  const u = new URL(url);
  return send(Number(u.port), { method: 'GET', path: u.pathname + u.search });
}

/** A JSON request that must answer `expected`; returns the parsed body. */
export async function call<T>(
  port: number,
  spec: RequestSpec,
  expected: number | number[] = [200, 201],
): Promise<T> {
  const res = await send(port, spec);
  const wanted = Array.isArray(expected) ? expected : [expected];
  if (!wanted.includes(res.status)) {
    throw new Error(`${spec.method} ${spec.path}: ${res.status} ${res.body.slice(0, 300)}`);
  }
  return JSON.parse(res.body) as T;
}

/** The service's `db_statements_total` (NaN when a build has no such metric). */
export async function statementsSent(port: number): Promise<number> {
  const res = await get(`http://127.0.0.1:${port}/metrics`);
  const match = /^db_statements_total (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(res.body);
  return match?.[1] === undefined ? Number.NaN : Number(match[1]);
}
