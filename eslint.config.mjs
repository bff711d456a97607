// Lint: typescript-eslint's recommended rules, and Node's built-ins kept out of workflow code (the
// workflow sandbox has none of them, and determinism forbids most). Layering and import cycles are
// checked by dependency-cruiser (.dependency-cruiser.cjs). No formatter is enforced: reformatting
// every file would bury the history; the code's style is followed by hand.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

export default tseslint.config(
  { ignores: ['node_modules/', '.stack/', '.data/', '.scratch/', 'dist/', 'backbones/', 'bin/'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      // Names starting with _ are deliberately unused (skipped tuple slots, loop counters).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Optional native packages (tfjs-node, onnxruntime-node) are loaded with require() inside try.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // Raw JSON specs and protobuf objects in tests and in the spec validators are untyped on purpose.
    files: ['test/**/*.ts', 'lib/sweep-spec.ts', 'lib/search/space.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code runs in a deterministic sandbox without Node APIs; do this in an activity.' })),
        patterns: [{ group: ['../platform/*', '../model/*', '@temporalio/activity', '@temporalio/client', '@temporalio/worker'], message: 'Workflow code may not do I/O: use an activity, and import only its type.' }],
      }],
    },
  },
);
