/**
 * Header abuse: missing, duplicated and malformed `Authorization`, keys of the right prefix and the
 * wrong length, non-ASCII bytes on a real socket; and the timing of a wrong secret for a real key ID
 * against an unknown key ID.
 */
import { serve } from '@hono/node-server';
import { connect } from 'node:net';
import { SECRET_BODY_LENGTH, SECRET_LENGTH, formatApiKey, parseApiKey, secretWithChecksum } from '../../../functions/domain/api-key.js';
import { newId } from '../../../functions/domain/ids.js';
import { newOrg, testApp, type Reply, type TestApp } from '../../support/app.js';
import { Attack, problemIssues, withoutRequestId } from '../../support/attack.js';

async function raw(t: TestApp, path: string, headers: Headers): Promise<Reply> {
  const response = await t.app.request(path, { headers });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

export async function headerAbuse(): Promise<Attack> {
  const attack = new Attack('hostile-input/headers');
  const t = testApp();
  const org = await newOrg(t, 'Headers');
  const project = await org.project('Headers');
  const member = await org.memberWithKey(project._id, ['viewer']);
  const other = await org.memberWithKey(project._id, ['viewer']);
  const key = member.key;
  const { keyId, secret } = parseApiKey(key)!;
  const otherBody = parseApiKey(other.key)!.secret.slice(0, SECRET_BODY_LENGTH);
  const unknownId = newId('key');
  const path = `/api/projects/${project._id}/users/me`;
  const unauthorized: [string, string[]][] = [
    ['no header', []],
    ['empty', ['']],
    ['scheme only', ['Bearer']],
    ['scheme and space', ['Bearer ']],
    ['Basic', [`Basic ${Buffer.from(`x:${key}`).toString('base64')}`]],
    ['token68 without scheme', [key]],
    ['two tokens', [`Bearer ${key} ${key}`]],
    ['trailing garbage', [`Bearer ${key}x`]],
    ['tab separator', [`Bearer\t${key}`]],
    ['key in quotes', [`Bearer "${key}"`]],
    ['duplicated, both valid (joined as API Gateway does)', [`Bearer ${key}`, `Bearer ${key}`]],
    ['duplicated, valid then garbage', [`Bearer ${key}`, 'Bearer nope']],
    ['duplicated, garbage then valid', ['Bearer nope', `Bearer ${key}`]],
    ['comma-joined', [`Bearer ${key},Bearer ${key}`]],
    ['latin-1 in the secret', [`Bearer puk_${keyId}_${secret.slice(0, -1)}é`]],
    ['latin-1 scheme', [`Bëarer ${key}`]],
    ['key ID 25 chars', [`Bearer puk_${keyId.slice(0, -1)}_${secret}`]],
    ['key ID 27 chars', [`Bearer puk_${keyId}a_${secret}`]],
    [`secret ${SECRET_LENGTH - 1} chars`, [`Bearer puk_${keyId}_${secret.slice(0, -1)}`]],
    [`secret ${SECRET_LENGTH + 1} chars`, [`Bearer puk_${keyId}_${secret}A`]],
    ['secret without its checksum', [`Bearer puk_${keyId}_${secret.slice(0, SECRET_BODY_LENGTH)}`]],
    ['one character of the secret mistyped (checksum fails)', [`Bearer puk_${keyId}_${secret[0] === 'A' ? 'B' : 'A'}${secret.slice(1)}`]],
    ['old shape: 43 base64url characters', [`Bearer puk_${keyId}_${'A'.repeat(20)}_${'B'.repeat(22)}`]],
    ['secret with padding', [`Bearer puk_${keyId}_${secret}=`]],
    ['upper-case key ID', [`Bearer puk_${keyId.toUpperCase()}_${secret}`]],
    ['key ID outside the alphabet', [`Bearer puk_key_${'u'.repeat(26)}_${secret}`]],
    ['empty secret', [`Bearer puk_${keyId}_`]],
    ['empty key ID', [`Bearer puk__${secret}`]],
    ['wrong prefix', [`Bearer pk_${keyId}_${secret}`]],
    ['10 KB key', [`Bearer puk_${keyId}_${'A'.repeat(10_000)}`]],
    ['real key ID, secret of another real key (checksum fails)', [`Bearer puk_${keyId}_${parseApiKey(other.key)!.secret}`]],
    ['real key ID, secret of another real key with a valid checksum', [`Bearer ${formatApiKey(keyId, secretWithChecksum(keyId, otherBody))}`]],
    ['unknown key ID, a real secret (checksum fails)', [`Bearer puk_${unknownId}_${secret}`]],
    ['unknown key ID, a real secret with a valid checksum', [`Bearer ${formatApiKey(unknownId, secretWithChecksum(unknownId, secret.slice(0, SECRET_BODY_LENGTH)))}`]],
    ['percent-encoded', [`Bearer ${encodeURIComponent(key).replace(/_/g, '%5F')}`]],
  ];
  // Accepted spellings: the scheme is case-insensitive (RFC 7235); surrounding whitespace is not part of the value.
  const accepted: [string, string[]][] = [
    ['canonical', [`Bearer ${key}`]],
    ['lower-case scheme', [`bearer ${key}`]],
    ['upper-case scheme', [`BEARER ${key}`]],
    ['surrounding spaces', [`  Bearer ${key}  `]],
    // RFC 6750 §2.1: `"Bearer" 1*SP b64token`.
    ['two spaces', [`Bearer  ${key}`]],
  ];
  attack.rounds = 1;
  const bodies401 = new Set<string>();
  for (const [label, values] of [...unauthorized, ...accepted]) {
    const headers = new Headers();
    for (const v of values) headers.append('Authorization', v);
    attack.requests++;
    const res = await raw(t, path, headers);
    attack.statuses[res.status] = (attack.statuses[res.status] ?? 0) + 1;
    const want = unauthorized.some(([l]) => l === label) ? [401] : [200];
    attack.check(want.includes(res.status), `${label}: ${res.status}, expected ${want.join(' or ')}`);
    for (const issue of problemIssues(res)) attack.violation(`${label}: ${issue}`);
    if (res.status === 401) bodies401.add(withoutRequestId(res));
  }
  attack.check(bodies401.size === 1, `${bodies401.size} different 401 bodies`);

  // On a real socket: raw non-ASCII (UTF-8) bytes, a NUL, and duplicated headers as Node receives them.
  const server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((r) => (server.listening ? r() : server.once('listening', () => r())));
  const port = (server.address() as { port: number }).port;
  const socketCases: [string, Buffer, number[]][] = [
    ['UTF-8 bytes in the key', Buffer.from(`Bearer puk_${keyId}_${secret.slice(0, -2)}ü`, 'utf8'), [401]],
    ['UTF-8 bytes in the scheme', Buffer.from(`Bäarer ${key}`, 'utf8'), [401]],
    ['a NUL byte', Buffer.concat([Buffer.from(`Bearer ${key}`), Buffer.from([0])]), [400, 401]],
    ['DEL byte', Buffer.concat([Buffer.from(`Bearer ${key.slice(0, -1)}`), Buffer.from([0x7f])]), [400, 401]],
  ];
  try {
    for (const [label, value, want] of socketCases) {
      const answer = await rawSocket(port, path, [Buffer.from('Authorization: '), value]);
      attack.requests++;
      attack.statuses[answer.status] = (attack.statuses[answer.status] ?? 0) + 1;
      attack.check(want.includes(answer.status), `socket, ${label}: ${answer.status}, expected ${want.join(' or ')}`);
      // A 400 here is Node's HTTP parser refusing the header before the app sees it.
      if (answer.status === 401) attack.check(/application\/problem\+json/i.test(answer.head), `socket, ${label}: 401 without problem+json`);
    }
    const dup = await rawSocket(port, path, [Buffer.from(`Authorization: Bearer nope\r\nAuthorization: Bearer ${key}`)]);
    attack.requests++;
    attack.check([401].includes(dup.status), `socket, duplicated Authorization (garbage first): ${dup.status}`);
    const alive = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { Authorization: `Bearer ${key}` } });
    attack.requests++;
    attack.check(alive.status === 200, `the server did not survive the abuse: ${alive.status}`);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
  return attack;
}

function rawSocket(port: number, path: string, headerLines: Buffer[]): Promise<{ status: number; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, head: data.split('\r\n\r\n')[0] ?? '' });
    });
    socket.write(Buffer.concat([Buffer.from(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n`), ...headerLines, Buffer.from('\r\n\r\n')]));
  });
}

// ---- timing ------------------------------------------------------------------------------------------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/**
 * A wrong secret for a real key ID against an unknown key ID, interleaved, `samples` each; with no
 * cache (every request reads DynamoDB) and with the default cache after the real key was used.
 * They must cost the same: a ratio of medians within [1/tolerance, tolerance].
 */
export async function authTiming(options: { samples: number; tolerance: number }): Promise<Attack & { figures: Record<string, number> }> {
  const attack = new Attack('hostile-input/auth-timing') as Attack & { figures: Record<string, number> };
  attack.figures = {};
  const setup = testApp();
  const org = await newOrg(setup, 'Timing');
  const project = await org.project('Timing');
  const member = await org.memberWithKey(project._id, ['viewer']);
  const realId = parseApiKey(member.key)!.keyId;
  // Well-formed wrong keys (valid checksum), so both reach the table: a bad checksum never does.
  const wrongKey = (keyId: string) => formatApiKey(keyId, secretWithChecksum(keyId, 'A'.repeat(SECRET_BODY_LENGTH)));
  const path = `/api/projects/${project._id}/users/me`;
  for (const [label, t] of [
    ['uncached', testApp({ keyCacheSeconds: 0 })],
    ['cached', testApp()],
  ] as const) {
    attack.rounds++;
    const ok = await raw(t, path, new Headers({ Authorization: `Bearer ${member.key}` })); // the real key in use: cached if the app caches
    attack.check(ok.status === 200, `${label}: the real key was refused`);
    const real: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < options.samples + 20; i++) {
      for (const [list, id] of [
        [real, realId],
        [unknown, newId('key')],
      ] as const) {
        const headers = new Headers({ Authorization: `Bearer ${wrongKey(id)}` });
        const started = performance.now();
        const res = await raw(t, path, headers);
        const took = performance.now() - started;
        attack.requests++;
        attack.statuses[res.status] = (attack.statuses[res.status] ?? 0) + 1;
        attack.check(res.status === 401, `${label}: a wrong secret answered ${res.status}`);
        if (i >= 20) list.push(took); // the first 20 warm up the JIT and connections
      }
    }
    const r = median(real);
    const u = median(unknown);
    attack.figures[`${label}RealMs`] = Number(r.toFixed(3));
    attack.figures[`${label}UnknownMs`] = Number(u.toFixed(3));
    attack.note(`${label}`, `real ${r.toFixed(2)} ms vs unknown ${u.toFixed(2)} ms`);
    const ratio = r / u;
    attack.check(
      ratio <= options.tolerance && ratio >= 1 / options.tolerance,
      `${label}: a wrong secret for a real key ID takes ${r.toFixed(2)} ms, for an unknown ID ${u.toFixed(2)} ms (median of ${options.samples}): they can be told apart`,
    );
  }
  return attack;
}
