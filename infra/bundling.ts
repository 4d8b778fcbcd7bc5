import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { LogLevel, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * The one definition of how a Lambda function is bundled. The stack hands it to `NodejsFunction`
 * (`nodejsBundling`), and the bundle tests hand the same values to esbuild's JS API
 * (`esbuildOptions`), so what the tests import is what Lambda runs.
 */

/** Repository root: where `package-lock.json`, `tsconfig.json` and `functions/` live. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Node.js major of the Lambda runtime; the esbuild target follows it. */
export const NODE_MAJOR = 22;

/**
 * An ESM bundle that contains CommonJS code (the AWS SDK's `require("node:https")`, …) throws
 * `Dynamic require of "node:https" is not supported` at import unless `require` exists in module
 * scope. Aliased import so it cannot collide with a `createRequire` the bundle imports itself.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);";

export const BUNDLE = {
  format: 'esm',
  platform: 'node',
  target: `node${NODE_MAJOR}`,
  minify: true,
  /** External `.map` next to the bundle, read when an error is logged (functions/stack-trace.ts). */
  sourcemap: true,
  /** Keep the map small: it names files and lines, the sources themselves are in git. */
  sourcesContent: false,
  /** Prefer packages' ESM builds (smaller, tree-shakeable). */
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  /**
   * Nothing is external: `NodejsFunction` leaves `@aws-sdk/*` out on Node 18+ runtimes unless
   * `bundleAwsSDK` is set, which would run the runtime's SDK version instead of the locked one.
   */
  external: [] as string[],
  /**
   * `zod` without its ~40 error-message translations (260 KB of 940 KB, a third of the API's
   * bundle parse time): `@hono/zod-openapi` passes the whole `z` namespace around, so esbuild
   * cannot tree-shake them. Resolved from the project root.
   */
  alias: { zod: './infra/bundle-shims/zod.mjs' } as Record<string, string>,
} as const;

/**
 * Node flags every function starts with (its `NODE_OPTIONS`): none. A logged error's stack is mapped
 * back to `functions/*.ts` when it is logged (functions/stack-trace.ts), not by
 * `--enable-source-maps`, which parses the whole map at every cold start (30–45 ms of the API's).
 */
export const NODE_ARGS: readonly string[] = [];

/** A file shipped next to the bundle (read at run time, never bundled into the code). */
export interface BundleAsset {
  /** Path relative to the repository root. */
  readonly from: string;
  /** File name beside `index.mjs`. */
  readonly to: string;
}

/** What `NodejsFunction` writes for an ESM bundle, and esbuild beside it. */
export const BUNDLE_FILE = 'index.mjs';
export const SOURCE_MAP_FILE = `${BUNDLE_FILE}.map`;

/** `NodejsFunction` `bundling` props: local esbuild (devDependency), never Docker. */
export function nodejsBundling(assets: readonly BundleAsset[] = []): BundlingOptions {
  const sh = (value: string) => `"${value.replace(/(["\\$`])/g, '\\$1')}"`;
  return {
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir: string, outputDir: string) => [
        // Map sources relative to the project root: the asset hash is then the same whatever the
        // checkout path and the -o directory (infra/relative-source-map.mjs).
        [process.execPath, path.join(PROJECT_ROOT, 'infra', 'relative-source-map.mjs'), inputDir, path.join(outputDir, SOURCE_MAP_FILE)]
          .map(sh)
          .join(' '),
        ...assets.map((asset) => `cp ${sh(path.join(inputDir, asset.from))} ${sh(path.join(outputDir, asset.to))}`),
      ],
    },
    format: OutputFormat.ESM,
    target: BUNDLE.target,
    minify: BUNDLE.minify,
    sourceMap: BUNDLE.sourcemap,
    sourcesContent: BUNDLE.sourcesContent,
    mainFields: [...BUNDLE.mainFields],
    banner: BUNDLE.banner,
    bundleAwsSDK: true,
    // NodejsFunction runs esbuild in the project root, where the alias paths are resolved.
    esbuildArgs: Object.fromEntries(Object.entries(BUNDLE.alias).map(([from, to]) => ['--alias', `${from}=${to}`])),
    externalModules: [...BUNDLE.external],
    forceDockerBundling: false,
    // esbuild's size table on every synth is noise; warnings and errors still show.
    logLevel: LogLevel.WARNING,
  };
}

/**
 * esbuild JS API options equivalent to the command line `NodejsFunction` runs
 * (`esbuild --bundle <entry> --target=… --platform=node --format=esm --outfile=…/index.mjs …`,
 * from the project root).
 */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [path.resolve(PROJECT_ROOT, entry)],
    outfile,
    bundle: true,
    absWorkingDir: PROJECT_ROOT,
    format: BUNDLE.format,
    platform: BUNDLE.platform,
    target: BUNDLE.target,
    minify: BUNDLE.minify,
    sourcemap: BUNDLE.sourcemap,
    sourcesContent: BUNDLE.sourcesContent,
    mainFields: [...BUNDLE.mainFields],
    banner: { js: BUNDLE.banner },
    external: [...BUNDLE.external],
    alias: { ...BUNDLE.alias },
    logLevel: 'silent',
  };
}
