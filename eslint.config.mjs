import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.stepjobs/', 'coverage/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-restricted-imports': 'off',
    },
  },
  {
    // Data flows stacks -> workflows -> tasks -> shared. Runtime code never imports CDK or the local runtime.
    files: ['tasks/**/*.ts', 'shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'cdk-nag'],
              message: 'Runtime code must not import CDK.',
            },
            {
              group: ['**/local/*', '**/local', '**/stacks/*', '**/workflows/*'],
              message: 'Runtime code must not import local/, stacks/ or workflows/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'cdk-nag'],
              message: 'shared/ must not import CDK.',
            },
            {
              group: ['**/local/*', '**/stacks/*', '**/workflows/*', '**/tasks/*'],
              message: 'shared/ is the bottom layer.',
            },
          ],
        },
      ],
    },
  },
);
