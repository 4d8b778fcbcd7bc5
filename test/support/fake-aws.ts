import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/**
 * A tiny local stand-in for EventBridge `PutEvents`, SQS `SendMessage` and Secrets Manager
 * `GetSecretValue`, speaking their wire protocols (AWS JSON 1.1 `AWSEvents.PutEvents`, AWS JSON 1.0
 * `AmazonSQS.SendMessage`, AWS JSON 1.1 `secretsmanager.GetSecretValue`), so the real SDK clients
 * can be pointed at it. It records what arrives and can reject chosen entries.
 */
export interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName: string;
  Time?: number | string;
}

export interface FakeAws {
  endpoint: string;
  /** Every entry accepted, in order. */
  events: PutEventsEntry[];
  /** Every PutEvents call's entries, accepted or not. */
  calls: PutEventsEntry[][];
  messages: { QueueUrl: string; MessageBody: string }[];
  /** Return an error code to reject an entry (per attempt). */
  rejectEntry: ((entry: PutEventsEntry) => string | null) | null;
  failSendMessage: boolean;
  /** Secret strings by secret ID (ARN or name), as `GetSecretValue` answers them. */
  secrets: Record<string, string>;
  /** The `SecretId` of every `GetSecretValue` call, found or not. */
  secretReads: string[];
  /** While set, `GetSecretValue` calls are recorded at once but answered only when it settles. */
  holdSecrets: Promise<void> | null;
  close: () => Promise<void>;
}

export async function startFakeAws(): Promise<FakeAws> {
  const fake: Omit<FakeAws, 'endpoint' | 'close'> = {
    events: [],
    calls: [],
    messages: [],
    rejectEntry: null,
    failSendMessage: false,
    secrets: {},
    secretReads: [],
    holdSecrets: null,
  };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = raw ? JSON.parse(raw) : {};
      const reply = (status: number, payload: unknown, contentType = 'application/x-amz-json-1.1') => {
        res.writeHead(status, { 'Content-Type': contentType });
        res.end(JSON.stringify(payload));
      };
      if (target === 'AWSEvents.PutEvents') {
        const entries = body.Entries as PutEventsEntry[];
        fake.calls.push(entries);
        // AWS refuses the whole call when its entries total 256 KB or more ("Calculating PutEvents
        // event entry size": Time 14 bytes, Source, DetailType, Detail, Resources), or carry more than 10.
        const bytes = (text?: string) => (text ? Buffer.byteLength(text) : 0);
        const total = entries.reduce((sum, e) => sum + (e.Time ? 14 : 0) + bytes(e.Source) + bytes(e.DetailType) + bytes(e.Detail), 0);
        if (total >= 256 * 1024 || entries.length > 10) {
          return reply(400, { __type: 'ValidationException', message: 'Total size of the entries in the request is over the limit.' });
        }
        let failed = 0;
        const results = entries.map((entry) => {
          const code = fake.rejectEntry?.(entry) ?? null;
          if (code) {
            failed++;
            return { ErrorCode: code, ErrorMessage: 'rejected by the fake' };
          }
          fake.events.push(entry);
          return { EventId: `fake-${fake.events.length}` };
        });
        return reply(200, { FailedEntryCount: failed, Entries: results });
      }
      if (target === 'AmazonSQS.SendMessage') {
        if (fake.failSendMessage) return reply(500, { __type: 'InternalError', message: 'fake outage' }, 'application/x-amz-json-1.0');
        fake.messages.push({ QueueUrl: body.QueueUrl, MessageBody: body.MessageBody });
        // The SDK verifies the body's MD5, as SQS computes it.
        const md5 = createHash('md5').update(body.MessageBody).digest('hex');
        return reply(200, { MessageId: `msg-${fake.messages.length}`, MD5OfMessageBody: md5 }, 'application/x-amz-json-1.0');
      }
      if (target === 'secretsmanager.GetSecretValue') {
        const id = String(body.SecretId);
        fake.secretReads.push(id);
        void (fake.holdSecrets ?? Promise.resolve()).then(() => {
          const value = Object.hasOwn(fake.secrets, id) ? fake.secrets[id] : undefined;
          if (value === undefined) {
            return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
          }
          return reply(200, {
            ARN: id,
            Name: id.split(':').at(-1),
            SecretString: value,
            VersionId: '00000000-0000-4000-8000-000000000001',
            VersionStages: ['AWSCURRENT'],
            CreatedDate: 1_767_225_600, // epoch seconds, as the service sends timestamps
          });
        });
        return;
      }
      reply(400, { __type: 'UnknownOperationException', message: target });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return Object.assign(fake as FakeAws, {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
