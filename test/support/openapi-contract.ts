/**
 * Checks real responses against the OpenAPI document the app serves (`GET /openapi.json`), with
 * Ajv's JSON Schema 2020-12 dialect (the dialect of OpenAPI 3.1): the status is documented for
 * the operation, the media type is the documented one, the body validates against the documented
 * schema (its `$ref`s resolved inside the document itself), and the `required` response headers
 * are present. It also records which (operation, status) pairs were exercised, so a test can fail
 * when a documented operation or status never was.
 */
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Reply } from './app.js';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** The top-level fields of an OpenAPI 3.1 document, and `example` (an OpenAPI schema annotation). */
const OPENAPI_VOCABULARY = [
  'openapi',
  'info',
  'jsonSchemaDialect',
  'servers',
  'paths',
  'webhooks',
  'components',
  'security',
  'tags',
  'externalDocs',
  'example',
];

const DOCUMENT_ID = 'openapi.json';

/** Headers worth documenting: a response that sends one its documentation does not list is noted (never failing). */
const WATCHED_HEADERS = ['ETag', 'Location', 'WWW-Authenticate', 'Retry-After', 'Idempotent-Replayed', 'Cache-Control'];

interface HeaderObject {
  required?: boolean;
  schema?: unknown;
}

interface ResponseObject {
  description?: string;
  headers?: Record<string, HeaderObject>;
  content?: Record<string, { schema?: unknown }>;
}

interface OperationObject {
  security?: unknown[];
  parameters?: { name: string; in: string }[];
  requestBody?: unknown;
  responses: Record<string, ResponseObject>;
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OperationObject>>;
  [field: string]: unknown;
}

/** `GET /api/projects/{projectId}/users`: the method upper-case, the path as the document spells it. */
export type OperationName = string;

export interface DocumentedOperation {
  name: OperationName;
  method: string;
  path: string;
  operation: OperationObject;
}

export interface Mismatch {
  operation: OperationName;
  status: number;
  kind: 'undocumented-operation' | 'undocumented-status' | 'media-type' | 'body' | 'schema' | 'header';
  detail: string;
  body: string;
}

/** A pointer token (RFC 6901) escaped for a URI fragment. */
const pointerToken = (token: string) => encodeURIComponent(token.replace(/~/g, '~0').replace(/\//g, '~1'));

const formatError = (e: ErrorObject) =>
  `${e.instancePath || '/'} ${e.message ?? e.keyword} (${e.schemaPath}${Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''})`;

export class OpenApiContract {
  private readonly ajv;
  private readonly validators = new Map<string, ValidateFunction>();
  readonly operations: DocumentedOperation[];
  readonly mismatches: Mismatch[] = [];
  /** Remarks that never fail (headers sent but not documented): remark -> operations. See `remarks()`. */
  private readonly notes = new Map<string, Set<OperationName>>();
  /** "operation\nstatus\nheader" of each documented optional header -> whether any response sent it. */
  private readonly optionalHeaders = new Map<string, boolean>();
  /** operation -> statuses it answered with (documented or not). */
  readonly exercised = new Map<OperationName, Set<number>>();
  responsesChecked = 0;

  constructor(readonly document: OpenApiDocument) {
    this.ajv = new Ajv2020.default({ strict: true, allErrors: true, allowUnionTypes: true });
    addFormats.default(this.ajv);
    this.ajv.addVocabulary(OPENAPI_VOCABULARY);
    // The whole document is one schema resource: response schemas are reached by JSON pointer,
    // and their `#/components/schemas/…` references resolve against it.
    this.ajv.addSchema(document, DOCUMENT_ID);
    this.operations = Object.entries(document.paths).flatMap(([path, item]) =>
      HTTP_METHODS.filter((method) => item[method]).map((method) => ({
        name: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        operation: item[method]!,
      })),
    );
  }

  operation(name: OperationName): DocumentedOperation | undefined {
    return this.operations.find((op) => op.name === name);
  }

  /** The statuses the document lists for an operation. */
  documentedStatuses(name: OperationName): number[] {
    return Object.keys(this.operation(name)?.operation.responses ?? {}).map(Number);
  }

  private validator(pointer: string): ValidateFunction {
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer}` });
      this.validators.set(pointer, validate);
    }
    return validate;
  }

  /** Compiles the schema of every documented response; returns what does not compile. */
  compileAll(): string[] {
    const failures: string[] = [];
    for (const { name, path, method, operation } of this.operations) {
      for (const key of Object.keys(operation.responses)) {
        const at = this.resolve<ResponseObject>(['paths', path, method.toLowerCase(), 'responses', key]);
        for (const mediaType of Object.keys(at.value?.content ?? {})) {
          if (at.value?.content?.[mediaType]?.schema === undefined) continue;
          try {
            this.validator(['', ...at.tokens, 'content', mediaType, 'schema'].map(pointerToken).join('/'));
          } catch (error) {
            failures.push(`${name} ${key} ${mediaType}: ${(error as Error).message}`);
          }
        }
      }
    }
    return failures;
  }

  /** The node at a JSON pointer (as tokens) of the document. */
  private at(tokens: string[]): any {
    return tokens.reduce<any>((node, token) => (node === undefined || node === null ? undefined : node[token]), this.document);
  }

  /** Follows local `$ref`s from the node at `tokens`: the object and where it is. */
  private resolve<T>(tokens: string[]): { value: T | undefined; tokens: string[] } {
    let value = this.at(tokens);
    for (let hops = 0; value && typeof value === 'object' && typeof value.$ref === 'string'; hops++) {
      const ref: string = value.$ref;
      if (!ref.startsWith('#/') || hops > 20) throw new Error(`cannot follow $ref ${ref} (at ${tokens.join('/')})`);
      tokens = ref
        .slice(2)
        .split('/')
        .map((t) => decodeURIComponent(t).replace(/~1/g, '/').replace(/~0/g, '~'));
      value = this.at(tokens);
    }
    return { value, tokens };
  }

  private note(name: OperationName, remark: string) {
    const operations = this.notes.get(remark) ?? new Set<OperationName>();
    operations.add(name);
    this.notes.set(remark, operations);
  }

  /** The documented response key for a status: exact, its range (`4XX`), or `default`. */
  private responseKey(operation: OperationObject, status: number): string | undefined {
    return [String(status), `${String(status)[0]}XX`, 'default'].find((key) => operation.responses[key] !== undefined);
  }

  /** Checks one real response of `name`; returns (and records) its mismatches. */
  check(name: OperationName, reply: Reply): Mismatch[] {
    this.responsesChecked += 1;
    const found: Mismatch[] = [];
    const mismatch = (kind: Mismatch['kind'], detail: string) =>
      found.push({ operation: name, status: reply.status, kind, detail, body: reply.text.slice(0, 2000) });
    const statuses = this.exercised.get(name) ?? new Set<number>();
    statuses.add(reply.status);
    this.exercised.set(name, statuses);

    const documented = this.operation(name);
    const key = documented && this.responseKey(documented.operation, reply.status);
    if (!documented) {
      mismatch('undocumented-operation', `${name} is not in the document`);
    } else if (!key) {
      mismatch('undocumented-status', `status ${reply.status} is not documented (documented: ${Object.keys(documented.operation.responses).join(', ')})`);
    } else {
      const at = this.resolve<ResponseObject>(['paths', documented.path, documented.method.toLowerCase(), 'responses', key]);
      const response = at.value ?? {};

      const documentedHeaders = Object.keys(response.headers ?? {});
      for (const header of documentedHeaders) {
        const spec = this.resolve<HeaderObject>([...at.tokens, 'headers', header]).value;
        const sentHeader = reply.headers.has(header);
        if (!sentHeader && spec?.required) mismatch('header', `required response header ${header} is missing`);
        if (!spec?.required) {
          const where = `${name}\n${reply.status}\n${header}`;
          this.optionalHeaders.set(where, (this.optionalHeaders.get(where) ?? false) || sentHeader);
        }
      }
      for (const header of WATCHED_HEADERS) {
        if (reply.headers.has(header) && !documentedHeaders.some((h) => h.toLowerCase() === header.toLowerCase())) {
          this.note(name, `${reply.status}: sends ${header}, not documented for this response`);
        }
      }

      const mediaTypes = Object.keys(response.content ?? {});
      const sent = reply.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? null;
      const mediaType = mediaTypes.find((m) => m.toLowerCase() === sent);
      if (mediaTypes.length === 0) {
        if (reply.text !== '') mismatch('body', `no content is documented, but a body was sent (${sent ?? 'no content type'})`);
      } else if (mediaType === undefined) {
        mismatch('media-type', `content type ${sent ?? '(none)'} is not the documented ${mediaTypes.join(' or ')}`);
      } else {
        let body: unknown;
        try {
          body = JSON.parse(reply.text);
        } catch {
          mismatch('body', `the ${mediaType} body is not JSON`);
        }
        if (body !== undefined && response.content?.[mediaType]?.schema !== undefined) {
          const validate = this.validator(['', ...at.tokens, 'content', mediaType, 'schema'].map(pointerToken).join('/'));
          if (!validate(body)) mismatch('schema', (validate.errors ?? []).map(formatError).join('; '));
        }
      }
    }
    this.mismatches.push(...found);
    return found;
  }

  /**
   * Documented (operation, status) pairs never exercised: every success status, and every error
   * status unless `notExercised` says why it cannot be (by status for all operations, or by
   * `"<operation> <status>"`).
   */
  gaps(notExercised: Record<string, string>): string[] {
    const gaps: string[] = [];
    for (const { name, operation } of this.operations) {
      const seen = this.exercised.get(name) ?? new Set<number>();
      for (const status of Object.keys(operation.responses)) {
        if (status === 'default' || [...seen].some((s) => String(s) === status || `${String(s)[0]}XX` === status)) continue;
        const success = status.startsWith('2');
        if (!success && (notExercised[status] !== undefined || notExercised[`${name} ${status}`] !== undefined)) continue;
        gaps.push(`${name} ${status}${success ? ' (success)' : ''}`);
      }
    }
    return gaps;
  }

  /** What `notExercised` lists that the document does not (so the list stays honest). */
  staleExceptions(notExercised: Record<string, string>): string[] {
    return Object.keys(notExercised).filter((entry) => {
      const match = /^(\S+ \S+) (\d{3})$/.exec(entry);
      if (!match) return false;
      return !this.documentedStatuses(match[1]!).includes(Number(match[2]));
    });
  }

  /** Remarks that never fail: headers sent but not documented, documented optional headers never sent. */
  remarks(): Map<string, Set<OperationName>> {
    const remarks = new Map([...this.notes].map(([remark, operations]) => [remark, new Set(operations)]));
    for (const [where, sent] of this.optionalHeaders) {
      if (sent) continue;
      const [name, status, header] = where.split('\n') as [string, string, string];
      const remark = `${status}: documented optional header ${header} never sent`;
      remarks.set(remark, (remarks.get(remark) ?? new Set()).add(name));
    }
    return new Map([...remarks].sort(([a], [b]) => a.localeCompare(b)));
  }

  summary(): string {
    return `contract: ${this.responsesChecked} responses checked across ${this.exercised.size} operations, ${this.mismatches.length} mismatches`;
  }
}
