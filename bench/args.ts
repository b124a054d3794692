/** Command-line flags of `npm run bench` (see bench/run.ts for what each run does). */
export interface BenchArgs {
  /** `large`: also 100,000 candidates × 30 entries generated in the database, reads measured again. */
  scale: 'small' | 'large';
  /** Embedded PGlite instead of PostgreSQL + Redis (no second instance, no EXPLAIN, no large scale). */
  pglite: boolean;
  /** Append the markdown block to docs/PERFORMANCE.md. */
  write: boolean;
  /** EXPLAIN (ANALYZE, BUFFERS) of each route's SQL at the end (always with `--scale large`). */
  explain: boolean;
  rounds: number;
  seconds: number;
  connections: number;
  /** Database the bench drops and recreates (never the service's own). */
  database: string;
  /** Server URL without a database, used to create and drop `database`. */
  postgresUrl: string;
  redisUrl: string;
  /** Scale of `--scale large`. */
  candidates: number;
  entriesPerCandidate: number;
  /** Only the phases whose names contain one of these (comma-separated). */
  only: string[];
  /** A word for the section title (e.g. "before the hashing gate"). */
  label: string;
}

const HELP = `npm run bench -- [flags]
  --scale small|large   large: 100,000 candidates x 30 entries generated in the database (default small)
  --pglite              embedded database instead of PostgreSQL + Redis
  --write               append the results to docs/PERFORMANCE.md
  --explain             EXPLAIN (ANALYZE, BUFFERS) of each route's SQL (always with --scale large)
  --rounds N            interleaved rounds, medians reported (default 3)
  --seconds S           seconds per phase and round (default 5)
  --connections C       keep-alive connections of the load generator (default 32)
  --database NAME       database dropped and recreated for the run (default pss_bench)
  --postgres URL        server to create it on (default postgres://postgres@127.0.0.1:5432/postgres)
  --redis URL           Redis database for the services (default redis://127.0.0.1:6379/14)
  --candidates N        candidates of --scale large (default 100000)
  --entries N           entries per generated candidate (default 30)
  --only a,b            only phases whose name contains a or b
  --label TEXT          words for the section title`;

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name}: expected a positive whole number, got "${raw}"`);
  return n;
}

export function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = {
    scale: 'small',
    pglite: false,
    write: false,
    explain: false,
    rounds: 3,
    seconds: 5,
    connections: 32,
    database: 'pss_bench',
    postgresUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: 'redis://127.0.0.1:6379/14',
    candidates: 100_000,
    entriesPerCandidate: 30,
    only: [],
    label: '',
  };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = () => {
      i += 1;
      const v = argv[i];
      if (v === undefined) throw new Error(`${flag ?? ''} needs a value`);
      return v;
    };
    switch (flag) {
      case '--scale': {
        const v = value();
        if (v !== 'small' && v !== 'large') throw new Error(`--scale: small or large, got "${v}"`);
        args.scale = v;
        break;
      }
      case '--pglite':
        args.pglite = true;
        break;
      case '--write':
        args.write = true;
        break;
      case '--explain':
        args.explain = true;
        break;
      case '--rounds':
        args.rounds = positive('--rounds', value());
        break;
      case '--seconds':
        args.seconds = positive('--seconds', value());
        break;
      case '--connections':
        args.connections = positive('--connections', value());
        break;
      case '--database': {
        const v = value();
        if (!/^[a-z_][a-z0-9_]{0,62}$/.test(v)) throw new Error(`--database: not a plain name: "${v}"`);
        args.database = v;
        break;
      }
      case '--postgres':
        args.postgresUrl = value();
        break;
      case '--redis':
        args.redisUrl = value();
        break;
      case '--candidates':
        args.candidates = positive('--candidates', value());
        break;
      case '--entries':
        args.entriesPerCandidate = positive('--entries', value());
        break;
      case '--only':
        args.only = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case '--label':
        args.label = value();
        break;
      case '--help':
      case '-h':
        console.log(HELP);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown flag "${flag ?? ''}"\n${HELP}`);
    }
  }
  if (args.pglite && args.scale === 'large')
    throw new Error('--scale large needs PostgreSQL (drop --pglite)');
  return args;
}
