/**
 * The ceilings `npm run bench` measures first, in a child process of their own: a bare `node:http`
 * server and a bare Fastify route, each answering a small JSON object like `GET /api/auth/me/`'s.
 *
 *   node --import tsx bench/ceiling-server.ts http|fastify <port>
 */
import http from 'node:http';
import Fastify from 'fastify';

const kind = process.argv[2];
const port = Number(process.argv[3]);
const BODY = { id: 1, email: 'bench@capaciti.org.za', first_name: 'Bench', last_name: '', role: 'candidate' };

if (kind === 'http') {
  const text = JSON.stringify(BODY);
  http
    .createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(text);
    })
    .listen(port, '127.0.0.1');
} else if (kind === 'fastify') {
  const app = Fastify({ logger: false });
  app.get('/', async () => BODY);
  await app.listen({ port, host: '127.0.0.1' });
} else {
  process.stderr.write('usage: ceiling-server.ts http|fastify <port>\n');
  process.exit(2);
}
process.once('SIGTERM', () => process.exit(0));
