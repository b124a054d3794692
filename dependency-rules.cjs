/**
 * The dependency rules of docs/ARCHITECTURE.md ("Boundaries"), used by .dependency-cruiser.cjs
 * (`npm run lint`) and by test/architecture.test.ts, which proves each rule fires on a deliberate
 * violation. `rules(root)` takes the folder that plays `src/`, so the test can run them on a fixture.
 */
function rules(root) {
  const src = `^${root}/`;
  const modules = `^${root}/modules/`;
  return [
    {
      name: 'no-circular',
      comment: 'No import cycle anywhere, type-only imports included: the parts form a directed graph.',
      severity: 'error',
      from: { path: src },
      to: { circular: true },
    },
    {
      name: 'module-door',
      comment:
        "Another module is reached only through its index.ts: a module's other files are its own business.",
      severity: 'error',
      from: { path: `${modules}([^/]+)/` },
      to: { path: `${modules}[^/]+/`, pathNot: [`${modules}$1/`, `${modules}[^/]+/index\\.ts$`] },
    },
    {
      name: 'outside-through-the-door',
      comment: 'The root, plugins, jobs and the CLI also reach a module only through its index.ts.',
      severity: 'error',
      from: { path: src, pathNot: modules },
      to: { path: `${modules}[^/]+/`, pathNot: `${modules}[^/]+/index\\.ts$` },
    },
    {
      name: 'modules-not-the-root',
      comment:
        'Modules take narrow dependencies; only the composition root knows them all (no module imports it).',
      severity: 'error',
      from: { path: modules },
      to: { path: `^${root}/(container|services|infrastructure|caches|app|main|cli)\\.ts$` },
    },
    {
      name: 'lib-is-framework-free',
      comment: 'lib/ is plain code: no Fastify, no modules, no plugins, no root.',
      severity: 'error',
      from: { path: `^${root}/lib/` },
      to: {
        // (@fastify/proxy-addr is a plain address library, not the framework.)
        path: [
          'node_modules/(fastify|fastify-[^/]+|@fastify/(?!proxy-addr)[^/]+)/',
          `^${root}/(modules|plugins)/`,
          `^${root}/(container|services|infrastructure|caches|app)\\.ts$`,
        ],
      },
    },
    {
      name: 'data-layer-without-http',
      comment:
        'Services and repos know nothing of HTTP: no Fastify, no HTTP schema modules (routes validate, then pass typed input).',
      severity: 'error',
      from: { path: `${modules}.*(service|repo)[^/]*\\.ts$`, pathNot: '\\.test\\.ts$' },
      to: {
        path: [
          'node_modules/(fastify|fastify-[^/]+|@fastify/[^/]+)/',
          '(^|/)schemas\\.ts$',
          '-schemas\\.ts$',
        ],
      },
    },
  ];
}

module.exports = { rules };
