// @ts-check
/**
 * `npm run lint` (part of `npm test`): ESLint with typescript-eslint's type-aware rules, over the
 * three TypeScript programs of the project (tsconfig.json for the Worker side, tsconfig.node.json
 * for Node, tsconfig.dashboard.json for the dashboard's browser code). The base is `recommendedTypeChecked`; on top of it the rules that
 * catch real bugs in async code (a promise nobody awaits, a promise where a boolean or a void
 * callback is expected, `return` without `await` inside try/catch) and `import type` for
 * type-only imports. Formatting is prettier's job (`npm run format:check`), not ESLint's.
 * Each rule turned off or relaxed below says why.
 */
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  {
    // worker-configuration.d.ts is `wrangler types` output (`npm run types`), not ours to lint.
    // dashboard/generated/ is esbuild's bundle of dashboard/app/ (scripts/build.ts).
    ignores: ["node_modules/", "dist/", "pkg/", ".wrangler/", ".flaremq/", ".mf/", "test-results/", "worker-configuration.d.ts", "dashboard/generated/"],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The programs `npm run typecheck` builds. A file in several (protocol/) is linted in the
        // first: Node's, whose DOM lib types WebCrypto more strictly than workers-types do
        // (BufferSource wants an ArrayBuffer-backed view), so an assertion needed there stays.
        // The dashboard's browser code has its own program (DOM, no Node types), and so has
        // test/workerd/ (the client classes run inside workerd, under the Workers types).
        project: [
          "./tsconfig.node.json",
          "./tsconfig.json",
          "./tsconfig.dashboard.json",
          "./tsconfig.workerd-tests.json",
          "./examples/tsconfig.json",
          "./examples/tutorial/tsconfig.json",
        ],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      // `return promise` inside try skips the catch and the finally's timing; elsewhere it is fine.
      "@typescript-eslint/return-await": ["error", "in-try-catch"],
      "@typescript-eslint/consistent-type-imports": "error",
      eqeqeq: ["error", "smart"],
      // A leading underscore marks a deliberately unused name: the fields a rest destructuring
      // leaves out (`const { secret: _s, ...visible } = account`), parameters an interface imposes.
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          caughtErrorsIgnorePattern: "^_",
          destructuredArrayIgnorePattern: "^_",
          ignoreRestSiblings: true,
        },
      ],
      // An async function without await is how this code turns a throw into a rejection and meets
      // a Promise-returning signature (blockConcurrencyWhile, RPC methods, listeners).
      "@typescript-eslint/require-await": "off",
      // Passing on a rejection reason as received (an AbortSignal's reason, a caught value) is
      // what fetch does on abort; literals and other non-Error values are still reported.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingAny: true, allowThrowingUnknown: true }],
    },
  },
  {
    // Tests compare against asymmetric matchers (`expect.any(Number)`, typed `any`) and read the
    // JSON a CLI or server printed; an `any` there fails an assertion, not the product.
    files: ["**/*.test.ts", "test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
    },
  },
  {
    // The bench's baseline Worker and the push tests' consumer Worker are plain JavaScript run by
    // workerd: no program has their types (tsconfig.node.json knows Node, not `cloudflare:workers`),
    // so type-aware rules see only `any`.
    files: ["bench/baseline-worker.js", "test/workerd/push-consumer-worker.js"],
    extends: [tseslint.configs.disableTypeChecked],
    // Without a program, no-undef knows only what is listed: the Worker globals they use.
    languageOptions: { globals: { Response: "readonly", URL: "readonly", atob: "readonly", setTimeout: "readonly" } },
  },
);
