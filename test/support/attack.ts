/**
 * What every attack shares: a tally of rounds, requests and violations printed as one summary line,
 * the problem+json check, several app instances (separate "Lambdas", each with its own key cache),
 * and users made once per organization.
 */
import { call, newOrg, testApp, type CallOptions, type Reply, type TestApp } from './app.js';

export type Org = Awaited<ReturnType<typeof newOrg>>;

export class Attack {
  rounds = 0;
  requests = 0;
  readonly violations: string[] = [];
  readonly statuses: Record<string, number> = {};
  readonly notes: Record<string, number | string> = {};
  readonly started = Date.now();

  constructor(readonly name: string) {}

  /** One request through the app, counted. */
  async send<T = any>(t: TestApp, method: string, path: string, options: CallOptions = {}): Promise<Reply<T>> {
    this.requests++;
    const res = await call<T>(t, method, path, options);
    this.statuses[res.status] = (this.statuses[res.status] ?? 0) + 1;
    return res;
  }

  violation(message: string) {
    this.violations.push(message);
  }

  check(ok: boolean, message: string | (() => string)) {
    if (!ok) this.violation(typeof message === 'string' ? message : message());
    return ok;
  }

  note(name: string, value: number | string) {
    this.notes[name] = value;
  }

  add(name: string, n = 1) {
    this.notes[name] = Number(this.notes[name] ?? 0) + n;
  }

  /** The one-line summary every attack prints. */
  report(): string {
    const statuses = Object.entries(this.statuses).map(([s, n]) => `${s}×${n}`).join(' ');
    const notes = Object.entries(this.notes).map(([k, v]) => `${k}=${v}`).join(' ');
    const line =
      `ATTACK ${this.name}: rounds=${this.rounds} requests=${this.requests} violations=${this.violations.length}` +
      ` (${((Date.now() - this.started) / 1000).toFixed(1)} s; statuses ${statuses || '-'}${notes ? `; ${notes}` : ''})`;
    console.log(line);
    for (const v of this.violations.slice(0, 20)) console.log(`  VIOLATION ${v}`);
    if (this.violations.length > 20) console.log(`  … ${this.violations.length - 20} more`);
    return line;
  }
}

const STACK_TRACE = /\n\s+at |\bat [\w.<>]+ \(|\.(ts|js|mjs):\d+|node_modules|Exception\b|DynamoDB|ConditionalCheck|TransactionCanceled|ValidationError|TypeError|ReferenceError|SyntaxError/;

/** Everything wrong with an error response (empty when it is a clean RFC 9457 problem). */
export function problemIssues(res: Reply, expectedStatus?: number): string[] {
  const issues: string[] = [];
  if (expectedStatus !== undefined && res.status !== expectedStatus) issues.push(`status ${res.status}, expected ${expectedStatus}`);
  if (res.status >= 500 && res.status !== 503) issues.push(`server error ${res.status}: ${res.text.slice(0, 200)}`);
  if (res.status < 400) return issues;
  if (res.headers.get('Content-Type') !== 'application/problem+json') {
    issues.push(`content-type ${res.headers.get('Content-Type')} for ${res.status}`);
  }
  const b = res.body;
  if (!b || typeof b !== 'object') issues.push(`body is not JSON: ${res.text.slice(0, 120)}`);
  else {
    for (const f of ['type', 'title', 'detail', 'code'] as const) if (typeof b[f] !== 'string') issues.push(`problem without ${f}`);
    if (b.status !== res.status) issues.push(`problem status ${b.status} ≠ ${res.status}`);
  }
  if (STACK_TRACE.test(res.text)) issues.push(`internals in body: ${res.text.slice(0, 200)}`);
  if (res.status === 401 && res.headers.get('WWW-Authenticate') !== 'Bearer') issues.push('401 without WWW-Authenticate: Bearer');
  if (res.status === 503 && !res.headers.get('Retry-After')) issues.push('503 without Retry-After');
  return issues;
}

/** A body with the request ID (header X-Request-Id) blanked out, for byte comparisons. */
export function withoutRequestId(res: Reply): string {
  const id = res.headers.get('X-Request-Id');
  return id ? res.text.split(id).join('<request-id>') : res.text;
}

/** Several app instances on the shared table: separate Lambdas, separate key caches. */
export function instances(n: number, overrides: Parameters<typeof testApp>[0] = {}): TestApp[] {
  return Array.from({ length: n }, () => testApp(overrides));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function tally(values: (string | number)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** Users of an org created once and reused across rounds (25 at a time: set-up is not the attack). */
export async function users(org: Org, n: number, options: { orgRole?: 'admin' | 'member' } = {}) {
  const out: string[] = [];
  for (let i = 0; i < n; i += 25) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(25, n - i) }, (_, j) => org.user({ ...options, name: `User ${i + j}` })))));
  }
  return out;
}
