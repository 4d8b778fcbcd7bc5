import { describe, expect, it } from 'vitest';
import { CURSOR_SECRET_WAIT_MS } from '../../../functions/http/middleware.js';
import { call, newOrg, testApp } from '../../support/app.js';

/**
 * The API never works without its cursor secret (http/middleware.ts `requireCursorSecret`): on
 * Lambda it is read beside the first request (test/infra/lambda-bundle.test.ts); here a secret
 * that never arrives, so only the middleware's bound can end the wait.
 */
describe('cursor secret that never arrives', () => {
  it(`a request waits at most ${CURSOR_SECRET_WAIT_MS} ms for it, then answers 503; a write is never sent`, async () => {
    const t = testApp();
    const org = await newOrg(t, 'Secret never');
    const project = await org.project('Before');
    const stalled = testApp({ cursorSecret: () => new Promise<string>(() => undefined) });

    const write = await call(stalled, 'POST', '/api/projects', { key: org.adminKey, body: { name: 'Never written' } });
    expect(write.status).toBe(503);
    expect(write.headers.get('retry-after')).toBe('1');
    expect(write.body).toMatchObject({ status: 503, code: 'service_unavailable' });
    const read = await call(stalled, 'GET', `/api/projects/${project._id}`, { key: org.adminKey });
    expect(read.status).toBe(503);
    expect((await call(stalled, 'GET', '/health')).status).toBe(200);

    const listed = await call(t, 'GET', '/api/projects', { key: org.adminKey });
    expect((listed.body as { data: { name: string }[] }).data.map((p) => p.name)).toEqual(['Before']);
  }, 4 * CURSOR_SECRET_WAIT_MS + 5_000);
});
