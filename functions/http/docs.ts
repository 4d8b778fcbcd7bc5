import { Scalar } from '@scalar/hono-api-reference';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Hono } from 'hono';

/**
 * `GET /docs`: Scalar's API reference for `/openapi.json`, with its script served by this app
 * (no CDN). The 3.5 MB script is read on first use, never at cold start: on Lambda from a copy
 * next to the bundle (the stack puts it there), locally from the npm package.
 */
export const DOCS_SCRIPT_ASSET = 'scalar-standalone.js';
let script: Promise<Buffer> | undefined;

async function loadScript(): Promise<Buffer> {
  try {
    return await readFile(new URL(`./${DOCS_SCRIPT_ASSET}`, import.meta.url));
  } catch {
    // The package's "exports" hide dist/browser; its main entry sits in dist/.
    const main = createRequire(import.meta.url).resolve('@scalar/api-reference');
    return readFile(join(dirname(main), 'browser', 'standalone.js'));
  }
}

export function mountDocs(app: Hono<any>) {
  app.get('/docs/scalar.js', async (c) => {
    script ??= loadScript().catch((error) => {
      script = undefined;
      throw error;
    });
    const body = await script;
    return c.body(new Uint8Array(body), 200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'public, max-age=86400',
    });
  });
  app.get(
    '/docs',
    Scalar({
      url: '/openapi.json',
      cdn: '/docs/scalar.js',
      pageTitle: 'Project Users API',
      // Every /api operation needs the Bearer key (security scheme `apiKey`): the page opens with it
      // selected, so a pasted key is used at once, not "No authentication selected".
      authentication: { preferredSecurityScheme: 'apiKey' },
      // Nothing but this server is contacted: no request proxy, no AI agent (which queries a
      // hosted registry), no telemetry, no hosted fonts, no developer toolbar.
      withDefaultFonts: false,
      telemetry: false,
      agent: { disabled: true },
      showDeveloperTools: 'never',
      showToolbar: 'never',
    } as Parameters<typeof Scalar>[0]),
  );
}
