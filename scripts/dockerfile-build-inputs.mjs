// Prints the repository paths the Dockerfile's `build` stage copies in (one per line), so that CI can
// build from exactly those files and catch a build input the image would be missing (Docker itself is
// not available in CI).
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const lines = readFileSync(fileURLToPath(import.meta.resolve('../Dockerfile')), 'utf8').split('\n');
let inBuild = false;
const inputs = [];
for (const line of lines) {
  const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
  if (from) {
    inBuild = from[1]?.toLowerCase() === 'build';
    continue;
  }
  const copy = /^COPY\s+(.*)$/i.exec(line.trim());
  if (!inBuild || !copy) continue;
  const words = copy[1].split(/\s+/).filter((w) => !w.startsWith('--'));
  if (/^COPY\s+--from/i.test(line.trim())) continue;
  inputs.push(...words.slice(0, -1));
}
if (inputs.length === 0) {
  process.stderr.write('no COPY found in the Dockerfile build stage\n');
  process.exit(1);
}
process.stdout.write(`${inputs.join('\n')}\n`);
