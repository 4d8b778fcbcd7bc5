import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { readConfig } from '../../functions/config.js';
import { createApp } from '../../functions/http/app.js';
import type { Role } from '../../functions/domain/permissions.js';
import { createStore } from '../../functions/store/store.js';
import { adminOps } from '../../scripts/admin-ops.js';

/**
 * A fresh app (its own key cache) on the shared DynamoDB Local table. Every test builds its own
 * organization, so test files never share data.
 */
export function testApp(overrides: Partial<ReturnType<typeof readConfig>> = {}, client?: DynamoDBDocumentClient) {
  const config = { ...readConfig(), ...overrides };
  const store = createStore(config, client);
  const app = createApp({ store, config });
  return { app, store, config, ops: adminOps(store) };
}

export type TestApp = ReturnType<typeof testApp>;

export interface CallOptions {
  key?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function call<T = any>(t: TestApp, method: string, path: string, options: CallOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.Authorization = `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const response = await t.app.request(path, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/** An organization with its owner's global key, and helpers to populate it through the API. */
export async function newOrg(t: TestApp, name = 'Test org') {
  const boot = await t.ops.bootstrap({ orgName: name, ownerName: 'Owner' });
  const orgId = boot.org.orgId;
  const adminKey = boot.secret;

  async function user(options: { orgRole?: 'admin' | 'member'; name?: string } = {}) {
    const res = await call(t, 'POST', '/api/users', {
      key: adminKey,
      body: { name: options.name ?? 'User', orgRole: options.orgRole ?? 'member' },
    });
    if (res.status !== 201) throw new Error(`create user: ${res.status} ${res.text}`);
    return res.body._id as string;
  }

  async function key(userId: string, scope: 'read' | 'read-write' | 'global', extra: { projectId?: string; expiresAt?: string } = {}) {
    const res = await call(t, 'POST', '/api/keys', { key: adminKey, body: { userId, scope, ...extra } });
    if (res.status !== 201) throw new Error(`create key: ${res.status} ${res.text}`);
    return res.body.secret as string;
  }

  async function project(name = 'Project', ownerKey = adminKey) {
    const res = await call(t, 'POST', '/api/projects', { key: ownerKey, body: { name } });
    if (res.status !== 201) throw new Error(`create project: ${res.status} ${res.text}`);
    return res.body as { _id: string; ownerProjectUserId: string };
  }

  async function member(projectId: string, userId: string, roles: Role[], tags: string[] = []) {
    const res = await call(t, 'POST', `/api/projects/${projectId}/users`, { key: adminKey, body: { _id: userId, roles, tags } });
    if (res.status !== 201) throw new Error(`add member: ${res.status} ${res.text}`);
    return res.body as { _id: string; version: number; roles: Role[] };
  }

  /** A new org user with a membership of the given roles and a key of the given scope. */
  async function memberWithKey(projectId: string, roles: Role[], scope: 'read' | 'read-write' = 'read-write') {
    const userId = await user();
    const pu = await member(projectId, userId, roles);
    return { userId, projectUserId: pu._id, key: await key(userId, scope) };
  }

  return { orgId, owner: boot.owner, adminKey, user, key, project, member, memberWithKey };
}
