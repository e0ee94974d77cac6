// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * `void somePromise()` is an intended fire-and-forget: it must say why that is safe (typically: the
 * promise catches its own errors) in a comment on the `void`'s line or the line above.
 * Only promises count (not other thenables such as FastifyReply, voided to discard a return value).
 */
const voidNeedsReason = {
  meta: {
    type: 'suggestion',
    schema: [],
    messages: {
      why: 'Fire-and-forget: say why this promise may run unobserved (a comment on this line or the line above), or await / .catch it.',
    },
  },
  /** @param {import('eslint').Rule.RuleContext} context */
  create(context) {
    const services = /** @type {any} */ (context.sourceCode.parserServices);
    const isPromise = (/** @type {any} */ t) =>
      (t.isUnion() ? t.types : [t]).some((/** @type {any} */ u) => u.getSymbol()?.getName() === 'Promise');
    return {
      /** @param {any} node */
      "UnaryExpression[operator='void']"(node) {
        const arg = node.argument;
        // Already handled (`.catch(fn)`, `.then(ok, fail)`): the void only discards the value.
        const method = arg.type === 'CallExpression' && arg.callee.type === 'MemberExpression' && arg.callee.property.name;
        if (method === 'catch' || (method === 'then' && arg.arguments.length === 2)) return;
        if (!isPromise(services.getTypeAtLocation(arg))) return;
        const line = node.loc.start.line;
        const explained = context.sourceCode
          .getAllComments()
          .some((c) => c.loc && c.loc.end.line >= line - 1 && c.loc.start.line <= line);
        if (!explained) context.report({ node, messageId: 'why' });
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.local/', 'coverage/', 'bench/results/', '*.js', '*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration through AppConfig (src/infra/config), not process.env.',
        },
      ],
    },
  },
  {
    // Type-aware rules (typescript-eslint's project service reads tsconfig.json, which covers src, test,
    // scripts and bench): a promise is awaited, handled, or voided with a comment saying why it may
    // run unobserved; no promise where a void callback is expected; a switch over a union names
    // every member.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { local: { rules: { 'void-needs-reason': voidNeedsReason } } },
    rules: {
      'local/void-needs-reason': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
    },
  },
  {
    // Tests, scripts and the config loader itself may read the environment; tests may use any.
    files: ['test/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts', 'src/infra/config/app-config.ts', '**/*.spec.ts'],
    rules: { 'no-restricted-syntax': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The nest g generators (schematics/format.js): CommonJS, loaded by the Nest CLI's schematics runner.
    files: ['schematics/**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', exports: 'writable', module: 'writable', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
