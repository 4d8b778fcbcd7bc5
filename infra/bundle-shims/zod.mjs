// Bundled in place of the `zod` package (esbuild alias, see infra/bundling.ts): all of zod except
// its ~40 error-message translations, `z.locales` and `z.core.locales` (about 260 KB of the API
// bundle). `@hono/zod-openapi` hands the whole `z` namespace to `extendZodWithOpenApi`, so esbuild
// cannot tree-shake them; nothing here uses them (zod's default English messages stay).
// Explicit exports take precedence over `export *`, so these two names replace zod's own.
import * as z from './zod.mjs';

export * from '../../node_modules/zod/v4/classic/external.js';
export * as core from './zod-core.mjs';
export const locales = {};
export { z, z as default };
