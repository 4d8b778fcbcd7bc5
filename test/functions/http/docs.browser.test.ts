import { serve, type ServerType } from '@hono/node-server';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/dynamodb-local.js';
import { newOrg, testApp } from '../../support/app.js';

/**
 * A newcomer's path: open /docs in a real browser (Debian's Chromium), see Bearer authentication
 * already selected, paste a key once into its token field, find the project-user operations and
 * list the users of a project with "Test Request". No other origin may be contacted. Screenshots
 * land in test-output/.
 */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = new URL('../../../test-output/', import.meta.url).pathname;

const t = testApp();
let server: ServerType;
let browser: Browser;
let base: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  const port = await freePort();
  server = serve({ fetch: t.app.fetch, port, hostname: '127.0.0.1' });
  base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  server?.close();
});

describe('/docs in a browser', () => {
  it('opens with Bearer authentication selected; a key pasted there makes "Test Request" return the user list', async () => {
    const org = await newOrg(t, 'Docs');
    const project = await org.project('Docs project');
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(base) && !request.url().startsWith('data:')) foreign.push(request.url());
    });

    await page.goto(`${base}/docs`);
    // The introduction's authentication card opens on the `apiKey` scheme (HTTP Bearer), not on
    // "No authentication selected" (Scalar's `authentication.preferredSecurityScheme`).
    const auth = page.locator('.scalar-reference-intro-auth');
    await auth.getByText('Bearer Token').waitFor({ state: 'visible', timeout: 30_000 });
    const authText = await auth.innerText();
    expect(authText).toContain('apiKey');
    expect(authText).toContain('Authorization: Bearer puk_<keyId>_<secret>');
    expect(authText).not.toContain('No authentication selected');
    expect(await page.getByText('No authentication selected').count()).toBe(0);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}docs-auth-preselected.png` });
    // The key is pasted once, on the page; every operation's "Test Request" uses it.
    await auth.getByPlaceholder('Token').fill(org.adminKey);

    // The six operations of SPEC §2, each under the summary the document gives it.
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, { summary: string }>> };
    const summaries = Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/api/projects/{projectId}/users'))
      .flatMap(([, operations]) => Object.values(operations).map((operation) => operation.summary));
    expect(summaries).toHaveLength(6);
    // Scalar opens the first tag by itself, at a moment of its own (late on a loaded machine): the
    // tag is clicked only while its operations are hidden, so a click never closes what it opened.
    const shown = (summary: string) => page.getByRole('button', { name: summary }).filter({ visible: true }).first();
    const tag = page.getByRole('button', { name: /Project users/ }).first();
    await expect
      .poll(
        async () => {
          if (await shown(summaries[0]!).isVisible()) return true;
          await tag.click();
          return false;
        },
        { timeout: 30_000, interval: 2_000 },
      )
      .toBe(true);
    for (const summary of summaries) await shown(summary).waitFor({ state: 'visible', timeout: 30_000 });

    await page.getByRole('button', { name: 'Test Request (get /api/projects/{projectId}/users)' }).first().click();
    const client = page.getByRole('dialog');
    const clientToken = client.getByPlaceholder('Token');
    await clientToken.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await client.getByText('No authentication selected').count()).toBe(0);
    expect(await clientToken.inputValue()).toBe(org.adminKey);
    // The path variable's value cell starts with the documented example ID.
    const projectIdValue = page.locator('[contenteditable="true"]', { hasText: 'prj_01jd6x4r2m0000000000000000' }).first();
    await projectIdValue.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type(project._id, { delay: 5 });
    await page.keyboard.press('Tab');
    await page.waitForTimeout(1000); // the variable editor applies input after a debounce
    await page.getByRole('button', { name: /^Send/ }).first().click();

    // The response panel shows the list: the owner's project user and a null nextCursor.
    await page.getByText(project.ownerProjectUserId).first().waitFor({ state: 'visible', timeout: 30_000 });
    await page.getByText('200', { exact: false }).first().waitFor({ state: 'visible' });
    await page.screenshot({ path: `${SCREENSHOTS}docs-try-it.png` });
    expect(foreign).toEqual([]);
    console.log(
      `docs browser test: Bearer preselected, 6 operations listed, Test Request → 200 with the owner ${project.ownerProjectUserId}; screenshots test-output/docs-auth-preselected.png, docs-try-it.png`,
    );
    await page.close();
  }, 150_000);
});
