/** `depcruise src` (part of `npm run lint`): the rules live in dependency-rules.cjs. */
const { rules } = require('./dependency-rules.cjs');

module.exports = {
  forbidden: rules('src'),
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
