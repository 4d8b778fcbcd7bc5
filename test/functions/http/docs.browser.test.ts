import { serve, type ServerType } from '@hono/node-server';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/dynamodb-local.js';
import { newOrg, testApp } from '../../support/app.js';

/**
 * A newcomer's path: open /docs in a real browser (Debian's Chromium), find the project-user
 * operations, paste a key into "Test Request" and list the users of a project. No other origin
 * may be contacted. A screenshot lands in test-output/.
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
  it('lists the six project-user operations and "Test Request" with a pasted key returns the user list', async () => {
    const org = await newOrg(t, 'Docs');
    const project = await org.project('Docs project');
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(base) && !request.url().startsWith('data:')) foreign.push(request.url());
    });

    await page.goto(`${base}/docs`);
    await page.getByRole('button', { name: /Project users/ }).first().click();
    for (const summary of [
      'List project users',
      'The caller: its key, org user, membership and effective permissions',
      'Get a project user',
      'Add an org user to the project',
      "Change a project user's roles or tags",
      'Remove a project user',
    ]) {
      await page.getByRole('button', { name: summary }).first().waitFor({ state: 'visible', timeout: 10_000 });
    }

    await page.getByRole('button', { name: 'Test Request (get /api/projects/{projectId}/users)' }).first().click();
    await page.getByPlaceholder('Token').fill(org.adminKey);
    // The path variable's value cell starts with the documented example ID.
    const projectIdValue = page.locator('[contenteditable="true"]', { hasText: 'prj_01jd6x4r2m0000000000000000' }).first();
    await projectIdValue.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type(project._id, { delay: 5 });
    await page.keyboard.press('Tab');
    await page.waitForTimeout(1000); // the variable editor applies input after a debounce
    await page.getByRole('button', { name: /^Send/ }).first().click();

    // The response panel shows the list: the owner's project user and a null nextCursor.
    await page.getByText(project.ownerProjectUserId).first().waitFor({ state: 'visible', timeout: 15_000 });
    await page.getByText('200', { exact: false }).first().waitFor({ state: 'visible' });
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}docs-try-it.png` });
    expect(foreign).toEqual([]);
    console.log(`docs browser test: 6 operations listed, Test Request → 200 with the owner ${project.ownerProjectUserId}; screenshot test-output/docs-try-it.png`);
    await page.close();
  }, 60_000);
});
