// The house's floors, checked on every `npm run lint`. From the ground up:
//   lib/        domain logic: spec, grid, balance, split, rank, types (pure)
//   formats/    file formats and encoders: feature shards, TensorBoard events (pure)
//   views/      HTML and terminal views, Web UI metadata (pure)
//   platform/   infrastructure: configuration, object storage, feature cache, Temporal connection
//   model/      TF.js: backbone, head, checkpoint codec, image preprocessing
//   activities/ Temporal activities: the DAG's steps, doing the I/O
//   workflows/  Temporal workflows and their contract (deterministic; activities by type only)
//   workers/, cli/, bench/, demo/, infra/  entry points
// A floor may import only floors listed for it; nothing imports an entry point's folder except
// the entry points and tests allowed below; and no module imports itself through others.
const FOLDERS = ['lib', 'formats', 'views', 'platform', 'model', 'activities', 'workflows', 'workers', 'cli', 'bench', 'demo', 'infra', 'test'];

/** What each folder may import (besides itself and npm packages). */
const ALLOWED = {
  lib: [],
  formats: ['lib'],
  views: ['lib', 'formats'],
  platform: ['lib', 'formats'],
  model: ['lib', 'formats', 'platform'],
  activities: ['lib', 'formats', 'views', 'platform', 'model'],
  workflows: ['lib', 'views', 'activities'], // activities: types only, see below
  workers: ['lib', 'platform', 'model', 'activities', 'workflows'],
  cli: ['lib', 'formats', 'views', 'platform', 'model', 'activities', 'workflows'],
  infra: ['platform'],
  demo: ['lib', 'platform', 'model', 'workflows', 'workers', 'cli', 'views'],
  bench: ['lib', 'formats', 'platform', 'model', 'activities', 'workflows', 'workers', 'demo', 'infra'],
  test: FOLDERS,
};

const layering = Object.entries(ALLOWED).map(([folder, allowed]) => ({
  name: `${folder}-imports-only-${allowed.length ? allowed.join('-') : 'itself'}`,
  severity: 'error',
  from: { path: `^${folder}/` },
  to: { path: `^(${FOLDERS.join('|')})/`, pathNot: `^(${[folder, ...allowed].join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...layering,
    {
      name: 'workflows-use-activities-by-type-only',
      comment: 'Workflow code is bundled into a sandbox: it may name activities\' types, never load their code.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^activities/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'domain-and-model-know-no-temporal',
      comment: 'lib/, formats/, views/ and model/ throw DomainError; activities translate it (activities/failures.ts).',
      severity: 'error',
      from: { path: '^(lib|formats|views|model)/' },
      to: { path: '@temporalio/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(\\.stack|backbones)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a type cycle is still a cycle, and the workflows' activity types are checked.
    tsPreCompilationDeps: true,
  },
};
