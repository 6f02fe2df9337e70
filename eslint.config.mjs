// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const clients = [
  '@prisma/client',
  'kafkajs',
  '@clickhouse/client',
  'chdb',
  'chdb/*',
  'bullmq',
  'ioredis',
  'nodemailer',
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'libs/database/src/generated/**',
      'apps/dashboard/web/**',
      'output/**',
      '.data/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through @usageguard/config.' },
      ],
    },
  },
  {
    // Nest resolves constructor parameters from emitted metadata: a type-only import would erase the token.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
  {
    // Apps and domain code reach external systems only through the repository libs (STYLE.md convention 1).
    files: ['apps/**/*.ts', 'libs/domain/**/*.ts', 'libs/contracts/**/*.ts', 'libs/config/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: clients
            .filter((c) => !c.includes('*'))
            .map((name) => ({ name, message: 'Use the repository in libs/.' })),
          patterns: [
            { group: ['chdb/*', '@prisma/*'], message: 'Use the repository in libs/.' },
            { group: ['**/apps/*', '../../*/src/*'], message: 'Apps never import from other apps.' },
          ],
        },
      ],
    },
  },
  {
    files: [
      'libs/config/**/*.ts',
      'libs/testing/**/*.ts',
      'scripts/**/*.ts',
      'prisma.config.ts',
      'vitest.config.mts',
      'test/**/*.ts',
      'bench/**/*.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.mts'],
    ...tseslint.configs.disableTypeChecked,
  },
);
